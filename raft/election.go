package raft

// Leader election (section 5.2, with the restriction of 5.4.1), made robust
// as Ongaro's thesis describes:
//
//   - PreVote (thesis 9.6): before it raises its term, a peer whose election
//     timer ran out asks the others whether they would vote for it. Only with
//     a majority of yeses does it become a candidate. A peer that was cut off
//     and comes back therefore never raises the term of a healthy cluster.
//   - Leader stickiness (thesis 4.2.3): a peer that heard from a leader within
//     the minimum election timeout refuses pre-votes and ignores RequestVotes
//     of later terms, so a disruptive peer cannot depose a working leader.
//   - CheckQuorum (thesis 6.2): a leader that has not heard from a majority
//     for checkQuorumTimeout steps down, so clients stop waiting on it.
//   - Election backoff: each election round that ends without a leader
//     doubles the next round's timeout, up to maxElectionBackoff doublings;
//     hearing from a leader, or granting a vote, starts again from one. When
//     the network holds replies back for longer than an election timeout,
//     rounds that restart before their votes arrive would otherwise repeat
//     for ever; longer rounds let the votes arrive.
//
// This file holds the election timer (the ticker), RequestVote's arguments,
// reply and handler, and vote counting.

import (
	"math/rand/v2"
	"time"
)

// RequestVoteArgs are the arguments of RequestVote (Figure 2), sent by
// candidates to gather votes, and by pre-candidates to ask whether they
// would get them (PreVote).
type RequestVoteArgs struct {
	Term         int  // candidate's term; for a pre-vote, the term it would campaign in
	CandidateId  int  // candidate requesting the vote
	LastLogIndex int  // index of the candidate's last log entry (section 5.4)
	LastLogTerm  int  // term of the candidate's last log entry (section 5.4)
	PreVote      bool // only ask (thesis 9.6): the voter changes nothing, saved or not
}

// RequestVoteReply is the reply to RequestVote (Figure 2).
type RequestVoteReply struct {
	Term        int  // the voter's currentTerm, for the candidate to update itself
	VoteGranted bool // true means the candidate received the vote (or would, for a pre-vote)
}

// Election timing beyond the election timeout itself (see raft.go).
const (
	// maxElectionBackoff bounds the doublings of the election timeout after
	// rounds that failed in a row: at most 4x, so a round lasts up to 2.4 s,
	// longer than the 2.2 s for which the course's network may hold a reply
	// back, and a new leader still comes within the course's 5 s.
	maxElectionBackoff = 2
	// checkQuorumTimeout is how long a leader may go without hearing from a
	// majority before it steps down (thesis 6.2): the longest election
	// timeout, so by then the majority may have elected another leader.
	checkQuorumTimeout = electionTimeoutMax
	// leaderLease is how long after hearing from a leader a peer refuses
	// to help elect another (thesis 4.2.3): the shortest election timeout,
	// within which a working leader's next heartbeat is due.
	leaderLease = electionTimeoutMin
)

// randomElectionTimeout returns a timeout drawn uniformly from
// [electionTimeoutMin, electionTimeoutMax), doubled once for each of failed
// election rounds that ended without a leader, up to maxElectionBackoff.
func randomElectionTimeout(failed int) time.Duration {
	return backoffTimeout(electionTimeoutMin+rand.N(electionTimeoutMax-electionTimeoutMin), failed)
}

// backoffTimeout doubles base once per failed round, at most
// maxElectionBackoff times.
func backoffTimeout(base time.Duration, failed int) time.Duration {
	return base << min(max(failed, 0), maxElectionBackoff)
}

// ticker starts an election whenever a follower, pre-candidate or candidate
// reaches its election deadline (Figure 2, Rules for Servers, Followers and
// Candidates), and makes a leader check that it still hears from a majority
// (CheckQuorum). It sleeps until the deadline, which others push back, and
// exits on Kill.
func (rf *Raft) ticker() {
	defer rf.workers.Done()
	timer := time.NewTimer(electionTimeoutMin)
	defer timer.Stop()
	for {
		select {
		case <-rf.done:
			return
		case <-timer.C:
		}
		rf.mu.Lock()
		now := time.Now()
		if rf.role == leader {
			rf.checkQuorumLocked(now)
		} else if !now.Before(rf.electionDeadline) {
			if rf.role != follower {
				rf.failedElections++ // this round ended without a leader
			}
			rf.startPreVoteLocked(now)
		}
		wait := rf.electionDeadline.Sub(now)
		if rf.role == leader {
			wait = heartbeatInterval // a leader has no deadline; it checks its quorum
		}
		rf.mu.Unlock()
		timer.Reset(wait) // timer.C was just drained, so Reset is safe
	}
}

