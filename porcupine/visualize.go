package porcupine

import (
	_ "embed" // the page template
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// page is the visualization's HTML, CSS and JavaScript; Visualize puts the
// history's data in place of dataMarker.
//
//go:embed visualization.html
var page string

const dataMarker = "/*PORCUPINE_DATA*/null"

// Visualize writes to w a self-contained HTML page (no external scripts,
// styles or fonts, so it works offline) that shows the history in info, as
// returned by CheckOperationsVerbose or CheckEventsVerbose with the same
// model: a row per client, a bar per operation from its call to its return
// labelled with DescribeOperation, and over it a linearization with the
// state after each step (DescribeState). A partition that is not
// linearizable shows its longest partial linearizations, with the operations
// they could not place in red. It returns the first error from w.
func Visualize(model Model, info LinearizationInfo, w io.Writer) error {
	data, err := json.Marshal(vizDataOf(model.withDescriptions(), info))
	if err != nil {
		return fmt.Errorf("porcupine: encoding the visualization: %v", err)
	}
	before, after, ok := strings.Cut(page, dataMarker)
	if !ok {
		panic("porcupine: visualization.html lacks its data marker")
	}
	for _, part := range []string{before, string(data), after} {
		if _, err := io.WriteString(w, part); err != nil {
			return err
		}
	}
	return nil
}

// VisualizePath is Visualize writing to the file at path, created or
// truncated.
func VisualizePath(model Model, info LinearizationInfo, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Visualize(model, info, f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// The page's data, in JSON. Times are ranks: each distinct call or return
// time of a partition gets the next integer, so that short operations stay
// wide enough to read; the real times go along for the tooltips.
type vizData struct {
	Result     CheckResult    `json:"result"`
	Partitions []vizPartition `json:"partitions"`
}

type vizPartition struct {
	Result CheckResult `json:"result"`
	Ops    []vizOp     `json:"ops"`
	Lins   []vizLin    `json:"lins"`
	Init   string      `json:"init"` // the initial state
	Ranks  int         `json:"ranks"`
	Times  []int64     `json:"times"` // the time of each rank, from the first (so JavaScript's doubles hold it)
}

type vizOp struct {
	Client int    `json:"client"`
	Call   int    `json:"call"`
	Ret    int    `json:"ret"` // for an open operation, one past the last rank
	Open   bool   `json:"open"`
	Desc   string `json:"desc"`
}

type vizLin struct {
	Steps []vizStep `json:"steps"`
	// Stuck is the operation (an index into Ops) whose return the search
	// could not get past with this prefix: the unplaced operation that
	// returns first. -1 when the linearization is complete.
	Stuck int `json:"stuck"`
}

type vizStep struct {
	Op    int    `json:"op"`
	State string `json:"state"` // after the step
}

func vizDataOf(model Model, info LinearizationInfo) vizData {
	data := vizData{Result: Ok, Partitions: []vizPartition{}}
	for _, part := range info.partitions {
		data.Partitions = append(data.Partitions, vizPartitionOf(model, part))
		switch {
		case part.result == Illegal:
			data.Result = Illegal
		case part.result == Unknown && data.Result == Ok:
			data.Result = Unknown
		}
	}
	return data
}

func vizPartitionOf(model Model, part partitionInfo) vizPartition {
	var times []int64
	for _, o := range part.ops {
		times = append(times, o.call)
		if !o.open {
			times = append(times, o.ret)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	times = uniqueTimes(times)
	rank := func(t int64) int { return sort.Search(len(times), func(i int) bool { return times[i] >= t }) }

	p := vizPartition{Result: part.result, Ranks: len(times), Ops: []vizOp{}, Lins: []vizLin{}, Times: []int64{}}
	for _, t := range times {
		p.Times = append(p.Times, t-times[0])
	}
	for _, o := range part.ops {
		v := vizOp{Client: o.client, Call: rank(o.call), Ret: len(times), Open: o.open,
			Desc: describeOperation(model, o.input, o.output)}
		if !o.open {
			v.Ret = rank(o.ret)
		}
		p.Ops = append(p.Ops, v)
	}
	p.Init = describeState(model, model.Init())
	for _, lin := range part.partials {
		p.Lins = append(p.Lins, vizLinOf(model, part, lin))
	}
	return p
}

// vizLinOf replays a linearization to describe the state after each step.
func vizLinOf(model Model, part partitionInfo, lin []int32) vizLin {
	v := vizLin{Stuck: -1}
	state := model.Init()
	placed := make([]bool, len(part.ops))
	for _, id := range lin {
		o := &part.ops[id]
		_, state = model.Step(state, o.input, o.output)
		placed[id] = true
		v.Steps = append(v.Steps, vizStep{Op: int(id), State: describeState(model, state)})
	}
	if part.result != Ok {
		for id, o := range part.ops {
			if placed[id] || o.open {
				continue
			}
			if v.Stuck < 0 || o.ret < part.ops[v.Stuck].ret {
				v.Stuck = id
			}
		}
	}
	return v
}

func uniqueTimes(sorted []int64) []int64 {
	out := sorted[:0]
	for i, t := range sorted {
		if i == 0 || t != sorted[i-1] {
			out = append(out, t)
		}
	}
	return out
}

// withDescriptions fills in the default description functions. (Unlike
// withDefaults it does not insist on Init and Step: a LinearizationInfo with
// no partitions, the zero value, needs neither.)
func (m Model) withDescriptions() Model {
	if m.DescribeOperation == nil {
		m.DescribeOperation = DefaultDescribeOperation
	}
	if m.DescribeState == nil {
		m.DescribeState = DefaultDescribeState
	}
	return m
}

// describeOperation is the model's DescribeOperation, falling back to the
// default if it panics: a model written for complete operations may not
// expect the nil output of an open one.
func describeOperation(m Model, input, output interface{}) (desc string) {
	defer func() {
		if recover() != nil {
			desc = DefaultDescribeOperation(input, output)
		}
	}()
	return m.DescribeOperation(input, output)
}

func describeState(m Model, state interface{}) (desc string) {
	defer func() {
		if recover() != nil {
			desc = DefaultDescribeState(state)
		}
	}()
	return m.DescribeState(state)
}
