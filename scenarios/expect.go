package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/node/api"
)

// Expectations: what an experiment claims beyond the checks every run gets.

type expectKind struct {
	name, doc string
	args      []string // parameters, all required
	fault     bool     // it has fault=N
	faultOf   []string // the fault kinds fault=N may name; any if empty
	setup     func(c *Cluster, x Expectation, e Experiment) func() checker.Verdict
}

var expectKinds = []expectKind{
	{name: "nospace", doc: "writes fail with NOSPACE before fault=N (recover-space) while reads succeed, and writes succeed again after it",
		args: []string{"fault"}, fault: true, faultOf: []string{"recover-space"},
		setup: func(c *Cluster, x Expectation, _ Experiment) func() checker.Verdict {
			rec := c.faults[argInt(x.Args, "fault", 0)-1]
			return func() checker.Verdict { return noSpace(c, rec) }
		}},
	{name: "stale-serializable", doc: "while fault=N cuts members off, they serve serializable reads that are stale (below the revision the rest had applied) and no linearizable read succeeds there",
		args: []string{"fault"}, fault: true,
		setup: func(c *Cluster, x Expectation, _ Experiment) func() checker.Verdict {
			rec := c.faults[argInt(x.Args, "fault", 0)-1]
			name := fmt.Sprintf("stale serializable reads during fault %d", rec.Index)
			if c.truth == nil {
				c.truth = checker.NewTruth() // what was applied when tells stale
			}
			return func() checker.Verdict { return staleDuring(c, name, rec) }
		}},
	{name: "leader", doc: "a leader is elected within= after the start", args: []string{"within"},
		setup: func(c *Cluster, x Expectation, _ Experiment) func() checker.Verdict {
			within := argDuration(x.Args, "within", 0)
			return func() checker.Verdict { return leaderWithin(c, "leader elected", 0, within, nil) }
		}},
	{name: "new-leader", doc: "a member the fault did not hit leads within= after fault=N fires", args: []string{"fault", "within"}, fault: true,
		setup: func(c *Cluster, x Expectation, _ Experiment) func() checker.Verdict {
			within := argDuration(x.Args, "within", 0)
			rec := c.faults[argInt(x.Args, "fault", 0)-1]
			name := fmt.Sprintf("new leader after fault %d", rec.Index)
			return func() checker.Verdict {
				if !rec.Fired {
					return checker.Verdict{Name: name, Detail: fmt.Sprintf("fault %d never fired: %s", rec.Index, rec.Note)}
				}
				return leaderWithin(c, name, rec.Start, within, rec.Targets)
			}
		}},
	{name: "no-commit", doc: "the leader fault=N cut off commits nothing while it is cut off", args: []string{"fault"}, fault: true,
		setup: func(c *Cluster, x Expectation, _ Experiment) func() checker.Verdict {
			rec := c.faults[argInt(x.Args, "fault", 0)-1]
			f := rec.Fault
			// Messages already on the wire at the cut still arrive;
			// measure once they have.
			settled := f.At + 100*time.Millisecond
			var before, after uint64
			c.At(settled, func() { before = c.commit(rec.Leader) })
			c.At(f.End(), func() { after = c.commit(rec.Leader) })
			name := fmt.Sprintf("cut-off leader commits nothing (fault %d)", rec.Index)
			return func() checker.Verdict {
				if rec.Leader == 0 {
					return checker.Verdict{Name: name, Detail: fmt.Sprintf("fault %d hit no leader at %v", rec.Index, f.At)}
				}
				return checker.Verdict{Name: name, OK: before == after,
					Detail: fmt.Sprintf("n%d commit index %d at %v, %d at %v", rec.Leader, before, settled, after, f.End())}
			}
		}},
	{name: "writes-during", doc: "some write both starts and succeeds while fault=N is in force", args: []string{"fault"}, fault: true,
		setup: func(c *Cluster, x Expectation, _ Experiment) func() checker.Verdict {
			rec := c.faults[argInt(x.Args, "fault", 0)-1]
			return func() checker.Verdict { return progressDuring(c, rec.Start, rec.End) }
		}},
	{name: "snapshot-restored", doc: "a member fault=N hit restores its backend from a snapshot the leader sent it, and the run's members converge",
		args: []string{"fault"}, fault: true,
		setup: func(c *Cluster, x Expectation, _ Experiment) func() checker.Verdict {
			rec := c.faults[argInt(x.Args, "fault", 0)-1]
			name := fmt.Sprintf("caught up by snapshot after fault %d", rec.Index)
			return func() checker.Verdict {
				for _, sn := range c.snapshots {
					if sn.Kind == SnapshotRestored && slices.Contains(rec.Targets, sn.Member) && sn.At >= rec.Start {
						return checker.Verdict{Name: name, OK: true,
							Detail: fmt.Sprintf("n%d restored snapshot %d at %v", sn.Member, sn.Index, sn.At)}
					}
				}
				return checker.Verdict{Name: name, Detail: fmt.Sprintf("no member of %s restored a snapshot after %v", MemberList(rec.Targets), rec.Start)}
			}
		}},
	{name: "done", doc: "the operator's request of fault=N (member-add, member-promote, member-remove, move-leader) succeeds", args: []string{"fault"}, fault: true,
		faultOf: []string{"member-add", "member-promote", "member-remove", "move-leader"},
		setup: func(c *Cluster, x Expectation, _ Experiment) func() checker.Verdict {
			rec := c.faults[argInt(x.Args, "fault", 0)-1]
			return func() checker.Verdict {
				v := checker.Verdict{Name: fmt.Sprintf("fault %d done (%s)", rec.Index, rec.Fault.Kind), OK: rec.Done > 0}
				v.Detail = strings.TrimPrefix(rec.Note, "; ")
				if !rec.Fired {
					v.Detail = "never fired: " + rec.Note
				}
				return v
			}
		}},
	{name: "leads", doc: "the member fault=N picked leads within= after the fault fires (move-leader's target)", args: []string{"fault", "within"}, fault: true,
		faultOf: []string{"move-leader"},
		setup: func(c *Cluster, x Expectation, _ Experiment) func() checker.Verdict {
			within := argDuration(x.Args, "within", 0)
			rec := c.faults[argInt(x.Args, "fault", 0)-1]
			name := fmt.Sprintf("fault %d's member leads", rec.Index)
			return func() checker.Verdict {
				if !rec.Fired || len(rec.Targets) == 0 {
					return checker.Verdict{Name: name, Detail: "the fault never fired: " + rec.Note}
				}
				target := rec.Targets[0]
				var before *LeaderChange // the last leader change up to the fault
				for i, lc := range c.leaderChanges {
					if lc.At <= rec.Start {
						before = &c.leaderChanges[i]
					}
				}
				if before != nil && before.Member == target && !c.ledAfter(before, rec.Start+within) {
					return checker.Verdict{Name: name, OK: true, Detail: fmt.Sprintf("n%d already led term %d", target, before.Term)}
				}
				for _, lc := range c.leaderChanges {
					if lc.Member == target && lc.At >= rec.Start && lc.At <= rec.Start+within {
						return checker.Verdict{Name: name, OK: true, Detail: fmt.Sprintf("n%d leads term %d from %v, %v after the request",
							lc.Member, lc.Term, lc.At.Round(time.Microsecond), (lc.At - rec.Start).Round(time.Microsecond))}
					}
				}
				return checker.Verdict{Name: name, Detail: fmt.Sprintf("n%d did not lead within %v of %v", rec.Targets[0], within, rec.Start)}
			}
		}},
	{name: "liveness", doc: "within= after the last fault ends, a leader leads, a write started after the heal succeeds, and every member is up and has applied all that was committed at the heal",
		args: []string{"within"}, setup: setupLiveness},
}

