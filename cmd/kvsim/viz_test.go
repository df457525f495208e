package main

import (
	"fmt"
	"html"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"6.5840/models"
	"6.5840/porcupine"
)

// linearizableHistory makes a history that is linearizable by
// construction: each client runs operations back to back, each takes
// effect at a random moment between its call and its return, and Gets
// return the value at that moment. Times are in microseconds, from 0.
func linearizableHistory(rng *rand.Rand, clients, keys, n int) []porcupine.Operation {
	type timed struct {
		op     porcupine.Operation
		effect int64
	}
	all := make([]timed, 0, n)
	clock := make([]int64, clients)
	for i := 0; i < n; i++ {
		c := rng.IntN(clients)
		call := clock[c] + int64(rng.IntN(100))*1000
		ret := call + int64(1+rng.IntN(100))*1000
		clock[c] = ret + 1000
		in := models.KvInput{Op: uint8(rng.IntN(3)), Key: fmt.Sprint(rng.IntN(keys))}
		if in.Op != opGet {
			in.Value = fmt.Sprintf("c%d.%d;", c, i)
		}
		all = append(all, timed{porcupine.Operation{ClientId: c, Input: in, Call: call, Return: ret},
			call + rng.Int64N(ret-call+1)})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].effect < all[j].effect })
	state := map[string]string{}
	ops := make([]porcupine.Operation, len(all))
	for i, t := range all {
		in := t.op.Input.(models.KvInput)
		switch in.Op {
		case opGet:
			t.op.Output = models.KvOutput{Value: state[in.Key]}
		case opPut:
			state[in.Key] = in.Value
			t.op.Output = models.KvOutput{}
		default:
			state[in.Key] += in.Value
			t.op.Output = models.KvOutput{}
		}
		ops[i] = t.op
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Call < ops[j].Call })
	return ops
}

