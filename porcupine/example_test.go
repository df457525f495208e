package porcupine_test

import (
	"fmt"
	"time"

	"6.5840/porcupine"
)

// A register holding an integer, with writes and reads. The input of a
// write is the value written; a read has input nil and outputs the value
// read.
var exampleRegister = porcupine.Model{
	Init: func() interface{} { return 0 },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		if input == nil { // a read
			return output == state, state
		}
		return true, input // a write
	},
	DescribeOperation: func(input, output interface{}) string {
		if input == nil {
			return fmt.Sprintf("read() -> %v", output)
		}
		return fmt.Sprintf("write(%v)", input)
	},
}

// A write of 1 overlaps two reads. The first read may see 0 (it took effect
// before the write) and the second 1, but once a read has seen 1, a read
// that starts after it cannot see 0 again.
func Example() {
	history := []porcupine.Operation{
		{ClientId: 0, Input: 1, Call: 0, Output: nil, Return: 100},
		{ClientId: 1, Input: nil, Call: 10, Output: 0, Return: 20},
		{ClientId: 2, Input: nil, Call: 30, Output: 1, Return: 40},
	}
	fmt.Println(porcupine.CheckOperations(exampleRegister, history))

	history = append(history, porcupine.Operation{ClientId: 1, Input: nil, Call: 50, Output: 0, Return: 60})
	res, info := porcupine.CheckOperationsVerbose(exampleRegister, history, time.Second)
	fmt.Println(res)
	fmt.Println("placed before getting stuck:", info.PartialLinearizations()[0][0])
	// Output:
	// true
	// Illegal
	// placed before getting stuck: [1 0 2]
}

// The same register checked from events: client 0's write never returned.
// It may still have taken effect, which explains the read of 1.
func ExampleCheckEvents() {
	history := []porcupine.Event{
		{ClientId: 0, Kind: porcupine.CallEvent, Value: 1, Id: 0},
		{ClientId: 1, Kind: porcupine.CallEvent, Value: nil, Id: 1},
		{ClientId: 1, Kind: porcupine.ReturnEvent, Value: 1, Id: 1},
	}
	fmt.Println(porcupine.CheckEvents(exampleRegister, history))
	// Output: true
}
