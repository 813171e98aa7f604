package scenarios

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/etcdlab/etcdlab/node"
)

// The swarm nemesis (after "Swarm Testing", Groce et al., 2012): rather
// than every seed mixing every kind of fault thinly, each seed first draws
// which families of faults are on and how many faults to inject, so some
// seeds are all partitions and others all crashes and slow disks. A bug
// that needs one kind of fault many times is found by the seeds that draw
// it. Every run ends with a liveness phase: the faults are healed, and
// within a stated bound a leader must lead, a write must commit and every
// member must catch up.

// families are the groups of fault kinds the swarm switches on and off.
var families = []struct {
	name  string
	draws []func(rng *rand.Rand, s Settings, window time.Duration) []Fault
}{
	{"crash", []func(*rand.Rand, Settings, time.Duration) []Fault{drawCrash, drawCrash, drawChurn, drawVoterCrash, drawElectionAttack}},
	{"failpoint", []func(*rand.Rand, Settings, time.Duration) []Fault{drawFailpoint}},
	{"network", []func(*rand.Rand, Settings, time.Duration) []Fault{drawIsolate, drawPartition, drawOneWay, drawBridge, drawLink, drawBlackhole}},
	{"pause", []func(*rand.Rand, Settings, time.Duration) []Fault{drawPause}},
	{"clock", []func(*rand.Rand, Settings, time.Duration) []Fault{drawClock}},
	{"disk", []func(*rand.Rand, Settings, time.Duration) []Fault{drawSlowFsync, drawFsyncError}},
	{"membership", []func(*rand.Rand, Settings, time.Duration) []Fault{drawAddAndPromote, drawRemove, drawMoveLeader}},
}

const (
	swarmStart  = 2 * time.Second  // faults begin once the cluster has a leader
	swarmWindow = 16 * time.Second // and all of them have healed this long after
)

var nemesisScenario = Scenario{
	Name:    "nemesis",
	Summary: "swarm testing: each seed switches some fault families on (crash, failpoint, network, pause, clock, disk, membership), draws a schedule of them, then heals everything and checks liveness",
	Settings: func(rng *rand.Rand) Settings {
		s := DefaultSettings([]int{3, 5}[rng.IntN(2)])
		s.Duration = swarmStart + swarmWindow + 6*time.Second + s.Settle
		// Pre-vote shields a cluster from some disruptions; half the
		// seeds go without it, as etcd did before v3.5.
		s.Member.PreVote = rng.IntN(2) == 0
		// Snapshots and log compaction come often enough in a run of
		// seconds to meet every other fault: a lagging member catches up
		// by snapshot, a crash lands between backend commits. Half the
		// seeds keep etcd's default, which a short run never reaches.
		if rng.IntN(2) == 0 {
			s.Member.SnapshotCount = []uint64{50, 100, 300}[rng.IntN(3)]
			s.Member.SnapshotCatchUpEntries = s.Member.SnapshotCount / 5
			s.Member.WALSegmentSize = 16 << 10
			s.Member.MaxWALs, s.Member.MaxSnapshots = 2, 2
		}
		return s
	},
	Schedule: swarmSchedule,
}

func swarmSchedule(rng *rand.Rand, e *Experiment) {
	s := e.Settings
	var on []int
	for len(on) == 0 {
		for i := range families {
			if rng.IntN(2) == 0 {
				on = append(on, i)
			}
		}
	}
	n := 2 + rng.IntN(7)
	var faults []Fault
	for range n {
		fam := families[on[rng.IntN(len(on))]]
		group := fam.draws[rng.IntN(len(fam.draws))](rng, s, swarmWindow)
		// A fault may outlast its window (a restart after it, a sleep or a
		// slow fsync still running): move the group earlier so that all of
		// it is over by the heal.
		var late time.Duration
		for _, f := range group {
			late = max(late, f.latestEnd()-(swarmStart+swarmWindow))
		}
		for i := range group {
			group[i].At = max(group[i].At-late, swarmStart)
		}
		faults = append(faults, group...)
	}
	slices.SortStableFunc(faults, func(a, b Fault) int { return int(a.At - b.At) })
	heal := swarmStart + swarmWindow
	// The liveness bound: a few election rounds (a randomized timeout is
	// up to twice --election-timeout, and a split vote costs another), and
	// a client's reconnect backoff to a member that was down.
	within := 5*s.Member.ElectionTimeout + backoffBase
	names := make([]string, len(on))
	for i, f := range on {
		names[i] = families[f].name
	}
	e.Notes = append(e.Notes, fmt.Sprintf("swarm: %s on, %d faults; liveness bound %v after the heal at %v",
		strings.Join(names, ", "), n, within, heal))
	e.Faults, e.Expect = faults, []Expectation{expect("liveness", "within", within.String())}
}

