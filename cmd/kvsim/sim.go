package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"

	"6.5840/models"
	"6.5840/porcupine"
)

// config is one run's settings, from the flags.
type config struct {
	servers      int
	clients      int
	duration     time.Duration
	faults       faultSet
	nemesis      nemesis
	maxraftstate int
	keys         int
	seed         uint64
	htmlPath     string        // "" : a file named after the seed in the temp directory
	htmlOps      int           // the most operations the visualization shows, about
	htmlAt       time.Duration // the moment its window centres on; <0: the slowest operation
	json         bool
	checkTimeout time.Duration

	// Not flags: for tests.
	staleRead      bool          // plant one stale read (see client.serveStaleRead)
	events         []faultEvent  // the fault schedule, instead of schedule's
	electionWait   time.Duration // how long to wait for a first leader
	statusInterval time.Duration
	beforeSample   func(at time.Duration, c *cluster)   // called before each periodic sample; may stall the monitor
	afterApply     func(e faultEvent, at time.Duration) // called after each fault event, with when it was applied
}

// errNoLeader means the cluster never elected a leader.
var errNoLeader = errors.New("the cluster elected no leader")

// How long the end of a run may take.
const (
	defaultElectionWait = 10 * time.Second // a first leader must appear within this
	finishWait          = 15 * time.Second // clients finish their last operation within this, once healed
)

// simulate runs the cluster and its clients under faults for cfg.duration,
// or until ctx is done, then checks the history. Status lines go to status.
func simulate(ctx context.Context, cfg config, status io.Writer, isTerminal bool) (*summary, error) {
	c := newCluster(cfg.servers, cfg.maxraftstate)
	defer c.shutdown()
	if err := waitForLeader(ctx, c, cfg.electionWait); err != nil {
		return nil, err
	}

	hist := newHistory(cfg.clients)
	stop := make(chan struct{})
	finished := make(chan struct{}, cfg.clients)
	for i := 0; i < cfg.clients; i++ {
		cl := &client{
			id:         i,
			clerk:      c.makeClerk(),
			rng:        rand.New(rand.NewPCG(cfg.seed, uint64(i)+1)),
			keys:       cfg.keys,
			hist:       hist,
			staleReads: cfg.staleRead && i == 0,
		}
		go func() {
			cl.run(stop)
			finished <- struct{}{}
		}()
	}

	sum := &summary{Config: describe(cfg)}
	mon := newMonitor(c, hist, cfg, status, isTerminal)
	events := cfg.events
	if events == nil {
		events = schedule(cfg.seed, cfg.servers, cfg.duration, cfg.faults, cfg.nemesis)
	}
	stopMonitor, monitorDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(monitorDone)
		mon.run(stopMonitor)
	}()
	interrupted, ran := drive(ctx, c, hist, events, cfg.duration, mon, cfg.afterApply)
	sum.Interrupted = interrupted
	sum.fillFaults(cfg.faults, faultTimes(events, ran))
	close(stopMonitor)
	<-monitorDone
	mon.finish()
	mon.printAtEnd()

	// Stop faults so that every client can finish its operation.
	close(stop)
	for f := range numFaults {
		c.setFault(f, false)
	}
	c.heal()
	for i := 0; i < cfg.servers; i++ {
		if c.isCrashed(i) {
			c.start(i)
		}
	}
	waitClients(finished, cfg.clients, finishWait)
	mon.final()
	c.waitCrashed()

	completed, openWrites, open := hist.finish()
	sum.fill(completed, open, time.Since(hist.start), c.net.GetTotalCount(), c.net.GetTotalBytes())
	sum.SnapsTaken, sum.SnapsInstall, sum.MaxRaftState = c.raftStats()
	sum.fillAvailability(mon.avail, completed)
	ops := append(completed, openWrites...)

	path := cfg.htmlPath
	if path == "" {
		path = filepath.Join(os.TempDir(), fmt.Sprintf("kvsim-%d.html", cfg.seed))
	}
	checkStart := time.Now()
	res, info := porcupine.CheckOperationsVerbose(models.KvModel, ops, cfg.checkTimeout)
	sum.CheckSeconds = time.Since(checkStart).Seconds()
	switch res {
	case porcupine.Ok:
		sum.Linearizable = "yes"
	case porcupine.Illegal:
		sum.Linearizable = "no"
	default:
		sum.Linearizable = "unknown (timed out)"
	}
	shows, err := visualize(ops, res, info, vizOptions{maxOps: cfg.htmlOps, at: cfg.htmlAt,
		timeout: cfg.checkTimeout, completed: len(completed)}, path)
	if err != nil {
		sum.HTMLError = err.Error()
	} else {
		sum.HTML, sum.HTMLShows = path, shows
	}
	return sum, nil
}

// drive applies the fault schedule until the run's time is up or ctx is
// done, and has mon sample the cluster after each change. Events due by
// the end of the run are all applied, however late drive gets to them. It
// reports whether ctx ended the run early, and when the run ended, since
// its start, which it also tells mon. afterApply, if not nil, is called
// after each event.
func drive(ctx context.Context, c *cluster, hist *history, events []faultEvent, length time.Duration, mon *monitor,
	afterApply func(e faultEvent, at time.Duration)) (interrupted bool, ran time.Duration) {
	end := time.NewTimer(length - time.Since(hist.start))
	defer end.Stop()
	next := time.NewTimer(0)
	defer next.Stop()
	applyDue := func() {
		now := time.Since(hist.start)
		for len(events) > 0 && events[0].at <= now {
			apply(c, events[0])
			if afterApply != nil {
				afterApply(events[0], time.Since(hist.start))
			}
			events = events[1:]
		}
		mon.sample() // the moment the faults changed
	}
	mon.sample()
	for {
		if len(events) > 0 {
			next.Reset(events[0].at - time.Since(hist.start))
		}
		select {
		case <-ctx.Done():
			ran = min(time.Since(hist.start), length)
			mon.endAt(ran)
			return true, ran
		case <-end.C:
			applyDue()
			mon.endAt(length)
			return false, length
		case <-next.C:
			applyDue()
		}
	}
}

func apply(c *cluster, e faultEvent) {
	switch e.kind {
	case doCrash:
		c.crash(e.server)
	case doRestart:
		c.start(e.server)
	case doPartition:
		c.partition(e.group)
	case doStart, doStop:
		c.setFault(e.fault, e.kind == doStart)
	}
}

func waitForLeader(ctx context.Context, c *cluster, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if c.observe().leader >= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("%w within %v", errNoLeader, wait)
}

// waitClients waits until n clients have finished, or for at most wait.
func waitClients(finished <-chan struct{}, n int, wait time.Duration) {
	deadline := time.After(wait)
	for i := 0; i < n; i++ {
		select {
		case <-finished:
		case <-deadline:
			return
		}
	}
}

// percentile returns the p-th percentile (0-100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

func latencies(ops []porcupine.Operation) []time.Duration {
	ds := make([]time.Duration, len(ops))
	for i, op := range ops {
		ds[i] = time.Duration(op.Return - op.Call)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds
}
