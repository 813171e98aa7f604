package charts

import (
	"fmt"
	"math"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/etcdlab/etcdlab/scenarios"
)

// WatchLag is how late watchers heard of each write: one point per event
// a watcher received, at the time it arrived, its height the time since
// the first member applied that revision. A watcher on a member that
// lags behind, or one catching up after re-watching, shows as a rise;
// faults are shaded and new leaders marked so the cause is beside it.
func WatchLag(r *scenarios.Result) (*plot.Plot, error) {
	if len(r.WatchLags) == 0 {
		return nil, fmt.Errorf("%s, seed %d: no watcher received an event; run a scenario with watchers (watch, kubernetes, mvcc-compaction) or set --watchers N", r.Source, r.Seed())
	}
	p := plot.New()
	p.Title.Text = runName(r) + ": watch event lag (virtual time)"
	p.X.Label.Text = "virtual time the watcher received the event (s)"
	p.Y.Label.Text = "lag after first apply (ms)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.X.Min, p.X.Max = 0, seconds(r.Settings.Duration)
	p.X.Tick.Marker = secondTicks{}
	leg := newSideLegend(p)

	byWatcher := map[int]plotter.XYs{}
	lags := map[int][]time.Duration{}
	var order []int
	lo, hi := math.Inf(1), 0.0
	for _, l := range r.WatchLags {
		if _, ok := byWatcher[l.Watcher]; !ok {
			order = append(order, l.Watcher)
		}
		// A lag of zero (the watcher's own member applied it first and
		// sent at once) has no place on a log scale: a microsecond.
		y := math.Max(ms(l.Lag), 0.001)
		byWatcher[l.Watcher] = append(byWatcher[l.Watcher], plotter.XY{X: seconds(l.At), Y: y})
		lags[l.Watcher] = append(lags[l.Watcher], l.Lag)
		lo, hi = math.Min(lo, y), math.Max(hi, y)
	}
	p.Y.Min, p.Y.Max = lo/2, hi*3
	slices.Sort(order)

	shadeFaults(p, r, leg)
	if err := markNewLeaders(p, r, p.Y.Min, p.Y.Max, leg.Add); err != nil {
		return nil, err
	}
	for i, w := range order {
		sc, err := plotter.NewScatter(byWatcher[w])
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: groupColors[i%len(groupColors)], Radius: vg.Points(1.6), Shape: draw.CircleGlyph{}}
		p.Add(sc)
		ls := lags[w]
		leg.Add(fmt.Sprintf("w%d: %d events, p50 %v, p99 %v", w, len(ls), round(scenarios.Quantile(ls, 0.5)), round(scenarios.Quantile(ls, 0.99))), sc)
	}
	p.Add(plotter.NewGrid())
	return p, nil
}
