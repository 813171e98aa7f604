package charts

import (
	"cmp"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/etcdlab/etcdlab/scenarios"
)

// Pieces the timeline, throughput and raft-log charts share: a legend
// beside the data, fault windows, and labels that make room for each
// other. They are laid out when the chart is drawn, when the size of the
// figure and of every label is known, so nothing is guessed from the
// data's range.

// sideLegend keeps a chart's legend right of its data, in room it
// reserves there, so the legend covers no line or bar whatever the data
// does. gonum draws the legend inside the data area, but it shrinks that
// area until every plotter's glyph boxes fit: sideLegend is a plotter
// that draws nothing and whose glyph box is as wide as the legend.
type sideLegend struct {
	p     *plot.Plot
	names []string
}

// legendGap is the room between the data and the legend's text.
const legendGap = 6

func newSideLegend(p *plot.Plot) *sideLegend {
	p.Legend.Top, p.Legend.Left = true, false
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Legend.ThumbnailWidth = vg.Points(16)
	l := &sideLegend{p: p}
	p.Add(l)
	return l
}

// Add names thumbs in the legend, as plot.Legend.Add does.
func (l *sideLegend) Add(name string, thumbs ...plot.Thumbnailer) {
	l.p.Legend.Add(name, thumbs...)
	l.names = append(l.names, name)
}

func (l *sideLegend) Plot(draw.Canvas, *plot.Plot) {}

func (l *sideLegend) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	var w vg.Length
	for _, n := range l.names {
		w = max(w, p.Legend.TextStyle.Rectangle(" "+n).Max.X)
	}
	if w == 0 {
		return nil
	}
	w += p.Legend.ThumbnailWidth + vg.Points(legendGap)
	// At the right edge, with no height, so only the width counts.
	return []plot.GlyphBox{{X: 1, Y: 0.5, Rectangle: vg.Rectangle{Max: vg.Point{X: w}}}}
}

// swatch is a legend thumbnail: a block of colour, for bars.
type swatch struct{ color color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	fillRect(c, s.color, c.Min.X, c.Max.X, c.Min.Y+vg.Points(1), c.Max.Y-vg.Points(1))
}

func fillRect(c *draw.Canvas, clr color.Color, x0, x1, y0, y1 vg.Length) {
	c.FillPolygon(clr, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
}

// faultWindows shades each fired fault's window over the whole height of
// the data, as the latency chart does. A fault with no duration (a crash
// never undone) is still a thin band: a window narrower than a point
// would vanish.
type faultWindows struct {
	spans [][2]float64 // seconds
}

// shadeFaults adds the run's fault windows to p, behind what is added
// after, each named in the legend: "fault: 2 partition".
func shadeFaults(p *plot.Plot, r *scenarios.Result, l *sideLegend) *faultWindows {
	w := &faultWindows{}
	for _, f := range r.Faults {
		if !f.Fired {
			continue
		}
		w.spans = append(w.spans, [2]float64{seconds(f.Start), seconds(f.End)})
		l.Add("fault: "+f.Label, w)
	}
	p.Add(w)
	return w
}

func (w *faultWindows) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	for _, s := range w.spans {
		x0, x1 := trX(s[0]), trX(s[1])
		x1 = max(x1, x0+vg.Points(1))
		x0, x1 = max(x0, c.Min.X), min(x1, c.Max.X)
		if x1 > x0 {
			fillRect(&c, colorFault, x0, x1, c.Min.Y, c.Max.Y)
		}
	}
}

func (w *faultWindows) Thumbnail(c *draw.Canvas) {
	fillRect(c, colorFault, c.Min.X, c.Max.X, c.Min.Y, c.Max.Y)
}

// rowLabels writes short labels beside vertical lines (an election, a
// snapshot restored), in rows along the top of the data area: each goes
// on the highest row where it clears the labels before it, so no two
// overlap, however close their lines. Where names crowd out a label,
// some with a short form (a fault's number) take it; a label with no
// room on any row is left out, and its line still shows. Charts leave
// headroom above their data for the rows.
type rowLabels struct {
	xs    []float64 // seconds
	texts []string
	short []string // "" for none
	color color.Color
	size  vg.Length
	rows  int
	// Top is how far below the top of the data area the first row
	// starts, to clear something already there.
	top vg.Length
	// Dropped counts the labels left out in the last drawing.
	dropped int
}

// add labels a line at x (seconds) with s, or with short where s does
// not fit.
func (l *rowLabels) add(x float64, s string, short ...string) {
	l.xs = append(l.xs, x)
	l.texts = append(l.texts, s)
	l.short = append(l.short, strings.Join(short, ""))
}

