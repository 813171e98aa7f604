package scenarios

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/etcdlab/etcdlab/checker"
)

// Scenario is one experiment: settings drawn from the seed, and a script
// of faults and expectations. Every run also checks linearizability, one
// leader per term and that members converge in the quiet tail.
type Scenario struct {
	Name    string
	Summary string
	// Settings expands a seed (through its "settings" stream) into the
	// run's concrete parameters.
	Settings func(rng *rand.Rand) Settings
	// Script schedules the nemesis and adds the scenario's own verdicts.
	Script func(c *Cluster, s Settings)
}

var catalog = []Scenario{
	{
		Name:    "election",
		Summary: "3 members boot with no leader; one is elected and serves clients",
		Settings: func(rng *rand.Rand) Settings {
			s := defaultSettings(3)
			s.Duration, s.Settle = 5*time.Second, 2*time.Second
			return s
		},
		Script: func(c *Cluster, s Settings) {
			bound := 3 * s.Member.ElectionTimeout
			c.Expect(func() checker.Verdict { return leaderWithin(c, "leader elected", 0, bound, 0) })
		},
	},
	{
		Name:    "leader-crash",
		Summary: "the leader of 3 members crashes; the others elect a new one; it restarts from its WAL and catches up",
		Settings: func(rng *rand.Rand) Settings {
			s := defaultSettings(3)
			s.Duration = 14 * time.Second
			s.FaultAt = between(rng, 3*time.Second, 4*time.Second)
			s.FaultFor = between(rng, 3*time.Second, 5*time.Second)
			return s
		},
		Script: func(c *Cluster, s Settings) {
			var crashed uint64
			c.Fault("leader crashed", s.FaultAt, s.FaultAt+s.FaultFor,
				func() {
					if crashed = c.Leader(); crashed != 0 {
						c.Crash(crashed)
					}
				},
				func() {
					if crashed != 0 {
						c.Restart(crashed)
					}
				})
			bound := 3 * s.Member.ElectionTimeout
			c.Expect(func() checker.Verdict {
				if crashed == 0 {
					return checker.Verdict{Name: "new leader after crash", Detail: fmt.Sprintf("no leader to crash at %v", s.FaultAt)}
				}
				return leaderWithin(c, "new leader after crash", s.FaultAt, bound, crashed)
			})
		},
	},
	{
		Name:    "partition",
		Summary: "the leader and one follower are cut off from the other 3 of 5; the majority elects a new leader, the old one commits nothing; after healing, logs converge",
		Settings: func(rng *rand.Rand) Settings {
			s := defaultSettings(5)
			s.Duration = 16 * time.Second
			s.FaultAt = between(rng, 3*time.Second, 4*time.Second)
			s.FaultFor = between(rng, 4*time.Second, 6*time.Second)
			return s
		},
		Script: partitionScript,
	},
	{
		Name:    "flaky-network",
		Summary: "5 members under client load on a network that drops 10% of messages, duplicates 5% and jitters up to 20ms",
		Settings: func(rng *rand.Rand) Settings {
			s := defaultSettings(5)
			s.Duration = 14 * time.Second
			s.FaultAt = between(rng, 2*time.Second, 3*time.Second)
			s.FaultFor = between(rng, 6*time.Second, 8*time.Second)
			return s
		},
		Script: func(c *Cluster, s Settings) {
			flaky := s.Link
			flaky.DropRate, flaky.DuplicateRate, flaky.Jitter = 0.10, 0.05, 20*time.Millisecond
			c.Fault("flaky network", s.FaultAt, s.FaultAt+s.FaultFor,
				func() { c.SetLink(flaky) }, func() { c.SetLink(s.Link) })
			c.Expect(func() checker.Verdict { return progressDuring(c, s.FaultAt, s.FaultAt+s.FaultFor) })
		},
	},
}

// partitionScript isolates the leader with one follower. The minority
// keeps a leader for up to an election timeout (until check-quorum makes
// it step down) but can commit nothing; the majority elects a new leader.
func partitionScript(c *Cluster, s Settings) {
	cut, heal := s.FaultAt, s.FaultAt+s.FaultFor
	var old uint64
	var oldCommit uint64
	c.Fault("leader isolated with a minority", cut, heal, func() {
		old = c.Leader()
		if old == 0 {
			return // the verdicts below report it
		}
		minority := []uint64{old, c.Members()[0]}
		if minority[1] == old {
			minority[1] = c.Members()[1]
		}
		var majority []uint64
		for _, id := range c.Members() {
			if !slices.Contains(minority, id) {
				majority = append(majority, id)
			}
		}
		c.Partition(minority, majority)
	}, c.Heal)
	// Messages already on the wire at the cut still arrive; measure the
	// old leader's commit index once they have.
	settled := cut + 100*time.Millisecond
	c.At(settled, func() { _, _, _, oldCommit = c.Status(old) })
	var commitAtHeal uint64
	c.At(heal, func() { _, _, _, commitAtHeal = c.Status(old) })

	bound := 3 * s.Member.ElectionTimeout
	c.Expect(func() checker.Verdict {
		if old == 0 {
			return checker.Verdict{Name: "majority elects new leader", Detail: fmt.Sprintf("no leader to isolate at %v", cut)}
		}
		return leaderWithin(c, "majority elects new leader", cut, bound, old)
	})
	c.Expect(func() checker.Verdict {
		v := checker.Verdict{Name: "old leader commits nothing"}
		if old == 0 {
			v.Detail = fmt.Sprintf("no leader to isolate at %v", cut)
			return v
		}
		v.OK = commitAtHeal == oldCommit
		v.Detail = fmt.Sprintf("n%d commit index %d at %v, %d at heal (%v)", old, oldCommit, settled, commitAtHeal, heal)
		return v
	})
}

// leaderWithin checks that a member other than `not` became leader within
// bound after t.
func leaderWithin(c *Cluster, name string, t, bound time.Duration, not uint64) checker.Verdict {
	v := checker.Verdict{Name: name}
	for _, lc := range c.leaderChanges {
		if lc.At < t || lc.Member == not {
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

func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	// Whole milliseconds keep the printed settings readable.
	ms := int64(lo/time.Millisecond) + rng.Int64N(int64((hi-lo)/time.Millisecond))
	return time.Duration(ms) * time.Millisecond
}

// Lookup finds a scenario by name.
func Lookup(name string) (Scenario, bool) {
	i := slices.IndexFunc(catalog, func(s Scenario) bool { return s.Name == name })
	if i < 0 {
		return Scenario{}, false
	}
	return catalog[i], true
}

// Names lists the scenarios in catalog order.
func Names() []string {
	names := make([]string, len(catalog))
	for i, s := range catalog {
		names[i] = s.Name
	}
	return names
}

// All lists the scenarios in catalog order.
func All() []Scenario { return slices.Clone(catalog) }
