package models

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// build applies writes to the empty value through KvModel.Step: "=v" puts
// v, anything else appends it.
func build(writes ...string) *value {
	var state interface{} = KvModel.Init()
	for _, w := range writes {
		in := KvInput{Op: OpAppend, Key: "k", Value: w}
		if strings.HasPrefix(w, "=") {
			in = KvInput{Op: OpPut, Key: "k", Value: w[1:]}
		}
		_, state = KvModel.Step(state, in, KvOutput{})
	}
	return state.(*value)
}

// checkValue checks v's invariants (value.go) and that its content is want.
func checkValue(t *testing.T, v *value, want string) {
	t.Helper()
	if got := v.String(); got != want {
		t.Fatalf("content %q, want %q", got, want)
	}
	if v.n != len(want) || v.hash != hashExtend(0, want) {
		t.Fatalf("%q: n %d hash %x, want %d and %x", want, v.n, v.hash, len(want), hashExtend(0, want))
	}
	nodes := 0
	for u := v; u != nil; u = u.prev {
		nodes++
		before := 0
		if u.prev != nil {
			before = u.prev.n
			if u.prev.weight < u.weight {
				t.Fatalf("%q: weight %d follows weight %d: must not grow towards the newest", want, u.weight, u.prev.weight)
			}
		}
		if u.n != before+len(u.piece) || (u != emptyValue && !isPowerOf(u.weight, mergeFan)) {
			t.Fatalf("%q: node with n %d, piece %q, weight %d after n %d", want, u.n, u.piece, u.weight, before)
		}
		same := 1
		for p := u.prev; p != nil && p.weight == u.weight; p = p.prev {
			same++
		}
		if same >= mergeFan {
			t.Fatalf("%q: %d nodes of weight %d in a row: they should have merged", want, same, u.weight)
		}
	}
	if v != emptyValue && nodes > (mergeFan-1)*(1+logOf(v.weightSum(), mergeFan)) {
		t.Fatalf("%q: %d nodes for %d pieces: the chain should be O(log n)", want, nodes, v.weightSum())
	}
	if !v.equalsString(want) || v.equalsString(want+"x") || (len(want) > 0 && v.equalsString(want[:len(want)-1]+"?")) {
		t.Fatalf("%q: equalsString disagrees with ==", want)
	}
	for k := 0; k <= len(want); k += 1 + len(want)/97 { // every k of short values, a sample of long ones
		if v.prefix(k) != want[:k] || v.suffix(k) != want[len(want)-k:] {
			t.Fatalf("%q: prefix or suffix of %d wrong: %q, %q", want, k, v.prefix(k), v.suffix(k))
		}
	}
	if v.prefix(len(want)) != want || v.suffix(len(want)) != want {
		t.Fatalf("%q: the whole value as prefix or suffix is wrong", want)
	}
}

func isPowerOf(w, base int) bool {
	for w > 1 && w%base == 0 {
		w /= base
	}
	return w == 1
}

func logOf(n, base int) int {
	k := 0
	for ; n >= base; n /= base {
		k++
	}
	return k
}

func (v *value) weightSum() int {
	sum := 0
	for u := v; u != nil; u = u.prev {
		sum += u.weight
	}
	return sum
}

// TestValueStepBuildsTheWrittenContent is the state's own specification
// as a table: writes in, content out, invariants kept at every length.
func TestValueStepBuildsTheWrittenContent(t *testing.T) {
	many := make([]string, 2*mergeFan*mergeFan+37) // merges two levels up
	for i := range many {
		many[i] = fmt.Sprintf("x %d y", i)
	}
	cases := []struct {
		name   string
		writes []string
		want   string
	}{
		{"Nothing", nil, ""},
		{"OneAppend", []string{"a"}, "a"},
		{"AppendsConcatenate", []string{"a", "bc", "d"}, "abcd"},
		{"PutReplaces", []string{"a", "b", "=c"}, "c"},
		{"AppendAfterPut", []string{"a", "=c", "d", "e"}, "cde"},
		{"PutOfEmpty", []string{"a", "=", "b"}, "b"},
		{"EmptyAppends", []string{"", "a", "", "", "b", ""}, "ab"},
		{"ManyAppendsMerge", many, strings.Join(many, "")},
		{"ManyAfterPut", append([]string{"=start "}, many...), "start " + strings.Join(many, "")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k := 0; k < len(tc.writes); k += 1 + k/64 { // prefixes of the writes too
				want := ""
				for _, w := range tc.writes[:k+1] {
					if strings.HasPrefix(w, "=") {
						want = w[1:]
					} else {
						want += w
					}
				}
				checkValue(t, build(tc.writes[:k+1]...), want)
			}
			checkValue(t, build(tc.writes...), tc.want)
		})
	}
}

