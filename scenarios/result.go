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
	Source     string // the scenario or the file the run came from
	Options    Options
	Experiment Experiment // what ran, overrides applied
	Settings   Settings   // Experiment.Settings

	History []checker.Operation // client operations as the clients saw them, in completion order
	// Spans are the members' fsyncs (start to completion) and applies (a
	// batch of entries applied together), for views of the run.
	Spans []Span
	// Checked is what the linearizability check judged: the history with
	// unknown writes settled from the applied log, serializable reads out.
	Checked       []checker.Operation
	Resolved      Resolved // what the applied log settled of the writes whose outcome clients never learnt
	LeaderChanges []LeaderChange
	States        []StateChange // every member's raft role and term, down and paused spans, for a timeline
	LogSizes      []LogSize     // every member's in-memory raft log, sampled as it changed
	// WatchLags: for every event a watcher received, how long after the
	// first member applied its revision.
	WatchLags   []WatchLag
	Faults      []FaultRecord    // what became of each scheduled fault
	Crashed     []uint64         // members that crashed or died at least once, in order
	Snapshots   []SnapshotRecord // snapshots saved, sent and restored, in order
	PeakRaftLog PeakLog          // the longest in-memory raft log any member held
	DiskBytes   []int            // each member's data directory at the end, in bytes
	Members     []node.Status    // each member's state at the end; a crashed one has ID only
	Verdicts    []checker.Verdict

	Trace        []string // one line an event, virtual time first; empty unless Options.KeepTrace
	Fingerprint  string   // SHA-256 of the trace's records before the verdicts: equal for equal runs
	Events       uint64   // simulation events run
	RaftMessages int      // raft messages the members sent
	Net          network.Stats
}

