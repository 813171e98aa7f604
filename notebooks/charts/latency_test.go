package charts

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/scenarios"
)

// A chart is drawn from a Result alone: here a hand-made one, with one
// operation of each outcome, a fault window and two elections. Looking at
// it is still a person's job; this checks it is drawn and spans the data.
func TestLatencyChartShowsEveryKindOfEvent(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	r := &scenarios.Result{
		Source: "partition", Experiment: scenarios.Experiment{Seed: 7},
		Settings: scenarios.Settings{Duration: 4 * time.Second},
		History: []checker.Operation{
			{Kind: checker.Put, Call: ms(100), Return: ms(110), Outcome: checker.OK},
			{Kind: checker.Get, Call: ms(200), Return: ms(205), Outcome: checker.OK},
			{Kind: checker.Delete, Call: ms(300), Return: ms(312), Outcome: checker.OK},
			{Kind: checker.Put, Call: ms(1500), Return: ms(1502), Outcome: checker.Failed},
			{Kind: checker.Get, Call: ms(1600), Return: ms(2600), Outcome: checker.Unknown},
		},
		Faults:        []scenarios.FaultRecord{{Fired: true, Start: ms(1000), End: ms(3000), Label: "1 partition n1,n2"}},
		LeaderChanges: []scenarios.LeaderChange{{At: ms(50), Member: 1, Term: 2}, {At: ms(2200), Member: 3, Term: 3}},
	}
	p, err := Latency(r)
	require.NoError(t, err)
	require.Equal(t, "partition, seed 7: client latency (virtual time)", p.Title.Text)
	require.Equal(t, 4.0, p.X.Max, "the axis spans the whole run")
	require.Less(t, p.Y.Min, 2.0, "the fastest operation is on the chart")
	require.Greater(t, p.Y.Max, 1000.0, "the operation that never returned is on the chart")
	path := filepath.Join(t.TempDir(), "latency.png")
	require.NoError(t, SaveLatency(r, path))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	require.Greater(t, img.Bounds().Dx(), 500)
}

func TestCheckPath(t *testing.T) {
	dir := t.TempDir()
	for _, ok := range []string{"a.png", "a.SVG", "a.pdf"} {
		require.NoError(t, CheckPath(filepath.Join(dir, ok)))
	}
	require.ErrorContains(t, CheckPath(filepath.Join(dir, "a.gif")), "use one of .png, .svg, .pdf")
	require.ErrorContains(t, CheckPath(filepath.Join(dir, "missing", "a.png")), "no directory")
}
