package scenarios

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/node"
	"github.com/etcdlab/etcdlab/node/lease"
	"github.com/etcdlab/etcdlab/sim"
)

// Scenario is a named way to draw experiments from seeds. The catalog's
// scenarios are data only (settings, faults, expectations), so the file
// `etcdlab show` prints runs exactly as the scenario does. A scenario
// written in Go elsewhere may add a Script.
type Scenario struct {
	Name    string
	Summary string
	// Settings draws the run's settings from the seed's "settings"
	// stream. Options' overrides are applied after it.
	Settings func(rng *rand.Rand) Settings
	// Schedule draws the faults and expectations (and any notes) into e
	// from the same stream, knowing e's final settings.
	Schedule func(rng *rand.Rand, e *Experiment)
	// Script, if set, runs Go code against the cluster before the run
	// starts: scheduling with At and WaitFor, acting with Crash or
	// Partition, judging with Expect. An experiment file cannot hold it.
	Script func(c *Cluster)
}

// Options change a run away from what its scenario or file says.
type Options struct {
	// Set overrides settings, in order, by their keys (as flags and files
	// name them): {"nodes", "5"}, {"bug", "stale-reads"}.
	Set       []Arg
	Seed      *uint64 // for a file: run it with this seed instead of its own
	ReportDir string  // where failing checks write their visualizations; "" writes none
	// Spans records the members' fsyncs and applies in Result.Spans, for
	// a view of the run that draws them; a run records none otherwise.
	Spans bool
	// Fork, if set, gives the run fresh randomness from a moment on: see
	// sim.Sim.Fork.
	Fork *Fork
	// Trace, if set, sees every trace line as the run logs it (a replay
	// streams them). It runs inside the simulation, so it must change
	// nothing there: no randomness, no scheduling, only output.
	Trace func(line string)
	// KeepTrace keeps the trace's text in Result.Trace, for a view or a
	// report that reads it. Formatting it costs more than the simulation,
	// so a run formats none otherwise; the fingerprint is the same.
	KeepTrace bool
	// TraceOnly stops the run at its fingerprint: no checks, no verdicts.
	// Running a seed again for its trace (a failure's folder) needs no
	// more, and a check may take a minute.
	TraceOnly bool
}

// Fork is a run replayed exactly up to At, then given fresh randomness
// numbered K (not 0).
type Fork struct {
	At time.Duration
	K  uint64
}

// With returns the options with one more setting override.
func (o Options) With(key, value string) Options {
	o.Set = append(slices.Clone(o.Set), Arg{key, value})
	return o
}

// Draw expands a scenario and a seed into an experiment, with the
// options' overrides applied.
func Draw(sc Scenario, seed uint64, opts Options) (Experiment, error) {
	rng := sim.Stream(seed, "settings")
	e := Experiment{Scenario: sc.Name, Seed: seed, Settings: sc.Settings(rng)}
	if err := e.override(opts); err != nil {
		return e, err
	}
	if sc.Schedule != nil {
		sc.Schedule(rng, &e)
	}
	if err := e.Validate(); err != nil {
		return e, fmt.Errorf("%s: %w", sc.Name, err)
	}
	return e, nil
}

