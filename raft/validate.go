package raft

// Validation of RPC arguments. A peer trusts nothing that arrives over the
// network: a request that could not have come from a correct peer (an entry
// whose term exceeds the request's, terms that go down, an index below zero
// or beyond any log, a sender that is not a peer) is refused before it
// changes anything, in memory or saved. The checks are pure, so a table test
// pins each one down; the handlers call them first thing.

import "fmt"

// maxPlausibleIndex bounds every log index and term a request may name: a
// log of 2^48 entries is beyond any real one, and the bound keeps index
// arithmetic (PrevLogIndex + len(Entries)) far from overflow.
const maxPlausibleIndex = 1 << 48

// validateAppendEntries reports why args could not come from a correct
// leader of a cluster of n peers, or nil. A correct leader sends entries of
// terms that never decrease, start at or after PrevLogTerm and end at or
// before its own term (Figure 2: a leader appends only entries of its term
// and copies the rest from a log whose terms never decrease).
func validateAppendEntries(args *AppendEntriesArgs, n, me int) error {
	if err := validateSender("AppendEntries", args.Term, args.LeaderId, n, me); err != nil {
		return err
	}
	if err := validateLogPosition("PrevLog", args.PrevLogIndex, args.PrevLogTerm, args.Term); err != nil {
		return err
	}
	if args.LeaderCommit < 0 || args.LeaderCommit > maxPlausibleIndex {
		return fmt.Errorf("AppendEntries: LeaderCommit %d out of range", args.LeaderCommit)
	}
	if len(args.Entries) > maxPlausibleIndex-args.PrevLogIndex {
		return fmt.Errorf("AppendEntries: %d entries after index %d pass the largest index", len(args.Entries), args.PrevLogIndex)
	}
	prev := args.PrevLogTerm
	for i, e := range args.Entries {
		switch {
		case e.Term > args.Term:
			return fmt.Errorf("AppendEntries: entry %d has term %d, after the leader's term %d",
				args.PrevLogIndex+1+i, e.Term, args.Term)
		case e.Term < prev || e.Term < 1:
			return fmt.Errorf("AppendEntries: entry %d has term %d, before the term %d of the entry preceding it",
				args.PrevLogIndex+1+i, e.Term, prev)
		}
		prev = e.Term
	}
	return nil
}

// validateRequestVote reports why args could not come from a correct
// candidate (or pre-candidate) of a cluster of n peers, or nil.
func validateRequestVote(args *RequestVoteArgs, n, me int) error {
	if err := validateSender("RequestVote", args.Term, args.CandidateId, n, me); err != nil {
		return err
	}
	return validateLogPosition("LastLog", args.LastLogIndex, args.LastLogTerm, args.Term)
}

// validateInstallSnapshot reports why args could not come from a correct
// leader of a cluster of n peers, or nil. A snapshot covers at least one
// entry, of a term no later than the leader's, and holds the service's
// state, which is never empty: a Snapshot call with no data is ignored.
func validateInstallSnapshot(args *InstallSnapshotArgs, n, me int) error {
	if err := validateSender("InstallSnapshot", args.Term, args.LeaderId, n, me); err != nil {
		return err
	}
	if err := validateLogPosition("LastIncluded", args.LastIncludedIndex, args.LastIncludedTerm, args.Term); err != nil {
		return err
	}
	if args.LastIncludedIndex < 1 {
		return fmt.Errorf("InstallSnapshot: LastIncludedIndex %d covers no entry", args.LastIncludedIndex)
	}
	if len(args.Data) == 0 {
		return fmt.Errorf("InstallSnapshot: no data for a snapshot through %d", args.LastIncludedIndex)
	}
	return nil
}

// validateSender checks a request's term and the sender's id: a term starts
// at 1 for any peer that sends requests, and the sender is another peer.
func validateSender(rpc string, term, sender, n, me int) error {
	if term < 1 || term > maxPlausibleIndex {
		return fmt.Errorf("%s: term %d out of range", rpc, term)
	}
	if sender < 0 || sender >= n || sender == me {
		return fmt.Errorf("%s: sender %d is not another peer of %d", rpc, sender, n)
	}
	return nil
}

// validateLogPosition checks an (index, term) pair that names an entry of
// the sender's log, of a sender in term: index 0 (the empty log) has term 0,
// every entry has a term from 1 to the sender's term.
func validateLogPosition(name string, index, term, senderTerm int) error {
	switch {
	case index < 0 || index > maxPlausibleIndex:
		return fmt.Errorf("%sIndex %d out of range", name, index)
	case index == 0 && term != 0:
		return fmt.Errorf("%sIndex 0 (the empty log) with %sTerm %d", name, name, term)
	case index > 0 && (term < 1 || term > senderTerm):
		return fmt.Errorf("%sTerm %d of entry %d is not in 1..%d", name, term, index, senderTerm)
	}
	return nil
}
