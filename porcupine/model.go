package porcupine

import "fmt"

// Operation is one call a client made, with its result, in the form the
// checker takes from CheckOperations and its siblings. Times are in any unit
// (the course's tests use nanoseconds); only their order matters. Call must
// not be after Return. An operation whose Return equals another's Call counts
// as overlapping it: the checker does not order them.
type Operation struct {
	ClientId int         // the client that made the call; it has one call outstanding at a time
	Input    interface{} // the arguments, passed to Model.Step as input
	Call     int64       // when the client invoked the operation
	Output   interface{} // the result, passed to Model.Step as output
	Return   int64       // when the client received the result
}

// EventKind says whether an Event is the call or the return of an operation.
type EventKind bool

const (
	// CallEvent marks the invocation of an operation; its Value is the input.
	CallEvent EventKind = false
	// ReturnEvent marks the response of an operation; its Value is the output.
	ReturnEvent EventKind = true
)

// Event is one half of an operation, in the form the checker takes from
// CheckEvents and its siblings. A history of events is in real-time order:
// an event that comes before another in the slice happened before it. The
// call and the return of one operation share an Id, unique in the history.
// A call with no return is an open operation: it may take effect at any
// moment after its call, or never.
type Event struct {
	ClientId int         // the client that made the call
	Kind     EventKind   // CallEvent or ReturnEvent
	Value    interface{} // the input of a call, the output of a return
	Id       int         // pairs a return with its call
}

// Model is the sequential specification a history is checked against.
//
// Init and Step are required; the other fields may be nil and then take the
// defaults named beside them. States are values: Step must not modify the
// state it is given, because the checker keeps earlier states to backtrack to
// and to remember which configurations it has explored.
type Model struct {
	// Partition splits a history of operations into independent parts (for
	// example one per key) that are each checked on their own. A history is
	// linearizable iff every part is. Default: NoPartition.
	Partition func(history []Operation) [][]Operation
	// PartitionEvent does the same for a history of events; the return of an
	// operation must land in the same part as its call. Default:
	// NoPartitionEvent.
	PartitionEvent func(history []Event) [][]Event
	// Init returns the initial state.
	Init func() interface{}
	// Step reports whether the operation with this input and output is legal
	// in state, and if so the state after it. For an open operation (a call
	// event with no return) output is nil: Step must then accept any outcome
	// the operation could have had.
	Step func(state interface{}, input interface{}, output interface{}) (bool, interface{})
	// Equal reports whether two states are the same. Default: ShallowEqual.
	Equal func(state1, state2 interface{}) bool
	// DescribeOperation renders an operation for the visualization. Default:
	// DefaultDescribeOperation.
	DescribeOperation func(input interface{}, output interface{}) string
	// DescribeState renders a state for the visualization. Default:
	// DefaultDescribeState.
	DescribeState func(state interface{}) string
	// Hash, optional, returns a hash of a state: states that Equal calls the
	// same must hash the same. The checker uses it to find explored
	// configurations quickly. When it is nil, states whose kind is a string,
	// an integer or a boolean are hashed automatically, and other states all
	// hash alike (correct, but each lookup then compares states one by one).
	// A field beyond the course's API: models that leave it nil still work.
	Hash func(state interface{}) uint64
	// StateAfter, optional, returns the state that every legal step of an
	// operation with this input and output leaves, when that state does
	// not depend on the state the step starts from: a read that returned
	// v is legal only in state v and leaves it; a write of v leaves v. For
	// any other operation (an append, a compare-and-set) it returns ok
	// false. The checker uses it to prove a history Illegal without
	// backtracking through all of it (refute.go): like a wrong Step, a
	// wrong answer can make a verdict wrong. A field beyond the course's
	// API: models that leave it nil still work.
	StateAfter func(input interface{}, output interface{}) (state interface{}, ok bool)
}

// NoPartition is the default Model.Partition: the whole history is one part.
func NoPartition(history []Operation) [][]Operation {
	return [][]Operation{history}
}

// NoPartitionEvent is the default Model.PartitionEvent: the whole history is
// one part.
func NoPartitionEvent(history []Event) [][]Event {
	return [][]Event{history}
}

// ShallowEqual is the default Model.Equal: it compares states with ==, so it
// panics if both hold the same uncomparable type (a slice or a map, say).
func ShallowEqual(state1, state2 interface{}) bool {
	return state1 == state2
}

// DefaultDescribeOperation is the default Model.DescribeOperation:
// "input -> output" in fmt's %v notation.
func DefaultDescribeOperation(input interface{}, output interface{}) string {
	return fmt.Sprintf("%v -> %v", input, output)
}

// DefaultDescribeState is the default Model.DescribeState: the state in
// fmt's %v notation.
func DefaultDescribeState(state interface{}) string {
	return fmt.Sprintf("%v", state)
}

// CheckResult is the verdict on a history.
type CheckResult string

const (
	// Ok: the history is linearizable.
	Ok CheckResult = "Ok"
	// Illegal: the history is not linearizable.
	Illegal CheckResult = "Illegal"
	// Unknown: the check ran out of time before reaching a verdict.
	Unknown CheckResult = "Unknown"
)

// withDefaults returns m with its nil optional fields filled in. It panics
// when a required field is missing, since no verdict could mean anything.
func (m Model) withDefaults() Model {
	if m.Init == nil || m.Step == nil {
		panic("porcupine: Model.Init and Model.Step are required")
	}
	if m.Partition == nil {
		m.Partition = NoPartition
	}
	if m.PartitionEvent == nil {
		m.PartitionEvent = NoPartitionEvent
	}
	if m.Equal == nil {
		m.Equal = ShallowEqual
	}
	if m.DescribeOperation == nil {
		m.DescribeOperation = DefaultDescribeOperation
	}
	if m.DescribeState == nil {
		m.DescribeState = DefaultDescribeState
	}
	return m
}