func (x Expectation) validate(schedule []Fault) error {
	faults := len(schedule)
	i := slices.IndexFunc(expectKinds, func(k expectKind) bool { return k.name == x.Kind })
	if i < 0 {
		names := make([]string, len(expectKinds))
		for j, k := range expectKinds {
			names[j] = k.name
		}
		return fmt.Errorf("unknown expectation %q (known: %s)", x.Kind, strings.Join(names, ", "))
	}
	k := expectKinds[i]
	for _, key := range k.args {
		v := x.Arg(key)
		switch {
		case v == "":
			return fmt.Errorf("%s needs %s=", x.Kind, key)
		case key == "within":
			if d, err := parseDuration(v); err != nil || d <= 0 {
				return fmt.Errorf("within=%s is not a positive duration", v)
			}
		case key == "fault" && faults == 0:
			return fmt.Errorf("fault=%s: the schedule has no faults", v)
		case key == "fault":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > faults {
				return fmt.Errorf("fault=%s: the schedule has faults 1..%d", v, faults)
			}
			if kind := schedule[n-1].Kind; len(k.faultOf) > 0 && !slices.Contains(k.faultOf, kind) {
				return fmt.Errorf("fault=%s is a %s fault; %s is for %s", v, kind, x.Kind, strings.Join(k.faultOf, ", "))
			}
		}
	}
	for _, a := range x.Args {
		if !slices.Contains(k.args, a.Key) {
			return fmt.Errorf("unknown parameter %q (known: %s)", a.Key, strings.Join(k.args, ", "))
		}
	}
	return nil
}

