package checker

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/etcdlab/etcdlab/internal/atomicfile"
)

// LinearizableTimeout bounds porcupine's search, in wall-clock time, and
// VisualizationTimeout its search for the partial orders a failure's
// picture shows.
var (
	LinearizableTimeout  = time.Minute
	VisualizationTimeout = 5 * time.Second
)

// CheckLinearizable checks a KV history: porcupine per key, then the
// revisions across keys (checkRevisions), which partitioning by key
// cannot see. Either failing fails the verdict; a revision violation is a
// failure even when porcupine's search is undecided. When a key's history
// is not linearizable and dir is not empty, porcupine's HTML
// visualization is written there as name.html and its path is in the
// verdict.
func CheckLinearizable(ops []Operation, dir, name string) Verdict {
	history, checked := porcupineHistory(ops)
	// porcupine's search can take exponential time on a history with many
	// operations in flight on one key. Its timeout is wall-clock time, so
	// an "undecided" may differ between machines: the run's fingerprint is
	// taken before the verdicts for that reason.
	parts := kvModel.Partition(history)
	result := checkKeys(parts)
	revisions := checkRevisions(ops)
	v := Verdict{Name: "linearizable", OK: result == porcupine.Ok && revisions == ""}
	keys := len(parts)
	switch {
	case v.OK:
		v.Detail = fmt.Sprintf("%d operations on %d keys checked (%d ok, %d with unknown outcome)",
			checked, keys, count(ops, OK), countUnknownWrites(ops))
		return v
	case result == porcupine.Unknown && revisions == "":
		v.Undecided = true
		v.Detail = fmt.Sprintf("undecided: porcupine gave up after %v of wall time on %d operations on %d keys; fewer clients, or more keys, make the search smaller",
			LinearizableTimeout, checked, keys)
		return v
	case result != porcupine.Illegal:
		v.Detail = "not linearizable: revisions: " + revisions
		if result == porcupine.Unknown {
			v.Detail += "; the search per key was undecided"
		}
		return v
	}
	detail, seg := firstIllegal(parts)
	v.Detail = "not linearizable: " + detail
	if revisions != "" {
		v.Detail += "; revisions: " + revisions
	}
	if dir != "" && seg != nil {
		// The picture is of the failing segment of one key alone,
		// searched for a bounded time: porcupine's verbose mode looks for
		// the longest partial orders, which on a busy key takes far
		// longer, and far more memory, than finding that there is no full
		// one.
		m := seg.model()
		_, info := porcupine.CheckOperationsVerbose(m, seg.ops, VisualizationTimeout)
		path, err := writeVisualization(m, info, dir, name)
		// The error stays out of Detail: the trace records Detail, and a
		// run's fingerprint must not depend on the report directory.
		v.Visualization, v.VisualizationErr = path, err
	}
	return v
}

// checkKeys checks each key's operations, one key after another, within
// LinearizableTimeout in all. porcupine would check them in parallel, but
// its search state on every key at once is most of a long run's peak
// memory (a 10-minute flaky-network run: 679 MB of heap at its peak
// checked in parallel, 353 MB one key at a time), and a sweep keeps
// every core busy with runs anyway. Illegal on any key is Illegal;
// otherwise a key porcupine gave up on makes the whole Unknown.
func checkKeys(parts [][]porcupine.Operation) porcupine.CheckResult {
	// The give-up is on the wall clock, as porcupine's own timeout is: a
	// verdict may differ between machines, which is why the run's
	// fingerprint is taken before the verdicts.
	deadline := time.Now().Add(LinearizableTimeout) //lint:allow wallclock porcupine's give-up, outside the simulation
	result := porcupine.Ok
	for _, part := range parts {
		for _, seg := range segments(part) {
			left := time.Until(deadline) //lint:allow wallclock as above
			if left <= 0 {
				return porcupine.Unknown
			}
			switch porcupine.CheckOperationsTimeout(seg.model(), seg.ops, left) {
			case porcupine.Illegal:
				return porcupine.Illegal
			case porcupine.Unknown:
				result = porcupine.Unknown
			}
		}
	}
	return result
}

// porcupineHistory is what porcupine checks, one operation per key (a
// TxnPuts is one put per key, at its revision), and how many of the
// client's operations it holds.
func porcupineHistory(ops []Operation) ([]porcupine.Operation, int) {
	var history []porcupine.Operation
	checked := 0
	valuesOnly := !slices.ContainsFunc(ops, func(op Operation) bool {
		return op.Outcome == OK && (op.Rev != 0 || op.ModRev != 0) || op.ExpectModRev != 0
	})
	for _, op := range ops {
		if op.Outcome == Failed || (op.Outcome == Unknown && op.Kind == Get) {
			continue
		}
		checked++
		out := kvOutput{unknown: op.Outcome == Unknown}
		if op.Outcome == OK {
			// An unknown operation's header, if any, came with an error:
			// it names no revision the operation had.
			out.found, out.value, out.rev = op.Found, op.Result, op.Rev
			out.modRev, out.createRev, out.version = op.ModRev, op.CreateRev, op.Version
			out.member = op.Member
		}
		ret := int64(op.Return)
		if op.Outcome == Unknown {
			ret = math.MaxInt64
		}
		in := []kvInput{{kind: op.Kind, key: op.Key, value: op.Value, expect: op.Expect, expectModRev: op.ExpectModRev, valuesOnly: valuesOnly}}
		if op.Kind == TxnPuts {
			in = in[:0]
			for i, k := range op.Keys {
				in = append(in, kvInput{kind: Put, key: k, value: op.Values[i], txn: true, valuesOnly: valuesOnly})
			}
		}
		for _, in := range in {
			history = append(history, porcupine.Operation{
				ClientId: op.Client, Input: in, Call: int64(op.Call), Output: out, Return: ret,
			})
		}
	}
	return history, checked
}

// firstIllegal names the first segment of a key's history, keys in sorted
// order, that is not linearizable, and returns it.
func firstIllegal(parts [][]porcupine.Operation) (string, *segment) {
	for _, part := range parts {
		for _, seg := range segments(part) {
			if porcupine.CheckOperationsTimeout(seg.model(), seg.ops, LinearizableTimeout) == porcupine.Illegal {
				return seg.describe(len(part)) + " has no valid order", &seg
			}
		}
	}
	return "no single key is at fault", nil
}

func writeVisualization(m porcupine.Model, info porcupine.LinearizationInfo, dir, name string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "linearizability-"+name+".html")
	var page bytes.Buffer
	if err := porcupine.Visualize(m, info, &page); err != nil {
		return "", err
	}
	return path, atomicfile.WriteFile(path, page.Bytes())
}

func count(ops []Operation, o Outcome) int {
	n := 0
	for _, op := range ops {
		if op.Outcome == o {
			n++
		}
	}
	return n
}

func countUnknownWrites(ops []Operation) int {
	n := 0
	for _, op := range ops {
		if op.Outcome == Unknown && op.Kind != Get {
			n++
		}
	}
	return n
}
