package charts

import (
	"cmp"
	"fmt"
	"image/color"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/etcdlab/etcdlab/scenarios"
)

// A role is what a member was doing over a span of the timeline: a raft
// role (raft's StateType names, as Result.States records them), or its
// process down or paused.
type role struct {
	state  string // as in scenarios.StateChange.State
	legend string
	color  color.Color
}

// roles in the legend's order, from the quiet to the faulty.
var roles = []role{
	{"StateFollower", "follower", color.RGBA{R: 215, G: 215, B: 215, A: 255}},
	{"learner", "learner (no vote)", color.RGBA{R: 190, G: 225, B: 190, A: 255}},
	{"StatePreCandidate", "pre-candidate (pre-vote)", color.RGBA{R: 240, G: 200, B: 30, A: 255}},
	{"StateCandidate", "candidate", color.RGBA{R: 245, G: 125, B: 20, A: 255}},
	{"StateLeader", "leader (term)", colorLeader},
	{"paused", "paused process", color.RGBA{R: 140, G: 190, B: 240, A: 255}},
	{"down", "down: crashed, stopped or removed", color.RGBA{R: 110, G: 15, B: 15, A: 255}},
}

func roleOf(state string) (role, bool) {
	i := slices.IndexFunc(roles, func(r role) bool { return r.state == state })
	if i < 0 {
		return role{}, false
	}
	return roles[i], true
}

// timelineHeight fits 5 lanes (up to 7) and a legend of the roles and a
// dozen faults beside them, readable at 800 pixels wide.
const timelineHeight = 12 * vg.Centimeter

