package models

import (
	"fmt"
	"strings"
	"testing"

	"6.5840/porcupine"
)

// TestKvStep is the model's sequential specification as a table: a state,
// one operation, and whether it is legal and what state follows.
func TestKvStep(t *testing.T) {
	cases := []struct {
		name   string
		state  string
		input  interface{}
		output interface{}
		legal  bool
		next   string
	}{
		{"GetMatches", "ab", KvInput{Op: OpGet, Key: "k"}, KvOutput{Value: "ab"}, true, "ab"},
		{"GetOfNeverWrittenKeyIsEmpty", "", KvInput{Op: OpGet, Key: "k"}, KvOutput{Value: ""}, true, ""},
		{"GetMismatch", "ab", KvInput{Op: OpGet, Key: "k"}, KvOutput{Value: "ba"}, false, "ab"},
		{"GetMismatchInTheMiddle", strings.Repeat("x", 50) + "a" + strings.Repeat("y", 50),
			KvInput{Op: OpGet, Key: "k"}, KvOutput{Value: strings.Repeat("x", 50) + "b" + strings.Repeat("y", 50)}, false,
			strings.Repeat("x", 50) + "a" + strings.Repeat("y", 50)},
		{"GetPrefixIsNotEnough", "abc", KvInput{Op: OpGet, Key: "k"}, KvOutput{Value: "ab"}, false, "abc"},
		{"GetWithUnknownOutput", "ab", KvInput{Op: OpGet, Key: "k"}, nil, true, "ab"},
		{"PutReplaces", "ab", KvInput{Op: OpPut, Key: "k", Value: "c"}, KvOutput{}, true, "c"},
		{"PutWithUnknownOutputTakesEffect", "ab", KvInput{Op: OpPut, Key: "k", Value: "c"}, nil, true, "c"},
		{"AppendExtends", "ab", KvInput{Op: OpAppend, Key: "k", Value: "c"}, KvOutput{}, true, "abc"},
		{"AppendToEmpty", "", KvInput{Op: OpAppend, Key: "k", Value: "c"}, nil, true, "c"},
		{"UnknownOpIsNeverLegal", "ab", KvInput{Op: 7, Key: "k"}, KvOutput{}, false, "ab"},
		{"ForeignInputIsNeverLegal", "ab", "get k", KvOutput{}, false, "ab"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			legal, next := KvModel.Step(tc.state, tc.input, tc.output)
			if legal != tc.legal || !KvModel.Equal(next, tc.next) || fmt.Sprint(next) != tc.next {
				t.Fatalf("Step(%q, %v, %v) = %v, %q; want %v, %q", tc.state, tc.input, tc.output, legal, next, tc.legal, tc.next)
			}
		})
	}
}

func TestKvInitialStateIsEmpty(t *testing.T) {
	s := KvModel.Init()
	if !KvModel.Equal(s, "") || KvModel.DescribeState(s) != `""` || KvModel.Hash(s) != KvModel.Hash("") {
		t.Fatalf("Init() = %v, want the empty value", s)
	}
}

func kvOp(client int, op uint8, key, value string, out string, call, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: KvInput{Op: op, Key: key, Value: value},
		Output: KvOutput{Value: out}, Call: call, Return: ret}
}

// TestKvPartitionGroupsOperationsByKey checks that each part holds one
// key's operations, in their original order, and that no operation is lost.
func TestKvPartitionGroupsOperationsByKey(t *testing.T) {
	ops := []porcupine.Operation{
		kvOp(0, OpPut, "a", "1", "", 0, 1),
		kvOp(1, OpGet, "b", "", "", 2, 3),
		kvOp(0, OpAppend, "a", "2", "", 4, 5),
		kvOp(2, OpGet, "a", "", "12", 6, 7),
	}
	parts := KvModel.Partition(ops)
	if len(parts) != 2 {
		t.Fatalf("%d parts, want 2", len(parts))
	}
	want := [][]int64{{0, 4, 6}, {2}}
	for p, part := range parts {
		key := part[0].Input.(KvInput).Key
		if len(part) != len(want[p]) {
			t.Fatalf("part %d (key %q) has %d operations, want %d", p, key, len(part), len(want[p]))
		}
		for i, o := range part {
			if o.Input.(KvInput).Key != key || o.Call != want[p][i] {
				t.Fatalf("part %d, operation %d: key %q call %d; want key %q call %d",
					p, i, o.Input.(KvInput).Key, o.Call, key, want[p][i])
			}
		}
	}
}

