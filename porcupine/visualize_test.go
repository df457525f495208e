package porcupine_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"6.5840/models"
	"6.5840/porcupine"
)

// pageData mirrors the JSON the page embeds, for the tests to read back.
type pageData struct {
	Result     string `json:"result"`
	Partitions []struct {
		Result string `json:"result"`
		Ops    []struct {
			Client int    `json:"client"`
			Call   int    `json:"call"`
			Ret    int    `json:"ret"`
			Open   bool   `json:"open"`
			Desc   string `json:"desc"`
		} `json:"ops"`
		Lins []struct {
			Steps []struct {
				Op    int    `json:"op"`
				State string `json:"state"`
			} `json:"steps"`
			Stuck int `json:"stuck"`
		} `json:"lins"`
	} `json:"partitions"`
}

func visualize(t *testing.T, m porcupine.Model, info porcupine.LinearizationInfo) (string, pageData) {
	t.Helper()
	var buf bytes.Buffer
	if err := porcupine.Visualize(m, info, &buf); err != nil {
		t.Fatalf("Visualize: %v", err)
	}
	page := buf.String()
	const start = "const DATA = "
	i := strings.Index(page, start)
	if i < 0 {
		t.Fatalf("no data in the page")
	}
	var data pageData
	dec := json.NewDecoder(strings.NewReader(page[i+len(start):]))
	if err := dec.Decode(&data); err != nil {
		t.Fatalf("decoding the page's data: %v", err)
	}
	return page, data
}

// TestVisualizationIsSelfContained checks the page loads nothing from
// anywhere: no scripts, styles, fonts or images by reference.
func TestVisualizationIsSelfContained(t *testing.T) {
	h := kvGen{seed: 5, clients: 5, ops: 60, keys: 2, spread: 3, reply: 50, illegal: true}.generate()
	_, info := porcupine.CheckOperationsVerbose(models.KvModel, h.ops, time.Minute)
	page, _ := visualize(t, models.KvModel, info)
	for _, ref := range []string{"src=", "href=", "@import", "url(", "<link", "<iframe", "fetch(", "XMLHttpRequest"} {
		if strings.Contains(page, ref) {
			t.Errorf("the page contains %q: it must not load anything", ref)
		}
	}
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, "</html>") {
		t.Errorf("not a whole HTML document")
	}
}

// TestVisualizationMarksTheReadThatBreaksLinearizability visualizes a
// generated history with one corrupted read: the page must say Illegal,
// describe every operation with DescribeOperation, replay states with
// DescribeState, and mark the corrupted read as the one that got stuck.
func TestVisualizationMarksTheReadThatBreaksLinearizability(t *testing.T) {
	g := kvGen{seed: 8, clients: 6, ops: 80, keys: 1, spread: 3, reply: 50, illegal: true}
	h := g.generate()
	res, info := porcupine.CheckOperationsVerbose(models.KvModel, h.ops, time.Minute)
	if res != porcupine.Illegal {
		t.Fatalf("check: %s, want Illegal", res)
	}
	_, data := visualize(t, models.KvModel, info)
	if data.Result != "Illegal" || len(data.Partitions) != 1 || data.Partitions[0].Result != "Illegal" {
		t.Fatalf("page says %s with partitions %d, want one Illegal partition", data.Result, len(data.Partitions))
	}
	p := data.Partitions[0]
	descs := map[string]bool{}
	for _, o := range h.ops {
		descs[models.KvModel.DescribeOperation(o.Input, o.Output)] = true
	}
	for _, o := range p.Ops {
		if !descs[o.Desc] {
			t.Fatalf("operation described as %q, which is no DescribeOperation of the history", o.Desc)
		}
	}
	if len(p.Ops) != len(h.ops) {
		t.Fatalf("%d operations on the page, want %d", len(p.Ops), len(h.ops))
	}
	corrupted := h.ops[h.corrupted]
	want := models.KvModel.DescribeOperation(corrupted.Input, corrupted.Output)
	if len(p.Lins) == 0 {
		t.Fatalf("no partial linearization on the page")
	}
	for k, lin := range p.Lins {
		if lin.Stuck < 0 || p.Ops[lin.Stuck].Desc != want {
			t.Fatalf("linearization %d is stuck at %d, want the corrupted read %q", k, lin.Stuck, want)
		}
		// The states are DescribeState of a replay.
		state := models.KvModel.Init()
		for i, s := range lin.Steps {
			var ok bool
			in, out := opByDesc(h.ops, p.Ops[s.Op].Desc)
			if ok, state = models.KvModel.Step(state, in, out); !ok {
				t.Fatalf("step %d is illegal", i)
			}
			if got := models.KvModel.DescribeState(state); s.State != got {
				t.Fatalf("step %d: state %q, want %q", i, s.State, got)
			}
		}
	}
}

