// Command kvsim runs a chaos simulation of the replicated key/value service
// and proves, or refutes, that every answer it gave was linearizable.
//
// It starts a cluster of kvraft servers on labrpc's simulated network, runs
// clients against it while injecting faults (a lossy network, partitions,
// crashes and restarts, reordered replies), records every operation with its
// call and return time, and checks the whole history with porcupine against
// the key/value model. It writes an HTML visualization of the history.
//
// Usage:
//
//	go run ./cmd/kvsim [flags]
//
// With no flags: 5 servers, 8 clients, 20 seconds, all faults, maxraftstate
// 1000, 5 keys, a random seed (printed, so a run's fault schedule can be
// repeated with -seed).
//
// Flags:
//
//	-servers N         number of kvraft servers (1-15; default 5)
//	-clients N         number of concurrent clients (default 8)
//	-duration D        how long clients run (default 20s)
//	-faults LIST       comma-separated: none, drops, partitions, crashes, reorder, all (default all)
//	-maxraftstate N    snapshot when the persisted Raft state nears N bytes; -1 never (default 1000)
//	-keys N            number of distinct keys (default 5)
//	-seed N            seed of the fault schedule and the clients' choices (default random)
//	-html PATH         where to write the visualization (default a file in the temp directory)
//	-json              print the summary as JSON on stdout (status lines go to stderr)
//	-check-timeout D   give up the linearizability check after D (default 1m; 0 means none)
//
// While it runs, kvsim prints a status line a second. At the end it prints a
// summary (operations, latency, RPCs, leader changes, snapshots, largest
// persisted Raft state), the verdict `linearizable: yes`, `no` or
// `unknown (timed out)`, and the path of the visualization. Ctrl-C stops the
// run early; what ran is still summarized and checked.
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
	fmt.Fprintf(status, "kvsim: %d servers, %d clients, %v, faults %s, maxraftstate %d, %d keys, seed %d\n",
		cfg.servers, cfg.clients, cfg.duration, cfg.faults, cfg.maxraftstate, cfg.keys, cfg.seed)
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

// parseFlags reads and checks the command line. Errors name the flag.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("kvsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	servers := fs.Int("servers", 5, "number of kvraft servers (1-15)")
	clients := fs.Int("clients", 8, "number of concurrent clients")
	duration := fs.Duration("duration", 20*time.Second, "how long the clients run")
	faults := fs.String("faults", "all", "faults to inject: comma-separated none, drops, partitions, crashes, reorder, all")
	maxraftstate := fs.Int("maxraftstate", 1000, "snapshot when the persisted Raft state nears this many bytes; -1 never")
	keys := fs.Int("keys", 5, "number of distinct keys")
	seed := fs.Uint64("seed", 0, "seed of the fault schedule and the clients' choices (default random)")
	html := fs.String("html", "", "where to write the HTML visualization (default: the temp directory)")
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
	case cfg.checkTimeout < 0:
		err = fmt.Errorf("-check-timeout %v: want 0 (none) or a positive duration", cfg.checkTimeout)
	}
	if err != nil {
		return config{}, err
	}
	if cfg.faults, err = parseFaults(*faults); err != nil {
		return config{}, fmt.Errorf("-faults: %v", err)
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
