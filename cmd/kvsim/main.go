// Command kvsim runs a chaos simulation of the replicated key/value service
// and proves, or refutes, that every answer it gave was linearizable.
//
// It starts a cluster of kvraft servers on labrpc's simulated network, runs
// clients against it while injecting faults (a lossy network, partitions,
// crashes and restarts, reordered replies), records every operation with its
// call and return time, and checks the whole history with porcupine against
// the key/value model. It measures how available the service stayed, and
// writes an HTML visualization of the history.
//
// Usage:
//
//	go run ./cmd/kvsim [flags]
//
// With no flags: 5 servers, 8 clients, 20 seconds, every kind of fault in
// episodes that start and stop (the minority schedule), maxraftstate 1000,
// 5 keys, a random seed (printed, so a run's fault schedule can be repeated
// with -seed).
//
// Flags:
//
//	-servers N         number of kvraft servers (1-15; default 5)
//	-clients N         number of concurrent clients (default 8)
//	-duration D        how long clients run (default 20s)
//	-faults LIST       comma-separated: none, drops, partitions, crashes, reorder, all (default all)
//	-nemesis NAME      the fault schedule: minority (episodes) or harsh (always on) (default minority)
//	-maxraftstate N    snapshot when the persisted Raft state nears N bytes; -1 never (default 1000)
//	-keys N            number of distinct keys (default 5)
//	-seed N            seed of the fault schedule and the clients' choices (default random)
//	-html PATH         where to write the visualization (default a file in the temp directory)
//	-html-ops N        show at most about N operations in the visualization (default 10000)
//	-html-at D         centre the visualization's window at D since the start (default: the slowest operation)
//	-json              print the summary as JSON on stdout (status lines go to stderr)
//	-check-timeout D   give up the linearizability check after D (default 1m; 0 means none)
//
// # Faults
//
// drops makes the network unreliable: each request is delayed up to 27 ms,
// and one request in ten and one reply in ten are lost. reorder holds about
// two replies in three back 200 ms to 2.2 s, so that they arrive long after
// later ones (the course's long reordering). partitions split the servers
// into two groups that cannot talk to each other, a new split about every
// second (0.5 to 1.5 s). crashes stop a server about every two seconds (1
// to 3 s), each restarting from its persisted state 0.5 to 2 s later.
// Clients always reach every server that is up; drops and reorder affect
// their calls too.
//
// # The schedule
//
// The schedule is drawn from the seed, so -seed repeats it. The default,
// -nemesis minority, runs faults as Jepsen's nemeses do: each selected kind
// of fault comes in episodes that start and stop, independently of the
// other kinds, with calm stretches between them:
//
//	fault        episode     calm between   on for about
//	drops        2 to 5 s    2 to 5 s       half the run
//	partitions   3 to 6 s    2 to 4 s       three fifths
//	crashes      3 to 6 s    2 to 4 s       three fifths
//	reorder      2 to 4 s    4 to 8 s       a third
//
// Each kind's first episode begins after up to its longest calm; every
// length is drawn uniformly from its range. Drops and reorder switch the
// whole network's behaviour for the episode (calls already held back when
// reorder stops still arrive late). A partition episode begins with a
// partition, changes it about every second and ends by healing the
// network. A crash episode begins with a crash, crashes another server
// about every two seconds and ends by restarting every server still down.
// The status line names the faults whose episode is on ("faults
// drops,reorder", or "faults -" when all are calm), and the summary says
// how long each was on.
//
// The minority schedule also keeps a connected majority at every moment,
// as Jepsen's nemeses isolate or kill a minority: the servers that are
// crashed or cut off are together at most a minority (two of five). Each
// partition cuts off one to that many servers, counting the crashed ones,
// which restart cut off if it has not healed by then. A crash picks a
// server that is up, or, when the minority is used up, one that is cut
// off. So the service can always make progress, and how quickly it does,
// under a fault and as it recovers, is what the run measures. With fewer
// than three servers no partition or crash spares a majority, and none is
// scheduled.
//
// -nemesis harsh, the old schedule, keeps every selected fault on for the
// whole run and draws partitions and crashes independently. A partition
// heals the network one time in four and otherwise cuts off a minority; at
// most a minority is crashed at once. Each alone spares a majority, but
// together they often leave none: with five servers, two crashed and two
// others cut off. Most runs spend seconds so. With long reordering on the
// whole time as well, eight clients complete only one or two hundred
// operations in 20 s.
//
// # What a run reports
//
// While it runs, kvsim prints a status line a second: the time, the
// operations completed and their rate, the leader and its term, which
// servers are crashed or cut off from the largest group, and which faults
// are on. At the end it prints a summary:
//
//	operations     353846 (get 141062, put 106186, append 106598), 16841/s; 0 still open at the end
//	latency        p50 0.09 ms, p99 0.58 ms, max 2957.43 ms
//	availability   a connected majority for 20.0 s: no leader for 4.28 s of it in 7 stretches, the longest 1704 ms (from 17.4 s); 17692 ops/s
//	faults         on for drops 9.7 s, partitions 13.5 s, crashes 13.3 s, reorder 5.7 s (nemesis minority)
//	network        660693 RPCs, 79.3 MiB
//	raft           5 leader changes, 91333 snapshots taken, 18 installed, largest persisted state 33.6 KiB
//	linearizable: yes (checked in 1.31 s)
//	visualization: /tmp/kvsim-5963686270119790995.html
//	  (10088 of the 353846 operations: those called from 14.13 s to 19.79 s, around the slowest operation, ...)
//
// The availability line is what users care about. kvsim samples the
// cluster every 10 ms while the faults run. A connected majority exists
// when more than half of the servers are up and in one partition group (the
// network may still drop and delay their messages). A leader is a server
// that believes it leads term T and has a majority of all servers, itself
// included, up, in its group and at term T: servers that accept its
// AppendEntries, so it can commit. (A leader cut off from the majority, or
// whose followers have moved to a higher term, does not count.) The line
// gives the time with a connected majority, how much of it passed without
// a leader, in how many stretches, the longest stretch (to about 10 ms) and
// when it began, and the operations per second that completed while a
// connected majority existed. Time without a connected majority is not
// counted: no Raft could serve then. The faults line says how long each
// selected fault was on. -json gives the same figures under "availability"
// and "fault_seconds".
//
// A sample never waits for a peer: a goroutine per server reads the
// peer's term and role every 5 ms, and the sample uses the latest answer,
// since a peer starved of CPU may hold its lock for a second or more while
// it persists. Samples and the fault schedule run on goroutines of their
// own, so faults come on time, and a run's figures cover its length
// exactly.
//
// To repeat the measurements per kind of fault (medians over five seeds of
// 20 s runs, against the targets of the project's issue 11):
//
//	go test ./cmd/kvsim -run TestAvailabilityTargets -v -timeout 45m -kvsim.targets
//
// # The visualization
//
// The HTML page (porcupine's) shows each client as a row and each
// operation as a bar from call to return, one key at a time, with the
// linearization the checker found or, for a history that is not
// linearizable, how far it got. A page opens in a browser in a second or
// two with up to about 10,000 operations (about 1.6 MB), but a run
// without faults completes tens of thousands a second. So the page shows
// the whole history only up to -html-ops operations. Beyond that, a
// linearizable history is shown in a window of about -html-ops operations
// around the slowest operation (or -html-at), each key's part starting at
// a Put that no other write overlapped, so that the key's value is known
// there; a history that is not linearizable is shown for the keys that are
// not, in full if they fit, otherwise each from the latest such Put to the
// first point at which it is already not linearizable. A banner at the top
// of the page says what it shows and what it leaves out; so does the
// summary.
//
// Ctrl-C stops the run early; what ran is still summarized and checked.
//
// Exit status: 0 when the history is linearizable, 1 when it is not, 2 on
// bad flags or when the cluster never elects a leader, 3 when the check
// timed out.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"time"
)

