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

// markStepDowns draws a dotted line at each step-down, named once in the
// legend by add.
func markStepDowns(p *plot.Plot, r *scenarios.Result, ymin, ymax float64, add func(string, ...plot.Thumbnailer)) error {
	for i, at := range stepDowns(r) {
		line, err := vline(seconds(at), ymin, ymax, colorLeader, []vg.Length{vg.Points(1), vg.Points(2)})
		if err != nil {
			return err
		}
		p.Add(line)
		if i == 0 {
			add("leader steps down, goes down or is paused", line)
		}
	}
	return nil
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
