package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/sim"
)

// Simulation tests never call t.Parallel: a run owns crypto/rand.Reader.

var seeds = []uint64{1, 2, 3, 4, 5}

// runSeeds runs a scenario once per seed, as subtests named seed=N, and
// fails a subtest with the run's report: failed verdicts, the expanded
// settings and the one command that replays it.
func runSeeds(t *testing.T, scenario string) {
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r, err := Run(scenario, seed, Options{ReportDir: t.TempDir()})
			require.NoError(t, err)
			if !r.OK() {
				t.Fatalf("guarantee broken\n%s", r.Report())
			}
		})
	}
}

// A fresh cluster elects one leader within a few election timeouts and
// serves linearizable reads and writes.
func TestElection(t *testing.T) { runSeeds(t, "election") }

// When the leader crashes, the survivors elect a new one; the old leader
// restarts from its WAL and catches up.
func TestLeaderCrash(t *testing.T) { runSeeds(t, "leader-crash") }

// A leader cut off with a minority cannot commit; the majority elects a
// new leader; after healing every member converges.
func TestPartition(t *testing.T) { runSeeds(t, "partition") }

// Drops, duplicates and jitter slow the cluster down but break nothing.
func TestFlakyNetwork(t *testing.T) { runSeeds(t, "flaky-network") }

// The checker is only worth something if it catches a real bug: serving
// reads locally without ReadIndex lets the isolated old leader, and the
// follower cut off with it, answer with values the majority has since
// overwritten.
func TestStaleReadsBreakLinearizability(t *testing.T) {
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			dir := t.TempDir()
			r, err := Run("partition", seed, Options{ReportDir: dir}.With("bug", "stale-reads"))
			require.NoError(t, err)
			lin := verdict(t, r, "linearizable")
			require.False(t, lin.OK, "stale reads went unnoticed:\n%s", r.Report())
			require.FileExists(t, lin.Visualization)
			require.Contains(t, r.ReplayCommand(), "--bug stale-reads")
		})
	}
}

// A leader that applies and acknowledges its entries before a quorum has
// them breaks raft's state-machine safety once it is cut off: the next
// leader overwrites what it applied. Clients give up after 300ms here:
// with the default 1s, on some seeds every client spends the cut-off
// leader's last second waiting on a majority member that forwarded its
// write to that leader, so nobody asks the leader itself to apply early. Linearizability alone often misses
// this, since on a few hot keys a lost write looks like one overwritten at
// once; the members' applied digests never do.
func TestApplyBeforeCommitBreaksRaftSafety(t *testing.T) {
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r, err := Run("partition", seed, Options{}.With("bug", "apply-before-commit").With("client-timeout", "300ms"))
			require.NoError(t, err)
			safety := verdict(t, r, "raft safety")
			require.False(t, safety.OK, "early applies went unnoticed:\n%s", r.Report())
			// Caught as members applying different entries, or sooner, as
			// the next leader lacking an entry the old one applied early.
			require.Regexp(t, "applied different entries up to index|leads term .* but its log", safety.Detail)
			require.False(t, verdict(t, r, "members converged").OK, r.Report())
			require.Contains(t, r.ReplayCommand(), "--bug apply-before-commit")
		})
	}
}

func verdict(t *testing.T, r *Result, name string) checker.Verdict {
	t.Helper()
	for _, v := range r.Verdicts {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no verdict %q in\n%s", name, r.Report())
	return checker.Verdict{}
}

func TestBadInputIsAnErrorNotAPanic(t *testing.T) {
	_, err := Run("no-such-scenario", 1, Options{})
	require.ErrorContains(t, err, `unknown scenario "no-such-scenario" (known: election, leader-crash, partition, flaky-network, compaction-snapshot, crash-during-load, membership, move-leader, register-cas, watch, lease-expiry, serializable-reads, mvcc-compaction, quota, kubernetes, nemesis)`)
	_, err = Run("election", 1, Options{}.With("duration", "2s"))
	require.ErrorContains(t, err, "election: duration: 2s is too short: the run ends with 2s of quiet for members to settle (settle); use more than 2s")
	_, err = Run("partition", 1, Options{}.With("duration", "5s"))
	require.ErrorContains(t, err, "partition: fault 1 (partition) ends at 7.862s, inside the last 3s of the run, which is kept quiet for members to settle; use a duration of more than 10.862s")
}

// A member's request IDs start at its start time in milliseconds, so a
// script that restarts a member twice within one millisecond is refused
// with a failed verdict rather than left to reuse IDs.
func TestRestartWithinAMillisecondIsRefused(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	st, err := Expand("leader-crash", 1, Options{})
	require.NoError(t, err)
	c, err := newCluster(s, st.Settings)
	require.NoError(t, err)
	c.At(2*time.Second, func() { c.Crash(1); c.Restart(1) })
	c.At(2*time.Second+500*time.Microsecond, func() { c.Crash(1); c.Restart(1) })
	s.RunUntil(3 * time.Second)
	v := c.restarted()
	require.False(t, v.OK)
	require.Equal(t, "at 2.0005s: n1 cannot restart: restarted at 2.0005s, in the same millisecond as its last start at 2s; a restart must come at least 1ms later", v.Detail)
}

// The swarm nemesis: every seed draws its own mix of faults, ends with a
// liveness phase, and must pass. Its seeds cost little, so it gets more.
func TestNemesis(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r, err := Run("nemesis", seed, Options{ReportDir: t.TempDir()})
			require.NoError(t, err)
			if !r.OK() {
				t.Fatalf("guarantee broken\n%s", r.Report())
			}
		})
	}
}

