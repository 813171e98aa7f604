package scenarios

import (
	"testing"
	"time"
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