func expectArgs(kind string) []string {
	for _, k := range expectKinds {
		if k.name == kind {
			return k.args
		}
	}
	return nil
}

// setupLiveness watches the end of the faults: from the moment the last
// one ends it notes when a leader is in place, when the first write
// started after the heal succeeds, and when every member is up and has
// applied what was committed at the heal.
func setupLiveness(c *Cluster, x Expectation, e Experiment) func() checker.Verdict {
	within := argDuration(x.Args, "within", 0)
	heal := e.lastFaultEnd()
	var committed uint64
	var leaderAt, caughtUpAt time.Duration = -1, -1
	var leader uint64
	c.At(heal, func() {
		for _, m := range c.members {
			if m.up {
				committed = max(committed, m.node.Status().Commit)
			}
		}
		var poll func()
		poll = func() {
			now := c.sim.Now()
			if leaderAt < 0 {
				if leader = c.Leader(); leader != 0 {
					leaderAt = now
				}
			}
			if caughtUpAt < 0 && c.allApplied(committed) {
				caughtUpAt = now
			}
			if (leaderAt < 0 || caughtUpAt < 0) && now+10*time.Millisecond <= heal+within {
				c.sim.After(10*time.Millisecond, poll)
			}
		}
		poll()
	})
	return func() checker.Verdict {
		v := checker.Verdict{Name: "liveness after faults"}
		write := time.Duration(-1)
		for _, op := range c.history {
			if op.Kind != checker.Get && op.Outcome == checker.OK && op.Call >= heal && op.Return <= heal+within {
				if write < 0 || op.Return < write {
					write = op.Return
				}
			}
		}
		since := func(t time.Duration) string {
			if t < 0 {
				return "never"
			}
			return "+" + (t - heal).Round(time.Millisecond).String()
		}
		v.OK = leaderAt >= 0 && write >= 0 && caughtUpAt >= 0
		who := "no leader"
		if leader != 0 {
			who = fmt.Sprintf("leader n%d %s", leader, since(leaderAt))
		}
		v.Detail = fmt.Sprintf("faults healed at %v; within %v: %s, first write %s, all members applied index %d %s",
			heal, within, who, since(write), committed, since(caughtUpAt))
		return v
	}
}

// commit is a member's commit index now, 0 if it is down.
func (c *Cluster) commit(id uint64) uint64 {
	if id == 0 {
		return 0
	}
	_, _, _, commit := c.Status(id)
	return commit
}

// ledAfter reports whether another member became leader after lc and by t.
func (c *Cluster) ledAfter(lc *LeaderChange, t time.Duration) bool {
	for _, o := range c.leaderChanges {
		if o.At > lc.At && o.At <= t && o.Member != lc.Member {
			return true
		}
	}
	return false
}

func (c *Cluster) allApplied(index uint64) bool {
	for _, m := range c.members {
		if !m.removed && (!m.up || m.node.Status().Applied < index) {
			return false
		}
	}
	return true
}

