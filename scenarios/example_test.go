package scenarios_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/scenarios"
)

// A scenario written outside the catalog: a 5-member cluster whose
// leader is paused (a long GC) once clients have done 100 operations; the
// other members must elect a new leader meanwhile. Settings and
// expectations are data, as in the catalog; Script adds Go for what data
// cannot say: when to strike, and a claim of the scenario's own.
func Example_customScenario() {
	pausedLeader := scenarios.Scenario{
		Name:    "paused-leader",
		Summary: "the leader stops for 3s; the others elect a new one",
		Settings: func(rng *rand.Rand) scenarios.Settings {
			s := scenarios.DefaultSettings(5)
			s.Duration = 12 * time.Second
			return s
		},
		Schedule: func(rng *rand.Rand, e *scenarios.Experiment) {
			e.Expect = []scenarios.Expectation{{Kind: "leader", Args: []scenarios.Arg{{Key: "within", Value: "3s"}}}}
		},
		Script: func(c *scenarios.Cluster) {
			var paused uint64
			c.WaitFor(func() bool { return c.Leader() != 0 && len(c.History()) > 100 }, 10*time.Millisecond, func() {
				paused = c.Leader()
				c.Pause(paused, 3*time.Second)
			})
			c.Expect(func() checker.Verdict {
				v := checker.Verdict{Name: "another member leads during the pause"}
				for _, lc := range c.LeaderChanges() {
					if paused != 0 && lc.Member != paused {
						v.OK, v.Detail = true, fmt.Sprintf("n%d took over", lc.Member)
					}
				}
				return v
			})
		},
	}
	r, err := scenarios.RunScenario(pausedLeader, 1, scenarios.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range r.Verdicts {
		fmt.Printf("%-38s ok=%v\n", v.Name, v.OK)
	}
	// Output:
	// linearizable                           ok=true
	// raft safety                            ok=true
	// members converged                      ok=true
	// no member panicked                     ok=true
	// leader elected                         ok=true
	// another member leads during the pause  ok=true
}