// Each draw picks a fault that starts and ends inside the window.

func window(rng *rand.Rand, lo, hi, span time.Duration) (at, dur time.Duration) {
	dur = between(rng, lo, hi)
	at = swarmStart + between(rng, 0, max(span-dur-time.Second, time.Millisecond))
	return at, dur
}

func oneOf(rng *rand.Rand, options ...string) string { return options[rng.IntN(len(options))] }

// drawCrash crashes one member, several, a majority or all of them at
// once (power loss: only what each had synced survives).
func drawCrash(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, dur := window(rng, 100*time.Millisecond, 3*time.Second, span)
	who := oneOf(rng, "leader", "follower", "any", "all", "leader,follower", fmt.Sprintf("any:%d", s.Nodes/2+1))
	return []Fault{{Kind: "crash", At: at, For: dur, Who: who}}
}

// drawElectionAttack crashes the leader, so the others hold an election;
// crashes the first member that grants a vote in it; and crashes the
// winner right after it wins. When the old leader is back first, still in
// the term before, it asks the voter, when that is back, for its vote in
// the winner's term: a voter whose vote reached its disk says no. Each
// crash alone is ordinary; together they test that a vote survives a
// restart.
func drawElectionAttack(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, _ := window(rng, 4*time.Second, 5*time.Second, span-ArmedFor)
	return []Fault{
		{Kind: "crash", At: at, For: between(rng, time.Second, 2*time.Second), Who: "leader"},
		{Kind: "crash", At: at + time.Millisecond, For: between(rng, time.Second, 3*time.Second), Who: "any", After: "granted-vote"},
		{Kind: "crash", At: at + 2*time.Millisecond, For: between(rng, 2*time.Second, 4*time.Second), Who: "leader", After: "sent:MsgApp"},
	}
}

// drawVoterCrash crashes a member right after it grants a vote, and
// restarts it at once: the vote must have reached its disk first.
func drawVoterCrash(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, _ := window(rng, time.Second, 2*time.Second, span-ArmedFor)
	return []Fault{{Kind: "crash", At: at, For: between(rng, time.Millisecond, 30*time.Millisecond), Who: "any", After: "granted-vote"}}
}

func drawChurn(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, dur := window(rng, 3*time.Second, 6*time.Second, span)
	every := between(rng, 500*time.Millisecond, 2*time.Second)
	down := between(rng, 50*time.Millisecond, every/2)
	return []Fault{{Kind: "churn", At: at, For: dur, Who: oneOf(rng, "follower", "any"),
		Args: []Arg{{"every", every.String()}, {"down", down.String()}}}}
}

func drawFailpoint(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, dur := window(rng, time.Second, 4*time.Second, span-time.Second)
	name := node.Failpoints[rng.IntN(len(node.Failpoints))]
	action := "panic"
	if rng.IntN(2) == 0 && !node.PanicOnly(name) {
		action = fmt.Sprintf("sleep(%v)", between(rng, 50*time.Millisecond, 2*time.Second))
	}
	return []Fault{{Kind: "failpoint", At: at, For: dur, Who: oneOf(rng, "leader", "follower", "any"),
		Args: []Arg{{"name", name}, {"action", action},
			{"hit", fmt.Sprint(1 + rng.IntN(20))}, {"restart-after", between(rng, 100*time.Millisecond, time.Second).String()}}}}
}

