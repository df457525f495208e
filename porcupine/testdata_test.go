package porcupine_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"6.5840/models"
	"6.5840/porcupine"
)

// The test data: real histories with known verdicts, kept in the package
// (see testdata/README.md for their source and license) so that a fresh
// clone tests itself. PORCUPINE_TESTDATA names another directory in the same
// layout to check instead.
const (
	testdataEnv     = "PORCUPINE_TESTDATA"
	testdataDefault = "testdata"
)

// sharedHistory is one history file in all the forms the tests check.
type sharedHistory struct {
	name   string // path relative to the data directory
	model  porcupine.Model
	want   bool // linearizable, per the README's table
	ops    []porcupine.Operation
	events []porcupine.Event // an indeterminate operation returns at the end, output unknown
	open   []porcupine.Event // the same, with indeterminate operations left open
	nOpen  int               // how many are indeterminate
}

func testdataDir() string {
	if dir := os.Getenv(testdataEnv); dir != "" {
		return dir
	}
	return testdataDefault
}

// loadSharedHistories parses every history file in the data directory and
// pairs it with its verdict from the README. A file with no verdict, or a
// verdict with no file, fails the test: every file must be checked.
func loadSharedHistories(tb testing.TB) []sharedHistory {
	tb.Helper()
	dir := testdataDir()
	verdicts, err := readVerdicts(filepath.Join(dir, "README.md"))
	if err != nil {
		tb.Fatalf("reading the verdict table (set %s to the data directory): %v", testdataEnv, err)
	}
	var files []string
	for _, pattern := range []string{"jepsen/*.log", "kv/*.txt"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pattern))
		files = append(files, matches...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		tb.Fatalf("no history files under %s (set %s)", dir, testdataEnv)
	}
	var hs []sharedHistory
	seen := make(map[string]bool)
	for _, file := range files {
		name, _ := filepath.Rel(dir, file)
		name = filepath.ToSlash(name)
		want, ok := verdicts[name]
		if !ok {
			tb.Fatalf("%s: no verdict in README.md", name)
		}
		seen[name] = true
		var h sharedHistory
		if strings.HasPrefix(name, "jepsen/") {
			h, err = parseJepsen(file)
		} else {
			h, err = parseKv(file)
		}
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		h.name, h.want = name, want
		hs = append(hs, h)
	}
	for name := range verdicts {
		if !seen[name] {
			tb.Fatalf("README.md has a verdict for %s, but there is no such file", name)
		}
	}
	return hs
}

// verdictRow matches a row of the README's tables: a path, an operation
// count, then the verdict.
var verdictRow = regexp.MustCompile("^\\| `([^`]+)` \\| *[0-9]+ \\| (linearizable|not linearizable) \\|")

func readVerdicts(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	verdicts := make(map[string]bool)
	for _, line := range strings.Split(string(data), "\n") {
		if m := verdictRow.FindStringSubmatch(line); m != nil {
			verdicts[m[1]] = m[2] == "linearizable"
		}
	}
	if len(verdicts) == 0 {
		return nil, fmt.Errorf("%s: no verdict rows", path)
	}
	return verdicts, nil
}

// builder turns a stream of invocations and completions into the three
// forms of a history. Each line is one unit of time.
type builder struct {
	ops     []porcupine.Operation
	events  []porcupine.Event
	opOf    []int       // per event Id: its index in ops
	pending map[int]int // process -> event Id of its outstanding call
	open    []int       // event Ids left indeterminate
	time    int64
}

func newBuilder() *builder { return &builder{pending: make(map[int]int)} }

func (b *builder) invoke(process int, input interface{}) {
	id := len(b.opOf)
	b.time++
	b.opOf = append(b.opOf, len(b.ops))
	b.ops = append(b.ops, porcupine.Operation{ClientId: process, Input: input, Call: b.time})
	b.events = append(b.events, porcupine.Event{ClientId: process, Kind: porcupine.CallEvent, Value: input, Id: id})
	b.pending[process] = id
}

// complete ends the process's outstanding call with output; indeterminate
// leaves it open instead.
func (b *builder) complete(process int, output interface{}, indeterminate bool) error {
	id, ok := b.pending[process]
	if !ok {
		return fmt.Errorf("process %d completes with no call outstanding", process)
	}
	delete(b.pending, process)
	b.time++
	if indeterminate {
		b.open = append(b.open, id)
		return nil
	}
	o := &b.ops[b.opOf[id]]
	o.Output, o.Return = output, b.time
	b.events = append(b.events, porcupine.Event{ClientId: process, Kind: porcupine.ReturnEvent, Value: output, Id: id})
	return nil
}

