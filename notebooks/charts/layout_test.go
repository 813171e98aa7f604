package charts

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

func canvas() draw.Canvas {
	return draw.New(vgimg.New(26*vg.Centimeter, 13*vg.Centimeter))
}

// The legend goes right of the data, in room taken from the data area:
// it can cover nothing.
func TestSideLegendTakesRoomFromTheData(t *testing.T) {
	p := plot.New()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 10, 0, 10
	before := p.DataCanvas(canvas())
	l := newSideLegend(p)
	l.Add("a long legend entry, wider than the axis's last label", swatch{colorLeader})
	after := p.DataCanvas(canvas())
	width := p.Legend.TextStyle.Width(" a long legend entry, wider than the axis's last label") + p.Legend.ThumbnailWidth
	require.LessOrEqual(t, after.Max.X, canvas().Max.X-width, "the data end left of the legend")
	require.Greater(t, after.Max.X, before.Max.X-width-vg.Points(legendGap+1), "and take no more room than it needs")
}

// Labels at the same moment go one under another; with the rows full the
// rest are left out, and a label with a short form falls back to it.
func TestRowLabelsNeverOverlap(t *testing.T) {
	p := plot.New()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 10, 0, 10
	l := &rowLabels{color: colorLeader, size: vg.Points(9), rows: 3}
	for range 5 {
		l.add(1, "n1, term 2")
	}
	l.add(1.2, "a long name that has no room", "7")
	l.add(5, "n2, term 3") // far enough: the first row again
	p.Add(l)
	p.Draw(canvas())
	require.Equal(t, 3, l.dropped, "three rows: two of the five left out, and the last at 1.2 finds no room either")

	// One row, three faults close together: by name, only the first
	// fits; with numbers for the crowded, all do.
	l = &rowLabels{color: colorLeader, size: vg.Points(9), rows: 1}
	l.add(1, "1 partition n1,n2", "1")
	l.add(1.5, "2 crash n3", "2")
	l.add(2, "3 pause n4", "3")
	p = plot.New()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 20, 0, 10
	p.Add(l)
	p.Draw(canvas())
	require.Equal(t, 0, l.dropped, "by name, 2 and 3 find no room; numbers for the crowded make room")
}