// Exit statuses.
const (
	exitLinearizable = 0
	exitViolation    = 1
	exitUsage        = 2 // bad flags, or no leader ever
	exitUnknown      = 3 // the checker timed out
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is kvsim without the process: it parses args, runs the simulation and
// returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "kvsim: %v\n", err)
		}
		return exitUsage
	}
	status := stdout
	if cfg.json {
		status = stderr // stdout carries only the JSON
	}
	fmt.Fprintf(status, "kvsim: %d servers, %d clients, %v, faults %s, nemesis %s, maxraftstate %d, %d keys, seed %d\n",
		cfg.servers, cfg.clients, cfg.duration, cfg.faults, cfg.nemesis, cfg.maxraftstate, cfg.keys, cfg.seed)
	sum, err := simulate(ctx, cfg, status, isTerminal(status))
	if err != nil {
		fmt.Fprintf(stderr, "kvsim: %v\n", err)
		return exitUsage
	}
	if cfg.json {
		if err := sum.writeJSON(stdout); err != nil {
			fmt.Fprintf(stderr, "kvsim: %v\n", err)
		}
	} else {
		sum.writeText(stdout)
	}
	switch sum.Linearizable {
	case "yes":
		return exitLinearizable
	case "no":
		return exitViolation
	default:
		return exitUnknown
	}
}

