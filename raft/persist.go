package raft

// Saving and restoring Figure 2's persistent state (currentTerm, votedFor, log)
// together with the snapshot's last index and term (section 7).
//
// The cost of a save must not grow with the log. Re-encoding the whole log on
// every change is the classic trap: it makes each agreement cost O(log length).
// Instead the encoded log is kept as an append-only gob stream written by one
// long-lived labgob encoder: gob sends a type's description once per stream,
// and each entry is encoded once, when it is first saved (the entries new to a
// save go in one gob message of type []LogEntry). A save then writes
//
//	raftstate = entry stream | header | uint32 big-endian length of header
//
// where the header is the labgob encoding of persistHeader's fields, one int
// after another (the format, the term, the vote, the snapshot's position and
// the entry count). The header goes last so that
// it can be appended to the stream's own buffer and taken off again after
// Save, which copies its arguments: the stream is never copied by us, only by
// the Persister. When entries are removed (a conflicting suffix, or a prefix
// covered by a new snapshot) the stream is re-encoded once, at the next save,
// from a fresh encoder; that happens at most once per truncation or snapshot.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"6.5840/labgob"
)

// persistFormat identifies this layout of the saved state; a header carrying
// any other value was not written by this code.
const persistFormat = 0x52414654 // "RAFT"

// headerLengthSize is the size of the trailing length of the header.
const headerLengthSize = 4

// persistHeader is the small part of the saved state, written after the entry
// stream as a sequence of ints, in the order of the fields.
type persistHeader struct {
	Format        int // persistFormat
	CurrentTerm   int // Figure 2: latest term the peer has seen
	VotedFor      int // Figure 2: candidate voted for in CurrentTerm, -1 for none
	SnapshotIndex int // last index the snapshot covers (section 7)
	SnapshotTerm  int // term of that entry
	EntryCount    int // entries in the stream: indices SnapshotIndex+1 ...
}

// fields returns pointers to h's fields, in the order they are saved.
func (h *persistHeader) fields() []*int {
	return []*int{&h.Format, &h.CurrentTerm, &h.VotedFor, &h.SnapshotIndex, &h.SnapshotTerm, &h.EntryCount}
}

// entryStream is the encoded log: the gob encoding of the log's first
// `encoded` entries (the entries after the snapshot), in batches of type
// []LogEntry, unless stale.
//
// Invariant: !stale implies buf holds exactly the encodings of
// log.entries[:encoded], written by enc, and encoded <= len(log.entries).
type entryStream struct {
	buf     []byte             // the stream; reused across saves
	enc     *labgob.LabEncoder // writes into buf; nil before the first save
	encoded int                // entries whose encoding buf holds
	stale   bool               // entries were removed: re-encode at the next save
	header  bytes.Buffer       // the header's encoding, reused
	hdrEnc  *labgob.LabEncoder // writes into header; ints need no type description, so it can be reused
}

// Write appends p to the stream; it lets labgob's encoder write into buf.
func (s *entryStream) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	return len(p), nil
}

// invalidateFrom records that the log's entries from position pos on were
// removed or replaced. If any of them had been encoded, the stream is stale.
func (s *entryStream) invalidateFrom(pos int) {
	if pos < s.encoded {
		s.stale = true
	}
}

// reset starts a new, empty stream with a fresh encoder. A large buffer left
// behind by a long log is dropped rather than kept for a short one.
func (s *entryStream) reset() {
	const keepCapacity = 1 << 16
	if cap(s.buf) > keepCapacity {
		s.buf = nil
	}
	s.buf = s.buf[:0]
	s.enc = labgob.NewEncoder(s)
	s.encoded = 0
	s.stale = false
}

// sync brings the stream up to date with entries (the log's entries after its
// snapshot), encoding only what it does not hold yet. An entry that cannot be
// encoded (a command type unknown to labgob) is a bug in the service: panic.
func (s *entryStream) sync(entries []LogEntry, firstIndex int) {
	if s.stale || s.enc == nil {
		s.reset()
	}
	if s.encoded == len(entries) {
		return
	}
	// One gob message for all the new entries: a batch costs one message
	// header and one labgob check, not one per entry.
	if err := s.enc.Encode(entries[s.encoded:]); err != nil {
		panic(fmt.Sprintf("raft: cannot encode log entries %d-%d (is every command type registered with labgob.Register?): %v",
			firstIndex+s.encoded, firstIndex+len(entries)-1, err))
	}
	s.encoded = len(entries)
}

// encodeState syncs the stream with the log and returns the full raftstate
// for Save. The returned slice aliases the stream's buffer: it is valid only
// until the stream next changes, which is long enough for Save to copy it.
func (s *entryStream) encodeState(h persistHeader, l *raftLog) []byte {
	s.sync(l.entries, l.snapshotIndex+1)
	h.Format = persistFormat
	h.SnapshotIndex, h.SnapshotTerm, h.EntryCount = l.snapshotIndex, l.snapshotTerm, len(l.entries)
	s.header.Reset()
	if s.hdrEnc == nil {
		s.hdrEnc = labgob.NewEncoder(&s.header)
	}
	for _, v := range h.fields() {
		if err := s.hdrEnc.Encode(*v); err != nil {
			panic(fmt.Sprintf("raft: cannot encode the persistent header: %v", err))
		}
	}
	streamLen := len(s.buf)
	s.buf = append(s.buf, s.header.Bytes()...)
	s.buf = binary.BigEndian.AppendUint32(s.buf, uint32(s.header.Len()))
	state := s.buf
	s.buf = s.buf[:streamLen]
	return state
}

