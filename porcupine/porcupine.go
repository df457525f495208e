package porcupine

import "time"

// CheckOperations reports whether the history is linearizable with respect
// to the model. It blocks until it knows, however long that takes.
func CheckOperations(model Model, history []Operation) bool {
	return CheckOperationsTimeout(model, history, 0) == Ok
}

// CheckOperationsTimeout decides whether the history is linearizable, giving
// up with Unknown after timeout (0: never). It returns promptly at the
// timeout and leaves no goroutine behind.
func CheckOperationsTimeout(model Model, history []Operation, timeout time.Duration) CheckResult {
	result, _ := checkOperations(model, history, timeout, false)
	return result
}

// CheckOperationsVerbose is CheckOperationsTimeout that also returns, for
// Visualize, each partition's linearization or longest partial ones. It
// checks every partition, even after one is found Illegal.
func CheckOperationsVerbose(model Model, history []Operation, timeout time.Duration) (CheckResult, LinearizationInfo) {
	return checkOperations(model, history, timeout, true)
}

// CheckEvents reports whether the history of events is linearizable with
// respect to the model. It blocks until it knows.
func CheckEvents(model Model, history []Event) bool {
	return CheckEventsTimeout(model, history, 0) == Ok
}

// CheckEventsTimeout decides whether the history of events is linearizable,
// giving up with Unknown after timeout (0: never). It returns promptly at the
// timeout and leaves no goroutine behind.
func CheckEventsTimeout(model Model, history []Event, timeout time.Duration) CheckResult {
	result, _ := checkEvents(model, history, timeout, false)
	return result
}

// CheckEventsVerbose is CheckEventsTimeout that also returns, for Visualize,
// each partition's linearization or longest partial ones.
func CheckEventsVerbose(model Model, history []Event, timeout time.Duration) (CheckResult, LinearizationInfo) {
	return checkEvents(model, history, timeout, true)
}

func checkOperations(model Model, history []Operation, timeout time.Duration, verbose bool) (CheckResult, LinearizationInfo) {
	deadline := deadlineAfter(timeout)
	model = model.withDefaults()
	parts := model.Partition(history)
	hs := make([]timeline, len(parts))
	for i, part := range parts {
		hs[i] = timelineFromOperations(part)
	}
	return decide(model, hs, deadline, verbose)
}

func checkEvents(model Model, history []Event, timeout time.Duration, verbose bool) (CheckResult, LinearizationInfo) {
	deadline := deadlineAfter(timeout)
	model = model.withDefaults()
	parts := model.PartitionEvent(history)
	hs := make([]timeline, len(parts))
	for i, part := range parts {
		hs[i] = timelineFromEvents(part)
	}
	return decide(model, hs, deadline, verbose)
}

func decide(model Model, hs []timeline, deadline time.Time, verbose bool) (CheckResult, LinearizationInfo) {
	result, parts := checkPartitions(model, hs, deadline, verbose)
	var info LinearizationInfo
	if verbose {
		info.partitions = make([]partitionInfo, len(hs))
		for i, r := range parts {
			info.partitions[i] = partitionInfo{ops: hs[i].ops, result: verdict(parts[i : i+1]), partials: r.partials}
		}
	}
	return result, info
}

func deadlineAfter(timeout time.Duration) time.Time {
	if timeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(timeout)
}
