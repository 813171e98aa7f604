package charts

import (
	"fmt"
	"image/color"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/scenarios"
)

// throughputBins are the bin widths Throughput picks from: the narrowest
// that gives at most maxBins bins. Narrower bins show an election's gap
// sharply but count few operations each, so the line turns to noise.
var throughputBins = []time.Duration{
	100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute,
}

const maxBins = 150

func throughputBin(d time.Duration) time.Duration {
	for _, b := range throughputBins {
		if (d+b-1)/b <= maxBins {
			return b
		}
	}
	return throughputBins[len(throughputBins)-1]
}

// Throughput is client operations completed per second over virtual
// time, by outcome: successful ones, those that definitely failed, and
// those whose outcome the client never learnt, each counted in the bin
// where it ended. Fault windows are shaded and every new leader is a
// dashed line, so a gap shows what caused it.
func Throughput(r *scenarios.Result) (*plot.Plot, error) {
	if r.Settings.Duration <= 0 {
		return nil, fmt.Errorf("%s, seed %d: the run has no duration (Settings.Duration), so there is no time to bin operations in", r.Source, r.Seed())
	}
	if len(r.History) == 0 {
		return nil, fmt.Errorf("%s: no client operation in the run, so there is no throughput to draw; give it --clients 1 or more", runName(r))
	}
	end := r.Settings.Duration
	for _, op := range r.History {
		end = max(end, op.Return)
	}
	bin := throughputBin(end)
	n := int((end + bin - 1) / bin)
	end = time.Duration(n) * bin // the last bin whole, so its rate is not diluted
	perSecond := float64(time.Second) / float64(bin)

	p := plot.New()
	p.Title.Text = runName(r) + ": client throughput (virtual time)"
	p.X.Label.Text = fmt.Sprintf("virtual time (s); operations counted where they ended, in bins of %v", bin)
	if st := r.Settings; st.Settle > 0 {
		p.X.Label.Text += fmt.Sprintf("; clients stop at %v", st.Duration-st.Settle)
	}
	p.Y.Label.Text = "operations completed per second"
	p.Y.Tick.Marker = countTicks{}
	p.X.Min, p.X.Max = 0, seconds(end)
	p.X.Tick.Marker = secondTicks{}
	leg := newSideLegend(p)

	outcomes := []struct {
		outcome checker.Outcome
		name    string
		color   color.Color
		width   vg.Length
	}{
		{checker.OK, "ok", colorPut, vg.Points(2)},
		{checker.Failed, "failed", colorFailed, vg.Points(1.5)},
		{checker.Unknown, "unknown outcome", colorUnknown, vg.Points(1.5)},
	}
	counts := make([][]int, len(outcomes))
	totals := make([]int, len(outcomes))
	for i := range counts {
		counts[i] = make([]int, n)
	}
	for _, op := range r.History {
		for i, o := range outcomes {
			if op.Outcome == o.outcome {
				counts[i][min(int(op.Return/bin), n-1)]++
				totals[i]++
			}
		}
	}
	peak := 0.0
	for _, cs := range counts {
		for _, c := range cs {
			peak = max(peak, float64(c)*perSecond)
		}
	}
	if peak == 0 {
		peak = 1
	}

	elections := &rowLabels{color: colorLeader, size: vg.Points(9), rows: 3}
	p.Y.Min, p.Y.Max = 0, headroom(peak*1.03, elections.height(), 13*vg.Centimeter)

	shadeFaults(p, r, leg)
	if err := markNewLeaders(p, r, p.Y.Min, p.Y.Max, leg.Add); err != nil {
		return nil, err
	}
	for _, lc := range r.LeaderChanges {
		elections.add(seconds(lc.At), fmt.Sprintf("n%d, term %d", lc.Member, lc.Term), fmt.Sprintf("t%d", lc.Term))
	}

	// The rare outcomes drawn first, under the successes: at zero, where
	// most of their bins are, they would hide an outage.
	lines := make([]*plotter.Line, len(outcomes))
	for i := len(outcomes) - 1; i >= 0; i-- {
		o := outcomes[i]
		if totals[i] == 0 && o.outcome != checker.OK {
			continue
		}
		// A step per bin, held to the bin's end.
		xys := make(plotter.XYs, 0, n+1)
		for b, c := range counts[i] {
			xys = append(xys, plotter.XY{X: seconds(time.Duration(b) * bin), Y: float64(c) * perSecond})
		}
		xys = append(xys, plotter.XY{X: seconds(end), Y: xys[len(xys)-1].Y})
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		line.StepStyle = plotter.PostStep
		line.Color = o.color
		line.Width = o.width
		p.Add(line)
		lines[i] = line
	}
	for i, o := range outcomes {
		if lines[i] != nil {
			leg.Add(fmt.Sprintf("%s (%d)", o.name, totals[i]), lines[i])
		}
	}
	if err := markStepDowns(p, r, p.Y.Min, p.Y.Max, leg.Add); err != nil {
		return nil, err
	}
	if err := markFailures(p, r, p.Y.Min, p.Y.Max, leg.Add); err != nil {
		return nil, err
	}
	p.Add(elections)
	p.Add(plotter.NewGrid())
	return p, nil
}
