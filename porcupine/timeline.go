package porcupine

import (
	"fmt"
	"sort"
)

// op is one operation of a partition as the search sees it.
type op struct {
	client int
	input  interface{}
	output interface{} // nil when open
	call   int64       // Operation.Call, or the position of the call event
	ret    int64       // Operation.Return, or the position of the return event; unused when open
	open   bool        // no return: it may take effect after its call, or never
	index  int         // position in the partition as given (for events: among the calls)
}

// entry is a call or a return in a partition's time line.
type entry struct {
	id       int32 // the operation: an index into timeline.ops
	isReturn bool
}

// timeline is one partition, ready to search.
//
// Invariants: ops are sorted by call (so a set of linearized operations
// tends to be a prefix of ids, which keeps the memo's bitsets short);
// entries hold every call and every return of a closed operation, in time
// order, with a call before a return at equal times (overlap, not order).
type timeline struct {
	ops     []op
	entries []entry
}

// timelineFromOperations builds the timeline of one partition of operations.
func timelineFromOperations(part []Operation) timeline {
	ops := make([]op, len(part))
	for i, o := range part {
		if o.Return < o.Call {
			panic(fmt.Sprintf("porcupine: operation %d (client %d) returns at %d, before its call at %d",
				i, o.ClientId, o.Return, o.Call))
		}
		ops[i] = op{client: o.ClientId, input: o.Input, output: o.Output, call: o.Call, ret: o.Return, index: i}
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].call < ops[j].call })

	entries := make([]entry, 0, 2*len(ops))
	for id := range ops {
		entries = append(entries, entry{id: int32(id)}, entry{id: int32(id), isReturn: true})
	}
	time := func(e entry) int64 {
		if e.isReturn {
			return ops[e.id].ret
		}
		return ops[e.id].call
	}
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if ta, tb := time(a), time(b); ta != tb {
			return ta < tb
		}
		if a.isReturn != b.isReturn {
			return !a.isReturn // calls first: touching intervals overlap
		}
		return a.id < b.id
	})
	return timeline{ops: ops, entries: entries}
}

// timelineFromEvents builds the timeline of one partition of events. An event's
// position in the slice is its time. It panics on a malformed history: a
// return with no call before it, or an Id used twice.
func timelineFromEvents(part []Event) timeline {
	var ops []op
	entries := make([]entry, 0, len(part))
	idOf := make(map[int]int32, len(part)/2+1) // event Id -> op id
	returned := make(map[int]bool, len(part)/2+1)
	for pos, ev := range part {
		switch ev.Kind {
		case CallEvent:
			if _, dup := idOf[ev.Id]; dup {
				panic(fmt.Sprintf("porcupine: event %d: a second call with Id %d", pos, ev.Id))
			}
			id := int32(len(ops))
			idOf[ev.Id] = id
			ops = append(ops, op{client: ev.ClientId, input: ev.Value, call: int64(pos), open: true, index: int(id)})
			entries = append(entries, entry{id: id})
		case ReturnEvent:
			id, ok := idOf[ev.Id]
			if !ok {
				panic(fmt.Sprintf("porcupine: event %d: a return with Id %d and no call before it", pos, ev.Id))
			}
			if returned[ev.Id] {
				panic(fmt.Sprintf("porcupine: event %d: a second return with Id %d", pos, ev.Id))
			}
			returned[ev.Id] = true
			o := &ops[id]
			o.output, o.ret, o.open = ev.Value, int64(pos), false
			entries = append(entries, entry{id: id, isReturn: true})
		}
	}
	return timeline{ops: ops, entries: entries}
}