func (l *rowLabels) style() text.Style {
	return text.Style{Color: l.color, Font: font.From(plot.DefaultFont, l.size), Handler: plot.DefaultTextHandler}
}

// height is the data area the rows take, for a chart's headroom.
func (l *rowLabels) height() vg.Length {
	return l.top + vg.Length(l.rows)*l.style().Rectangle("Xg").Size().Y
}

func (l *rowLabels) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	sty := l.style()
	h := sty.Rectangle("Xg").Size().Y
	order := make([]int, len(l.xs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(l.xs[a], l.xs[b]) })
	// Every label by its name first. While some find no room, the one
	// label whose short form (a fault's number) leaves out the fewest
	// takes it: as many names as fit, and as few labels lost.
	short := make([]bool, len(order))
	placed, dropped := l.layout(c, trX, order, short)
	for dropped > 0 {
		best, bestK := dropped, -1
		for k, i := range order {
			if short[k] || l.short[i] == "" {
				continue
			}
			short[k] = true
			if _, d := l.layout(c, trX, order, short); d < best {
				best, bestK = d, k
			}
			short[k] = false
		}
		if bestK < 0 {
			break
		}
		short[bestK] = true
		placed, dropped = l.layout(c, trX, order, short)
	}
	l.dropped = dropped
	for _, pl := range placed {
		c.FillText(sty, vg.Point{X: pl.x, Y: c.Max.Y - l.top - vg.Length(pl.row+1)*h}, pl.text)
	}
}

type placedLabel struct {
	text string
	x    vg.Length
	row  int
}

// layout places the labels in x order, each on the first row where it
// clears the one before; short[k] says whether the k-th in order takes
// its short form. A label that fits nowhere tries its short form, then
// is left out.
func (l *rowLabels) layout(c draw.Canvas, trX func(float64) vg.Length, order []int, short []bool) (placed []placedLabel, dropped int) {
	sty := l.style()
	ends := make([]vg.Length, l.rows)
	for i := range ends {
		ends[i] = vg.Length(math.Inf(-1))
	}
	place := func(x vg.Length, s string) bool {
		w := sty.Width(s)
		// Right of its line, or left of it near the right edge.
		x0 := x + vg.Points(2)
		if x0+w > c.Max.X {
			x0 = x - vg.Points(2) - w
		}
		row := slices.IndexFunc(ends, func(end vg.Length) bool { return end <= x0 })
		if row < 0 {
			return false
		}
		ends[row] = x0 + w + vg.Points(4)
		placed = append(placed, placedLabel{s, x0, row})
		return true
	}
	for k, i := range order {
		x, text := trX(l.xs[i]), l.texts[i]
		if short[k] && l.short[i] != "" {
			text = l.short[i]
		}
		if !place(x, text) && (l.short[i] == "" || !place(x, l.short[i])) {
			dropped++
		}
	}
	return placed, dropped
}

// headroom is the top of a y axis whose data reach hi, leaving the top
// of the data area free for rows of labels.
func headroom(hi float64, rows vg.Length, figure vg.Length) float64 {
	return hi / (1 - labelShare(rows, figure))
}

// labelShare is the share of a chart's data area that rows of labels
// take: their height out of the data area's, which the figure's height
// nearly gives.
func labelShare(rows vg.Length, figure vg.Length) float64 {
	data := figure - vg.Points(70) // title and x axis
	return math.Min(float64(rows/data), 0.5)
}

// countTicks mark counts at a round step (1, 2, 2.5 or 5 times a power
// of ten) giving 4 to 8 labels, with minor ticks between: gonum's default
// gives as few as two, labelled "250.00".
type countTicks struct{}

func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	if hi <= lo {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	step := math.Pow(10, math.Floor(math.Log10(hi-lo)))
	for _, m := range []float64{0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5} {
		if (hi-lo)/(step*m) <= 8 {
			step *= m
			break
		}
	}
	step = max(step, 1) // counts: no halves
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
		if minor := v + step/2; minor < hi {
			ticks = append(ticks, plot.Tick{Value: minor})
		}
	}
	return ticks
}

// decadeTicks label an axis of log10 values with the values: 1, 10, 100,
// with minor ticks at 2 to 9 times each.
type decadeTicks struct{}

func (decadeTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for k := math.Floor(lo); k <= hi; k++ {
		if k >= lo {
			ticks = append(ticks, plot.Tick{Value: k, Label: strconv.FormatFloat(math.Pow(10, k), 'f', -1, 64)})
		}
		for m := 2.0; m < 10; m++ {
			if v := k + math.Log10(m); v >= lo && v <= hi {
				ticks = append(ticks, plot.Tick{Value: v})
			}
		}
	}
	return ticks
}