// startPreVoteLocked begins a pre-vote round (thesis 9.6): without changing
// its term or vote, the peer asks every other whether it would vote for it
// in the next term. A cluster of one skips to the election.
func (rf *Raft) startPreVoteLocked(now time.Time) {
	if rf.role != preCandidate {
		rf.debugf(tRole, "%v -> pre-candidate", rf.role)
	}
	rf.role = preCandidate
	rf.beginRoundLocked(now)
	clear(rf.preVotes)
	rf.preVotes[rf.me] = true
	rf.debugf(tVote, "election timeout: asking for pre-votes for term %d (log through %d, term %d; round timeout x%d)",
		rf.currentTerm+1, rf.log.lastIndex(), rf.log.lastTerm(), 1<<min(rf.failedElections, maxElectionBackoff))
	if countTrue(rf.preVotes) > len(rf.peers)/2 {
		rf.startElectionLocked(now) // a cluster of one
		return
	}
	rf.requestVotesLocked(true)
}

// startElectionLocked converts to candidate (Figure 2, Rules for Servers,
// Candidates): increment currentTerm, vote for self, reset the election
// timer, save, and send RequestVote to every other peer.
func (rf *Raft) startElectionLocked(now time.Time) {
	rf.role = candidate
	rf.setTermLocked(rf.currentTerm + 1)
	rf.votedFor = rf.me
	rf.persistDirty = true
	rf.beginRoundLocked(now)
	clear(rf.votes)
	rf.votes[rf.me] = true
	rf.persistLocked()
	rf.debugf(tVote, "candidate (log through %d, term %d)", rf.log.lastIndex(), rf.log.lastTerm())
	if countTrue(rf.votes) > len(rf.peers)/2 {
		rf.becomeLeaderLocked() // a cluster of one
		return
	}
	rf.requestVotesLocked(false)
}

// beginRoundLocked starts a round of vote gathering: a new round number (so
// late answers to an earlier pre-vote round are not counted) and a fresh
// deadline, backed off after failed rounds.
func (rf *Raft) beginRoundLocked(now time.Time) {
	rf.round++
	rf.electionDeadline = now.Add(randomElectionTimeout(rf.failedElections))
}

// countTrue returns how many of set are true.
func countTrue(set []bool) int {
	count := 0
	for _, yes := range set {
		if yes {
			count++
		}
	}
	return count
}

// requestVotesLocked sends RequestVote (a pre-vote if preVote) to every other
// peer, each on a goroutine of its own that handles the answer.
func (rf *Raft) requestVotesLocked(preVote bool) {
	args := RequestVoteArgs{
		Term:         rf.currentTerm,
		CandidateId:  rf.me,
		LastLogIndex: rf.log.lastIndex(),
		LastLogTerm:  rf.log.lastTerm(),
		PreVote:      preVote,
	}
	if preVote {
		args.Term++ // the term it would campaign in
	}
	for p := range rf.peers {
		if p != rf.me {
			rf.calls.Add(1)
			go rf.requestVote(p, args, rf.round)
		}
	}
}

// requestVote asks one peer for its vote (or pre-vote) and counts the
// answer, if it still belongs to the current round: a pre-candidate with a
// majority of pre-votes starts an election, and a candidate with a majority
// of votes becomes leader (section 5.2).
func (rf *Raft) requestVote(peer int, args RequestVoteArgs, round uint64) {
	defer rf.calls.Done()
	var reply RequestVoteReply
	if !rf.peers[peer].Call("Raft.RequestVote", &args, &reply) {
		return
	}
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.killed() {
		return
	}
	if reply.Term > rf.currentTerm {
		rf.becomeFollowerLocked(reply.Term)
		rf.persistLocked()
		return
	}
	if args.PreVote {
		if rf.role != preCandidate || rf.round != round || !reply.VoteGranted {
			return // a stale answer, or a refusal
		}
		rf.preVotes[peer] = true
		if countTrue(rf.preVotes) > len(rf.peers)/2 {
			rf.startElectionLocked(time.Now())
		}
	} else {
		// A vote counts for the term it was cast in, however late it
		// arrives, even if a pre-vote round for the next term began
		// meanwhile: there is one leader per term (section 5.2), as no
		// other candidate can hold a majority of this term's votes. When
		// the network holds replies back longer than a round lasts, late
		// votes are what elect a leader.
		if args.Term != rf.currentTerm || rf.votedFor != rf.me || rf.role == leader || rf.role == follower || !reply.VoteGranted {
			return // a stale answer, or a refusal
		}
		rf.votes[peer] = true
		if countTrue(rf.votes) > len(rf.peers)/2 {
			rf.becomeLeaderLocked()
		}
	}
	rf.debugf(tVote, "granted by S%d (pre-vote %v)", peer, args.PreVote)
	rf.checkInvariantsLocked()
}