// errUndecodable wraps every reason decodeState gives up.
var errUndecodable = errors.New("raft: persisted state is undecodable")

// decodeState parses what encodeState produced: the header and the entries.
// It checks the layout and the log's invariants, and returns an error wrapping
// errUndecodable if anything is off, rather than half a state.
func decodeState(data []byte) (persistHeader, []LogEntry, error) {
	var h persistHeader
	fail := func(format string, args ...any) (persistHeader, []LogEntry, error) {
		return persistHeader{}, nil, fmt.Errorf("%w: %s", errUndecodable, fmt.Sprintf(format, args...))
	}
	if len(data) < headerLengthSize {
		return fail("%d bytes is too short to hold a header", len(data))
	}
	n := int(binary.BigEndian.Uint32(data[len(data)-headerLengthSize:]))
	if n > len(data)-headerLengthSize {
		return fail("header length %d exceeds the %d bytes saved", n, len(data))
	}
	streamLen := len(data) - headerLengthSize - n
	hdrDec := labgob.NewDecoder(bytes.NewReader(data[streamLen : streamLen+n]))
	for i, v := range h.fields() {
		var x int
		if err := hdrDec.Decode(&x); err != nil {
			return fail("header field %d: %v", i+1, err)
		}
		*v = x
	}
	if h.Format != persistFormat {
		return fail("header format %#x, want %#x", h.Format, persistFormat)
	}
	if h.CurrentTerm < 0 || h.VotedFor < -1 || h.SnapshotIndex < 0 || h.SnapshotTerm < 0 ||
		h.SnapshotTerm > h.CurrentTerm || h.EntryCount < 0 || h.EntryCount > streamLen {
		return fail("header out of range: %+v", h)
	}
	r := bytes.NewReader(data[:streamLen])
	dec := labgob.NewDecoder(r)
	entries := make([]LogEntry, 0, h.EntryCount)
	for len(entries) < h.EntryCount {
		var batch []LogEntry
		if err := dec.Decode(&batch); err != nil {
			return fail("entry %d of %d: %v", len(entries)+1, h.EntryCount, err)
		}
		entries = append(entries, batch...)
	}
	if len(entries) != h.EntryCount {
		return fail("%d entries saved, %d expected", len(entries), h.EntryCount)
	}
	prevTerm := h.SnapshotTerm
	for i, e := range entries {
		if e.Term < prevTerm || e.Term > h.CurrentTerm {
			return fail("entry %d has term %d after term %d (current term %d)",
				h.SnapshotIndex+1+i, e.Term, prevTerm, h.CurrentTerm)
		}
		prevTerm = e.Term
	}
	if r.Len() != 0 {
		return fail("%d bytes left after %d entries", r.Len(), h.EntryCount)
	}
	return h, entries, nil
}

// persistLocked saves the persistent state and the snapshot (Figure 2:
// "updated on stable storage before responding to RPCs"). Only the entries
// appended since the last save are encoded. A killed peer saves nothing: after
// Kill, it must not touch the persister.
func (rf *Raft) persistLocked() {
	if rf.killed() {
		return
	}
	state := rf.stream.encodeState(persistHeader{CurrentTerm: rf.currentTerm, VotedFor: rf.votedFor}, &rf.log)
	rf.persister.Save(state, rf.snapshot)
	rf.persistDirty = false
	if rf.role == leader {
		rf.matchIndex[rf.me] = rf.log.lastIndex()
	}
	rf.persistedBytes.Add(int64(len(state) + len(rf.snapshot)))
	rf.persistCount.Add(1)
}

// restoreLocked loads what persistLocked saved, before the peer starts. No
// saved state means a fresh peer. State that cannot be decoded stops the peer
// with a message naming the problem: running with half a state could undo
// votes or committed entries.
func (rf *Raft) restoreLocked(state, snapshot []byte) {
	if len(state) == 0 {
		return
	}
	h, entries, err := decodeState(state)
	if err == nil && h.VotedFor >= len(rf.peers) {
		err = fmt.Errorf("%w: votedFor %d, but there are %d peers", errUndecodable, h.VotedFor, len(rf.peers))
	}
	if err != nil {
		panic(fmt.Sprintf("raft: S%d cannot restart: %v", rf.me, err))
	}
	rf.currentTerm, rf.votedFor = h.CurrentTerm, h.VotedFor
	rf.log = raftLog{snapshotIndex: h.SnapshotIndex, snapshotTerm: h.SnapshotTerm, entries: entries}
	rf.snapshot = snapshot
	// The service restores its own state from the snapshot in the persister;
	// the entries after it are delivered again once known to be committed.
	rf.commitIndex, rf.lastApplied = h.SnapshotIndex, h.SnapshotIndex
	// A new encoder would describe the types again, which a decoder of the
	// old stream would refuse: re-encode the log at the next save.
	rf.stream.stale = true
	rf.debugTerm.Store(int64(h.CurrentTerm))
	rf.debugf(tPersist, "restored: vote %d, snapshot through %d (term %d), %d entries",
		h.VotedFor, h.SnapshotIndex, h.SnapshotTerm, len(entries))
}