// leaderWithin checks that a member not in `not` became leader within
// bound after t.
func leaderWithin(c *Cluster, name string, t, bound time.Duration, not []uint64) checker.Verdict {
	v := checker.Verdict{Name: name}
	for _, lc := range c.leaderChanges {
		if lc.At < t || slices.Contains(not, lc.Member) {
			continue
		}
		v.OK = lc.At-t <= bound
		v.Detail = fmt.Sprintf("n%d leads term %d from %v, %v after %v (bound %v)",
			lc.Member, lc.Term, lc.At.Round(time.Millisecond), (lc.At - t).Round(time.Millisecond), t, bound)
		return v
	}
	v.Detail = fmt.Sprintf("no new leader after %v", t)
	return v
}

// progressDuring checks liveness: some write both started and succeeded
// inside the window.
func progressDuring(c *Cluster, from, to time.Duration) checker.Verdict {
	n := 0
	for _, op := range c.history {
		if op.Kind != checker.Get && op.Outcome == checker.OK && op.Call >= from && op.Return <= to {
			n++
		}
	}
	return checker.Verdict{Name: "writes succeed during fault", OK: n > 0,
		Detail: fmt.Sprintf("%d writes completed between %v and %v", n, from, to)}
}

// staleDuring looks at the reads the members cut off by a fault served
// while it lasted: serializable ones may be stale, and were; linearizable
// ones must not be served there at all (ReadIndex needs the leader).
func staleDuring(c *Cluster, name string, rec *FaultRecord) checker.Verdict {
	if !rec.Fired {
		return checker.Verdict{Name: name, Detail: fmt.Sprintf("fault %d never fired: %s", rec.Index, rec.Note)}
	}
	ix := c.truth
	var serializable, stale, linearizable int
	for _, op := range c.history {
		if op.Kind != checker.Get || op.Outcome != checker.OK || !slices.Contains(rec.Targets, op.Member) ||
			op.Call < rec.Start+100*time.Millisecond || op.Return > rec.End {
			continue
		}
		if !op.Serializable {
			linearizable++
			continue
		}
		serializable++
		if op.Rev < ix.RevAt(op.Call) {
			stale++
		}
	}
	v := checker.Verdict{Name: name, OK: stale > 0 && linearizable == 0,
		Detail: fmt.Sprintf("%s served %d serializable reads while cut off, %d of them stale; %d linearizable reads", MemberList(rec.Targets), serializable, stale, linearizable)}
	return v
}

// grew says whether an operation grew the store: a put, or a
// conditional write that succeeded (deletes are served under NOSPACE).
func grew(op checker.Operation) bool {
	if op.Outcome != checker.OK {
		return false
	}
	switch op.Kind {
	case checker.Put:
		return true
	case checker.CAS, checker.CASRev, checker.TxnPuts:
		return op.Found
	}
	return false
}

// noSpace looks for the NOSPACE alarm's effect on clients: writes refused
// with it before the operator's recovery, reads served meanwhile, and
// writes succeeding once the recovery is done.
func noSpace(c *Cluster, rec *FaultRecord) checker.Verdict {
	name := fmt.Sprintf("NOSPACE refuses writes until fault %d recovers", rec.Index)
	if rec.Done == 0 {
		return checker.Verdict{Name: name, Detail: "the recovery never finished: " + rec.Note}
	}
	var refused, readsDuring, writesAfter int
	var firstRefused time.Duration
	for _, op := range c.history {
		switch {
		case op.Err == api.ErrNoSpace.Error() && op.Return < rec.Start:
			if refused == 0 {
				firstRefused = op.Return
			}
			refused++
		case refused > 0 && op.Kind == checker.Get && op.Outcome == checker.OK && op.Call > firstRefused && op.Return < rec.Start:
			readsDuring++
		case grew(op) && op.Call > rec.Done:
			writesAfter++
		}
	}
	return checker.Verdict{Name: name, OK: refused > 0 && readsDuring > 0 && writesAfter > 0,
		Detail: fmt.Sprintf("%d writes refused with NOSPACE from %v; %d reads served after; recovery done at %v; %d puts succeeded after it",
			refused, firstRefused, readsDuring, rec.Done, writesAfter)}
}
