package charts

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/scenarios"
)

// opColors are the operation types' colours, the same on every chart.
var opColors = map[string]color.Color{
	"put": colorPut, "get": colorGet, "delete": colorDelete, "sget": colorSGet,
	"cas": colorCAS, "cas-rev": colorCASRev, "txn-puts": colorTxn,
}

// LatencyCDF is the distribution of successful operations' latency, one
// curve per operation type: for each latency on the (log) x axis, the
// share of operations that took at most that long. The p50 and p99 of
// each type are marked on its curve, and given in the legend.
func LatencyCDF(r *scenarios.Result) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = runName(r) + ": client latency distribution (virtual time)"
	p.X.Label.Text = "latency (ms, log scale)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Label.Text = "share of successful operations at or below (%)"
	p.Y.Min, p.Y.Max = 0, 100
	p.Y.Tick.Marker = percentTicks{}
	p.Legend.Top = false
	p.Legend.Left = false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(4), vg.Points(4)

	byType := map[string][]time.Duration{}
	for _, op := range r.History {
		if op.Outcome == checker.OK {
			t := scenarios.OpType(op)
			byType[t] = append(byType[t], op.Return-op.Call)
		}
	}
	lo, hi := math.Inf(1), 0.0
	var marks plotter.XYs
	drawn := 0
	for _, t := range scenarios.OpTypes {
		ls := byType[t]
		if len(ls) == 0 {
			continue
		}
		slices.Sort(ls)
		xys := make(plotter.XYs, 0, len(ls)+1)
		for i, l := range ls {
			// One point per distinct latency, at the share up to its last.
			if i+1 < len(ls) && ls[i+1] == l {
				continue
			}
			xys = append(xys, plotter.XY{X: ms(l), Y: 100 * float64(i+1) / float64(len(ls))})
		}
		lo, hi = math.Min(lo, ms(ls[0])), math.Max(hi, ms(ls[len(ls)-1]))
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		line.Color = opColors[t]
		line.Width = vg.Points(1.5)
		p.Add(line)
		p50, p99 := scenarios.Quantile(ls, 0.5), scenarios.Quantile(ls, 0.99)
		marks = append(marks, plotter.XY{X: ms(p50), Y: 50}, plotter.XY{X: ms(p99), Y: 99})
		name := t
		switch t {
		case "get":
			name = "get (linearizable)"
		case "sget":
			name = "sget (serializable get)"
		}
		p.Legend.Add(fmt.Sprintf("%s, %d: p50 %v, p99 %v", name, len(ls), round(p50), round(p99)), line)
		drawn++
	}
	if drawn == 0 {
		return nil, fmt.Errorf("%s: no client operation succeeded, so there is no latency to draw; give it --clients 1 or more", runName(r))
	}
	p.X.Min, p.X.Max = lo/1.5, hi*1.5
	sc, err := plotter.NewScatter(marks)
	if err != nil {
		return nil, err
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(2.5), Shape: draw.RingGlyph{}}
	p.Add(sc)
	p.Legend.Add("p50 and p99 of each type", sc)
	for _, q := range []float64{50, 99} {
		line, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: q}, {X: p.X.Max, Y: q}})
		if err != nil {
			return nil, err
		}
		line.Color = color.Gray{Y: 170}
		line.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(line)
	}
	p.Add(plotter.NewGrid())
	return p, nil
}

// Downtime is, across seeds, how long the cluster had no leader after the
// first fault that hit the leader (solid), and how long until a write was
// acknowledged again (dashed): one pair of curves per group, as
// cumulative shares of the seeds where a fault hit the leader. Raft's
// paper draws its election experiment the same way (Ongaro and
// Ousterhout, figure 16).
func Downtime(groups []Group) (*plot.Plot, error) { return downtime(groups, true) }

// ElectionTime is Downtime's solid curves alone: from the leader's loss to
// the first leader of a later term. It is the Raft paper's experiment
// (section 9.3, figure 16), where clients play no part.
func ElectionTime(groups []Group) (*plot.Plot, error) { return downtime(groups, false) }

