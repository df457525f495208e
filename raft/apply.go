package raft

// The applier: the one goroutine that sends on applyCh (Figure 2, Rules for All
// Servers: "If commitIndex > lastApplied: increment lastApplied, apply
// log[lastApplied] to state machine").

import "fmt"

// applier delivers committed entries, and snapshots installed by the leader,
// on applyCh in index order, each exactly once. It copies what it will send
// while holding rf.mu and sends without it, so the service may call into Raft
// (Start, Snapshot, GetState) while handling a message. It waits on applyCond,
// signalled when commitIndex grows or a snapshot is installed, and exits on
// Kill, even when blocked on a send nobody receives.
func (rf *Raft) applier() {
	defer rf.workers.Done()
	var batch []ApplyMsg // reused; owned by this goroutine
	rf.mu.Lock()
	for {
		for !rf.killed() && rf.lastApplied >= rf.commitIndex && rf.lastApplied >= rf.log.snapshotIndex {
			rf.applyCond.Wait()
		}
		if rf.killed() {
			rf.mu.Unlock()
			return
		}
		batch = rf.takeApplyBatchLocked(batch[:0])
		rf.mu.Unlock()
		for i := range batch {
			if !rf.deliver(batch[i]) {
				return
			}
		}
		clear(batch) // let the commands be collected
		rf.mu.Lock()
	}
}

// takeApplyBatchLocked appends to batch what the applier delivers next and
// advances lastApplied past it: the snapshot, if one was installed beyond
// lastApplied (a follower never applies entries a snapshot covers), else the
// committed entries after lastApplied.
func (rf *Raft) takeApplyBatchLocked(batch []ApplyMsg) []ApplyMsg {
	if rf.lastApplied < rf.log.snapshotIndex {
		batch = append(batch, ApplyMsg{
			SnapshotValid: true,
			Snapshot:      append([]byte(nil), rf.snapshot...), // the service owns its copy
			SnapshotTerm:  rf.log.snapshotTerm,
			SnapshotIndex: rf.log.snapshotIndex,
		})
		rf.debugf(tApply, "delivering snapshot through %d", rf.log.snapshotIndex)
		rf.setLastAppliedLocked(rf.log.snapshotIndex)
		return batch
	}
	from, to := rf.lastApplied+1, min(rf.commitIndex, rf.lastApplied+maxApplyBatch)
	for i := from; i <= to; i++ {
		batch = append(batch, ApplyMsg{CommandValid: true, Command: rf.log.at(i).Command, CommandIndex: i})
	}
	rf.setLastAppliedLocked(to)
	return batch
}

// setLastAppliedLocked advances lastApplied to index. lastApplied never
// decreases (each message is delivered once, in order): a caller that would
// lower it is broken.
func (rf *Raft) setLastAppliedLocked(index int) {
	if index < rf.lastApplied {
		panic(fmt.Sprintf("raft: S%d T%d: invariant lastApplied never decreases violated: %d -> %d",
			rf.me, rf.currentTerm, rf.lastApplied, index))
	}
	rf.lastApplied = index
}

// deliver sends msg on applyCh unless the peer is killed first; it reports
// whether it sent.
func (rf *Raft) deliver(msg ApplyMsg) bool {
	select {
	case <-rf.done:
		return false // checked first: once killed, send nothing more
	default:
	}
	select {
	case rf.applyCh <- msg:
		return true
	case <-rf.done:
		return false
	}
}