// WatchLag is one watch event's delay: from the first member applying
// its revision to the watcher receiving it (fragments and duplicates
// included, as they arrived).
type WatchLag struct {
	At      time.Duration // when the watcher received it
	Watcher int
	Member  uint64 // the member whose stream carried it
	Rev     int64
	Lag     time.Duration
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

// Span is something a member did over a stretch of virtual time.
type Span struct {
	Member     uint64
	Kind       string // "fsync member/wal/...", "fsync member/snap/db", "apply"
	Start, End time.Duration
	// An apply's entries: how many, from the index of the first.
	Entries int
	Index   uint64
}

// OpType names a type of client operation in latency reports: the
// checker's kind, with serializable gets apart from linearizable ones.
func OpType(op checker.Operation) string {
	if op.Serializable {
		return "sget"
	}
	return op.Kind.String()
}

// OpTypes are the operation types in the order reports list them.
var OpTypes = []string{"get", "sget", "put", "delete", "cas", "cas-rev", "txn-puts"}

// LatencyOf is the q-quantile of the latency of the OK operations of one
// type (OpType), and how many there were.
func (r *Result) LatencyOf(opType string, q float64) (time.Duration, int) {
	var ls []time.Duration
	for _, op := range r.History {
		if op.Outcome == checker.OK && OpType(op) == opType {
			ls = append(ls, op.Return-op.Call)
		}
	}
	return Quantile(ls, q), len(ls)
}

// Latency is the q-quantile (0..1) of successful operations' latency in
// virtual time; 0 if none succeeded.
func (r *Result) Latency(q float64) time.Duration {
	var ls []time.Duration
	for _, op := range r.History {
		if op.Outcome == checker.OK {
			ls = append(ls, op.Return-op.Call)
		}
	}
	return Quantile(ls, q)
}

// Quantile is the q-quantile (0..1) of ds by the nearest-rank method, 0
// for none. It sorts ds.
func Quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(q*float64(len(ds))+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// Seed is the seed the run used.
func (r *Result) Seed() uint64 { return r.Experiment.Seed }

// ReplayCommand is the one command that replays this run with its trace.
func (r *Result) ReplayCommand() string { return "go run ./cmd/etcdlab replay " + r.Invocation() }

// Invocation is what follows the command name to redo this run: the
// source, the seed and every override.
func (r *Result) Invocation() string {
	inv := ShellQuote(r.Source)
	if _, catalog := Lookup(r.Source); catalog || r.Options.Seed != nil {
		inv += fmt.Sprintf(" --seed %d", r.Seed())
	}
	for _, kv := range r.Options.Set {
		inv += " --" + kv.Key + " " + ShellQuote(kv.Value)
	}
	if f := r.Options.Fork; f != nil {
		inv += fmt.Sprintf(" --until %v --fork %d", f.At, f.K)
	}
	return inv
}

// ShellQuote quotes s for a shell when it needs it.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./,=:") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Report is the text a failing test or run prints: which verdicts failed,
// the expanded settings, and how to replay.
func (r *Result) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, seed %d (%s):\n", r.Source, r.Seed(), runtime.Version())
	r.WriteVerdicts(&b)
	fmt.Fprintf(&b, "coverage: %s\n", r.Coverage())
	fmt.Fprintf(&b, "experiment:\n%s", r.Experiment)
	fmt.Fprintf(&b, "replay: %s\n", r.ReplayCommand())
	return b.String()
}

// WriteVerdicts writes the verdicts a line each, with where to find the
// visualization of a failure.
func (r *Result) WriteVerdicts(w io.Writer) {
	for _, v := range r.Verdicts {
		fmt.Fprintf(w, "  %-4s %-28s %s\n", v.Mark(), v.Name, v.Detail)
		switch {
		case v.VisualizationErr != nil:
			fmt.Fprintf(w, "       visualization not written: %v\n", v.VisualizationErr)
		case v.Visualization != "":
			fmt.Fprintf(w, "       visualization: %s\n", v.Visualization)
		}
	}
}

// Overlapped reports whether a client operation was in flight while the
// fault was in force: a fault that hit an idle cluster tested little.
func (r *Result) Overlapped(f FaultRecord) bool {
	if !f.Fired {
		return false
	}
	for _, op := range r.History {
		if op.Call <= f.End && op.Return >= f.Start {
			return true
		}
	}
	return false
}

// Coverage says in one line what the run exercised: which faults fired,
// on whom, whether clients were busy then, how often the leader changed
// and who crashed, so a fault that passed by luck shows.
func (r *Result) Coverage() string {
	var fired []string
	n := 0
	for _, f := range r.Faults {
		if !f.Fired {
			continue
		}
		n++
		d := f.Hit()
		if f.Leader != 0 {
			d += " (leader)"
		}
		if !r.Overlapped(f) {
			d += " (no ops in flight)"
		}
		fired = append(fired, d)
	}
	s := fmt.Sprintf("%d/%d faults fired", n, len(r.Faults))
	if len(fired) > 0 {
		s += ": " + strings.Join(fired, ", ")
	}
	s += fmt.Sprintf("; %d leaders elected", len(r.LeaderChanges))
	if len(r.Crashed) > 0 {
		s += "; crashed " + MemberList(r.Crashed)
	}
	return s
}

// Downtime is how long the cluster went without a leader and without a
// successful write after the first fault that hit the leader: from that
// fault to the first leader of a later term, and to the first write a
// later term acknowledged. ok is false if no fault hit a leader.
type Downtime struct {
	Lost                time.Duration // when the fault hit the leader
	Leader              uint64        // the leader it hit
	Elected, FirstWrite time.Duration // after Lost; -1 if it never happened
}

// Downtime measures the first leader loss of the run: the earliest fault
// that took the leader out of service (crashed, isolated, cut into a
// minority, paused or killed it). A fault that only slowed the leader's
// links or clock is no loss.
func (r *Result) Downtime() (d Downtime, ok bool) {
	i := -1
	for j, f := range r.Faults {
		k, _ := lookupFaultKind(f.Fault.Kind)
		if f.Fired && f.Leader != 0 && k.takesOut && (i < 0 || f.Start < r.Faults[i].Start) {
			i = j
		}
	}
	if i < 0 {
		return d, false
	}
	f := r.Faults[i]
	d = Downtime{Lost: f.Start, Leader: f.Leader, Elected: -1, FirstWrite: -1}
	for _, lc := range r.LeaderChanges {
		if lc.At >= f.Start && lc.Term > f.LeaderTerm {
			d.Elected = lc.At - f.Start
			break
		}
	}
	for _, op := range r.History {
		if op.Kind != checker.Get && op.Outcome == checker.OK && op.Return >= f.Start && op.Term > f.LeaderTerm {
			if d.FirstWrite < 0 || op.Return-f.Start < d.FirstWrite {
				d.FirstWrite = op.Return - f.Start
			}
		}
	}
	return d, true
}
