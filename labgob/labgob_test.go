package labgob

import (
	"bytes"
	"reflect"
	"sync"
	"testing"
	"time"
)

type inner struct {
	Term  int
	Words []string
}

type outer struct {
	Name    string
	Entries []inner
	ByKey   map[string]*inner
	Fixed   [2]inner
	When    time.Time // encodes itself: its private fields are not lost
	Any     interface{}
}

func roundTrip(t *testing.T, in interface{}, out interface{}) {
	t.Helper()
	var buf bytes.Buffer
	if err := NewEncoder(&buf).Encode(in); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if err := NewDecoder(&buf).Decode(out); err != nil {
		t.Fatalf("Decode: %v", err)
	}
}

func TestRoundTripNestedTypesWithoutWarnings(t *testing.T) {
	Register(inner{})
	before := warnings()
	in := outer{
		Name:    "x",
		Entries: []inner{{1, []string{"a", "b"}}, {2, nil}},
		ByKey:   map[string]*inner{"k": {Term: 7}},
		Fixed:   [2]inner{{Term: 3}, {Term: 4, Words: []string{"c"}}},
		When:    time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Any:     inner{Term: 9},
	}
	var out outer
	roundTrip(t, in, &out)
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip changed the value:\n in: %+v\nout: %+v", in, out)
	}
	if got := warnings() - before; got != 0 {
		t.Fatalf("round trip of well-formed types gave %d warnings, want 0", got)
	}
}

// TestSequenceOfValuesRoundTripsOnOneStream: values of different kinds,
// written one after another on one stream (as Raft persists its state),
// read back in order, without warnings.
func TestSequenceOfValuesRoundTripsOnOneStream(t *testing.T) {
	before := warnings()
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	values := []interface{}{
		42, "votedFor", []int{3, 1, 4}, map[string]int{"a": 1},
		[]inner{{Term: 1, Words: []string{"x"}}, {Term: 2}}, inner{Term: 7}, true, 2.5,
	}
	for _, v := range values {
		if err := enc.Encode(v); err != nil {
			t.Fatalf("Encode(%v): %v", v, err)
		}
	}
	dec := NewDecoder(&buf)
	for _, want := range values {
		got := reflect.New(reflect.TypeOf(want))
		if err := dec.Decode(got.Interface()); err != nil {
			t.Fatalf("Decode into %T: %v", want, err)
		}
		if !reflect.DeepEqual(got.Elem().Interface(), want) {
			t.Fatalf("decoded %v, want %v", got.Elem().Interface(), want)
		}
	}
	if got := warnings() - before; got != 0 {
		t.Fatalf("%d warnings for well-formed values, want 0", got)
	}
}

func TestEncodeValueRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	in := []inner{{Term: 5}}
	if err := NewEncoder(&buf).EncodeValue(reflect.ValueOf(in)); err != nil {
		t.Fatal(err)
	}
	var out []inner
	if err := NewDecoder(&buf).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("got %+v, want %+v", out, in)
	}
}

type lowerTop struct {
	Good int
	bad  int
}

type lowerDeep struct {
	Good  []map[string]*lowerLeaf
	Other [1]lowerLeaf
}

type lowerLeaf struct {
	hidden string
}

type lowerKey struct {
	Yes int
	no  int
}

type lowerRegistered struct {
	secret bool
}

type lowerNamed struct {
	secret bool
}

// forgetCheckedTypes makes labgob meet every type anew, so that a test
// that counts first-meeting warnings passes with -count above 1.
func forgetCheckedTypes() {
	checkedTypes.Range(func(k, _ interface{}) bool {
		checkedTypes.Delete(k)
		return true
	})
}

func TestWarnsOncePerTypeAboutLowerCaseFields(t *testing.T) {
	forgetCheckedTypes()
	cases := []struct {
		name  string
		do    func()
		warns int
	}{
		{"Encode of a struct with a lower-case field", func() {
			var buf bytes.Buffer
			NewEncoder(&buf).Encode(lowerTop{Good: 1, bad: 2})
		}, 1},
		{"the same type again gives no new warning", func() {
			var buf bytes.Buffer
			NewEncoder(&buf).Encode(&lowerTop{Good: 1})
		}, 0},
		{"a field found through slices, maps, pointers and arrays, once", func() {
			var buf bytes.Buffer
			NewEncoder(&buf).Encode(lowerDeep{})
		}, 1},
		{"a field of a map key behind a pointer, once for encoding and decoding", func() {
			var buf bytes.Buffer
			NewEncoder(&buf).Encode([]map[*lowerKey]int{})
			var out []map[lowerKey]int
			NewDecoder(&buf).Decode(&out)
		}, 1},
		{"Decode checks types too", func() {
			var v struct{ x int }
			NewDecoder(bytes.NewReader(nil)).Decode(&v)
		}, 1},
		{"Register", func() { Register(lowerRegistered{}) }, 1},
		{"RegisterName", func() { RegisterName("labgob.lowerNamedX", lowerNamed{}) }, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := warnings()
			tc.do()
			if got := warnings() - before; got != tc.warns {
				t.Fatalf("%d warnings, want %d", got, tc.warns)
			}
		})
	}
}

func TestDecodeIntoNonZeroValueWarns(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	enc.Encode(inner{Term: 0}) // Term is zero on the wire: gob will not write it
	enc.Encode(inner{Term: 0})
	dec := NewDecoder(&buf)

	before := warnings()
	fresh := inner{}
	if err := dec.Decode(&fresh); err != nil {
		t.Fatal(err)
	}
	if got := warnings() - before; got != 0 {
		t.Fatalf("decoding into a zero value gave %d warnings", got)
	}

	stale := inner{Term: 42}
	if err := dec.Decode(&stale); err != nil {
		t.Fatal(err)
	}
	if got := warnings() - before; got != 1 {
		t.Fatalf("decoding into a non-zero value gave %d warnings, want 1", got)
	}
	// This is the trap the warning is for: the stale value survives.
	if stale.Term != 42 {
		t.Fatalf("gob changed a field whose wire value is zero: Term=%d", stale.Term)
	}
}

func TestConcurrentUseIsSafe(t *testing.T) {
	type concurrentT struct {
		A int
		b int
	}
	forgetCheckedTypes()
	before := warnings()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				var buf bytes.Buffer
				if err := NewEncoder(&buf).Encode(concurrentT{A: g*1000 + i}); err != nil {
					t.Error(err)
					return
				}
				var out concurrentT
				if err := NewDecoder(&buf).Decode(&out); err != nil || out.A != g*1000+i {
					t.Errorf("decoded %+v, %v; want A=%d", out, err, g*1000+i)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if got := warnings() - before; got != 1 {
		t.Fatalf("%d warnings for one bad type used from 8 goroutines, want exactly 1", got)
	}
}
