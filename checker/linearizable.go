package checker

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"
)

// kvInput and kvOutput are what porcupine sees of an operation.
type kvInput struct {
	kind   Kind
	key    string
	value  string
	expect string // CAS
}

type kvOutput struct {
	unknown bool // the client never learnt the result
	found   bool
	value   string
}

// kvState is one key's register: does it exist, and its value.
type kvState struct {
	exists bool
	value  string
}

// kvModel is a register per key. Keys are independent, so porcupine
// checks each key's operations alone: a history of thousands of
// operations becomes a handful of small searches.
var kvModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(kvInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		slices.Sort(keys)
		out := make([][]porcupine.Operation, len(keys))
		for i, k := range keys {
			out[i] = byKey[k]
		}
		return out
	},
	Init: func() any { return kvState{} },
	Step: func(state, input, output any) (bool, any) {
		st, in, out := state.(kvState), input.(kvInput), output.(kvOutput)
		switch in.kind {
		case Put:
			return true, kvState{exists: true, value: in.value}
		case Delete:
			return out.unknown || out.found == st.exists, kvState{}
		case CAS:
			holds := st.exists && st.value == in.expect
			next := st
			if holds {
				next = kvState{exists: true, value: in.value}
			}
			// An unknown cas did whatever the state made it do.
			return out.unknown || out.found == holds, next
		default: // Get
			if out.found != st.exists {
				return false, st
			}
			return !out.found || out.value == st.value, st
		}
	},
	Equal: func(a, b any) bool { return a.(kvState) == b.(kvState) },
	DescribeOperation: func(input, output any) string {
		in, out := input.(kvInput), output.(kvOutput)
		switch {
		case in.kind == Put && out.unknown:
			return fmt.Sprintf("put(%s, %q) -> ?", in.key, in.value)
		case in.kind == Put:
			return fmt.Sprintf("put(%s, %q)", in.key, in.value)
		case in.kind == CAS && out.unknown:
			return fmt.Sprintf("cas(%s, %q -> %q) -> ?", in.key, in.expect, in.value)
		case in.kind == CAS:
			return fmt.Sprintf("cas(%s, %q -> %q) -> %v", in.key, in.expect, in.value, out.found)
		case out.unknown:
			return fmt.Sprintf("delete(%s) -> ?", in.key)
		case in.kind == Delete:
			return fmt.Sprintf("delete(%s) -> deleted %v", in.key, out.found)
		case !out.found:
			return fmt.Sprintf("get(%s) -> not found", in.key)
		default:
			return fmt.Sprintf("get(%s) -> %q", in.key, out.value)
		}
	},
	DescribeState: func(state any) string {
		if st := state.(kvState); st.exists {
			return fmt.Sprintf("%q", st.value)
		}
		return "(none)"
	},
}

// LinearizableTimeout bounds porcupine's search, in wall-clock time, and
// VisualizationTimeout its search for the partial orders a failure's
// picture shows.
var (
	LinearizableTimeout  = time.Minute
	VisualizationTimeout = 5 * time.Second
)

// CheckLinearizable checks a KV history. When the history is not
// linearizable and dir is not empty, porcupine's HTML visualization is
// written there as name.html and its path is in the verdict.
func CheckLinearizable(ops []Operation, dir, name string) Verdict {
	history := porcupineHistory(ops)
	// porcupine's search can take exponential time on a history with many
	// operations in flight on one key. Its timeout is wall-clock time, so
	// an "undecided" may differ between machines: the run's fingerprint is
	// taken before the verdicts for that reason.
	result := porcupine.CheckOperationsTimeout(kvModel, history, LinearizableTimeout)
	v := Verdict{Name: "linearizable", OK: result == porcupine.Ok}
	keys := len(kvModel.Partition(history))
	switch result {
	case porcupine.Ok:
		v.Detail = fmt.Sprintf("%d operations on %d keys checked (%d ok, %d with unknown outcome)",
			len(history), keys, count(ops, OK), countUnknownWrites(ops))
		return v
	case porcupine.Unknown:
		v.Undecided = true
		v.Detail = fmt.Sprintf("undecided: porcupine gave up after %v of wall time on %d operations on %d keys; fewer clients, or more keys, make the search smaller",
			LinearizableTimeout, len(history), keys)
		return v
	}
	detail, part := firstIllegalKey(history)
	v.Detail = "not linearizable: " + detail
	if dir != "" && part != nil {
		// The picture is of the failing key alone, searched for a bounded
		// time: porcupine's verbose mode looks for the longest partial
		// orders, which on a busy key takes far longer, and far more
		// memory, than finding that there is no full one.
		_, info := porcupine.CheckOperationsVerbose(kvModel, part, VisualizationTimeout)
		path, err := writeVisualization(info, dir, name)
		// The error stays out of Detail: the trace records Detail, and a
		// run's fingerprint must not depend on the report directory.
		v.Visualization, v.VisualizationErr = path, err
	}
	return v
}

func porcupineHistory(ops []Operation) []porcupine.Operation {
	var history []porcupine.Operation
	for _, op := range ops {
		if op.Outcome == Failed || (op.Outcome == Unknown && op.Kind == Get) {
			continue
		}
		p := porcupine.Operation{
			ClientId: op.Client,
			Input:    kvInput{kind: op.Kind, key: op.Key, value: op.Value, expect: op.Expect},
			Call:     int64(op.Call),
			Output:   kvOutput{unknown: op.Outcome == Unknown, found: op.Found, value: op.Result},
			Return:   int64(op.Return),
		}
		if op.Outcome == Unknown {
			p.Return = math.MaxInt64
		}
		history = append(history, p)
	}
	return history
}

// firstIllegalKey names the first key, in sorted order, whose history
// alone is not linearizable, and returns that history.
func firstIllegalKey(history []porcupine.Operation) (string, []porcupine.Operation) {
	for _, part := range kvModel.Partition(history) {
		if porcupine.CheckOperationsTimeout(kvModel, part, LinearizableTimeout) == porcupine.Illegal {
			k := part[0].Input.(kvInput).key
			return fmt.Sprintf("key %s (%d operations) has no valid order", k, len(part)), part
		}
	}
	return "no single key is at fault", nil
}

func writeVisualization(info porcupine.LinearizationInfo, dir, name string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "linearizability-"+name+".html")
	if err := porcupine.VisualizePath(kvModel, info, path); err != nil {
		return "", err
	}
	return path, nil
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