func opByDesc(ops []porcupine.Operation, desc string) (interface{}, interface{}) {
	for _, o := range ops {
		if models.KvModel.DescribeOperation(o.Input, o.Output) == desc {
			return o.Input, o.Output
		}
	}
	return nil, nil
}

// TestVisualizationOfOpenOperationsAndDefaults covers an event history with
// an open call, a model with no description functions (the defaults apply,
// and a DescribeOperation that panics on an open call's nil output falls
// back to them), and the empty LinearizationInfo.
func TestVisualizationOfOpenOperationsAndDefaults(t *testing.T) {
	in := models.KvInput{Op: models.OpPut, Key: "x", Value: "a"}
	evs := []porcupine.Event{
		{ClientId: 0, Kind: porcupine.CallEvent, Value: in, Id: 0},
		{ClientId: 1, Kind: porcupine.CallEvent, Value: models.KvInput{Op: models.OpGet, Key: "x"}, Id: 1},
		{ClientId: 1, Kind: porcupine.ReturnEvent, Value: models.KvOutput{Value: "a"}, Id: 1},
	}
	m := models.KvModel
	m.DescribeState = nil
	m.DescribeOperation = func(input, output interface{}) string {
		return "put -> " + output.(models.KvOutput).Value // panics on an open call
	}
	res, info := porcupine.CheckEventsVerbose(m, evs, time.Minute)
	if res != porcupine.Ok {
		t.Fatalf("check: %s, want Ok", res)
	}
	_, data := visualize(t, m, info)
	ops := data.Partitions[0].Ops
	if len(ops) != 2 || !ops[0].Open || ops[1].Open {
		t.Fatalf("operations %+v: want the put open and the get closed", ops)
	}
	if want := porcupine.DefaultDescribeOperation(in, nil); ops[0].Desc != want {
		t.Fatalf("open put described as %q, want the default %q", ops[0].Desc, want)
	}
	if steps := data.Partitions[0].Lins[0].Steps; len(steps) != 2 || steps[1].State != "a" {
		t.Fatalf("steps %+v: want the put then the get, state a", steps)
	}

	_, data = visualize(t, models.KvModel, porcupine.LinearizationInfo{})
	if data.Result != "Ok" || len(data.Partitions) != 0 {
		t.Fatalf("empty info: %+v", data)
	}
}

type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

// TestVisualizeReportsWriteErrors checks both entry points return the error
// they meet, and that VisualizePath writes the same page as Visualize.
func TestVisualizeReportsWriteErrors(t *testing.T) {
	ops := []porcupine.Operation{put(0, "x", "a", 0, 10), get(1, "x", "a", 20, 30)}
	_, info := porcupine.CheckOperationsVerbose(models.KvModel, ops, 0)
	if err := porcupine.Visualize(models.KvModel, info, failingWriter{}); !errors.Is(err, errWrite) {
		t.Fatalf("Visualize to a failing writer: %v, want %v", err, errWrite)
	}
	dir := t.TempDir()
	if err := porcupine.VisualizePath(models.KvModel, info, filepath.Join(dir, "no", "such", "dir.html")); err == nil {
		t.Fatalf("VisualizePath into a missing directory: no error")
	}
	path := filepath.Join(dir, "ok.html")
	if err := porcupine.VisualizePath(models.KvModel, info, path); err != nil {
		t.Fatalf("VisualizePath: %v", err)
	}
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	porcupine.Visualize(models.KvModel, info, &buf)
	if !bytes.Equal(written, buf.Bytes()) {
		t.Fatalf("VisualizePath wrote %d bytes, Visualize %d", len(written), buf.Len())
	}
}