func TestAnchorsArePutsNoOtherWriteOverlaps(t *testing.T) {
	op := func(kind uint8, call, ret int64) porcupine.Operation {
		return porcupine.Operation{Input: models.KvInput{Op: kind, Key: "k"}, Call: call, Return: ret}
	}
	cases := []struct {
		name string
		ops  []porcupine.Operation
		want []int
	}{
		{"a lone put", []porcupine.Operation{op(opPut, 0, 10)}, []int{0}},
		{"an append is no anchor", []porcupine.Operation{op(opAppend, 0, 10)}, nil},
		{"overlapping puts", []porcupine.Operation{op(opPut, 0, 10), op(opPut, 5, 15)}, nil},
		{"a get may overlap", []porcupine.Operation{op(opGet, 0, 20), op(opPut, 5, 15)}, []int{1}},
		{"a long earlier write overlaps", []porcupine.Operation{op(opAppend, 0, 100), op(opPut, 10, 20), op(opPut, 150, 160)}, []int{2}},
		{"a write called as it returns overlaps", []porcupine.Operation{op(opPut, 0, 10), op(opAppend, 10, 20)}, nil},
		{"back to back", []porcupine.Operation{op(opPut, 0, 10), op(opPut, 11, 20), op(opAppend, 21, 30)}, []int{0, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := anchors(tc.ops); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("anchors = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestWindowsOfALinearizableHistoryAreLinearizable picks windows of random
// linearizable histories: each must be linearizable on its own, and must
// hold every operation called inside it but the Gets still running at its
// end.
func TestWindowsOfALinearizableHistoryAreLinearizable(t *testing.T) {
	const clientsMax = 7 // calls may tie, so a window may hold a few more
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	for trial := 0; trial < 30; trial++ {
		ops := linearizableHistory(rng, 2+rng.IntN(clientsMax-1), 1+rng.IntN(4), 200+rng.IntN(800))
		if !porcupine.CheckOperations(models.KvModel, ops) {
			t.Fatalf("seed %d, trial %d: the generated history is not linearizable", seed, trial)
		}
		opt := vizOptions{maxOps: 20 + rng.IntN(200), at: -1, completed: len(ops)}
		if rng.IntN(2) == 0 {
			opt.at = time.Duration(ops[rng.IntN(len(ops))].Call)
		}
		selected, w, shows := selectWindow(ops, opt)
		if res := porcupine.CheckOperationsTimeout(models.KvModel, selected, 10*time.Second); res != porcupine.Ok {
			t.Fatalf("seed %d, trial %d: a window (%s) was judged %v", seed, trial, shows, res)
		}
		in := map[porcupine.Operation]bool{}
		for _, op := range selected {
			in[op] = true
		}
		dropped := map[string]bool{}
		for _, k := range w.dropped {
			dropped[k] = true
		}
		inWindow := 0
		for _, op := range ops {
			if op.Call < w.start || op.Call > w.end {
				continue
			}
			inWindow++
			key := op.Input.(models.KvInput).Key
			if want := !dropped[key] && (isWrite(op) || op.Return <= w.end); want != in[op] {
				t.Fatalf("seed %d, trial %d: window [%d, %d] (%s): %+v shown %v, want %v",
					seed, trial, w.start, w.end, shows, op, in[op], want)
			}
		}
		if inWindow < min(opt.maxOps, len(ops)) || inWindow > opt.maxOps+clientsMax {
			t.Fatalf("seed %d, trial %d: %d calls in the window, want %d", seed, trial, inWindow, min(opt.maxOps, len(ops)))
		}
		if opt.at >= 0 && (int64(opt.at) < w.start || int64(opt.at) > w.end) {
			t.Fatalf("seed %d, trial %d: window [%d, %d] misses -html-at %d", seed, trial, w.start, w.end, opt.at)
		}
	}
}

// staleRead returns a copy of ops in which the Get nearest the middle that
// read something now reads a value never written, and that Get.
func staleRead(ops []porcupine.Operation) ([]porcupine.Operation, porcupine.Operation) {
	bad := append([]porcupine.Operation(nil), ops...)
	for i := len(bad) / 2; i < len(bad); i++ {
		if bad[i].Input.(models.KvInput).Op == opGet {
			bad[i].Output = models.KvOutput{Value: "never written;"}
			return bad, bad[i]
		}
	}
	panic("no Get in the second half")
}

// TestShortestIllegalPartHoldsTheFailure plants a Get of a value never
// written in a long history of one key: the part shortestIllegal keeps is
// still not linearizable, holds that Get, and is short.
func TestShortestIllegalPartHoldsTheFailure(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 2))
	for trial := 0; trial < 10; trial++ {
		// Two or three clients on one key: Puts that no write overlaps
		// are common, so the part can start near the failure.
		ops, get := staleRead(linearizableHistory(rng, 2+rng.IntN(2), 1, 3000))
		part, from, to := shortestIllegal(ops, 10*time.Second)
		if porcupine.CheckOperations(models.KvModel, part) {
			t.Fatalf("seed %d, trial %d: the part kept is linearizable", seed, trial)
		}
		found := false
		for _, op := range part {
			found = found || op == get
		}
		if !found || from > get.Call || to < get.Return {
			t.Fatalf("seed %d, trial %d: the part from %d to %d lacks the bad Get %+v", seed, trial, from, to, get)
		}
		if len(part) > len(ops)/10 {
			t.Fatalf("seed %d, trial %d: kept %d of %d operations", seed, trial, len(part), len(ops))
		}
	}
}

// TestVisualizationStaysSmallAndSaysWhatItLeftOut writes pages for long
// and short histories, linearizable or not: the page stays near
// -html-ops operations (porcupine's page takes about 160 bytes an
// operation) and its banner says what it shows.
func TestVisualizationStaysSmallAndSaysWhatItLeftOut(t *testing.T) {
	if testing.Short() {
		t.Skip("checks histories of 40,000 operations; run without -short")
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 3))
	long := linearizableHistory(rng, 8, 5, 40000)
	short := linearizableHistory(rng, 8, 5, 2000)
	longBad, _ := staleRead(long)
	shortBad, _ := staleRead(short)
	cases := []struct {
		name   string
		ops    []porcupine.Operation
		maxOps int
		want   []string // in the banner
		limit  int64    // bytes
	}{
		{"long", long, 4000, []string{"of the 40000 operations", "around the slowest operation"}, 1 << 20},
		{"long, a small window", long, 500, []string{"of the 40000 operations"}, 200 << 10},
		{"short", short, 4000, []string{"the whole history: 2000 operations on 5 keys"}, 1 << 20},
		{"long, not linearizable", longBad, 4000, []string{"the keys that are not linearizable, each from its latest Put"}, 3 << 20},
		{"short, not linearizable", shortBad, 4000, []string{"the whole history"}, 1 << 20},
		{"short, not linearizable, a small window", shortBad, 1000, []string{"the keys that are not linearizable (", "whole"}, 1 << 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, info := porcupine.CheckOperationsVerbose(models.KvModel, tc.ops, time.Minute)
			path := filepath.Join(t.TempDir(), "h.html")
			shows, err := visualize(tc.ops, res, info, vizOptions{maxOps: tc.maxOps, at: -1, timeout: time.Minute, completed: len(tc.ops)}, path)
			if err != nil {
				t.Fatal(err)
			}
			page, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(page)) > tc.limit {
				t.Fatalf("seed %d: the page is %d bytes, over %d (%s)", seed, len(page), tc.limit, shows)
			}
			body := strings.Index(string(page), "<body")
			banner := strings.Index(string(page), "kvsim shows ")
			if body < 0 || banner < body {
				t.Fatalf("seed %d: no banner in the body", seed)
			}
			for _, w := range tc.want {
				if !strings.Contains(shows, w) || !strings.Contains(string(page), html.EscapeString(w)) {
					t.Fatalf("seed %d: %q missing from what the page shows: %s", seed, w, shows)
				}
			}
			if strings.Contains(shows, "yet what is shown") {
				t.Fatalf("seed %d: the selection changed the verdict: %s", seed, shows)
			}
		})
	}
}