// Timeline is every member's raft role over virtual time: a lane per
// member, n1 at the top, a bar for each span it was follower,
// pre-candidate, candidate or leader (labelled with its term where it
// fits), paused or down. Fault windows are shaded behind, named above
// the lanes and in the legend.
func Timeline(r *scenarios.Result) (*plot.Plot, error) {
	if len(r.States) == 0 {
		return nil, fmt.Errorf("%s, seed %d: the run recorded no member states (Result.States); run it again with this version of etcdlab, which records them", r.Source, r.Seed())
	}
	ids := timelineMembers(r)
	end := r.Settings.Duration
	for _, s := range r.States {
		end = max(end, s.At)
	}

	p := plot.New()
	p.Title.Text = runName(r) + ": each member's raft role over virtual time"
	p.X.Label.Text = "virtual time (s)"
	p.X.Min, p.X.Max = 0, seconds(end)
	p.X.Tick.Marker = secondTicks{}
	p.Y.Label.Text = "member (a lane each)"
	var ticks []plot.Tick
	for i, id := range ids {
		ticks = append(ticks, plot.Tick{Value: float64(len(ids) - 1 - i), Label: fmt.Sprintf("n%d", id)})
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	leg := newSideLegend(p)

	// The faults' names go on three rows above the lanes (their numbers
	// where the names do not fit): the y axis reaches past the top lane
	// by the rows' height.
	names := &rowLabels{color: color.RGBA{R: 190, G: 40, B: 40, A: 255}, size: vg.Points(9), rows: 3, top: vg.Points(1)}
	for _, f := range r.Faults {
		if f.Fired {
			names.add(seconds(f.Start), f.Label, fmt.Sprint(f.Index))
		}
	}
	p.Y.Min, p.Y.Max = -0.5, float64(len(ids))-0.5
	if len(names.xs) > 0 {
		rows, data := names.height(), timelineHeight-vg.Points(70)
		p.Y.Max += float64(len(ids)) * float64(rows/(data-rows))
	}

	shadeFaults(p, r, leg)
	spans, err := roleSpans(r, ids, end)
	if err != nil {
		return nil, err
	}
	ls := &lanes{spans: spans}
	used := map[string]bool{}
	for _, s := range spans {
		used[s.role.state] = true
	}
	p.Add(ls)
	for _, ro := range roles {
		if used[ro.state] {
			leg.Add(ro.legend, swatch{ro.color})
		}
	}
	p.Add(names)
	return p, nil
}

// timelineMembers are the members with a lane, in order: every member
// that ran, and any the run ended with.
func timelineMembers(r *scenarios.Result) []uint64 {
	var ids []uint64
	for _, s := range r.States {
		ids = append(ids, s.Member)
	}
	for _, m := range r.Members {
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// roleSpans are the timeline's bars: each member's states, in lanes
// numbered from the bottom (ids' last), each held until the next or
// until end.
func roleSpans(r *scenarios.Result, ids []uint64, end time.Duration) ([]roleSpan, error) {
	byMember := map[uint64][]scenarios.StateChange{}
	for _, s := range r.States {
		byMember[s.Member] = append(byMember[s.Member], s)
	}
	var spans []roleSpan
	for i, id := range ids {
		lane := len(ids) - 1 - i // n1 on top
		changes := byMember[id]
		slices.SortStableFunc(changes, func(a, b scenarios.StateChange) int { return cmp.Compare(a.At, b.At) })
		for k, s := range changes {
			ro, ok := roleOf(s.State)
			if !ok {
				return nil, fmt.Errorf("%s, seed %d: n%d's state %q at %v is none the timeline knows (%s); add it to roles in notebooks/charts/timeline.go", r.Source, r.Seed(), id, s.State, s.At, roleNames())
			}
			to := end
			if k+1 < len(changes) {
				to = changes[k+1].At
			}
			// A span continuing the one before in the same role (a
			// follower's new term, a restart's first state) is one bar.
			if last := len(spans) - 1; k > 0 && spans[last].role.state == ro.state && ro.state != "StateLeader" {
				spans[last].to = seconds(to)
				continue
			}
			spans = append(spans, roleSpan{lane: lane, from: seconds(s.At), to: seconds(to), role: ro, term: s.Term})
		}
	}
	return spans, nil
}

func roleNames() string {
	var s []string
	for _, r := range roles {
		s = append(s, r.state)
	}
	return fmt.Sprint(s)
}

// roleSpan is one bar of the timeline, in seconds.
type roleSpan struct {
	lane     int
	from, to float64
	role     role
	term     uint64
}

// lanes draws the timeline's bars. A bar narrower than a point and a
// half (a pre-vote that took a millisecond) is widened to that and drawn
// over its neighbours, so every election shows; a leader's bar gets its
// term, "t3", where the text fits inside it, so no two labels meet.
type lanes struct {
	spans []roleSpan
}

// barHeight is a bar's share of its lane: the rest shows the fault
// shading behind.
const barHeight = 0.62

func (l *lanes) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	minW := vg.Points(1.5)
	bar := func(s roleSpan, x0, x1 vg.Length) {
		x0, x1 = max(x0, c.Min.X), min(x1, c.Max.X)
		if x1 > x0 {
			fillRect(&c, s.role.color, x0, x1, trY(float64(s.lane)-barHeight/2), trY(float64(s.lane)+barHeight/2))
		}
	}
	for _, s := range l.spans {
		bar(s, trX(s.from), trX(s.to))
	}
	// Widened bars one after another, so a pre-vote and the candidacy
	// that follows it a few milliseconds later both show.
	widened := map[int]vg.Length{}
	for _, s := range l.spans {
		if s.role.state != "StateFollower" && trX(s.to)-trX(s.from) < minW {
			x0 := trX(s.from)
			if end, ok := widened[s.lane]; ok {
				x0 = max(x0, end)
			}
			bar(s, x0, x0+minW)
			widened[s.lane] = x0 + minW
		}
	}
	sty := text.Style{Color: color.White, Font: font.From(plot.DefaultFont, vg.Points(9)), Handler: plot.DefaultTextHandler,
		XAlign: draw.XCenter, YAlign: draw.YCenter}
	for _, s := range l.spans {
		if s.role.state != "StateLeader" {
			continue
		}
		label := fmt.Sprintf("t%d", s.term)
		x0, x1 := max(trX(s.from), c.Min.X), min(trX(s.to), c.Max.X)
		if x1-x0 >= sty.Width(label)+vg.Points(4) {
			c.FillText(sty, vg.Point{X: (x0 + x1) / 2, Y: trY(float64(s.lane))}, label)
		}
	}
}
