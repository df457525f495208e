package raft

// Leader election (section 5.2, with the restriction of 5.4.1): the election
// timer, RequestVote's arguments, reply and handler, and vote counting.

import (
	"math/rand/v2"
	"time"
)

// RequestVoteArgs are the arguments of RequestVote (Figure 2), sent by
// candidates to gather votes.
type RequestVoteArgs struct {
	Term         int // candidate's term
	CandidateId  int // candidate requesting the vote
	LastLogIndex int // index of the candidate's last log entry (section 5.4)
	LastLogTerm  int // term of the candidate's last log entry (section 5.4)
}

// RequestVoteReply is the reply to RequestVote (Figure 2).
type RequestVoteReply struct {
	Term        int  // the voter's currentTerm, for the candidate to update itself
	VoteGranted bool // true means the candidate received the vote
}

// randomElectionTimeout returns a timeout drawn uniformly from
// [electionTimeoutMin, electionTimeoutMax).
func randomElectionTimeout() time.Duration {
	return electionTimeoutMin + rand.N(electionTimeoutMax-electionTimeoutMin)
}

// ticker starts an election whenever a follower or candidate reaches its
// election deadline (Figure 2, Rules for Servers, Followers and Candidates).
// It sleeps until the deadline, which others push back, and exits on Kill.
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
		if rf.role != leader && !now.Before(rf.electionDeadline) {
			rf.startElectionLocked(now)
		}
		wait := rf.electionDeadline.Sub(now)
		if rf.role == leader {
			wait = electionTimeoutMin // a leader has no deadline; look again later
		}
		rf.mu.Unlock()
		timer.Reset(wait) // timer.C was just drained, so Reset is safe
	}
}

// startElectionLocked converts to candidate (Figure 2, Rules for Servers,
// Candidates): increment currentTerm, vote for self, reset the election timer,
// save, and send RequestVote to every other peer.
func (rf *Raft) startElectionLocked(now time.Time) {
	rf.role = candidate
	rf.setTermLocked(rf.currentTerm + 1)
	rf.votedFor = rf.me
	rf.votes = 1
	rf.resetElectionTimerLocked(now)
	rf.persistLocked()
	rf.debugf(tVote, "election timeout: candidate (log through %d, term %d)", rf.log.lastIndex(), rf.log.lastTerm())
	if rf.votes > len(rf.peers)/2 {
		rf.becomeLeaderLocked() // a cluster of one
		return
	}
	args := RequestVoteArgs{
		Term:         rf.currentTerm,
		CandidateId:  rf.me,
		LastLogIndex: rf.log.lastIndex(),
		LastLogTerm:  rf.log.lastTerm(),
	}
	for p := range rf.peers {
		if p != rf.me {
			rf.calls.Add(1)
			go rf.requestVote(p, args)
		}
	}
}

// requestVote asks one peer for its vote and counts the answer: a candidate
// that gathers votes from a majority becomes leader (section 5.2).
func (rf *Raft) requestVote(peer int, args RequestVoteArgs) {
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
	if rf.role != candidate || rf.currentTerm != args.Term || !reply.VoteGranted {
		return // a stale answer, or a refusal
	}
	rf.votes++
	rf.debugf(tVote, "vote from S%d (%d of %d)", peer, rf.votes, len(rf.peers))
	if rf.votes > len(rf.peers)/2 {
		rf.becomeLeaderLocked()
	}
	rf.checkInvariantsLocked()
}

// RequestVote is the RequestVote RPC handler (Figure 2, RequestVote RPC,
// receiver implementation). The reply is sent only after any change to
// currentTerm or votedFor is saved.
func (rf *Raft) RequestVote(args *RequestVoteArgs, reply *RequestVoteReply) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.killed() || args.CandidateId < 0 || args.CandidateId >= len(rf.peers) {
		return // a crashed peer answers nothing; a bad id is ignored
	}
	if args.Term > rf.currentTerm {
		rf.becomeFollowerLocked(args.Term)
	}
	reply.Term = rf.currentTerm
	// Rule 1: reply false if term < currentTerm.
	// Rule 2: grant the vote if votedFor is null or candidateId, and the
	// candidate's log is at least as up-to-date as ours (section 5.4.1).
	if args.Term == rf.currentTerm && (rf.votedFor == -1 || rf.votedFor == args.CandidateId) {
		if isLogUpToDate(args.LastLogIndex, args.LastLogTerm, rf.log.lastIndex(), rf.log.lastTerm()) {
			if rf.votedFor != args.CandidateId {
				rf.votedFor = args.CandidateId
				rf.persistDirty = true
			}
			reply.VoteGranted = true
			rf.resetElectionTimerLocked(time.Now())
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
