package scenarios

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/etcdlab/etcdlab/network"
	"github.com/etcdlab/etcdlab/node"
	"github.com/etcdlab/etcdlab/node/mvcc"
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
	{
		Name:    "compaction-snapshot",
		Summary: "a follower of 3 is blackholed until the others are --snapshot-count + catch-up entries ahead, so the leader has compacted what it lacks; the leader sends it a snapshot with the backend, and it catches up under load",
		Settings: func(rng *rand.Rand) Settings {
			s := DefaultSettings(3)
			s.Duration = 24 * time.Second
			s.Clients, s.Keys, s.ThinkTime = 12, 20, 5*time.Millisecond
			smallStorage(&s, 100, 20)
			return s
		},
		Schedule: func(rng *rand.Rand, e *Experiment) {
			hole := Fault{Kind: "blackhole", Who: "follower",
				At: between(rng, 2*time.Second, 3*time.Second), For: 16 * time.Second}
			e.Faults = []Fault{hole}
			if rng.IntN(2) == 0 {
				// As etcd's robustness tests pair blackholeUntilSnapshot
				// with the snapshot failpoints: the member receiving the
				// snapshot dies at one of them, restarts from its disk,
				// and the leader sends the snapshot again.
				point := snapshotFailpoints[rng.IntN(len(snapshotFailpoints))]
				e.Faults = append(e.Faults, Fault{Kind: "failpoint", Who: "all", At: hole.At, For: hole.For,
					Args: []Arg{{"name", point}, {"action", "panic"}, {"hit", "1"}, {"restart-after", "500ms"}}})
			}
			e.Expect = []Expectation{expect("snapshot-restored", "fault", "1")}
		},
	},
	{
		Name:    "crash-during-load",
		Summary: "members of 3 crash under heavy writes, between and inside backend commits (etcd's backend failpoints); each restarts from its backend, snapshot and WAL, and applies nothing twice",
		Settings: func(rng *rand.Rand) Settings {
			s := DefaultSettings(3)
			s.Duration = 26 * time.Second
			s.Clients = 12
			s.ThinkTime = 2 * time.Millisecond
			s.Workload = Workload{Get: 20, Put: 70, Delete: 10}
			smallStorage(&s, 300, 100)
			return s
		},
		Schedule: func(rng *rand.Rand, e *Experiment) {
			points := []string{"commitBeforePreCommitHook", "commitAfterPreCommitHook", "beforeCommit", "afterCommit"}
			var faults []Fault
			at := 2 * time.Second
			for i := range 4 {
				at += between(rng, 1500*time.Millisecond, 3*time.Second)
				if i%2 == 0 {
					faults = append(faults, Fault{Kind: "failpoint", Who: "any", At: at, For: 3 * time.Second,
						Args: []Arg{{"name", points[rng.IntN(len(points))]}, {"action", "panic"},
							{"hit", fmt.Sprint(1 + rng.IntN(5))}, {"restart-after", "500ms"}}})
					continue
				}
				faults = append(faults, Fault{Kind: "crash", Who: "any", At: at, For: between(rng, 300*time.Millisecond, time.Second)})
			}
			e.Faults = faults
			e.Expect = []Expectation{expect("liveness", "within", (5*e.Settings.Member.ElectionTimeout + time.Second).String())}
		},
	},
	{
		Name:    "membership",
		Summary: "under load, an operator adds a learner to 3 members, promotes it once it has caught up (by snapshot), removes an old member, then the leader; one step meets a partition",
		Settings: func(rng *rand.Rand) Settings {
			s := DefaultSettings(3)
			s.Duration = 36 * time.Second
			smallStorage(&s, 100, 20)
			return s
		},
		Schedule: func(rng *rand.Rand, e *Experiment) {
			// The operator keeps trying each step for 8s: etcdctl gives up
			// on one attempt after 5s, before the server's 7s request
			// timeout, so a step that meets the partition takes a second.
			step := func(at time.Duration, kind, who string, args ...Arg) Fault {
				return Fault{Kind: kind, Who: who, At: at, For: 8 * time.Second, Args: args}
			}
			add := between(rng, 2*time.Second, 3*time.Second)
			e.Faults = []Fault{
				step(add, "member-add", "", Arg{"learner", "true"}),
				// Soon after: the learner may not have caught up yet, and
				// the leader refuses with ErrLearnerNotReady until it has.
				step(add+between(rng, 30*time.Millisecond, 300*time.Millisecond), "member-promote", "learner"),
				step(between(rng, 11*time.Second, 12*time.Second), "member-remove", "follower"),
				step(between(rng, 16*time.Second, 17*time.Second), "member-remove", "leader"),
			}
			// A partition cuts a follower off during one of the steps:
			// --strict-reconfig-check may refuse the step until it heals.
			during := e.Faults[rng.IntN(len(e.Faults))]
			e.Faults = append(e.Faults, Fault{Kind: "isolate", Who: "follower", At: during.At + between(rng, 0, time.Second), For: between(rng, time.Second, 2*time.Second)})
			slices.SortStableFunc(e.Faults, func(a, b Fault) int { return int(a.At - b.At) })
			for i, f := range e.Faults {
				if f.Kind != "isolate" {
					e.Expect = append(e.Expect, expect("done", "fault", fmt.Sprint(i+1)))
				}
			}
			e.Expect = append(e.Expect, expect("liveness", "within", (5*e.Settings.Member.ElectionTimeout+time.Second).String()))
		},
	},
	{
		Name:    "move-leader",
		Summary: "under load, an operator moves leadership of 3 members to a follower (etcdctl move-leader); raft's leader transfer hands it over without an election timeout",
		Settings: func(rng *rand.Rand) Settings {
			s := DefaultSettings(3)
			s.Duration = 10 * time.Second
			return s
		},
		Schedule: func(rng *rand.Rand, e *Experiment) {
			e.Faults = []Fault{{Kind: "move-leader", Who: "follower", At: between(rng, 2*time.Second, 4*time.Second), For: 3 * time.Second}}
			e.Expect = []Expectation{
				expect("done", "fault", "1"),
				expect("leads", "fault", "1", "within", e.Settings.Member.ElectionTimeout.String()),
			}
		},
	},
	{
		Name:    "register-cas",
		Summary: "Jepsen's etcd register test: clients read, write and compare-and-set a few keys (Txn comparing the value) while the leader is partitioned away and a member crashes; every cas's succeeded flag and revision must fit one order",
		Settings: func(rng *rand.Rand) Settings {
			s := DefaultSettings(5)
			s.Duration = 24 * time.Second
			s.Clients, s.Keys = 10, 3
			s.Workload = workloadNamed("register")
			return s
		},
		Schedule: func(rng *rand.Rand, e *Experiment) {
			s := e.Settings
			cut := Fault{Kind: "isolate", Who: "leader", At: between(rng, 3*time.Second, 5*time.Second), For: between(rng, 3*time.Second, 5*time.Second)}
			crash := Fault{Kind: "crash", Who: "any", At: between(rng, 9*time.Second, 12*time.Second), For: between(rng, time.Second, 3*time.Second)}
			e.Faults = []Fault{cut, crash}
			e.Expect = []Expectation{
				expect("new-leader", "fault", "1", "within", newLeaderBound(s).String()),
				expect("liveness", "within", (5*s.Member.ElectionTimeout + time.Second).String()),
			}
		},
	},
	{
		Name:    "watch",
		Summary: "watchers follow every write of 3 members across a leader change, a member crash and compactions every 2s, re-watching from the next revision; each must see every revision once, in order, with its prev_kv, and progress notifications never ahead",
		Settings: func(rng *rand.Rand) Settings {
			s := DefaultSettings(3)
			s.Duration = 16 * time.Second
			s.Watchers = 4
			s.Workload = workloadNamed("txn")
			s.Member.AutoCompactionRetention = "2s"
			return s
		},
		Schedule: func(rng *rand.Rand, e *Experiment) {
			s := e.Settings
			e.Faults = []Fault{
				{Kind: "crash", Who: "leader", At: between(rng, 3*time.Second, 4*time.Second), For: between(rng, 2*time.Second, 3*time.Second)},
				{Kind: "crash", Who: "follower", At: between(rng, 8*time.Second, 10*time.Second), For: between(rng, 1*time.Second, 2*time.Second)},
			}
			e.Expect = []Expectation{expect("new-leader", "fault", "1", "within", newLeaderBound(s).String())}
		},
	},
	{
		Name:    "lease-expiry",
		Summary: "lease holders keep leases alive on 3 members, then revoke them or go quiet; the leader expires the quiet ones on its own clock and deletes their keys in one revision, across a leader crash, an isolated leader and a holder cut off from the cluster",
		Settings: func(rng *rand.Rand) Settings {
			s := DefaultSettings(3)
			s.Duration = 40 * time.Second
			s.Settle = 15 * time.Second
			s.LeaseHolders, s.LeaseTTL = 6, 2*time.Second
			s.Clients = 2
			return s
		},
		Schedule: func(rng *rand.Rand, e *Experiment) {
			s := e.Settings
			e.Faults = []Fault{
				{Kind: "crash", Who: "leader", At: between(rng, 6*time.Second, 8*time.Second), For: between(rng, 2*time.Second, 4*time.Second)},
				{Kind: "isolate", Who: "leader", At: between(rng, 14*time.Second, 16*time.Second), For: between(rng, 2*time.Second, 4*time.Second)},
				// A holder cut off from the cluster cannot keep its lease
				// alive: the lease expires though the holder still wants it.
				{Kind: "cut-client", At: between(rng, 17*time.Second, 19*time.Second), For: between(rng, 3*time.Second, 5*time.Second),
					Args: []Arg{{"client", fmt.Sprintf("l%d", 1+rng.IntN(s.LeaseHolders))}}},
			}
			e.Expect = []Expectation{expect("new-leader", "fault", "1", "within", newLeaderBound(s).String())}
		},
	},
	{
		Name:    "serializable-reads",
		Summary: "a follower of 5 is cut off; it goes on serving serializable reads from its own store, stale but real, while its linearizable reads wait for a leader they cannot reach and fail",
		Settings: func(rng *rand.Rand) Settings {
			s := DefaultSettings(5)
			s.Duration = 14 * time.Second
			s.Workload = Workload{Get: 20, SGet: 40, Put: 35, Delete: 5}
			return s
		},
		Schedule: func(rng *rand.Rand, e *Experiment) {
			e.Faults = []Fault{{Kind: "isolate", Who: "follower", At: between(rng, 3*time.Second, 4*time.Second), For: between(rng, 4*time.Second, 6*time.Second)}}
			e.Expect = []Expectation{expect("stale-serializable", "fault", "1")}
		},
	},
	{
		Name:    "mvcc-compaction",
		Summary: "3 members compact their history every second (periodic auto-compaction) in small batches while members crash inside a compaction (etcd's compaction failpoints); a restarted member resumes the compaction it had scheduled, and watchers re-watch past the crashes without losing an event",
		Settings: func(rng *rand.Rand) Settings {
			s := DefaultSettings(3)
			s.Duration = 28 * time.Second
			s.Clients, s.ThinkTime = 8, 5*time.Millisecond
			s.Watchers = 3
			s.Member.AutoCompactionRetention = "1s"
			s.Member.CompactionBatchLimit = 20
			return s
		},
		Schedule: func(rng *rand.Rand, e *Experiment) {
			var faults []Fault
			at := 2 * time.Second
			for range 3 {
				at += between(rng, 2*time.Second, 4*time.Second)
				point := compactionFailpoints[rng.IntN(len(compactionFailpoints))]
				faults = append(faults, Fault{Kind: "failpoint", Who: "any", At: at, For: 3 * time.Second,
					Args: []Arg{{"name", point}, {"action", "panic"}, {"hit", "1"}, {"restart-after", between(rng, 500*time.Millisecond, 2*time.Second).String()}}})
			}
			e.Faults = faults
			e.Expect = []Expectation{expect("liveness", "within", (5*e.Settings.Member.ElectionTimeout + time.Second).String())}
		},
	},
	{
		Name:    "quota",
		Summary: "3 members with a small --quota-backend-bytes fill their backend: a write past the quota raises the NOSPACE alarm, and every member then refuses writes but serves reads and deletes, until an operator compacts, defragments and disarms",
		Settings: func(rng *rand.Rand) Settings {
			s := DefaultSettings(3)
			s.Duration = 24 * time.Second
			s.Member.QuotaBackendBytes = 12 << 10
			return s
		},
		Schedule: func(rng *rand.Rand, e *Experiment) {
			e.Faults = []Fault{{Kind: "recover-space", At: between(rng, 12*time.Second, 14*time.Second), For: 6 * time.Second}}
			e.Expect = []Expectation{expect("nospace", "fault", "1")}
		},
	},
	{
		Name:    "kubernetes",
		Summary: "kube-apiserver's traffic on 3 members: gets, optimistic updates (Txn comparing mod_revision), deletes, informers watching every key, events on leases, and compaction every 5s; a leader crash and an isolated follower on the way",
		Settings: func(rng *rand.Rand) Settings {
			s := DefaultSettings(3)
			s.Duration = 28 * time.Second
			s.Clients, s.Keys = 8, 10
			s.Workload = workloadNamed("kubernetes")
			s.Watchers, s.LeaseHolders = 3, 3
			s.Member.AutoCompactionRetention = "5s"
			return s
		},
		Schedule: func(rng *rand.Rand, e *Experiment) {
			s := e.Settings
			e.Faults = []Fault{
				{Kind: "crash", Who: "leader", At: between(rng, 4*time.Second, 6*time.Second), For: between(rng, 2*time.Second, 4*time.Second)},
				{Kind: "isolate", Who: "follower", At: between(rng, 10*time.Second, 12*time.Second), For: between(rng, 2*time.Second, 4*time.Second)},
			}
			e.Expect = []Expectation{
				expect("new-leader", "fault", "1", "within", newLeaderBound(s).String()),
				expect("liveness", "within", (5*s.Member.ElectionTimeout + time.Second).String()),
			}
		},
	},
	nemesisScenario,
}