// drawAddAndPromote has an operator add a learner and promote it soon
// after, as etcd's docs advise adding a member.
func drawAddAndPromote(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, dur := window(rng, 3*time.Second, 5*time.Second, span)
	return []Fault{
		{Kind: "member-add", At: at, For: dur, Args: []Arg{{"learner", "true"}}},
		{Kind: "member-promote", Who: "learner", At: at + between(rng, 30*time.Millisecond, time.Second), For: dur},
	}
}

func drawRemove(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, dur := window(rng, 2*time.Second, 4*time.Second, span)
	return []Fault{{Kind: "member-remove", Who: oneOf(rng, "follower", "leader"), At: at, For: dur}}
}

func drawMoveLeader(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, dur := window(rng, time.Second, 3*time.Second, span)
	return []Fault{{Kind: "move-leader", Who: "follower", At: at, For: dur}}
}

// drawBlackhole cuts a follower off until it needs a snapshot, or for the
// window at most.
func drawBlackhole(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, dur := window(rng, time.Second, 6*time.Second, span)
	return []Fault{{Kind: "blackhole", At: at, For: dur, Who: "follower"}}
}

func drawIsolate(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, dur := window(rng, 300*time.Millisecond, 4*time.Second, span)
	return []Fault{{Kind: "isolate", At: at, For: dur, Who: oneOf(rng, "leader", "follower", "any")}}
}

func drawPartition(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, dur := window(rng, time.Second, 5*time.Second, span)
	who := oneOf(rng, "leader", "follower", "any", fmt.Sprintf("any:%d", (s.Nodes-1)/2), "leader,follower")
	return []Fault{{Kind: "partition", At: at, For: dur, Who: who}}
}

func drawOneWay(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, dur := window(rng, time.Second, 4*time.Second, span)
	return []Fault{{Kind: "one-way", At: at, For: dur, Who: oneOf(rng, "leader", "follower"),
		Args: []Arg{{"to", oneOf(rng, "follower", "any", "all")}}}}
}

func drawBridge(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, dur := window(rng, time.Second, 4*time.Second, span)
	return []Fault{{Kind: "bridge", At: at, For: dur, Who: oneOf(rng, "leader", "any")}}
}

func drawLink(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, dur := window(rng, time.Second, 5*time.Second, span)
	args := []Arg{{"latency", between(rng, 5*time.Millisecond, 150*time.Millisecond).String()},
		{"jitter", between(rng, time.Millisecond, 50*time.Millisecond).String()},
		{"drop", fmt.Sprint(float64(rng.IntN(30)) / 100)}}
	return []Fault{{Kind: "link", At: at, For: dur, Who: oneOf(rng, "any", "leader", "all"), Args: args}}
}

func drawPause(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, dur := window(rng, 100*time.Millisecond, 3*time.Second, span)
	return []Fault{{Kind: "pause", At: at, For: dur, Who: oneOf(rng, "leader", "follower", "any")}}
}

func drawClock(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, dur := window(rng, 2*time.Second, 6*time.Second, span)
	rate := []string{"0.5", "0.8", "1.25", "1.5", "2"}[rng.IntN(5)]
	return []Fault{{Kind: "clock", At: at, For: dur, Who: oneOf(rng, "leader", "follower", "any"),
		Args: []Arg{{"rate", rate}, {"offset", between(rng, 0, 5*time.Second).String()}}}}
}

func drawSlowFsync(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, dur := window(rng, time.Second, 4*time.Second, span)
	return []Fault{{Kind: "slow-fsync", At: at, For: dur, Who: oneOf(rng, "leader", "follower", "any", "all"),
		Args: []Arg{{"delay", between(rng, 50*time.Millisecond, 2500*time.Millisecond).String()}}}}
}

func drawFsyncError(rng *rand.Rand, s Settings, span time.Duration) []Fault {
	at, _ := window(rng, time.Second, 2*time.Second, span-time.Second)
	return []Fault{{Kind: "fsync-error", At: at, Who: oneOf(rng, "leader", "follower", "any"),
		Args: []Arg{{"count", "1"}, {"restart-after", between(rng, 100*time.Millisecond, time.Second).String()}}}}
}
