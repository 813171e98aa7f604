package charts

import (
	"image/color"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/scenarios"
)

// A hand-made run: 40 writes a second for 2s, an outage with failures
// and unknown outcomes, then 40 a second again.
func TestThroughputCountsOperationsPerSecondByOutcome(t *testing.T) {
	r := &scenarios.Result{
		Source: "partition", Experiment: scenarios.Experiment{Seed: 7},
		Settings:      scenarios.Settings{Duration: 4 * time.Second},
		Faults:        []scenarios.FaultRecord{{Index: 1, Fired: true, Start: msec(2000), End: msec(3000), Label: "1 partition n1,n2"}},
		LeaderChanges: []scenarios.LeaderChange{{At: msec(50), Member: 1, Term: 2}, {At: msec(2900), Member: 3, Term: 3}, {At: msec(2950), Member: 2, Term: 4}},
	}
	for at := 0; at < 4000; at += 25 {
		op := checker.Operation{Kind: checker.Put, Call: msec(at), Return: msec(at + 5), Outcome: checker.OK}
		if at >= 2000 && at < 3000 {
			op.Outcome = checker.Failed
			if at%100 == 0 {
				op.Outcome = checker.Unknown
			}
		}
		r.History = append(r.History, op)
	}
	p, err := Throughput(r)
	require.NoError(t, err)
	require.Equal(t, "partition, seed 7: client throughput (virtual time)", p.Title.Text)
	require.Contains(t, p.X.Label.Text, "bins of 100ms")
	require.Equal(t, 4.0, p.X.Max, "the axis spans the whole run")
	require.Equal(t, 0.0, p.Y.Min)
	require.Greater(t, p.Y.Max, 40.0*1.1, "room above the peak for the elections' labels")

	img := savedPNG(t, "throughput", p)
	for _, c := range []color.Color{colorPut, colorFailed, colorUnknown, colorLeader} {
		require.True(t, drawn(img, c, 60), "%v is drawn", c) // lines are antialiased
	}
}

func TestThroughputBinsAtMost150(t *testing.T) {
	for d, bin := range map[time.Duration]time.Duration{
		4 * time.Second:  100 * time.Millisecond,
		15 * time.Second: 100 * time.Millisecond,
		16 * time.Second: 200 * time.Millisecond,
		36 * time.Second: 250 * time.Millisecond,
		10 * time.Minute: 5 * time.Second,
		30 * time.Minute: 30 * time.Second,
	} {
		require.Equal(t, bin, throughputBin(d), "%v", d)
	}
}