const usageText = `Usage: go run ./cmd/kvsim [flags]

Runs kvraft servers and clients on a simulated network under faults, checks
every answer for linearizability, measures availability and writes an HTML
visualization.

Faults: drops (lossy, delayed network), reorder (replies held back up to
2.2 s), partitions (a new one about every second) and crashes (about every
two seconds, each server back 0.5-2 s later).

The default -nemesis minority runs each fault in episodes, independently:
drops on for 2-5 s then calm for 2-5 s, partitions and crashes on for
3-6 s then calm for 2-4 s, reorder on for 2-4 s then calm for 4-8 s. A
partition episode ends by healing the network, a crash episode by
restarting every crashed server. It keeps a connected majority at every
moment: crashed and cut-off servers are together a minority. -nemesis
harsh keeps every fault on for the whole run and draws partitions and
crashes independently, so together they often leave no connected majority.
The status line names the faults that are on.

Availability: time with a connected majority (more than half the servers up
and in one group), how much of it had no leader (a server leading term T
with a majority up, connected and at term T), the longest such stretch, and
operations per second while a majority was connected. 'go doc ./cmd/kvsim'
says more.

Flags:
`

// parseFlags reads and checks the command line. Errors name the flag.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("kvsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	servers := fs.Int("servers", 5, "number of kvraft servers (1-15)")
	clients := fs.Int("clients", 8, "number of concurrent clients")
	duration := fs.Duration("duration", 20*time.Second, "how long the clients run")
	faults := fs.String("faults", "all", "faults to inject: comma-separated none, drops, partitions, crashes, reorder, all")
	nemesisName := fs.String("nemesis", "minority", "the fault schedule: minority (each fault in episodes; a connected majority always remains) or harsh (every fault on all the time; often no majority remains)")
	maxraftstate := fs.Int("maxraftstate", 1000, "snapshot when the persisted Raft state nears this many bytes; -1 never")
	keys := fs.Int("keys", 5, "number of distinct keys")
	seed := fs.Uint64("seed", 0, "seed of the fault schedule and the clients' choices (default random)")
	html := fs.String("html", "", "where to write the HTML visualization (default: the temp directory)")
	htmlOps := fs.Int("html-ops", defaultHTMLOps, "show at most about this many operations in the visualization")
	htmlAt := fs.Duration("html-at", 0, "centre the visualization's window on this time since the start (default: the slowest operation)")
	asJSON := fs.Bool("json", false, "print the summary as JSON on stdout")
	checkTimeout := fs.Duration("check-timeout", time.Minute, "give up the linearizability check after this; 0 means never")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q: kvsim takes only flags", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	cfg := config{
		servers:        *servers,
		clients:        *clients,
		duration:       *duration,
		maxraftstate:   *maxraftstate,
		keys:           *keys,
		seed:           *seed,
		htmlPath:       *html,
		htmlOps:        *htmlOps,
		htmlAt:         *htmlAt,
		json:           *asJSON,
		checkTimeout:   *checkTimeout,
		electionWait:   defaultElectionWait,
		statusInterval: time.Second,
	}
	var err error
	switch {
	case cfg.servers < 1 || cfg.servers > 15:
		err = fmt.Errorf("-servers %d: want 1 to 15", cfg.servers)
	case cfg.clients < 1 || cfg.clients > 1000:
		err = fmt.Errorf("-clients %d: want 1 to 1000", cfg.clients)
	case cfg.duration <= 0:
		err = fmt.Errorf("-duration %v: want a positive duration such as 20s", cfg.duration)
	case cfg.maxraftstate == 0 || cfg.maxraftstate < -1:
		err = fmt.Errorf("-maxraftstate %d: want a positive number of bytes, or -1 for no snapshots", cfg.maxraftstate)
	case cfg.keys < 1:
		err = fmt.Errorf("-keys %d: want at least 1", cfg.keys)
	case cfg.htmlOps < 1:
		err = fmt.Errorf("-html-ops %d: want at least 1", cfg.htmlOps)
	case set["html-at"] && cfg.htmlAt < 0:
		err = fmt.Errorf("-html-at %v: want a time since the start, such as 12s", cfg.htmlAt)
	case cfg.checkTimeout < 0:
		err = fmt.Errorf("-check-timeout %v: want 0 (none) or a positive duration", cfg.checkTimeout)
	}
	if err != nil {
		return config{}, err
	}
	if cfg.faults, err = parseFaults(*faults); err != nil {
		return config{}, fmt.Errorf("-faults: %v", err)
	}
	if !set["html-at"] {
		cfg.htmlAt = -1 // the slowest operation
	}
	if cfg.nemesis, err = parseNemesis(*nemesisName); err != nil {
		return config{}, fmt.Errorf("-nemesis: %v", err)
	}
	if !set["seed"] {
		cfg.seed = rand.Uint64() >> 1 // keep it readable as a positive int64 too
	}
	return cfg, nil
}

// isTerminal reports whether w is a terminal, where the status line can be
// rewritten in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
