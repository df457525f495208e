package porcupine

import "testing"

type namedString string
type namedInt int8

// TestHashBasicHashesEqualStatesAlike is a table of pairs of states: equal
// ones must hash alike (else the memo misses), and the distinct ones here
// should not.
func TestHashBasicHashesEqualStatesAlike(t *testing.T) {
	cases := []struct {
		name string
		a, b interface{}
		same bool
	}{
		{"EqualStrings", "x 1 y", "x 1 y", true},
		{"DifferentStrings", "x 1 yx 2 y", "x 2 yx 1 y", false},
		{"EqualInts", 42, 42, true},
		{"DifferentInts", 42, 43, false},
		{"Int64", int64(-1), int64(-1), true},
		{"Bools", true, false, false},
		{"Nil", nil, nil, true},
		{"NamedString", namedString("k"), namedString("k"), true},
		{"NamedStringsDiffer", namedString("k"), namedString("j"), false},
		{"NamedInt", namedInt(-3), namedInt(-3), true},
		{"Uint8", uint8(200), uint8(201), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if same := hashBasic(tc.a) == hashBasic(tc.b); same != tc.same {
				t.Fatalf("hashBasic(%v) == hashBasic(%v): %v, want %v", tc.a, tc.b, same, tc.same)
			}
		})
	}
}

// TestHashBasicGivesUpOnCompositeStates checks that states it cannot hash
// all land in one bucket, where Equal decides.
func TestHashBasicGivesUpOnCompositeStates(t *testing.T) {
	if hashBasic([]int{1}) != hashBasic(map[string]int{"a": 2}) || hashBasic(struct{ a int }{1}) != hashBasic([]int{1}) {
		t.Fatalf("composite states should share one hash")
	}
}

// TestStateHasherPrefersTheModelsHash checks that Model.Hash, when set,
// replaces the automatic hash.
func TestStateHasherPrefersTheModelsHash(t *testing.T) {
	m := Model{Hash: func(interface{}) uint64 { return 99 }}
	if got := stateHasher(m)("anything"); got != 99 {
		t.Fatalf("hash %d, want the model's 99", got)
	}
	if got := stateHasher(Model{})("x"); got != hashBasic("x") {
		t.Fatalf("without Model.Hash, want hashBasic")
	}
}
