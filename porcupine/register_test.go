package porcupine_test

import (
	"fmt"

	"6.5840/porcupine"
)

// A single register with read, write and compare-and-set, as Jepsen tested
// etcd. The etcd histories in the shared test data are checked against it.

// Register operations.
const (
	regRead  = 0
	regWrite = 1
	regCas   = 2
)

// regNil is the register's value before the first write (Jepsen's nil).
const regNil = -1

type regInput struct {
	op   int
	a, b int // write: a; cas(a, b): from a to b
}

// regOutput is a completed operation's result. A nil output (an open
// operation, or one Jepsen could not decide) means any result.
type regOutput struct {
	ok    bool // cas: whether it swapped; read and write: true
	value int  // read: the value read, or regNil
}

var registerModel = porcupine.Model{
	Init: func() interface{} { return regNil },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		st, in := state.(int), input.(regInput)
		out, known := output.(regOutput)
		switch in.op {
		case regRead:
			return !known || out.value == st, st
		case regWrite:
			return true, in.a
		case regCas:
			swaps := st == in.a
			if known && out.ok != swaps {
				return false, st
			}
			if swaps {
				return true, in.b
			}
			return true, st
		}
		panic(fmt.Sprintf("register: unknown op %d", in.op))
	},
	DescribeOperation: func(input, output interface{}) string {
		in := input.(regInput)
		out, known := output.(regOutput)
		switch in.op {
		case regRead:
			if !known {
				return "read() -> ?"
			}
			return "read() -> " + describeRegister(out.value)
		case regWrite:
			return fmt.Sprintf("write(%d)", in.a)
		default:
			res := "?"
			if known {
				res = fmt.Sprint(out.ok)
			}
			return fmt.Sprintf("cas(%d, %d) -> %s", in.a, in.b, res)
		}
	},
	DescribeState: func(state interface{}) string { return describeRegister(state.(int)) },
}

func describeRegister(v int) string {
	if v == regNil {
		return "nil"
	}
	return fmt.Sprint(v)
}