// The nemesis must catch bugs a careless server could have, through a
// check of the members, not through a crash of etcdlab: some seed of the
// first 200 must fail raft safety or linearizability with the bug on, and
// pass without it.
func TestNemesisCatchesBugs(t *testing.T) {
	for _, bug := range []string{
		"forget-vote",      // a restarted voter that forgot its vote gives a term two leaders
		"ack-before-fsync", // an ack before the fsync lets a crash lose a vote or an entry a quorum was counted for
	} {
		t.Run(bug, func(t *testing.T) {
			for seed := uint64(1); seed <= 200; seed++ {
				r, err := Run("nemesis", seed, Options{}.With("bug", bug))
				require.NoError(t, err)
				if verdict(t, r, "raft safety").OK && verdict(t, r, "linearizable").OK {
					continue
				}
				clean, err := Run("nemesis", seed, Options{})
				require.NoError(t, err)
				require.True(t, clean.OK(), "seed %d fails without the bug too:\n%s", seed, clean.Report())
				t.Logf("caught by seed %d: %s", seed, r.Failed()[0].Detail)
				return
			}
			t.Fatalf("%s went unnoticed by nemesis seeds 1-200", bug)
		})
	}
}

// A drawn experiment printed and read back is the same experiment, so a
// file is as good as the scenario and seed it came from.
func TestExperimentFilesRoundTrip(t *testing.T) {
	for _, name := range Names() {
		for seed := uint64(1); seed <= 30; seed++ {
			e, err := Expand(name, seed, Options{}.With("bug", "forget-vote").With("workload", "write-only"))
			require.NoError(t, err)
			back, err := ParseExperiment("x.txt", e.String())
			require.NoError(t, err, "%s seed %d:\n%s", name, seed, e)
			back.Notes = e.Notes // comments are not read back
			for i := range back.Faults {
				back.Faults[i].Line = 0
			}
			for i := range back.Expect {
				back.Expect[i].Line = 0
			}
			require.Equal(t, e, back, "%s seed %d", name, seed)
		}
	}
}

// A cut-client fault ends after its for=: the client's requests are
// answered again. (It once never ended: cluster-wide faults returned
// before their end was scheduled.)
func TestCutClientEnds(t *testing.T) {
	e, err := ParseExperiment("cut.txt", `scenario election
seed 1
nodes 3
duration 8s
settle 2s
clients 2
fault cut-client at=2s for=1s client=c1
`)
	require.NoError(t, err)
	r, err := RunFile("cut.txt", e, Options{KeepTrace: true})
	require.NoError(t, err)
	require.True(t, strings.Contains(strings.Join(r.Trace, "\n"), "nemesis end fault 1: cut-client"), "the trace says the cut ended")
	answeredAfter := 0
	for _, op := range r.History {
		if op.Client == 1 && op.Outcome == checker.OK && op.Call > 3*time.Second+100*time.Millisecond {
			answeredAfter++
		}
	}
	require.Greater(t, answeredAfter, 0, "c1 is answered again after the cut ends")
}

// While no member leads, a lease holder's keep-alives get "not leader"
// from every member; it waits between rounds instead of spinning, as
// etcd's LeaseRenew waits for a leader (it once sent 267 keep-alives in
// 1.4 s of lease-expiry seed 1's leaderless window).
func TestLeaseHolderWaitsWhileNoMemberLeads(t *testing.T) {
	r, err := Run("lease-expiry", 1, Options{KeepTrace: true})
	require.NoError(t, err)
	// The window from the leader's crash to the next leader.
	from := r.Faults[0].Start
	i := slices.IndexFunc(r.LeaderChanges, func(lc LeaderChange) bool { return lc.At > from })
	require.GreaterOrEqual(t, i, 0)
	to := r.LeaderChanges[i].At
	require.Greater(t, to-from, time.Second, "a leaderless window of more than a second")
	sent := 0
	for _, l := range r.Trace {
		at, err := strconv.ParseFloat(strings.TrimSpace(strings.SplitN(l, "s ", 2)[0]), 64)
		if err != nil {
			continue
		}
		when := time.Duration(at * float64(time.Second))
		if when >= from && when < to && strings.Contains(l, " net  l3->n") && strings.Contains(l, "lease-keepalive") {
			sent++
		}
	}
	require.Less(t, sent, 100, "keep-alives l3 sent between %v and %v", from, to)
	require.Greater(t, sent, 0)
}

// A learner refuses a lease holder's writes and lease RPCs; the holder
// asks the next member. (A refused put once indexed ops with -1 and
// crashed the harness.)
func TestLeaseHoldersMoveOnFromALearner(t *testing.T) {
	for _, seed := range []uint64{1, 3, 4, 5} {
		e, err := ParseExperiment("lh.txt", fmt.Sprintf(`scenario lease-expiry
seed %d
nodes 3
duration 14s
settle 3s
lease-holders 4
fault member-add at=2s for=5s learner=true
`, seed))
		require.NoError(t, err)
		r, err := RunFile("lh.txt", e, Options{})
		require.NoError(t, err)
		require.True(t, r.OK(), "seed %d: %v", seed, r.Failed())
	}
}

// The raft log's samples hold its true peak, the one the summary reports,
// even when it came just before a compaction or the member stopped.
func TestLogSizesHoldThePeak(t *testing.T) {
	for _, run := range []struct {
		scenario string
		seed     uint64
	}{{"membership", 1}, {"compaction-snapshot", 1}, {"leader-crash", 2}} {
		r, err := Run(run.scenario, run.seed, Options{})
		require.NoError(t, err)
		top := uint64(0)
		for _, l := range r.LogSizes {
			top = max(top, l.Entries)
		}
		require.Equal(t, r.PeakRaftLog.Entries, top, "%s seed %d", run.scenario, run.seed)
	}
}
