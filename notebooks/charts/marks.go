package charts

import (
	"image/color"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/scenarios"
)

// Marks the charts over time share besides faults and elections: a
// leader stepping down (or its process going down), and the moment a
// check first failed, where the check knows it.

var colorCheckFailed = color.RGBA{R: 200, G: 0, B: 0, A: 255}

// stepDowns are the moments a member stopped leading: a step-down
// (check-quorum, a higher term, a leader transfer, its own removal) or
// its process going down or pausing.
func stepDowns(r *scenarios.Result) []time.Duration {
	leading := map[uint64]bool{}
	var at []time.Duration
	for _, s := range r.States {
		now := s.State == "StateLeader"
		if leading[s.Member] && !now {
			at = append(at, s.At)
		}
		leading[s.Member] = now
	}
	return at
}

// timedFailures are the failed verdicts that know when they first broke.
func timedFailures(r *scenarios.Result) []checker.Verdict {
	var out []checker.Verdict
	for _, v := range r.Verdicts {
		if !v.OK && !v.Undecided && v.Timed {
			out = append(out, v)
		}
	}
	return out
}

// Line styles of the marks: a new leader dashed, a step-down and a
// storage event (a snapshot restored, a membership change) dotted.
var (
	leaderDashes = []vg.Length{vg.Points(4), vg.Points(3)}
	dotted       = []vg.Length{vg.Points(1), vg.Points(2)}
)

// vlines draws a vertical line at each x (seconds), in one style, named
// once in the legend by add.
func vlines(p *plot.Plot, xs []float64, ymin, ymax float64, c color.Color, dashes []vg.Length, name string, add func(string, ...plot.Thumbnailer)) error {
	for i, x := range xs {
		line, err := vline(x, ymin, ymax, c, dashes)
		if err != nil {
			return err
		}
		p.Add(line)
		if i == 0 {
			add(name, line)
		}
	}
	return nil
}

// markNewLeaders draws a dashed line at each new leader.
func markNewLeaders(p *plot.Plot, r *scenarios.Result, ymin, ymax float64, add func(string, ...plot.Thumbnailer)) error {
	var xs []float64
	for _, lc := range r.LeaderChanges {
		xs = append(xs, seconds(lc.At))
	}
	return vlines(p, xs, ymin, ymax, colorLeader, leaderDashes, "new leader", add)
}

// markStepDowns draws a dotted line at each step-down.
func markStepDowns(p *plot.Plot, r *scenarios.Result, ymin, ymax float64, add func(string, ...plot.Thumbnailer)) error {
	var xs []float64
	for _, at := range stepDowns(r) {
		xs = append(xs, seconds(at))
	}
	return vlines(p, xs, ymin, ymax, colorLeader, dotted, "leader steps down, goes down or is paused", add)
}

// markFailures draws a solid red line where each timed check first
// failed, named in the legend.
func markFailures(p *plot.Plot, r *scenarios.Result, ymin, ymax float64, add func(string, ...plot.Thumbnailer)) error {
	for _, v := range timedFailures(r) {
		line, err := vline(seconds(v.At), ymin, ymax, colorCheckFailed, nil)
		if err != nil {
			return err
		}
		line.Width = vg.Points(1.5)
		p.Add(line)
		add("FAIL "+v.Name+" (first violation)", line)
	}
	return nil
}

func vline(x, ymin, ymax float64, c color.Color, dashes []vg.Length) (*plotter.Line, error) {
	line, err := plotter.NewLine(plotter.XYs{{X: x, Y: ymin}, {X: x, Y: ymax}})
	if err != nil {
		return nil, err
	}
	line.Color = c
	line.Dashes = dashes
	return line, nil
}
