package main

import (
	"fmt"
	"strings"
	"time"
)

// fault is one kind of fault kvsim injects.
type fault int

const (
	drops      fault = iota // an unreliable network: delays, lost requests and replies
	partitions              // servers split into groups that cannot talk
	crashes                 // servers crash and restart from their persisted state
	reorder                 // replies held back up to 2.2 s, so they arrive out of order
	numFaults
)

// faultNames lists the words -faults accepts, indexed by fault.
var faultNames = [numFaults]string{drops: "drops", partitions: "partitions", crashes: "crashes", reorder: "reorder"}

func (f fault) String() string { return faultNames[f] }

// faultSet says which kinds of fault a run injects, or which are on at a
// moment.
type faultSet [numFaults]bool

// allFaults is -faults all.
var allFaults = faultSet{true, true, true, true}

// parseFaults reads a comma-separated list of fault names, "all" or "none".
func parseFaults(s string) (faultSet, error) {
	var set faultSet
	for _, word := range strings.Split(s, ",") {
		word = strings.TrimSpace(word)
		switch word {
		case "none":
			continue
		case "all":
			set = allFaults
			continue
		}
		found := false
		for f, name := range faultNames {
			if word == name {
				set[f], found = true, true
			}
		}
		if !found {
			return faultSet{}, fmt.Errorf("unknown fault %q: want a comma-separated list of %s, or all, or none",
				word, strings.Join(faultNames[:], ", "))
		}
	}
	return set, nil
}

// list names the faults in the set, comma-separated, or says "-".
func (s faultSet) list() string {
	var on []string
	for f, yes := range s {
		if yes {
			on = append(on, faultNames[f])
		}
	}
	if len(on) == 0 {
		return "-"
	}
	return strings.Join(on, ",")
}

// String gives the set as -faults takes it: "none", "all" or a list.
func (s faultSet) String() string {
	switch s {
	case faultSet{}:
		return "none"
	case allFaults:
		return "all"
	}
	return s.list()
}

// eventKind is one kind of scheduled event.
type eventKind int

const (
	doPartition eventKind = iota // put servers in the groups of event.group
	doCrash                      // crash event.server
	doRestart                    // restart event.server
	doStart                      // an episode of event.fault begins; drops and reorder switch the network
	doStop                       // it ends; for partitions and crashes the network has healed and every server restarted
)

// faultEvent is one step of a schedule.
type faultEvent struct {
	at     time.Duration // since the start of the run
	kind   eventKind
	server int   // doCrash, doRestart
	group  []int // doPartition: group of each server; all zero heals
	fault  fault // doStart, doStop
}

func (e faultEvent) String() string {
	switch e.kind {
	case doCrash:
		return fmt.Sprintf("%v crash S%d", e.at, e.server)
	case doRestart:
		return fmt.Sprintf("%v restart S%d", e.at, e.server)
	case doStart:
		return fmt.Sprintf("%v start %v", e.at, e.fault)
	case doStop:
		return fmt.Sprintf("%v stop %v", e.at, e.fault)
	default:
		return fmt.Sprintf("%v partition %v", e.at, e.group)
	}
}

// faultTimes returns how long each kind of fault was on, by the doStart
// and doStop events of a schedule, in a run that lasted length.
func faultTimes(events []faultEvent, length time.Duration) [numFaults]time.Duration {
	var on [numFaults]time.Duration
	var since [numFaults]time.Duration
	var active faultSet
	for _, e := range events {
		if e.at >= length {
			break
		}
		switch {
		case e.kind == doStart && !active[e.fault]:
			active[e.fault], since[e.fault] = true, e.at
		case e.kind == doStop && active[e.fault]:
			active[e.fault] = false
			on[e.fault] += e.at - since[e.fault]
		}
	}
	for f, yes := range active {
		if yes {
			on[f] += length - since[f]
		}
	}
	return on
}
