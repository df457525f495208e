package main

import (
	"bytes"
	"fmt"
	"html"
	"os"
	"sort"
	"strings"
	"time"

	"6.5840/models"
	"6.5840/porcupine"
)

// What the visualization shows. A page of a few thousand operations opens
// in a browser in a second or two, but a run without faults completes tens
// of thousands a second, and porcupine's page is about 160 bytes an
// operation. So the page shows the whole history only when it is small;
// otherwise:
//
//   - a linearizable history (or one the checker gave up on) is shown in a
//     window of about -html-ops operations, centred on the slowest
//     operation or on -html-at;
//   - a history that is not linearizable is shown for the keys that are
//     not, each in full if they fit, otherwise each from the latest point
//     where it is still not linearizable.
//
// A window cannot simply start at a moment: its first Get may return a
// value written before it. So each key's part of a window starts at an
// anchor, a Put that no other write on the key overlaps: every write before
// it took effect before it, so the key's value right after it is its value,
// whatever came before. The part holds the anchor and every operation
// called after the anchor returned. It ends at the window's end: operations
// called after it are left out, and so are Gets still running then (a Get
// changes nothing, so leaving one out never breaks a linearization; a
// write still running is kept, as the values read before the end may
// include it). A window of a linearizable history is therefore
// linearizable, and a window that is not linearizable proves the history
// is not either. The page says what it left out, in a banner at the top.

// defaultHTMLOps is the default -html-ops: a page of about 1.6 MB that a
// browser opens in about two seconds.
const defaultHTMLOps = 10000

// vizOptions says what to visualize of a history.
type vizOptions struct {
	maxOps    int           // the most operations to show, about
	at        time.Duration // the moment a window centres on; <0: the slowest operation
	timeout   time.Duration // for the checks of the selected operations; 0: none
	completed int           // ops[:completed] completed; the rest are writes still open at the end
}

// visualize writes the page for the history ops, whose check gave res and
// info, to path. It returns what the page shows.
func visualize(ops []porcupine.Operation, res porcupine.CheckResult, info porcupine.LinearizationInfo,
	opt vizOptions, path string) (string, error) {
	var shows string
	var selected []porcupine.Operation
	switch {
	case len(ops) <= opt.maxOps:
		shows = fmt.Sprintf("the whole history: %d operations on %d keys", len(ops), len(byKey(ops)))
	case res == porcupine.Illegal:
		selected, shows = selectIllegal(ops, opt)
	default:
		selected, _, shows = selectWindow(ops, opt)
	}
	if selected != nil {
		var sres porcupine.CheckResult
		sres, info = porcupine.CheckOperationsVerbose(models.KvModel, selected, opt.timeout)
		switch {
		case res == porcupine.Unknown:
			shows += fmt.Sprintf("; the check of the whole history ran out of time, and what is shown, checked alone, is %s", verdictWord(sres))
		case sres != res:
			shows += fmt.Sprintf("; yet what is shown, checked alone, is %s", verdictWord(sres))
		}
	}
	var page bytes.Buffer
	if err := porcupine.Visualize(models.KvModel, info, &page); err != nil {
		return "", err
	}
	banner := fmt.Sprintf(`<div style="font: 14px sans-serif; padding: 6px 12px; background: #fff8e1; border-bottom: 1px solid #e0c060">kvsim shows %s.</div>`,
		html.EscapeString(shows))
	if err := os.WriteFile(path, withBanner(page.Bytes(), banner), 0o644); err != nil {
		return "", err
	}
	return shows, nil
}

func verdictWord(r porcupine.CheckResult) string {
	switch r {
	case porcupine.Ok:
		return "linearizable"
	case porcupine.Illegal:
		return "not linearizable"
	}
	return "undecided (the check timed out)"
}

// withBanner puts banner at the top of the page's body.
func withBanner(page []byte, banner string) []byte {
	at := 0
	if i := bytes.Index(page, []byte("<body")); i >= 0 {
		if j := bytes.IndexByte(page[i:], '>'); j >= 0 {
			at = i + j + 1
		}
	}
	out := make([]byte, 0, len(page)+len(banner))
	out = append(out, page[:at]...)
	out = append(out, banner...)
	return append(out, page[at:]...)
}