// compactionFailpoints are etcd's failpoints inside a compaction.
var compactionFailpoints = []string{
	mvcc.FailpointCompactBeforeCommitScheduledCompact, mvcc.FailpointCompactAfterCommitScheduledCompact,
	mvcc.FailpointCompactBeforeCommitBatch, mvcc.FailpointCompactAfterCommitBatch,
	mvcc.FailpointCompactBeforeSetFinishedCompact, mvcc.FailpointCompactAfterSetFinishedCompact,
}

// workloadNamed is one of the named mixes.
func workloadNamed(name string) Workload {
	w, err := parseWorkload(name)
	if err != nil {
		panic(err)
	}
	return w
}

// smallStorage has members snapshot every count entries, keep catchUp
// entries behind a compaction, and cut and purge their WAL in small
// segments, so a run of seconds shows all of it.
func smallStorage(s *Settings, count, catchUp uint64) {
	s.Member.SnapshotCount, s.Member.SnapshotCatchUpEntries = count, catchUp
	s.Member.WALSegmentSize = 4 << 10
	s.Member.MaxWALs, s.Member.MaxSnapshots = 1, 2
}

// snapshotFailpoints are the failpoints a member meets installing a
// snapshot from the leader.
var snapshotFailpoints = []string{
	node.RaftBeforeSaveSnap, node.RaftAfterSaveSnap, node.ApplyBeforeOpenSnapshot, node.ApplyAfterOpenSnapshot,
	node.RaftBeforeApplySnap, node.RaftAfterApplySnap, node.RaftAfterWALRelease,
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