// finish returns the history with indeterminate operations returning last
// (output unknown) in the operation and event forms, and open in the third.
func (b *builder) finish(h *sharedHistory) error {
	if len(b.pending) != 0 {
		return fmt.Errorf("%d calls never complete", len(b.pending))
	}
	h.open = append([]porcupine.Event(nil), b.events...)
	h.events = b.events
	for _, id := range b.open {
		b.time++
		o := &b.ops[b.opOf[id]]
		o.Output, o.Return = nil, b.time
		h.events = append(h.events, porcupine.Event{ClientId: o.ClientId, Kind: porcupine.ReturnEvent, Value: nil, Id: id})
	}
	h.ops, h.nOpen = b.ops, len(b.open)
	return nil
}

// parseJepsen reads an etcd history (see the README for the format).
func parseJepsen(path string) (sharedHistory, error) {
	h := sharedHistory{model: registerModel}
	f, err := os.Open(path)
	if err != nil {
		return h, err
	}
	defer f.Close()
	b := newBuilder()
	scanner := bufio.NewScanner(f)
	for line := 1; scanner.Scan(); line++ {
		if err := parseJepsenLine(b, scanner.Text()); err != nil {
			return h, fmt.Errorf("line %d: %v", line, err)
		}
	}
	if err := scanner.Err(); err != nil {
		return h, err
	}
	return h, b.finish(&h)
}

func parseJepsenLine(b *builder, line string) error {
	f := strings.Fields(line)
	if len(f) < 7 || f[0] != "INFO" || f[1] != "jepsen.util" || f[2] != "-" {
		return fmt.Errorf("not a Jepsen event: %q", line)
	}
	process, err := strconv.Atoi(f[3])
	if err != nil {
		return fmt.Errorf("process %q: %v", f[3], err)
	}
	kind, fn, value := f[4], f[5], strings.Join(f[6:], " ")
	if kind == ":invoke" {
		var in regInput
		switch fn {
		case ":read":
			in.op = regRead
		case ":write":
			in.op = regWrite
			in.a, err = strconv.Atoi(value)
		case ":cas":
			in.op = regCas
			_, err = fmt.Sscanf(value, "[%d %d]", &in.a, &in.b)
		default:
			return fmt.Errorf("unknown function %q", fn)
		}
		if err != nil {
			return fmt.Errorf("%s value %q: %v", fn, value, err)
		}
		b.invoke(process, in)
		return nil
	}
	switch {
	case kind == ":info":
		return b.complete(process, nil, true)
	case kind == ":fail" && fn == ":read":
		return b.complete(process, nil, false) // returned nothing: unknown output
	case kind == ":fail" && fn == ":cas":
		return b.complete(process, regOutput{ok: false}, false)
	case kind == ":ok" && fn == ":read":
		out := regOutput{ok: true, value: regNil}
		if value != "nil" {
			if out.value, err = strconv.Atoi(value); err != nil {
				return fmt.Errorf("read value %q: %v", value, err)
			}
		}
		return b.complete(process, out, false)
	case kind == ":ok":
		return b.complete(process, regOutput{ok: true}, false)
	}
	return fmt.Errorf("unknown completion %s %s", kind, fn)
}

// parseKv reads a key/value history (see the README for the format).
func parseKv(path string) (sharedHistory, error) {
	h := sharedHistory{model: models.KvModel}
	f, err := os.Open(path)
	if err != nil {
		return h, err
	}
	defer f.Close()
	b := newBuilder()
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<16), 1<<24)
	for line := 1; scanner.Scan(); line++ {
		if err := parseKvLine(b, scanner.Text()); err != nil {
			return h, fmt.Errorf("line %d: %v", line, err)
		}
	}
	if err := scanner.Err(); err != nil {
		return h, err
	}
	return h, b.finish(&h)
}