// byKey splits a history by key, each key's operations in call order.
// The result lists the keys in order.
func byKey(ops []porcupine.Operation) []keyOps {
	index := map[string]int{}
	var keys []keyOps
	for _, op := range ops {
		k := op.Input.(models.KvInput).Key
		i, ok := index[k]
		if !ok {
			i = len(keys)
			index[k] = i
			keys = append(keys, keyOps{key: k})
		}
		keys[i].ops = append(keys[i].ops, op)
	}
	for _, k := range keys {
		sort.SliceStable(k.ops, func(i, j int) bool { return k.ops[i].Call < k.ops[j].Call })
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].key < keys[j].key })
	return keys
}

// keyOps is one key's operations, in call order.
type keyOps struct {
	key string
	ops []porcupine.Operation
}

func isWrite(op porcupine.Operation) bool { return op.Input.(models.KvInput).Op != opGet }

// anchors returns the indices, in call order, of the Puts in ops (one key's,
// in call order) that no other write overlaps: after one of them takes
// effect the key holds its value, whatever happened before.
func anchors(ops []porcupine.Operation) []int {
	var writes []int
	for i, op := range ops {
		if isWrite(op) {
			writes = append(writes, i)
		}
	}
	var out []int
	maxReturn := int64(-1 << 63) // the latest return of the writes before
	for w, i := range writes {
		op := ops[i]
		isolated := op.Input.(models.KvInput).Op == opPut && maxReturn < op.Call &&
			(w+1 == len(writes) || ops[writes[w+1]].Call > op.Return)
		if isolated {
			out = append(out, i)
		}
		maxReturn = max(maxReturn, op.Return)
	}
	return out
}

// cut returns the part of one key's operations (in call order) that a
// window from the anchor ops[anchor] (-1: the start of the run) to the time
// end shows: the anchor, the operations called after it returned and no
// later than end, less the Gets still running at end.
func cut(ops []porcupine.Operation, anchor int, end int64) []porcupine.Operation {
	from := int64(-1 << 63)
	var out []porcupine.Operation
	if anchor >= 0 {
		from = ops[anchor].Return
		out = append(out, ops[anchor])
	}
	for _, op := range ops {
		if op.Call > from && op.Call <= end && (isWrite(op) || op.Return <= end) {
			out = append(out, op)
		}
	}
	return out
}

// window is the span of calls a window shows, and the keys it leaves out.
type window struct {
	start, end int64
	dropped    []string
}

// selectWindow picks about opt.maxOps operations around a moment, for a
// history too long to show whole; it returns them, their window and what
// they are.
func selectWindow(ops []porcupine.Operation, opt vizOptions) ([]porcupine.Operation, window, string) {
	calls := make([]int64, len(ops))
	for i, op := range ops {
		calls[i] = op.Call
	}
	sort.Slice(calls, func(i, j int) bool { return calls[i] < calls[j] })

	centre, why := int64(opt.at), fmt.Sprintf("around %.2f s (-html-at)", opt.at.Seconds())
	if opt.at < 0 {
		slow := 0
		for i, op := range ops[:opt.completed] {
			if op.Return-op.Call > ops[slow].Return-ops[slow].Call {
				slow = i
			}
		}
		if opt.completed > 0 {
			op := ops[slow]
			centre = op.Call + (op.Return-op.Call)/2
			why = fmt.Sprintf("around the slowest operation, %s, called at %.2f s and %.2f s long",
				models.KvModel.DescribeOperation(op.Input, op.Output), seconds(op.Call), seconds(op.Return-op.Call))
		}
	}
	i := sort.Search(len(calls), func(i int) bool { return calls[i] >= centre })
	lo := max(0, i-opt.maxOps/2)
	hi := min(len(calls), lo+opt.maxOps)
	lo = max(0, hi-opt.maxOps)
	start, end := calls[lo], calls[hi-1]
	w := window{start: start, end: end}

	var selected []porcupine.Operation
	leadIn := 0 // operations shown from before the window, back to the anchors
	for _, k := range byKey(ops) {
		anchor := -1
		for _, a := range anchors(k.ops) {
			if k.ops[a].Return < start {
				anchor = a
			}
		}
		part := cut(k.ops, anchor, end)
		before := 0
		for _, op := range part {
			if op.Call < start {
				before++
			}
		}
		if anchor < 0 && before > opt.maxOps/4+1 {
			// No Put to start from, and too long a lead-in to show from
			// the start of the run.
			w.dropped = append(w.dropped, k.key)
			continue
		}
		leadIn += before
		selected = append(selected, part...)
	}
	shows := fmt.Sprintf("%d of the %d operations: those called from %.2f s to %.2f s, %s, with %d called before it "+
		"back to a Put of each key that no other write overlapped (so that the key's value is known there); "+
		"Gets still running at the end of the window are left out. -html-at and -html-ops choose another window",
		len(selected), len(ops), seconds(start), seconds(end), why, leadIn)
	if len(w.dropped) > 0 {
		shows += fmt.Sprintf("; keys left out, for want of such a Put: %q", w.dropped)
	}
	return selected, w, shows
}

