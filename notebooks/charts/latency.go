// Package charts draws the figures of etcdlab's study notes from a run's
// Result, with gonum/plot.
package charts

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/scenarios"
)

var (
	colorPut     = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	colorGet     = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	colorDelete  = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	colorSGet    = color.RGBA{R: 140, G: 200, B: 120, A: 255} // a lighter get
	colorCAS     = color.RGBA{R: 148, G: 103, B: 189, A: 255}
	colorCASRev  = color.RGBA{R: 140, G: 86, B: 75, A: 255}
	colorTxn     = color.RGBA{R: 23, G: 190, B: 207, A: 255}
	colorUnknown = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	colorFailed  = color.RGBA{A: 255}
	colorFault   = color.NRGBA{R: 255, G: 120, B: 120, A: 60} // not premultiplied: a light wash
	colorLeader  = color.RGBA{R: 120, G: 60, B: 160, A: 255}
	colorStorage = color.RGBA{R: 0, G: 130, B: 130, A: 255}
)

// SaveLatency draws Latency and writes it to path; the extension picks the
// format (.png, .svg, .pdf).
func SaveLatency(r *scenarios.Result, path string) error {
	p, err := Latency(r)
	if err != nil {
		return err
	}
	c, _ := Lookup("latency")
	return c.Save(p, path)
}

// secondTicks marks virtual time every 1, 2, 5, 10, 20, 30 or 60 seconds,
// whichever gives at most 15 marks.
type secondTicks struct{}

func (secondTicks) Ticks(lo, hi float64) []plot.Tick {
	step := 60.0
	for _, s := range []float64{1, 2, 5, 10, 20, 30, 60} {
		if (hi-lo)/s <= 15 {
			step = s
			break
		}
	}
	var ticks []plot.Tick
	for t := math.Ceil(lo/step) * step; t <= hi; t += step {
		ticks = append(ticks, plot.Tick{Value: t, Label: fmt.Sprintf("%g", t)})
	}
	return ticks
}