func parseKvLine(b *builder, line string) error {
	if !strings.HasPrefix(line, "{") || !strings.HasSuffix(line, "}") {
		return fmt.Errorf("not a map: %q", line)
	}
	fields := make(map[string]string)
	for _, kv := range strings.Split(line[1:len(line)-1], ", ") {
		k, v, ok := strings.Cut(kv, " ")
		if !ok {
			return fmt.Errorf("bad entry %q", kv)
		}
		fields[k] = v
	}
	process, err := strconv.Atoi(fields[":process"])
	if err != nil {
		return fmt.Errorf("process: %v", err)
	}
	key, err := strconv.Unquote(fields[":key"])
	if err != nil {
		return fmt.Errorf("key %q: %v", fields[":key"], err)
	}
	value := ""
	if v := fields[":value"]; v != "nil" {
		if value, err = strconv.Unquote(v); err != nil {
			return fmt.Errorf("value %q: %v", v, err)
		}
	}
	var op uint8
	switch fields[":f"] {
	case ":get":
		op = models.OpGet
	case ":put":
		op = models.OpPut
	case ":append":
		op = models.OpAppend
	default:
		return fmt.Errorf("unknown function %q", fields[":f"])
	}
	switch fields[":type"] {
	case ":invoke":
		in := models.KvInput{Op: op, Key: key}
		if op != models.OpGet {
			in.Value = value
		}
		b.invoke(process, in)
		return nil
	case ":ok":
		return b.complete(process, models.KvOutput{Value: value}, false)
	}
	return fmt.Errorf("unknown type %q", fields[":type"])
}

// sharedTimeout bounds each check in the tests; a correct checker needs a
// small fraction of it (see the benchmarks), so Unknown is a failure.
const sharedTimeout = 30 * time.Second

func wantResult(linearizable bool) porcupine.CheckResult {
	if linearizable {
		return porcupine.Ok
	}
	return porcupine.Illegal
}

// TestSharedHistoriesReachKnownVerdicts checks every history in the shared
// data, as operations, as events, and as events with the indeterminate
// operations left open, and expects the README's verdict from each.
func TestSharedHistoriesReachKnownVerdicts(t *testing.T) {
	hs := loadSharedHistories(t)
	var nOk, nIllegal int
	for _, h := range hs {
		h := h
		if h.want {
			nOk++
		} else {
			nIllegal++
		}
		t.Run(h.name, func(t *testing.T) {
			want := wantResult(h.want)
			if got := porcupine.CheckOperationsTimeout(h.model, h.ops, sharedTimeout); got != want {
				t.Errorf("operations: %s, want %s", got, want)
			}
			if got := porcupine.CheckEventsTimeout(h.model, h.events, sharedTimeout); got != want {
				t.Errorf("events: %s, want %s", got, want)
			}
			if got := porcupine.CheckEventsTimeout(h.model, h.open, sharedTimeout); got != want {
				t.Errorf("events with %d open operations: %s, want %s", h.nOpen, got, want)
			}
			if got := porcupine.CheckOperations(h.model, h.ops); got != h.want {
				t.Errorf("CheckOperations: %v, want %v", got, h.want)
			}
			if got := porcupine.CheckEvents(h.model, h.events); got != h.want {
				t.Errorf("CheckEvents: %v, want %v", got, h.want)
			}
		})
	}
	// The README promises both verdicts; a loader that lost one kind would
	// make every check above vacuous for it.
	if nOk == 0 || nIllegal == 0 {
		t.Fatalf("loaded %d linearizable and %d non-linearizable histories; want some of each", nOk, nIllegal)
	}
}

// TestSharedHistoriesVerboseGivesLegalPartialLinearizations checks the
// shared histories verbosely: the verdict must not change, and every
// linearization reported must replay legally in the model, respect real
// time, and be complete exactly when the partition is Ok.
func TestSharedHistoriesVerboseGivesLegalPartialLinearizations(t *testing.T) {
	for _, h := range loadSharedHistories(t) {
		h := h
		t.Run(h.name, func(t *testing.T) {
			want := wantResult(h.want)
			res, info := porcupine.CheckOperationsVerbose(h.model, h.ops, sharedTimeout)
			if res != want {
				t.Fatalf("operations: %s, want %s", res, want)
			}
			checkInfo(t, h.model, partitionOps(h.model, h.ops), info)
			res, info = porcupine.CheckEventsVerbose(h.model, h.open, sharedTimeout)
			if res != want {
				t.Fatalf("events: %s, want %s", res, want)
			}
			checkInfo(t, h.model, eventsAsOperations(partitionEvents(h.model, h.open)), info)
		})
	}
}