// RequestVote is the RequestVote RPC handler (Figure 2, RequestVote RPC,
// receiver implementation), with PreVote and leader stickiness (see the top
// of this file). A malformed request is refused and changes nothing. The
// reply is sent only after any change to currentTerm or votedFor is saved.
func (rf *Raft) RequestVote(args *RequestVoteArgs, reply *RequestVoteReply) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.killed() {
		return // a crashed peer answers nothing
	}
	reply.Term = rf.currentTerm
	if err := validateRequestVote(args, len(rf.peers), rf.me); err != nil {
		rf.debugf(tVote, "refused malformed request: %v", err)
		return
	}
	now := time.Now()
	upToDate := isLogUpToDate(args.LastLogIndex, args.LastLogTerm, rf.log.lastIndex(), rf.log.lastTerm())
	if args.PreVote {
		// Would we vote for it in args.Term? Only if that term is new to
		// us, no leader is known to be working, and its log is up to date.
		reply.VoteGranted = args.Term > rf.currentTerm && !rf.hearsLeaderLocked(now) && upToDate
		rf.debugf(tVote, "pre-vote for S%d in term %d: %v (its last entry: index %d, term %d; ours: index %d, term %d)",
			args.CandidateId, args.Term, reply.VoteGranted, args.LastLogIndex, args.LastLogTerm, rf.log.lastIndex(), rf.log.lastTerm())
		return
	}
	if args.Term > rf.currentTerm && rf.hearsLeaderLocked(now) {
		rf.debugf(tVote, "ignored S%d's election for term %d: a leader is working", args.CandidateId, args.Term)
		return
	}
	if args.Term > rf.currentTerm {
		rf.becomeFollowerLocked(args.Term)
	}
	reply.Term = rf.currentTerm
	// Rule 1: reply false if term < currentTerm.
	// Rule 2: grant the vote if votedFor is null or candidateId, and the
	// candidate's log is at least as up-to-date as ours (section 5.4.1).
	if args.Term == rf.currentTerm && (rf.votedFor == -1 || rf.votedFor == args.CandidateId) {
		if upToDate {
			if rf.votedFor != args.CandidateId {
				rf.votedFor = args.CandidateId
				rf.persistDirty = true
			}
			reply.VoteGranted = true
			rf.failedElections = 0
			rf.resetElectionTimerLocked(now)
			rf.debugf(tVote, "granted vote to S%d (its last entry: index %d, term %d; ours: index %d, term %d)",
				args.CandidateId, args.LastLogIndex, args.LastLogTerm, rf.log.lastIndex(), rf.log.lastTerm())
		} else {
			rf.debugf(tVote, "refused S%d: its log (index %d, term %d) is behind ours (index %d, term %d)",
				args.CandidateId, args.LastLogIndex, args.LastLogTerm, rf.log.lastIndex(), rf.log.lastTerm())
		}
	}
	if rf.persistDirty {
		rf.persistLocked()
	}
	rf.checkInvariantsLocked()
}

// hearsLeaderLocked reports whether a leader is known to be working: this
// peer leads, or it heard from the leader of its term within leaderLease.
func (rf *Raft) hearsLeaderLocked(now time.Time) bool {
	return rf.role == leader || (!rf.leaderHeardAt.IsZero() && now.Sub(rf.leaderHeardAt) < leaderLease)
}

// noteLeaderLocked records that the leader of the current term was heard
// from (a valid AppendEntries or InstallSnapshot): the election timer starts
// afresh, without backoff, and other candidates are refused for a while.
func (rf *Raft) noteLeaderLocked(now time.Time) {
	rf.leaderHeardAt = now
	rf.failedElections = 0
	rf.resetElectionTimerLocked(now)
}

// checkQuorumLocked makes a leader that has not heard from a majority of
// the peers (itself included) for checkQuorumTimeout step down (thesis 6.2).
// It keeps its term; its election timer starts afresh.
func (rf *Raft) checkQuorumLocked(now time.Time) {
	if now.Sub(rf.leaderSince) < checkQuorumTimeout {
		return // give the followers time to answer the first heartbeats
	}
	heard := make([]time.Time, len(rf.peers))
	for p := range rf.peers {
		heard[p] = rf.progress[p].heardAt
	}
	if hasQuorumContact(heard, rf.me, now, checkQuorumTimeout) {
		return
	}
	rf.debugf(tRole, "leader -> follower: no majority heard from within %v", checkQuorumTimeout)
	rf.role = follower
	rf.leaderHeardAt = time.Time{}
	rf.failedElections = 0
	rf.resetElectionTimerLocked(now)
}

// hasQuorumContact reports whether a majority of the peers, me included
// (always in contact with itself), were heard from within window before
// now: heardAt[p] is when peer p last answered (zero: never).
func hasQuorumContact(heardAt []time.Time, me int, now time.Time, window time.Duration) bool {
	count := 0
	for p, at := range heardAt {
		if p == me || (!at.IsZero() && now.Sub(at) < window) {
			count++
		}
	}
	return count > len(heardAt)/2
}