// Latency is client latency over virtual time: one point per operation at
// its call time, by type; operations that failed or never got an answer
// are drawn where the client gave up. Fault windows are shaded and every
// leader election is a vertical line.
func Latency(r *scenarios.Result) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = runName(r) + ": client latency (virtual time)"
	p.X.Label.Text = "virtual time (s)"
	if st := r.Settings; st.Settle > 0 {
		p.X.Label.Text += fmt.Sprintf("; clients stop at %v, so members can settle", st.Duration-st.Settle)
	}
	p.Y.Label.Text = "latency (ms, log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.X.Min, p.X.Max = 0, seconds(r.Settings.Duration)
	p.X.Tick.Marker = secondTicks{}
	// The legend goes beside the data, where it covers no point or label.
	leg := newSideLegend(p)

	if len(r.History) == 0 {
		return nil, fmt.Errorf("%s: no client operation in the run, so there is no latency to draw; give it --clients 1 or more", runName(r))
	}
	series := map[string]plotter.XYs{}
	lo, hi := math.Inf(1), 0.0
	for _, op := range r.History {
		ms := math.Max(float64(op.Return-op.Call)/float64(time.Millisecond), 0.01)
		lo, hi = math.Min(lo, ms), math.Max(hi, ms)
		key := scenarios.OpType(op)
		switch op.Outcome {
		case checker.Unknown:
			key = "unknown outcome"
		case checker.Failed:
			key = "failed"
		}
		series[key] = append(series[key], plotter.XY{X: seconds(op.Call), Y: ms})
	}
	if hi == 0 {
		lo, hi = 0.1, 10
	}
	ymin, ymax := lo/2, hi*3
	p.Y.Min, p.Y.Max = ymin, ymax

	for _, f := range r.Faults {
		if !f.Fired {
			continue
		}
		x0, x1 := seconds(f.Start), seconds(f.End)
		poly, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: ymin}, {X: x1, Y: ymin}, {X: x1, Y: ymax}, {X: x0, Y: ymax}})
		if err != nil {
			return nil, err
		}
		poly.Color = colorFault
		poly.LineStyle.Width = 0
		p.Add(poly)
		leg.Add("fault: "+f.Label, poly)
	}

	labels := plotter.XYLabels{}
	// Elections close together get their labels one under another, so
	// they do not print over each other.
	near, lastX, depth := seconds(r.Settings.Duration)/10, math.Inf(-1), 0
	if err := markNewLeaders(p, r, ymin, ymax, leg.Add); err != nil {
		return nil, err
	}
	for _, lc := range r.LeaderChanges {
		x := seconds(lc.At)
		if x-lastX < near {
			depth++
		} else {
			depth = 0
		}
		lastX = x
		labels.XYs = append(labels.XYs, plotter.XY{X: x, Y: ymax / 1.6 / math.Pow(2.2, float64(depth))})
		labels.Labels = append(labels.Labels, fmt.Sprintf(" n%d, term %d", lc.Member, lc.Term))
	}

	// Snapshots restored from the leader and membership changes done: a
	// thin line each, labelled at the foot of the chart.
	var events []event
	for _, sn := range r.Snapshots {
		if sn.Kind == scenarios.SnapshotRestored {
			events = append(events, event{sn.At, fmt.Sprintf(" n%d snapshot %d", sn.Member, sn.Index)})
		}
	}
	for _, f := range r.Faults {
		if f.Done > 0 {
			events = append(events, event{f.Done, " " + strings.TrimPrefix(f.Hit(), "member-")})
		}
	}
	slices.SortStableFunc(events, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	var below plotter.XYLabels
	lastX, depth = math.Inf(-1), 0
	var xs []float64
	for _, ev := range events {
		xs = append(xs, seconds(ev.at))
	}
	if err := vlines(p, xs, ymin, ymax, colorStorage, dotted, "snapshot restored, membership change", leg.Add); err != nil {
		return nil, err
	}
	for _, ev := range events {
		x := seconds(ev.at)
		// Close together, labels take turns on three rows at the foot.
		if x-lastX < near {
			depth = (depth + 1) % 3
		} else {
			depth = 0
		}
		lastX = x
		below.XYs = append(below.XYs, plotter.XY{X: x, Y: ymin * 1.15 * math.Pow(1.3, float64(depth))})
		below.Labels = append(below.Labels, ev.label)
	}

	if err := markStepDowns(p, r, ymin, ymax, leg.Add); err != nil {
		return nil, err
	}
	if err := markFailures(p, r, ymin, ymax, leg.Add); err != nil {
		return nil, err
	}

	for _, s := range []struct {
		name   string
		color  color.Color
		shape  draw.GlyphDrawer
		radius vg.Length
	}{
		{"put", colorPut, draw.CircleGlyph{}, vg.Points(1.6)},
		{"get", colorGet, draw.CircleGlyph{}, vg.Points(1.6)},
		{"delete", colorDelete, draw.CircleGlyph{}, vg.Points(1.6)},
		{"sget", colorSGet, draw.CircleGlyph{}, vg.Points(1.6)},
		{"cas", colorCAS, draw.CircleGlyph{}, vg.Points(1.6)},
		{"cas-rev", colorCASRev, draw.CircleGlyph{}, vg.Points(1.6)},
		{"txn-puts", colorTxn, draw.CircleGlyph{}, vg.Points(1.6)},
		{"failed", colorFailed, draw.TriangleGlyph{}, vg.Points(3)},
		{"unknown outcome", colorUnknown, draw.CrossGlyph{}, vg.Points(3)},
	} {
		xys := series[s.name]
		if len(xys) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: s.color, Radius: s.radius, Shape: s.shape}
		p.Add(sc)
		leg.Add(fmt.Sprintf("%s (%d)", s.name, len(xys)), sc)
	}

	if len(labels.Labels) > 0 {
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return nil, err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Color = colorLeader
		}
		p.Add(l)
	}
	if len(below.Labels) > 0 {
		l, err := plotter.NewLabels(below)
		if err != nil {
			return nil, err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Color = colorStorage
			l.TextStyle[i].Font.Size = vg.Points(8)
		}
		p.Add(l)
	}
	p.Add(plotter.NewGrid())
	return p, nil
}

type event struct {
	at    time.Duration
	label string
}

func seconds(d time.Duration) float64 { return d.Seconds() }
