package scenarios

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/network"
	"github.com/etcdlab/etcdlab/node"
)

// Result is everything a run produced. The CLI's output and every chart
// are drawn from a Result, never from a second run.
type Result struct {
	Scenario string
	Seed     uint64
	Options  Options
	Settings Settings

	History       []checker.Operation // client operations, in completion order
	LeaderChanges []LeaderChange
	Faults        []FaultWindow
	Members       []node.Status // each member's state at the end; a crashed one has ID only
	Verdicts      []checker.Verdict

	Trace        []string // one line an event, virtual time first
	Fingerprint  string   // SHA-256 of the trace: equal for equal runs
	Events       uint64   // simulation events run
	RaftMessages int      // raft messages the members sent
	Net          network.Stats
}

// OK reports whether every verdict holds.
func (r *Result) OK() bool { return len(r.Failed()) == 0 }

// Failed lists the verdicts that do not hold.
func (r *Result) Failed() []checker.Verdict {
	var out []checker.Verdict
	for _, v := range r.Verdicts {
		if !v.OK {
			out = append(out, v)
		}
	}
	return out
}

// Counts is how many operations succeeded, definitely failed, and ended
// with an unknown outcome.
func (r *Result) Counts() (ok, failed, unknown int) {
	for _, op := range r.History {
		switch op.Outcome {
		case checker.OK:
			ok++
		case checker.Failed:
			failed++
		case checker.Unknown:
			unknown++
		}
	}
	return ok, failed, unknown
}

// Latency is the q-quantile (0..1) of successful operations' latency in
// virtual time, by the nearest-rank method; 0 if none succeeded.
func (r *Result) Latency(q float64) time.Duration {
	var ls []time.Duration
	for _, op := range r.History {
		if op.Outcome == checker.OK {
			ls = append(ls, op.Return-op.Call)
		}
	}
	if len(ls) == 0 {
		return 0
	}
	slices.Sort(ls)
	i := int(q*float64(len(ls))+0.5) - 1
	return ls[min(max(i, 0), len(ls)-1)]
}

// ReplayCommand is the one command that replays this run with its trace.
func (r *Result) ReplayCommand() string {
	cmd := fmt.Sprintf("go run ./cmd/etcdlab replay %s --seed %d", r.Scenario, r.Seed)
	if r.Options.Duration != 0 {
		cmd += fmt.Sprintf(" --duration %v", r.Options.Duration)
	}
	if on := r.Options.Bugs.On(); len(on) > 0 {
		cmd += " --bug " + strings.Join(on, ",")
	}
	return cmd
}

// Report is the text a failing test or run prints: which verdicts failed,
// the expanded settings, and how to replay.
func (r *Result) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s, seed %d (%s):\n", r.Scenario, r.Seed, runtime.Version())
	r.WriteVerdicts(&b)
	fmt.Fprintf(&b, "settings:\n%s", r.Settings)
	fmt.Fprintf(&b, "replay: %s\n", r.ReplayCommand())
	return b.String()
}

// WriteVerdicts writes the verdicts a line each, with where to find the
// visualization of a failure.
func (r *Result) WriteVerdicts(w io.Writer) {
	for _, v := range r.Verdicts {
		mark := "ok  "
		if !v.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %-28s %s\n", mark, v.Name, v.Detail)
		switch {
		case v.VisualizationErr != nil:
			fmt.Fprintf(w, "       visualization not written: %v\n", v.VisualizationErr)
		case v.Visualization != "":
			fmt.Fprintf(w, "       visualization: %s\n", v.Visualization)
		}
	}
}
