package porcupine

import (
	"fmt"
	"os"
	"time"
)

// debugSearch turns on a line per partition searched (operations, outcome,
// configurations explored, time) on standard error. Set PORCUPINE_DEBUG=1
// in the environment before the program starts; off, it costs one branch
// per partition.
var debugSearch = os.Getenv("PORCUPINE_DEBUG") == "1"

func (o outcome) String() string {
	switch o {
	case found:
		return "found"
	case exhausted:
		return "exhausted"
	case overBudget:
		return "over budget"
	}
	return "stopped"
}

// searchHook, when set (by tests, before checking), is told the size and
// the configurations of every search pass.
var searchHook func(ops, configs int)

func debugPartition(s *search, out outcome, start time.Time) {
	if searchHook != nil {
		searchHook(len(s.h.ops), s.explored)
	}
	if !debugSearch {
		return
	}
	name := "full  "
	if s.beam > 0 {
		name = fmt.Sprintf("beam %d", s.beam)
	}
	fmt.Fprintf(os.Stderr, "porcupine: %5d ops  %s  %-9s  deepest %5d  %8d configurations  %v\n",
		len(s.h.ops), name, out, s.deepest, s.explored, time.Since(start).Round(time.Microsecond))
}
