package scenarios

import (
	"fmt"
	"strings"
	"time"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/node"
	"github.com/etcdlab/etcdlab/sim"
)

// Options change a run away from its scenario's own settings.
type Options struct {
	Duration  time.Duration // if not 0, replaces the scenario's duration
	Bugs      node.Bugs     // deliberate faults in every member
	ReportDir string        // where failing checks write their visualizations; "" writes none
}

// Run runs the named scenario with seed and judges it. The error is for
// input that cannot run (an unknown scenario, impossible settings); a run
// that breaks a guarantee returns a Result whose verdicts say so.
func Run(name string, seed uint64, opts Options) (*Result, error) {
	sc, st, err := expand(name, seed, opts)
	if err != nil {
		return nil, err
	}
	s := sim.New(seed)
	defer s.Close()
	s.Logf("run", "scenario %s seed %d", name, seed)
	for _, line := range strings.Split(strings.TrimRight(st.String(), "\n"), "\n") {
		s.Logf("run", "%s", strings.TrimSpace(line))
	}

	c, err := newCluster(s, st)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", name, err)
	}
	sc.Script(c, st)
	s.RunUntil(st.Duration)
	c.endClients()

	r := &Result{
		Scenario:      name,
		Seed:          seed,
		Options:       opts,
		Settings:      st,
		History:       c.history,
		LeaderChanges: c.leaderChanges,
		Faults:        c.faults,
		Events:        s.Events(),
		RaftMessages:  c.raftMessages,
		Net:           c.net.Stats(),
	}
	for _, m := range c.members {
		if m.up {
			r.Members = append(r.Members, m.node.Status())
		} else {
			r.Members = append(r.Members, node.Status{ID: m.id})
		}
	}
	r.Verdicts = append(r.Verdicts, checker.CheckLinearizable(c.history, opts.ReportDir, reportName(name, seed, opts)))
	r.Verdicts = append(r.Verdicts, c.raft.Verdict(), c.converged())
	if c.restarts > 0 {
		r.Verdicts = append(r.Verdicts, c.restarted())
	}
	for _, e := range c.expectations {
		r.Verdicts = append(r.Verdicts, e())
	}
	for _, v := range r.Verdicts {
		s.Logf("run", "verdict %s ok=%v: %s", v.Name, v.OK, v.Detail)
	}
	r.Trace = s.Trace().Lines()
	r.Fingerprint = s.Trace().Fingerprint()
	return r, nil
}

// Expand is the settings a run of the named scenario with seed would
// use, or why it cannot run, without running it.
func Expand(name string, seed uint64, opts Options) (Settings, error) {
	_, st, err := expand(name, seed, opts)
	return st, err
}

func expand(name string, seed uint64, opts Options) (Scenario, Settings, error) {
	sc, ok := Lookup(name)
	if !ok {
		return Scenario{}, Settings{}, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	st := sc.Settings(sim.Stream(seed, "settings"))
	if opts.Duration != 0 {
		if least := st.FaultAt + st.FaultFor + st.Settle; opts.Duration <= least {
			why := fmt.Sprintf("it ends with %v of quiet for members to settle", st.Settle)
			if st.FaultFor > 0 {
				why = fmt.Sprintf("with seed %d its faults end at %v, and then members need %v of quiet to settle", seed, st.FaultAt+st.FaultFor, st.Settle)
			}
			return sc, st, fmt.Errorf("%s: duration %v is too short: %s; use more than %v", name, opts.Duration, why, least)
		}
		st.Duration = opts.Duration
	}
	st.Member.Bugs = opts.Bugs
	if err := st.Validate(); err != nil {
		return sc, st, fmt.Errorf("scenario %s: %w", name, err)
	}
	return sc, st, nil
}

// reportName names a run's report files after everything that made the
// run, so runs of one seed with other options do not overwrite them.
func reportName(name string, seed uint64, opts Options) string {
	n := fmt.Sprintf("%s-seed%d", name, seed)
	if opts.Duration != 0 {
		n += "-" + opts.Duration.String()
	}
	for _, bug := range opts.Bugs.On() {
		n += "-" + bug
	}
	return n
}
