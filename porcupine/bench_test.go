package porcupine_test

import (
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"6.5840/models"
	"6.5840/porcupine"
)

// searchMeter counts the configurations every search pass explores while a
// benchmark runs, and the bytes allocated meanwhile.
type searchMeter struct {
	configs atomic.Int64
	before  runtime.MemStats
}

func newSearchMeter(b *testing.B) *searchMeter {
	m := &searchMeter{}
	porcupine.SetSearchHook(func(_, configs int) { m.configs.Add(int64(configs)) })
	b.Cleanup(func() { porcupine.SetSearchHook(nil) })
	return m
}

// start begins measuring; call it just before b.ResetTimer.
func (m *searchMeter) start() {
	m.configs.Store(0)
	runtime.ReadMemStats(&m.before)
}

// report adds configs/op and B/config: memory per configuration explored,
// the memo's entry and slot and the model's state together.
func (m *searchMeter) report(b *testing.B) {
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	configs := float64(m.configs.Load())
	b.ReportMetric(configs/float64(b.N), "configs/op")
	if configs > 0 {
		b.ReportMetric(float64(after.TotalAlloc-m.before.TotalAlloc)/configs, "B/config")
	}
}

// benchTimeout bounds each check in the benchmarks; a result of Unknown
// fails the benchmark, so a figure is always a verdict's cost.
const benchTimeout = 10 * time.Second

type form struct {
	name  string
	check func(h sharedHistory) porcupine.CheckResult
}

var sharedForms = []form{
	{"Operations", func(h sharedHistory) porcupine.CheckResult {
		return porcupine.CheckOperationsTimeout(h.model, h.ops, benchTimeout)
	}},
	{"Events", func(h sharedHistory) porcupine.CheckResult {
		return porcupine.CheckEventsTimeout(h.model, h.events, benchTimeout)
	}},
	{"EventsOpen", func(h sharedHistory) porcupine.CheckResult {
		return porcupine.CheckEventsTimeout(h.model, h.open, benchTimeout)
	}},
	{"OperationsVerbose", func(h sharedHistory) porcupine.CheckResult {
		res, _ := porcupine.CheckOperationsVerbose(h.model, h.ops, benchTimeout)
		return res
	}},
	{"EventsVerbose", func(h sharedHistory) porcupine.CheckResult {
		res, _ := porcupine.CheckEventsVerbose(h.model, h.events, benchTimeout)
		return res
	}},
}

// BenchmarkSharedSet checks every history of the shared test data, in each
// form: one op is the whole set. max-ms is the slowest single history seen.
func BenchmarkSharedSet(b *testing.B) {
	hs := loadSharedHistories(b)
	for _, f := range sharedForms {
		b.Run(f.name, func(b *testing.B) {
			meter := newSearchMeter(b)
			var slowest time.Duration
			b.ReportAllocs()
			meter.start()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, h := range hs {
					start := time.Now()
					if got := f.check(h); got != wantResult(h.want) {
						b.Fatalf("%s: %s, want %s", h.name, got, wantResult(h.want))
					}
					slowest = max(slowest, time.Since(start))
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(slowest.Microseconds())/1000, "max-ms")
			meter.report(b)
		})
	}
}

// The generated histories of the benchmarks: 50 clients, 5,000 operations,
// on one key or three. The layout follows kvraft: most of an operation's
// time passes before it takes effect (replication), little after (the
// reply), and the mean interval covers three operations on the same key.
// Symmetric is harder for any checker: the effect falls anywhere in the
// interval, so neither calls nor returns say much about the order.
var genCases = []struct {
	name string
	gen  kvGen
}{
	{"Keys1", kvGen{clients: 50, ops: 5000, keys: 1, spread: 3, reply: 20}},
	{"Keys3", kvGen{clients: 50, ops: 5000, keys: 3, spread: 9, reply: 20}},
	{"Keys3Symmetric", kvGen{clients: 50, ops: 5000, keys: 3, spread: 6, reply: 50}},
}

// BenchmarkGenerated checks generated histories, linearizable and with one
// corrupted read, plainly and verbosely. Each op checks one history; the
// seeds are fixed, so every run checks the same ones.
func BenchmarkGenerated(b *testing.B) {
	for _, c := range genCases {
		for _, illegal := range []bool{false, true} {
			for _, verbose := range []bool{false, true} {
				if verbose && !illegal {
					continue
				}
				name := fmt.Sprintf("%s/Ok", c.name)
				if illegal {
					name = fmt.Sprintf("%s/Illegal", c.name)
				}
				if verbose {
					name += "Verbose"
				}
				g := c.gen
				g.illegal = illegal
				b.Run(name, func(b *testing.B) { benchmarkGenerated(b, g, verbose) })
			}
		}
	}
}

const genSeeds = 4

func benchmarkGenerated(b *testing.B, g kvGen, verbose bool) {
	var hs []kvHistory
	for seed := int64(1); seed <= genSeeds; seed++ {
		g.seed = seed
		hs = append(hs, g.generate())
	}
	want := porcupine.Ok
	if g.illegal {
		want = porcupine.Illegal
	}
	meter := newSearchMeter(b)
	var slowest time.Duration
	b.ReportAllocs()
	meter.start()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := hs[i%len(hs)]
		start := time.Now()
		var got porcupine.CheckResult
		if verbose {
			got, _ = porcupine.CheckOperationsVerbose(models.KvModel, h.ops, benchTimeout)
		} else {
			got = porcupine.CheckOperationsTimeout(models.KvModel, h.ops, benchTimeout)
		}
		if got != want {
			b.Fatalf("seed %d, %+v: %s, want %s", int64(i%len(hs))+1, g, got, want)
		}
		slowest = max(slowest, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(slowest.Microseconds())/1000, "max-ms")
	meter.report(b)
}

// manySeeds is how many generated histories of each kind
// BenchmarkGeneratedSeeds checks.
const manySeeds = 40

// BenchmarkGeneratedSeeds checks the generated histories of seeds 1 to
// manySeeds, linearizable and with a corrupted read, once each per op, and
// reports the 90th percentile and the slowest of their times: the four
// seeds of BenchmarkGenerated say little about the tail, where a run of
// overlapping writes meets a misleading order of returns.
func BenchmarkGeneratedSeeds(b *testing.B) {
	for _, c := range genCases {
		for _, illegal := range []bool{false, true} {
			name := c.name + "/Ok"
			if illegal {
				name = c.name + "/Illegal"
			}
			g := c.gen
			g.illegal = illegal
			b.Run(name, func(b *testing.B) { benchmarkSeeds(b, g) })
		}
	}
}

func benchmarkSeeds(b *testing.B, g kvGen) {
	var hs []kvHistory
	for seed := int64(1); seed <= manySeeds; seed++ {
		g.seed = seed
		hs = append(hs, g.generate())
	}
	want := porcupine.Ok
	if g.illegal {
		want = porcupine.Illegal
	}
	meter := newSearchMeter(b)
	var times []time.Duration
	meter.start()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k, h := range hs {
			start := time.Now()
			if got := porcupine.CheckOperationsTimeout(models.KvModel, h.ops, benchTimeout); got != want {
				b.Fatalf("seed %d, %+v: %s, want %s", k+1, g, got, want)
			}
			times = append(times, time.Since(start))
		}
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)*9/10].Microseconds())/1000, "p90-ms")
	b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "max-ms")
	meter.report(b)
}
