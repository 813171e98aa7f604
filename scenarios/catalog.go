package scenarios

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/etcdlab/etcdlab/network"
)

// The catalog: scenarios that draw experiments from seeds. Each is data
// only, so `etcdlab show NAME --seed N` prints a file that runs the same.
var catalog = []Scenario{
	{
		Name:    "election",
		Summary: "3 members boot with no leader; one is elected and serves clients",
		Settings: func(rng *rand.Rand) Settings {
			s := DefaultSettings(3)
			s.Duration, s.Settle = 5*time.Second, 2*time.Second
			return s
		},
		Schedule: func(rng *rand.Rand, e *Experiment) {
			s := e.Settings
			e.Expect = []Expectation{expect("leader", "within", newLeaderBound(s).String())}
		},
	},
	{
		Name:    "leader-crash",
		Summary: "the leader of 3 members crashes; the others elect a new one; it restarts from its WAL and catches up",
		Settings: func(rng *rand.Rand) Settings {
			s := DefaultSettings(3)
			s.Duration = 14 * time.Second
			return s
		},
		Schedule: func(rng *rand.Rand, e *Experiment) {
			s := e.Settings
			crash := Fault{Kind: "crash", Who: "leader",
				At: between(rng, 3*time.Second, 4*time.Second), For: between(rng, 3*time.Second, 5*time.Second)}
			e.Faults = []Fault{crash}
			e.Expect = []Expectation{expect("new-leader", "fault", "1", "within", newLeaderBound(s).String())}
		},
	},
	{
		Name:    "partition",
		Summary: "the leader and one follower are cut off from the rest of 5; the majority elects a new leader, the old one commits nothing; after healing, logs converge",
		Settings: func(rng *rand.Rand) Settings {
			s := DefaultSettings(5)
			s.Duration = 16 * time.Second
			return s
		},
		Schedule: func(rng *rand.Rand, e *Experiment) {
			s := e.Settings
			cut := Fault{Kind: "partition", Who: "leader,follower",
				At: between(rng, 3*time.Second, 4*time.Second), For: between(rng, 4*time.Second, 6*time.Second)}
			e.Faults = []Fault{cut}
			e.Expect = []Expectation{
				expect("new-leader", "fault", "1", "within", newLeaderBound(s).String()),
				expect("no-commit", "fault", "1"),
			}
		},
	},
	{
		Name:    "flaky-network",
		Summary: "5 members under client load on a datagram network that drops 10% of messages, duplicates 5% and jitters up to 20ms",
		Settings: func(rng *rand.Rand) Settings {
			s := DefaultSettings(5)
			s.Duration = 14 * time.Second
			s.Link.Mode = network.Datagram
			return s
		},
		Schedule: func(rng *rand.Rand, e *Experiment) {
			flaky := Fault{Kind: "link", Who: "all",
				At: between(rng, 2*time.Second, 3*time.Second), For: between(rng, 6*time.Second, 8*time.Second),
				Args: []Arg{{"jitter", "20ms"}, {"drop", "0.1"}, {"duplicate", "0.05"}}}
			e.Faults = []Fault{flaky}
			e.Expect = []Expectation{expect("writes-during", "fault", "1")}
		},
	},
	nemesisScenario,
}

// newLeaderBound is how long a scenario gives the survivors to elect a
// leader: the first randomized timeout is up to two election timeouts
// after the last heartbeat, and a split vote, where two members campaign
// in the same tick, costs up to two more; five allows for one split.
func newLeaderBound(s Settings) time.Duration { return 5 * s.Member.ElectionTimeout }

func expect(kind string, kv ...string) Expectation {
	x := Expectation{Kind: kind}
	for i := 0; i+1 < len(kv); i += 2 {
		x.Args = append(x.Args, Arg{kv[i], kv[i+1]})
	}
	return x
}

func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	// Whole milliseconds keep the printed experiment readable.
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
