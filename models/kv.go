package models

import (
	"fmt"

	"6.5840/porcupine"
)

// The operations of KvInput.Op.
const (
	OpGet    uint8 = 0 // read Key's value
	OpPut    uint8 = 1 // set Key's value to Value
	OpAppend uint8 = 2 // add Value to the end of Key's value
)

// KvInput is the input of one key/value operation, as the kvraft tests
// record it.
type KvInput struct {
	Op    uint8  // OpGet, OpPut or OpAppend
	Key   string // the key the operation reads or writes
	Value string // the value a put or an append writes; empty for a get
}

// KvOutput is the output of one key/value operation.
type KvOutput struct {
	Value string // the value a get read ("" when the key was never written)
}

// KvModel is the sequential specification of a key/value store with Get, Put
// and Append. Keys are independent, so it partitions a history by key and
// its state is the value of one key, "" at first.
//
// The state is an immutable value built of the pieces appended since the
// last put (value.go), not a string: an append then costs the length of
// what it appends, and the checker's memo hashes a state in O(1), however
// long the key's value has grown. Step, Equal, Hash and DescribeState also
// accept a plain string as a state, with the same meaning.
//
// An operation whose output is missing (nil, for an open call in an event
// history) may have had any outcome: a get is then always legal, and a put
// or an append takes effect.
var KvModel = porcupine.Model{
	Partition:         partitionByKey,
	PartitionEvent:    partitionEventsByKey,
	Init:              func() interface{} { return emptyValue },
	Step:              kvStep,
	Equal:             func(state1, state2 interface{}) bool { return sameValue(valueOf(state1), valueOf(state2)) },
	DescribeOperation: describeKvOperation,
	DescribeState:     func(state interface{}) string { return describeValue(valueOf(state)) },
	Hash:              func(state interface{}) uint64 { return valueOf(state).hash },
	StateAfter:        kvStateAfter,
}

// kvStep is KvModel.Step. An input that is not a KvInput, or names an
// unknown Op, cannot be explained by the model, so it is never legal.
func kvStep(state, input, output interface{}) (bool, interface{}) {
	in, ok := input.(KvInput)
	if !ok {
		return false, state
	}
	v := valueOf(state)
	switch in.Op {
	case OpGet:
		out, known := output.(KvOutput)
		return !known || v.equalsString(out.Value), v
	case OpPut:
		return true, rootValue(in.Value)
	case OpAppend:
		return true, v.appendPiece(in.Value)
	}
	return false, state
}

// kvStateAfter is KvModel.StateAfter: a get that read v was legal only if
// the value was v, and leaves it; a put of v leaves v whatever came before.
// An append's result depends on the value before it, and an open get's on
// what it would have read.
func kvStateAfter(input, output interface{}) (interface{}, bool) {
	in, ok := input.(KvInput)
	if !ok {
		return nil, false
	}
	switch in.Op {
	case OpGet:
		if out, known := output.(KvOutput); known {
			return valueOf(out.Value), true
		}
	case OpPut:
		return valueOf(in.Value), true
	}
	return nil, false
}

// valueOf returns a state as a value. It panics on a state KvModel never
// makes: another model's state was handed to it.
func valueOf(state interface{}) *value {
	switch s := state.(type) {
	case *value:
		return s
	case string:
		if s == "" {
			return emptyValue
		}
		return rootValue(s)
	}
	panic(fmt.Sprintf("models: KvModel given a state of type %T, want one of its own or a string", state))
}

func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	index := make(map[string]int)
	var parts [][]porcupine.Operation
	for _, o := range history {
		key := o.Input.(KvInput).Key
		i, ok := index[key]
		if !ok {
			i = len(parts)
			index[key] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], o)
	}
	return parts
}

// partitionEventsByKey sends each call to its key's part and each return to
// its call's part. A return whose call is missing goes to a last part of its
// own, where the checker reports the malformed history.
func partitionEventsByKey(history []porcupine.Event) [][]porcupine.Event {
	index := make(map[string]int)
	partOfId := make(map[int]int)
	var parts [][]porcupine.Event
	var orphans []porcupine.Event
	for _, e := range history {
		if e.Kind == porcupine.ReturnEvent {
			i, ok := partOfId[e.Id]
			if !ok {
				orphans = append(orphans, e)
				continue
			}
			parts[i] = append(parts[i], e)
			continue
		}
		key := e.Value.(KvInput).Key
		i, ok := index[key]
		if !ok {
			i = len(parts)
			index[key] = i
			parts = append(parts, nil)
		}
		partOfId[e.Id] = i
		parts[i] = append(parts[i], e)
	}
	if orphans != nil {
		parts = append(parts, orphans)
	}
	return parts
}

func describeKvOperation(input, output interface{}) string {
	in := input.(KvInput)
	switch in.Op {
	case OpGet:
		if out, ok := output.(KvOutput); ok {
			return fmt.Sprintf("get(%q) -> %s", in.Key, shorten(out.Value))
		}
		return fmt.Sprintf("get(%q) -> ?", in.Key)
	case OpPut:
		return fmt.Sprintf("put(%q, %s)", in.Key, shorten(in.Value))
	case OpAppend:
		return fmt.Sprintf("append(%q, %s)", in.Key, shorten(in.Value))
	}
	return fmt.Sprintf("op%d(%q, %s)", in.Op, in.Key, shorten(in.Value))
}

// shortLimit is the longest value shown whole; the kvraft tests append
// values of about ten bytes, so this shows the last few appends.
const shortLimit = 60

// shorten quotes v, and elides the middle of a long value, keeping its start
// and its most recent end and saying how long it is.
func shorten(v string) string {
	if len(v) <= shortLimit {
		return fmt.Sprintf("%q", v)
	}
	return elided(v[:16], v[len(v)-40:], len(v))
}

// describeValue is shorten for a state, reading only the ends of a long one.
func describeValue(v *value) string {
	if v.n <= shortLimit {
		return fmt.Sprintf("%q", v.String())
	}
	return elided(v.prefix(16), v.suffix(40), v.n)
}

func elided(start, end string, n int) string {
	return fmt.Sprintf("%q…%q (%d bytes)", start, end, n)
}
