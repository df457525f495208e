package porcupine

// LinearizationInfo is what a verbose check learned about each partition of
// a history, for Visualize: the partition's operations, its verdict, and its
// linearization (when Ok) or the longest partial linearizations the search
// reached (when Illegal, or Unknown because the check ran out of time).
// The zero value describes an empty history.
type LinearizationInfo struct {
	partitions []partitionInfo
}

type partitionInfo struct {
	ops      []op        // as the search numbered them: by call
	result   CheckResult // this partition's own verdict
	partials [][]int32   // linearizations, longest first, as indices into ops
}

// PartialLinearizations returns, for each partition in the order the model's
// partition function produced them, the linearizations found: one complete
// linearization for a linearizable partition, otherwise the longest partial
// ones (each a legal order of operations the search could place before it
// got stuck). Each linearization lists indices into its partition: the
// position of the operation in the partition's []Operation, or, for events,
// the position of its call among the partition's call events. The caller
// owns the returned slices.
func (info LinearizationInfo) PartialLinearizations() [][][]int {
	out := make([][][]int, len(info.partitions))
	for p, part := range info.partitions {
		out[p] = make([][]int, len(part.partials))
		for k, lin := range part.partials {
			idx := make([]int, len(lin))
			for i, id := range lin {
				idx[i] = part.ops[id].index
			}
			out[p][k] = idx
		}
	}
	return out
}

// PartitionResults returns the verdict on each partition, in the order of
// PartialLinearizations. The caller owns the returned slice.
func (info LinearizationInfo) PartitionResults() []CheckResult {
	out := make([]CheckResult, len(info.partitions))
	for p, part := range info.partitions {
		out[p] = part.result
	}
	return out
}

// maxPartials bounds how many longest partial linearizations a partition
// keeps: enough to show that more than one order got equally far, few
// enough that recording them costs nothing.
const maxPartials = 4

// recorder collects a search's longest partial linearizations. A nil
// recorder records nothing, so a search that is not verbose pays one branch.
type recorder struct {
	length int       // the length of those in lins; -1 before the first
	lins   [][]int32 // distinct linearizations of that length, at most maxPartials
	sets   []uint64  // the set hash of each, so one set is kept once
}

func newRecorder() *recorder { return &recorder{length: -1} }

// offer records the stack as a partial linearization if none recorded is
// longer. setHash identifies the set of operations on the stack.
func (r *recorder) offer(stack []frame, setHash uint64) {
	if r == nil || len(stack) < r.length {
		return
	}
	if len(stack) > r.length {
		r.length, r.lins, r.sets = len(stack), r.lins[:0], r.sets[:0]
	}
	if len(r.lins) == maxPartials {
		return
	}
	for _, h := range r.sets {
		if h == setHash {
			return
		}
	}
	r.lins = append(r.lins, ids(stack))
	r.sets = append(r.sets, setHash)
}

// offerDone records the stack as the complete linearization.
func (r *recorder) offerDone(stack []frame) {
	if r == nil {
		return
	}
	r.length, r.lins, r.sets = len(stack), [][]int32{ids(stack)}, nil
}

func (r *recorder) result() [][]int32 {
	if r == nil {
		return nil
	}
	return r.lins
}

func ids(stack []frame) []int32 {
	lin := make([]int32, len(stack))
	for i, f := range stack {
		lin[i] = f.id
	}
	return lin
}
