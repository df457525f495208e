package porcupine_test

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	"6.5840/models"
	"6.5840/porcupine"
)

// kvGen describes a key/value history made linearizable by construction: a
// sequential execution of the model (40% gets, 50% appends, 10% puts, of
// unique values in the kvraft tests' "x client n y" style) whose operations
// are then laid out on a time line with random intervals around their
// place in it, so that each overlaps several others and the checker must
// find the order again.
type kvGen struct {
	seed    int64
	clients int // each has at most one operation outstanding
	ops     int // operations in all
	keys    int // chosen uniformly for each operation
	spread  int // the mean length of an interval, in operations (of all keys)
	// reply is the mean share, in percent, of an interval that comes after
	// the operation takes effect: 50 puts the linearization point anywhere
	// in it; 20 is closer to kvraft, where a server replies soon after it
	// applies an operation and most of the wait is replication.
	reply   int
	illegal bool // corrupt the output of one get in the middle third
}

// genSpacing is the time between consecutive linearization points.
const genSpacing = 100

// kvHistory is a generated history with what the tests need to know of it.
type kvHistory struct {
	ops       []porcupine.Operation
	corrupted int // index of the corrupted get, or -1
}

// generate builds the history. The same kvGen always yields the same one.
func (g kvGen) generate() kvHistory {
	rng := rand.New(rand.NewSource(g.seed))
	freeAt := make([]int64, g.clients) // when each client's last call returned
	values := make(map[string]string)  // the sequential execution's state
	appends := make([]int, g.clients)  // per client: how many values it wrote
	callWidth := int64(2 * g.spread * genSpacing * (100 - g.reply) / 100)
	retWidth := int64(2 * g.spread * genSpacing * g.reply / 100)
	h := kvHistory{corrupted: -1}
	var gets []int
	lin := int64(0)
	for k := 0; k < g.ops; k++ {
		lin += genSpacing
		// The call comes up to callWidth before the linearization point,
		// the return up to retWidth after it; a client must be free at the
		// call.
		call := lin - rng.Int63n(callWidth+1)
		idle := idleClients(freeAt, call)
		if len(idle) == 0 {
			earliest := freeAt[0]
			for _, f := range freeAt {
				earliest = min(earliest, f)
			}
			call = earliest + 1
			lin = max(lin, call)
			idle = idleClients(freeAt, call)
		}
		client := idle[rng.Intn(len(idle))]
		ret := lin + 1 + rng.Int63n(retWidth+1)
		freeAt[client] = ret

		key := strconv.Itoa(rng.Intn(g.keys))
		in := models.KvInput{Key: key}
		var out models.KvOutput
		switch r := rng.Intn(10); {
		case r < 4:
			in.Op = models.OpGet
			out.Value = values[key]
			gets = append(gets, k)
		case r < 5:
			in.Op, in.Value = models.OpPut, fmt.Sprintf("x %d %d y", client, appends[client])
			appends[client]++
			values[key] = in.Value
		default:
			in.Op, in.Value = models.OpAppend, fmt.Sprintf("x %d %d y", client, appends[client])
			appends[client]++
			values[key] += in.Value
		}
		h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	}
	if g.illegal && len(gets) > 0 {
		// No state ever ends in "!": every value written is "x ... y".
		mid := gets[len(gets)/3 : max(len(gets)/3+1, 2*len(gets)/3)]
		h.corrupted = mid[rng.Intn(len(mid))]
		o := &h.ops[h.corrupted]
		o.Output = models.KvOutput{Value: o.Output.(models.KvOutput).Value + "!"}
	}
	return h
}

func idleClients(freeAt []int64, call int64) []int {
	var idle []int
	for c, f := range freeAt {
		if f < call {
			idle = append(idle, c)
		}
	}
	return idle
}

// testSeed returns the seed for a randomized test: PORCUPINE_SEED if set,
// otherwise the clock. Tests name it in every failure message.
func testSeed(t *testing.T) int64 {
	if s := os.Getenv("PORCUPINE_SEED"); s != "" {
		seed, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("PORCUPINE_SEED=%q: %v", s, err)
		}
		return seed
	}
	return time.Now().UnixNano()
}

// TestGeneratedHistoriesReachTheirVerdicts checks generated histories of
// both verdicts, as operations and as events, and verbosely; the illegal
// ones must show the corrupted get unplaced.
func TestGeneratedHistoriesReachTheirVerdicts(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewSource(seed))
	for round := 0; round < 12; round++ {
		keys := 1 + rng.Intn(3)
		g := kvGen{
			seed:    rng.Int63(),
			clients: 2 + rng.Intn(30),
			ops:     50 + rng.Intn(400),
			keys:    keys,
			spread:  keys * (1 + rng.Intn(3)),
			reply:   []int{10, 20, 50}[rng.Intn(3)],
			illegal: round%2 == 1,
		}
		h := g.generate()
		want := porcupine.Ok
		if g.illegal {
			want = porcupine.Illegal
		}
		m := models.KvModel
		if got := porcupine.CheckOperationsTimeout(m, h.ops, sharedTimeout); got != want {
			t.Fatalf("seed %d, %+v: operations: %s, want %s", seed, g, got, want)
		}
		if got := porcupine.CheckEventsTimeout(m, operationsAsEvents(h.ops), sharedTimeout); got != want {
			t.Fatalf("seed %d, %+v: events: %s, want %s", seed, g, got, want)
		}
		got, info := porcupine.CheckOperationsVerbose(m, h.ops, sharedTimeout)
		if got != want {
			t.Fatalf("seed %d, %+v: verbose: %s, want %s", seed, g, got, want)
		}
		parts := partitionOps(m, h.ops)
		checkInfo(t, m, parts, info)
		if g.illegal && placed(parts, info, h.ops[h.corrupted]) {
			t.Fatalf("seed %d, %+v: the corrupted get %d is in a partial linearization", seed, g, h.corrupted)
		}
	}
}

// placed reports whether op appears in one of info's linearizations.
func placed(parts [][]testOp, info porcupine.LinearizationInfo, op porcupine.Operation) bool {
	for p, lins := range info.PartialLinearizations() {
		for _, lin := range lins {
			for _, i := range lin {
				o := parts[p][i].Operation
				if o.ClientId == op.ClientId && o.Call == op.Call {
					return true
				}
			}
		}
	}
	return false
}

// TestKvModelWithCollidingHashesReachesTheSameVerdicts replaces KvModel's
// hash with ones that collide on purpose, everywhere or in sixteen
// buckets: the memo must then tell states apart with Equal, and every
// verdict must stay what the generator built.
func TestKvModelWithCollidingHashesReachesTheSameVerdicts(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewSource(seed))
	hashes := []struct {
		name string
		hash func(interface{}) uint64
	}{
		{"Constant", func(interface{}) uint64 { return 7 }},
		{"SixteenBuckets", func(state interface{}) uint64 { return models.KvModel.Hash(state) % 16 }},
	}
	for _, tc := range hashes {
		t.Run(tc.name, func(t *testing.T) {
			m := models.KvModel
			m.Hash = tc.hash
			for round := 0; round < 6; round++ {
				g := kvGen{seed: rng.Int63(), clients: 10, ops: 200, keys: 1 + rng.Intn(2), spread: 2, reply: 20, illegal: round%2 == 1}
				want := porcupine.Ok
				if g.illegal {
					want = porcupine.Illegal
				}
				if got := porcupine.CheckOperationsTimeout(m, g.generate().ops, sharedTimeout); got != want {
					t.Fatalf("seed %d, %+v: %s, want %s", seed, g, got, want)
				}
			}
		})
	}
}