// Expand is the experiment a run of the named catalog scenario with seed
// would run, or why it cannot run.
func Expand(name string, seed uint64, opts Options) (Experiment, error) {
	sc, ok := Lookup(name)
	if !ok {
		return Experiment{}, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return Draw(sc, seed, opts)
}

func (e *Experiment) override(opts Options) error {
	for _, kv := range opts.Set {
		if err := e.Settings.Set(kv.Key, kv.Value); err != nil {
			return err
		}
	}
	if opts.Seed != nil {
		e.Seed = *opts.Seed
	}
	return nil
}

// Run runs the named catalog scenario with seed and judges it. The error
// is for input that cannot run (an unknown scenario, impossible settings);
// a run that breaks a guarantee returns a Result whose verdicts say so.
func Run(name string, seed uint64, opts Options) (*Result, error) {
	sc, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return RunScenario(sc, seed, opts)
}

// RunScenario runs a scenario, from the catalog or written elsewhere.
func RunScenario(sc Scenario, seed uint64, opts Options) (*Result, error) {
	e, err := Draw(sc, seed, opts)
	if err != nil {
		return nil, err
	}
	r, err := run(e, sc.Script, opts)
	if err != nil {
		return nil, err
	}
	r.Source, r.Options = sc.Name, opts
	return r, nil
}

// RunFile runs an experiment read from a file: path names it in the
// result's replay command. Options override its settings and seed.
func RunFile(path string, e Experiment, opts Options) (*Result, error) {
	e, err := Prepare(path, e, opts)
	if err != nil {
		return nil, err
	}
	r, err := run(e, nil, opts)
	if err != nil {
		return nil, err
	}
	r.Source, r.Options = path, opts
	return r, nil
}

// MaxEvents bounds the events of one run. A 10-minute run of a busy
// 5-member cluster takes a few million.
const MaxEvents = 20_000_000

// Prepare applies the options' overrides to an experiment read from the
// file path, and checks the result: what a run of the file would run.
func Prepare(path string, e Experiment, opts Options) (Experiment, error) {
	e.Settings.Routes = slices.Clone(e.Settings.Routes)
	if err := e.override(opts); err != nil {
		return e, fmt.Errorf("%s: %w", path, err)
	}
	if err := e.Validate(); err != nil {
		return e, fileError(path, err)
	}
	return e, nil
}

func run(e Experiment, script func(*Cluster), opts Options) (*Result, error) {
	s := sim.New(e.Seed)
	defer s.Close()
	if opts.Trace != nil {
		s.OnTrace(opts.Trace)
	}
	if opts.KeepTrace {
		s.Trace().Keep()
	}
	if f := opts.Fork; f != nil {
		if f.At <= 0 || f.At >= e.Settings.Duration {
			return nil, fmt.Errorf("%s: --until %v: a fork must come after 0 and before the run ends at %v", e.Scenario, f.At, e.Settings.Duration)
		}
		s.At(f.At, func() {
			s.Fork(f.K)
			s.Logf("run", "fork %d: fresh randomness from here on", f.K)
		})
	}
	s.Logf("run", "experiment %s seed %d", e.Scenario, e.Seed)
	for _, line := range strings.Split(strings.TrimRight(e.String(), "\n"), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			s.Logf("run", "%s", line)
		}
	}

	st := e.Settings
	c, err := newCluster(s, st)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.Scenario, err)
	}
	c.recordSpans = opts.Spans
	c.schedule(e.Faults)
	for _, x := range e.Expect {
		k := expectKinds[slices.IndexFunc(expectKinds, func(k expectKind) bool { return k.name == x.Kind })]
		c.Expect(k.setup(c, x, e))
	}
	if script != nil {
		script(c)
	}
	if !s.RunUntilLimit(st.Duration, MaxEvents) {
		return nil, fmt.Errorf("%s: the run took more than %d events by virtual time %v of %v; its latencies, fsync and think time are too small for virtual time to move, or its faults too many",
			e.Scenario, MaxEvents, s.Now(), st.Duration)
	}
	c.endClients()
	c.lastLogSizes()
	settled, resolved := c.settledHistory()
	s.Logf("run", "%s", resolved)

	r := &Result{
		Resolved:      resolved,
		Experiment:    e,
		Settings:      st,
		History:       c.history,
		LeaderChanges: c.leaderChanges,
		States:        c.states,
		LogSizes:      c.logSizes,
		Crashed:       c.crashed,
		Events:        s.Events(),
		RaftMessages:  c.raftMessages,
		Net:           c.net.Stats(),
	}
	for _, f := range c.faults {
		r.Faults = append(r.Faults, *f)
	}
	for _, sn := range c.snapshots {
		r.Snapshots = append(r.Snapshots, *sn)
	}
	r.PeakRaftLog = c.peakLog
	r.Spans = c.spans
	for _, m := range c.members {
		r.DiskBytes = append(r.DiskBytes, m.disk.Size())
	}
	for _, m := range c.members {
		if m.up {
			r.Members = append(r.Members, m.node.Status())
		} else {
			r.Members = append(r.Members, node.Status{ID: m.id})
		}
	}
	if opts.TraceOnly {
		// No check logs to the trace: the fingerprint is the full run's.
		r.Fingerprint = s.Trace().Fingerprint()
		r.Trace = s.Trace().Lines()
		return r, nil
	}
	// Serializable reads promise less than linearizability: they are
	// judged apart, against what the members applied.
	serializable := slices.DeleteFunc(slices.Clone(settled), func(op checker.Operation) bool { return !op.Serializable })
	settled = slices.DeleteFunc(settled, func(op checker.Operation) bool { return op.Serializable })
	r.Checked = settled
	r.Verdicts = append(r.Verdicts, checker.Verdict{}) // linearizability's place: see below
	r.Verdicts = append(r.Verdicts, c.raft.Verdict(), c.converged(), c.panicked())
	if len(serializable) > 0 {
		r.Verdicts = append(r.Verdicts, checker.CheckSerializable(c.truth, serializable))
	}
	if st.Watchers > 0 {
		sessions := c.watchSessions()
		r.Verdicts = append(r.Verdicts, checker.CheckWatch(c.truth, sessions))
		r.WatchLags = watchLags(c.truth, sessions)
	}
	if st.LeaseHolders > 0 {
		m := st.Member
		r.Verdicts = append(r.Verdicts, checker.CheckLease(c.truth, c.leaseOps(), checker.LeaseCheckConfig{
			End: st.Duration,
			// etcd's lessor looks for expired leases every 500 ms; the
			// revoke then goes through raft within a request timeout.
			Slack:    lease.LoopInterval + m.RequestTimeout(),
			NoLeader: c.leaderless,
		}))
	}
	if c.restarts > 0 {
		r.Verdicts = append(r.Verdicts, c.restarted())
	}
	for _, x := range c.expectations {
		r.Verdicts = append(r.Verdicts, x())
	}
	// Linearizability is judged last, from the history alone: nothing
	// below reads the cluster, and the events still queued, which hold
	// it all, are dropped, so a long run's check does not hold its
	// stores and disks too.
	s.Drop()
	lin := checker.CheckLinearizable(settled, opts.ReportDir, reportName(e))
	if resolved.TookEffect+resolved.NeverApplied > 0 {
		lin.Detail += fmt.Sprintf("; %d unknown writes settled from the applied log", resolved.TookEffect+resolved.NeverApplied)
	}
	r.Verdicts[0] = lin
	// The fingerprint is the run's, taken before the verdicts join the
	// trace: a check that gives up on the wall clock must not change it.
	r.Fingerprint = s.Trace().Fingerprint()
	for _, v := range r.Verdicts {
		s.Logf("run", "%s", VerdictLine(v))
	}
	r.Trace = s.Trace().Lines()
	return r, nil
}

// VerdictLine is how a run's trace records a verdict, at its end, after
// the fingerprint.
func VerdictLine(v checker.Verdict) string {
	return fmt.Sprintf("verdict %s ok=%v: %s", v.Name, v.OK, v.Detail)
}

// reportName names a run's report files after the experiment, so runs of
// one seed with other settings do not overwrite each other's.
func reportName(e Experiment) string {
	h := uint32(2166136261)
	for _, b := range []byte(e.String()) {
		h = (h ^ uint32(b)) * 16777619
	}
	return fmt.Sprintf("%s-seed%d-%08x", e.Scenario, e.Seed, h)
}
