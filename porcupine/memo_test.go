package porcupine

import "testing"

// TestMemoRemembersConfigurations is a table of insert sequences: a
// configuration is new unless both its set and its state were inserted
// before.
func TestMemoRemembersConfigurations(t *testing.T) {
	type insert struct {
		set   []int32
		state interface{}
		isNew bool
	}
	cases := []struct {
		name    string
		hash    func(interface{}) uint64 // nil: hashBasic
		equal   func(a, b interface{}) bool
		inserts []insert
	}{
		{"SameConfigurationTwice", nil, ShallowEqual, []insert{
			{[]int32{1, 2}, "ab", true}, {[]int32{2, 1}, "ab", false}}},
		{"SameSetOtherState", nil, ShallowEqual, []insert{
			{[]int32{1, 2}, "ab", true}, {[]int32{1, 2}, "ba", true}, {[]int32{1, 2}, "ab", false}}},
		{"SameStateOtherSet", nil, ShallowEqual, []insert{
			{[]int32{1}, 5, true}, {[]int32{2}, 5, true}, {[]int32{1, 2}, 5, true}, {[]int32{2}, 5, false}}},
		// Every state hashes alike: Equal alone tells them apart.
		{"ConstantHashLeavesItToEqual", func(interface{}) uint64 { return 1 }, ShallowEqual, []insert{
			{[]int32{1}, "a", true}, {[]int32{1}, "b", true}, {[]int32{1}, "a", false}, {[]int32{1}, "b", false}}},
		// A model's Equal may identify states that == does not.
		{"EqualDecidesNotIdentity", func(interface{}) uint64 { return 1 },
			func(a, b interface{}) bool { return len(a.([]int)) == len(b.([]int)) }, []insert{
				{[]int32{1}, []int{1}, true}, {[]int32{1}, []int{2}, false}, {[]int32{1}, []int{1, 2}, true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hash := tc.hash
			if hash == nil {
				hash = hashBasic
			}
			m := newMemo(tc.equal, 0)
			for k, in := range tc.inserts {
				set := newBitset(300, 3)
				for _, i := range in.set {
					set.add(i)
				}
				if got := m.insert(&set, in.state, hash(in.state)); got != in.isNew {
					t.Fatalf("insert %d (%v, %v): new = %v, want %v", k, in.set, in.state, got, in.isNew)
				}
			}
		})
	}
}

// TestMemoGrowsWithoutLosingEntries inserts enough configurations to force
// several resizes, then finds every one of them again.
func TestMemoGrowsWithoutLosingEntries(t *testing.T) {
	m := newMemo(ShallowEqual, 0)
	set := newBitset(5000, 9)
	const n = 20000
	for i := 0; i < n; i++ {
		set.add(int32(i % 5000))
		if !m.insert(&set, i, hashBasic(i)) {
			t.Fatalf("configuration %d reported as seen", i)
		}
		set.remove(int32(i % 5000))
	}
	if m.len() != n {
		t.Fatalf("%d entries, want %d", m.len(), n)
	}
	for i := 0; i < n; i++ {
		set.add(int32(i % 5000))
		if m.insert(&set, i, hashBasic(i)) {
			t.Fatalf("configuration %d lost", i)
		}
		set.remove(int32(i % 5000))
	}
}