func downtime(groups []Group, writes bool) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "time without a leader after the leader was lost, across seeds (virtual time)"
	if len(groups) > 0 {
		by := ""
		if groups[0].Vary != "" {
			by = ", by --" + groups[0].Vary
		}
		p.Title.Text = filepath.Base(groups[0].Source) + by + ": " + p.Title.Text
	}
	p.X.Label.Text = "time since the fault hit the leader (s)"
	p.Y.Label.Text = "share of seeds recovered by then (%)"
	p.Y.Min, p.Y.Max = 0, 100
	p.Y.Tick.Marker = percentTicks{}
	p.X.Min = 0
	p.X.Tick.Marker = fineTicks{}
	leg := newSideLegend(p)
	hi := 0.0
	anyHit := false
	var never []*plotter.Line // curves that never rose: drawn along 0 once the axis is known
	for gi, g := range groups {
		var elected, written []time.Duration
		hit := 0
		for _, s := range g.Seeds {
			if s.Downtime == nil {
				continue
			}
			hit++
			if s.Downtime.Elected >= 0 {
				elected = append(elected, s.Downtime.Elected)
			}
			if s.Downtime.FirstWrite >= 0 {
				written = append(written, s.Downtime.FirstWrite)
			}
		}
		c := groupColors[gi%len(groupColors)]
		if hit == 0 {
			// Named, so a group that drew nothing is not silently missing.
			leg.Add(fmt.Sprintf("%s: no fault hit the leader in any of %d seeds", g.Label, len(g.Seeds)))
			continue
		}
		anyHit = true
		for _, curve := range []struct {
			ds     []time.Duration
			dashed bool
			what   string
		}{{elected, false, "new leader"}, {written, true, "first write"}} {
			if curve.dashed && !writes {
				continue
			}
			if len(curve.ds) == 0 {
				line, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}})
				if err != nil {
					return nil, err
				}
				line.Color, line.Width = c, vg.Points(3)
				if curve.dashed {
					line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
				}
				never = append(never, line)
				p.Add(line)
				leg.Add(fmt.Sprintf("%s, %s: never (0/%d seeds)", g.Label, curve.what, hit), line)
				continue
			}
			slices.Sort(curve.ds)
			xys := plotter.XYs{{X: 0, Y: 0}}
			for i, d := range curve.ds {
				xys = append(xys, plotter.XY{X: d.Seconds(), Y: xys[len(xys)-1].Y}, plotter.XY{X: d.Seconds(), Y: 100 * float64(i+1) / float64(hit)})
			}
			hi = math.Max(hi, curve.ds[len(curve.ds)-1].Seconds())
			line, err := plotter.NewLine(xys)
			if err != nil {
				return nil, err
			}
			line.Color = c
			line.Width = vg.Points(1.5)
			if curve.dashed {
				line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			p.Add(line)
			p50 := scenarios.Quantile(curve.ds, 0.5)
			leg.Add(fmt.Sprintf("%s, %s: median %v (%d/%d seeds)", g.Label, curve.what, round(p50), len(curve.ds), hit), line)
		}
	}
	if !anyHit {
		return nil, fmt.Errorf("no seed had a fault hit its leader, so there is no downtime to draw; use a scenario whose faults take the leader out, such as leader-crash")
	}
	if hi == 0 {
		hi = 1 // no group ever recovered: a second of axis to show it
	}
	p.X.Max = hi * 1.05
	for _, l := range never {
		l.XYs[1].X = p.X.Max
	}
	p.Add(plotter.NewGrid())
	return p, nil
}

// groupColors tell up to ten groups apart (matplotlib's tab10).
var groupColors = []color.Color{
	colorPut, colorDelete, colorGet, colorUnknown, colorCAS,
	colorCASRev, color.RGBA{R: 227, G: 119, B: 194, A: 255}, color.RGBA{R: 127, G: 127, B: 127, A: 255},
	color.RGBA{R: 188, G: 189, B: 34, A: 255}, colorTxn,
}

// percentTicks marks 0 to 100 every 10, labelled every 20.
type percentTicks struct{}

func (percentTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for v := 0.0; v <= 100; v += 10 {
		label := ""
		if int(v)%20 == 0 {
			label = fmt.Sprintf("%g", v)
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
	}
	return ticks
}

// fineTicks marks an axis every 0.1, 0.2, 0.5, 1, 2 or 5 units (times a
// power of ten), whichever gives at most 12 marks.
type fineTicks struct{}

func (fineTicks) Ticks(lo, hi float64) []plot.Tick {
	step := 1.0
	for _, m := range []float64{1e-3, 1e-2, 1e-1, 1, 10, 100, 1000} {
		found := false
		for _, s := range []float64{1, 2, 5} {
			if (hi-lo)/(s*m) <= 12 {
				step, found = s*m, true
				break
			}
		}
		if found {
			break
		}
	}
	decimals := max(0, int(-math.Floor(math.Log10(step))))
	var ticks []plot.Tick
	for i := math.Ceil(lo / step); i*step <= hi; i++ {
		ticks = append(ticks, plot.Tick{Value: i * step, Label: fmt.Sprintf("%.*f", decimals, i*step)})
	}
	return ticks
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// round keeps a latency readable in a legend: 12.345678ms is 12.3ms.
func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
