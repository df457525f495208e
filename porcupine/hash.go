package porcupine

import (
	"hash/maphash"
	"reflect"
)

// stringSeed keys the hash of string states; fixed per process so that
// benchmarks repeat.
var stringSeed = maphash.MakeSeed()

// stateHasher returns the function that hashes a model's states: Model.Hash
// when set, otherwise hashBasic. Either way the memo compares states with
// Equal before it trusts a match, so a hash only has to be fast and spread
// well; a poor one costs time, never a wrong verdict.
func stateHasher(m Model) func(interface{}) uint64 {
	if m.Hash != nil {
		return m.Hash
	}
	return hashBasic
}

// hashBasic hashes a state whose kind is a string, an integer or a boolean
// (named types included), and nil. Any other state hashes to a constant, so
// the memo falls back to comparing, with Equal, the states stored under the
// same set of linearized operations.
func hashBasic(state interface{}) uint64 {
	switch v := state.(type) {
	case nil:
		return 0
	case string:
		return maphash.String(stringSeed, v)
	case int:
		return splitmix64(uint64(v))
	case int64:
		return splitmix64(uint64(v))
	case int32:
		return splitmix64(uint64(v))
	case uint64:
		return splitmix64(v)
	case uint32:
		return splitmix64(uint64(v))
	case bool:
		if v {
			return splitmix64(1)
		}
		return splitmix64(0)
	}
	rv := reflect.ValueOf(state)
	switch rv.Kind() {
	case reflect.String:
		return maphash.String(stringSeed, rv.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return splitmix64(uint64(rv.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return splitmix64(rv.Uint())
	case reflect.Bool:
		if rv.Bool() {
			return splitmix64(1)
		}
		return splitmix64(0)
	}
	return 0x5bd1e995 // not hashable here: one bucket, Equal decides
}