// selectIllegal picks the keys that are not linearizable, for a history
// too long to show whole: each key in full if they fit in opt.maxOps,
// otherwise each from its latest anchor to its earliest end that are still
// not linearizable.
func selectIllegal(ops []porcupine.Operation, opt vizOptions) ([]porcupine.Operation, string) {
	var bad []keyOps
	var names []string
	total := 0
	for _, k := range byKey(ops) {
		if porcupine.CheckOperationsTimeout(models.KvModel, k.ops, opt.timeout) == porcupine.Illegal {
			bad = append(bad, k)
			names = append(names, fmt.Sprintf("%q", k.key))
			total += len(k.ops)
		}
	}
	if len(bad) == 0 {
		// No key fails alone within the timeout: show a window instead.
		selected, _, shows := selectWindow(ops, opt)
		return selected, shows + "; no key was found not linearizable on its own within the check's timeout"
	}
	var selected []porcupine.Operation
	if total <= opt.maxOps {
		for _, k := range bad {
			selected = append(selected, k.ops...)
		}
		return selected, fmt.Sprintf("the keys that are not linearizable (%s), whole: %d of the %d operations; the other keys are left out",
			strings.Join(names, ", "), total, len(ops))
	}
	var spans []string
	for _, k := range bad {
		part, from, to := shortestIllegal(k.ops, opt.timeout)
		selected = append(selected, part...)
		spans = append(spans, fmt.Sprintf("%q from %.2f s to %.2f s", k.key, seconds(from), seconds(to)))
	}
	return selected, fmt.Sprintf("the keys that are not linearizable, each from its latest Put that no write overlapped "+
		"to its earliest end at which it is still not linearizable: %s; %d of the %d operations; the other keys are left out",
		strings.Join(spans, ", "), len(selected), len(ops))
}

// shortestIllegal narrows one key's operations, which are not linearizable,
// to a part that is still not: it ends at the earliest call time at which
// what came before is not linearizable, and starts at the latest anchor
// from which that is still so. It returns the part and its times.
func shortestIllegal(ops []porcupine.Operation, timeout time.Duration) ([]porcupine.Operation, int64, int64) {
	illegal := func(part []porcupine.Operation) bool {
		return porcupine.CheckOperationsTimeout(models.KvModel, part, timeout) == porcupine.Illegal
	}
	// Both searches rely on monotony: a part of a linearizable history cut
	// as cut does is linearizable, so the longer cut of an illegal one is
	// illegal too.
	e := sort.Search(len(ops), func(i int) bool { return illegal(cut(ops, -1, ops[i].Call)) })
	if e == len(ops) {
		return ops, ops[0].Call, ops[len(ops)-1].Call // undecided within the timeout: all of it
	}
	end := ops[e].Call
	var as []int
	for _, a := range anchors(ops) {
		if ops[a].Return < end {
			as = append(as, a)
		}
	}
	// The latest anchor from which the part is still illegal: the first
	// index, counting from the latest anchor back, whose part is.
	j := sort.Search(len(as), func(j int) bool { return illegal(cut(ops, as[len(as)-1-j], end)) })
	if j == len(as) {
		return cut(ops, -1, end), ops[0].Call, end
	}
	a := as[len(as)-1-j]
	return cut(ops, a, end), ops[a].Call, end
}

func seconds(t int64) float64 { return time.Duration(t).Seconds() }