// TestValueEqualAndHash is a table of pairs: Equal must agree with
// comparing contents, and equal contents must hash alike, however each
// value was built.
func TestValueEqualAndHash(t *testing.T) {
	cases := []struct {
		name string
		a, b interface{}
		same bool
	}{
		{"BothEmpty", build(), build("=", ""), true},
		{"EmptyAndEmptyString", build(), "", true},
		{"SameWritesTwice", build("a", "b", "c"), build("a", "b", "c"), true},
		{"OnePieceAndThree", build("=abc"), build("a", "b", "c"), true},
		{"DifferentCuts", build("ab", "c", "de"), build("a", "bcd", "e"), true},
		{"AgainstAString", build("x 1 y", "x 2 y"), "x 1 yx 2 y", true},
		{"TwoStrings", "abc", "abc", true},
		{"OrderMatters", build("x 1 y", "x 2 y"), build("x 2 y", "x 1 y"), false},
		{"LengthsDiffer", build("a", "b"), build("a", "b", "c"), false},
		{"DifferOnlyAtTheStart", build("=a", "bcdefgh"), build("=z", "bcdefgh"), false},
		{"DifferInTheMiddle", build("ab", "c", "de"), build("ab", "x", "de"), false},
		{"SharedPrefixNode", build("a", "b", "c", "d"), build("a", "b", "c", "e"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := KvModel.Equal(tc.a, tc.b); got != tc.same {
				t.Fatalf("Equal(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.same)
			}
			if got := KvModel.Equal(tc.b, tc.a); got != tc.same {
				t.Fatalf("Equal is not symmetric on %v, %v", tc.a, tc.b)
			}
			if tc.same && KvModel.Hash(tc.a) != KvModel.Hash(tc.b) {
				t.Fatalf("equal values %v and %v hash apart", tc.a, tc.b)
			}
			if !tc.same && KvModel.Hash(tc.a) == KvModel.Hash(tc.b) {
				t.Fatalf("%v and %v collide: possible, but not for these", tc.a, tc.b)
			}
		})
	}
}

// collide returns a copy of b claiming a's hash, as a collision would.
func collide(a, b *value) *value {
	c := *b
	c.hash = a.hash
	return &c
}

// TestValueEqualSurvivesHashCollisions forces values of equal length to
// share a hash: Equal must still compare contents, wherever they differ.
func TestValueEqualSurvivesHashCollisions(t *testing.T) {
	cases := []struct {
		name string
		a, b *value
	}{
		{"LastPieceDiffers", build("x 1 y", "x 2 y"), build("x 1 y", "x 3 y")},
		{"OrderDiffers", build("x 1 y", "x 2 y"), build("x 2 y", "x 1 y")},
		{"FirstByteDiffers", build("=a", "bcdefgh", "ij"), build("=z", "bcdefgh", "ij")},
		{"DeepInALongChain", build(append([]string{"=A"}, strings.Split(strings.Repeat("x y ", 40), " ")...)...),
			build(append([]string{"=B"}, strings.Split(strings.Repeat("x y ", 40), " ")...)...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.a.n != tc.b.n {
				t.Fatalf("test values must have equal lengths, have %d and %d", tc.a.n, tc.b.n)
			}
			fake := collide(tc.a, tc.b)
			if KvModel.Hash(fake) != KvModel.Hash(tc.a) {
				t.Fatalf("collision not forced")
			}
			if KvModel.Equal(tc.a, fake) || KvModel.Equal(fake, tc.a) {
				t.Fatalf("%q and %q: equal hashes made Equal report equal contents", tc.a, fake)
			}
			if !KvModel.Equal(fake, tc.b) && fake.hash == tc.b.hash {
				t.Fatalf("a copy differs from its original")
			}
		})
	}
}

// TestValueAgreesWithStrings runs random writes and reads through the
// value and through a plain string side by side: every Step, Equal, Hash
// and DescribeState must agree with the string's. The seed is printed on
// failure.
func TestValueAgreesWithStrings(t *testing.T) {
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	pieces := []string{"", "a", "b", "ab", "x 1 y", "x 12 y", strings.Repeat("z", 70)}
	for round := 0; round < 200; round++ {
		var states []*value
		var contents []string
		var state interface{} = KvModel.Init()
		content := ""
		for step := 0; step < 60; step++ {
			p := pieces[rng.Intn(len(pieces))]
			var in KvInput
			switch r := rng.Intn(10); {
			case r < 3:
				in = KvInput{Op: OpGet, Key: "k"}
				read := content
				if rng.Intn(2) == 0 {
					read = content + p // usually wrong
				}
				legal, next := KvModel.Step(state, in, KvOutput{Value: read})
				if legal != (read == content) || !KvModel.Equal(next, content) {
					t.Fatalf("seed %d: get of %q in %q: legal %v", seed, read, content, legal)
				}
				continue
			case r < 4:
				in, content = KvInput{Op: OpPut, Key: "k", Value: p}, p
			default:
				in, content = KvInput{Op: OpAppend, Key: "k", Value: p}, content+p
			}
			_, state = KvModel.Step(state, in, KvOutput{})
			checkValue(t, state.(*value), content)
			if KvModel.DescribeState(state) != shorten(content) {
				t.Fatalf("seed %d: DescribeState %s, want %s", seed, KvModel.DescribeState(state), shorten(content))
			}
			states, contents = append(states, state.(*value)), append(contents, content)
		}
		for i := range states {
			j := rng.Intn(len(states))
			same := contents[i] == contents[j]
			if KvModel.Equal(states[i], states[j]) != same || (same && KvModel.Hash(states[i]) != KvModel.Hash(states[j])) {
				t.Fatalf("seed %d: %q vs %q: Equal or Hash disagrees with ==", seed, contents[i], contents[j])
			}
		}
	}
}

// TestValueStateOfAnotherModelPanics: a state KvModel never made is a
// programming error, reported with its type.
func TestValueStateOfAnotherModelPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "int") {
			t.Fatalf("recovered %v, want a panic naming the type", r)
		}
	}()
	KvModel.Step(42, KvInput{Op: OpGet, Key: "k"}, KvOutput{})
}