// TestKvPartitionEventSendsReturnsWithTheirCalls checks that a return event,
// which carries no key, lands in its call's part, and that a return with
// no call is kept apart rather than dropped.
func TestKvPartitionEventSendsReturnsWithTheirCalls(t *testing.T) {
	evs := []porcupine.Event{
		{ClientId: 0, Kind: porcupine.CallEvent, Value: KvInput{Op: OpPut, Key: "a", Value: "1"}, Id: 10},
		{ClientId: 1, Kind: porcupine.CallEvent, Value: KvInput{Op: OpGet, Key: "b"}, Id: 11},
		{ClientId: 1, Kind: porcupine.ReturnEvent, Value: KvOutput{}, Id: 11},
		{ClientId: 0, Kind: porcupine.ReturnEvent, Value: KvOutput{}, Id: 10},
		{ClientId: 2, Kind: porcupine.ReturnEvent, Value: KvOutput{}, Id: 99},
	}
	parts := KvModel.PartitionEvent(evs)
	if len(parts) != 3 {
		t.Fatalf("%d parts, want a, b and the orphan", len(parts))
	}
	for p, ids := range [][]int{{10, 10}, {11, 11}, {99}} {
		if len(parts[p]) != len(ids) {
			t.Fatalf("part %d has %d events, want %d", p, len(parts[p]), len(ids))
		}
		for i, e := range parts[p] {
			if e.Id != ids[i] {
				t.Fatalf("part %d, event %d has Id %d, want %d", p, i, e.Id, ids[i])
			}
		}
	}
}

// TestKvDescriptions pins how operations and states read in the
// visualization, long values shortened around their most recent end.
func TestKvDescriptions(t *testing.T) {
	long := strings.Repeat("x 1 y", 30)
	cases := []struct {
		name string
		got  string
		want string
	}{
		{"Get", KvModel.DescribeOperation(KvInput{Op: OpGet, Key: "k"}, KvOutput{Value: "v"}), `get("k") -> "v"`},
		{"OpenGet", KvModel.DescribeOperation(KvInput{Op: OpGet, Key: "k"}, nil), `get("k") -> ?`},
		{"Put", KvModel.DescribeOperation(KvInput{Op: OpPut, Key: "k", Value: "v"}, KvOutput{}), `put("k", "v")`},
		{"Append", KvModel.DescribeOperation(KvInput{Op: OpAppend, Key: "k", Value: "v"}, KvOutput{}), `append("k", "v")`},
		{"State", KvModel.DescribeState("ab"), `"ab"`},
		{"LongState", KvModel.DescribeState(long), `"x 1 yx 1 yx 1 yx"…"x 1 yx 1 yx 1 yx 1 yx 1 yx 1 yx 1 yx 1 y" (150 bytes)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %s, want %s", tc.got, tc.want)
			}
		})
	}
}

// TestKvModelChecksHistories runs the model through the checker on two
// small histories, one of each verdict.
func TestKvModelChecksHistories(t *testing.T) {
	ok := []porcupine.Operation{
		kvOp(0, OpAppend, "k", "a", "", 0, 10),
		kvOp(1, OpAppend, "k", "b", "", 5, 15),
		kvOp(2, OpGet, "k", "", "ba", 20, 30),
	}
	if !porcupine.CheckOperations(KvModel, ok) {
		t.Fatalf("concurrent appends read in one order: want linearizable")
	}
	bad := append(ok, kvOp(2, OpGet, "k", "", "ab", 40, 50))
	if porcupine.CheckOperations(KvModel, bad) {
		t.Fatalf("reads in both orders: want not linearizable")
	}
}
