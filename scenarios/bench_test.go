package scenarios

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/etcdlab/etcdlab/checker"
)

// BenchmarkCluster5 runs 5-member scenarios under client load and reports
// how fast the simulation goes: virtual seconds per wall second, and raft
// messages per wall second. Compare figures from one run of the benchmark,
// never against a fixed number: the machines are shared.
//
//	go test ./scenarios -run '^$' -bench Cluster5 -benchtime 5x
func BenchmarkCluster5(b *testing.B) {
	for _, name := range []string{"partition", "flaky-network"} {
		b.Run(name, func(b *testing.B) {
			var virtual time.Duration
			var raftMsgs, ops int
			for i := 0; b.Loop(); i++ {
				r, err := Run(name, uint64(i+1), Options{})
				if err != nil {
					b.Fatal(err)
				}
				virtual += r.Settings.Duration
				raftMsgs += r.RaftMessages
				ops += len(r.History)
			}
			wall := b.Elapsed().Seconds()
			b.ReportMetric(virtual.Seconds()/wall, "virtual-s/s")
			b.ReportMetric(float64(raftMsgs)/wall, "raft-msgs/s")
			b.ReportMetric(float64(ops)/wall, "client-ops/s")
		})
	}
}

// quiet5 and loaded5 are 5-member clusters of etcd's defaults with no
// fault: heartbeats only, and 5 clients' steady load.
var (
	quiet5 = Scenario{Name: "idle-5", Settings: func(*rand.Rand) Settings {
		s := DefaultSettings(5)
		s.Duration, s.Clients = 16*time.Second, 0
		return s
	}, Schedule: func(*rand.Rand, *Experiment) {}}
	loaded5 = Scenario{Name: "loaded-5", Settings: func(*rand.Rand) Settings {
		s := DefaultSettings(5)
		s.Duration = 16 * time.Second
		return s
	}, Schedule: func(*rand.Rand, *Experiment) {}}
)

// benchScenario runs sc once per iteration, a new seed each, and reports
// virtual seconds, events and raft messages per wall second, and heap
// allocations per event.
func benchScenario(b *testing.B, sc Scenario) {
	var virtual time.Duration
	var events, raftMsgs int
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; b.Loop(); i++ {
		r, err := RunScenario(sc, uint64(i+1), Options{})
		if err != nil {
			b.Fatal(err)
		}
		virtual += r.Settings.Duration
		events += int(r.Events)
		raftMsgs += r.RaftMessages
	}
	runtime.ReadMemStats(&after)
	wall := b.Elapsed().Seconds()
	b.ReportMetric(virtual.Seconds()/wall, "virtual-s/s")
	b.ReportMetric(float64(events)/wall, "events/s")
	b.ReportMetric(float64(raftMsgs)/wall, "raft-msgs/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(max(events, 1)), "allocs/event")
}

// The benchmarks of the speed and memory issue. Compare figures from one
// run, never against a fixed number: the machines are shared.
//
//	go test ./scenarios -run '^$' -bench 'Idle5|Loaded5|Nemesis|Porcupine10k|Overhead' -benchtime 5x
func BenchmarkIdle5(b *testing.B)   { benchScenario(b, quiet5) }
func BenchmarkLoaded5(b *testing.B) { benchScenario(b, loaded5) }
func BenchmarkNemesis(b *testing.B) { benchScenario(b, nemesisScenario) }

// BenchmarkPorcupine10k checks a history of about 10,000 operations (a
// crash-during-load run's, settled as the run settles it) for
// linearizability, the check every run ends with.
func BenchmarkPorcupine10k(b *testing.B) {
	r, err := Run("crash-during-load", 1, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if v := checker.CheckLinearizable(r.Checked, "", ""); !v.OK {
			b.Fatal(v.Detail)
		}
	}
	b.ReportMetric(float64(len(r.Checked)), "ops")
}

// BenchmarkOverhead runs the loaded 5-member cluster in full, then the
// bare-raft floor (bareRaft) through the same number of raft messages at
// the same write rate, and reports how many times the floor's wall time
// the full simulation takes: x-bare-raft.
func BenchmarkOverhead(b *testing.B) {
	var full, bare time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		r, err := RunScenario(loaded5, uint64(i+1), Options{})
		if err != nil {
			b.Fatal(err)
		}
		full += time.Since(start)
		writes := 0
		for _, op := range r.History {
			if op.Kind != checker.Get {
				writes++
			}
		}
		start = time.Now()
		if _, err := bareRaft(r.RaftMessages, int(float64(writes)/r.Settings.Duration.Seconds())); err != nil {
			b.Fatal(err)
		}
		bare += time.Since(start)
	}
	b.ReportMetric(full.Seconds()/bare.Seconds(), "x-bare-raft")
	b.ReportMetric(float64(bare.Microseconds())/float64(b.N)/1000, "bare-ms/op")
	b.ReportMetric(float64(full.Microseconds())/float64(b.N)/1000, "full-ms/op")
}
