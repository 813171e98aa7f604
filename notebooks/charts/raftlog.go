package charts

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/etcdlab/etcdlab/scenarios"
)

// memberColors tell members apart, n1 first; teal is left out, as the
// snapshot restores' lines are teal.
var memberColors = []color.Color{
	colorPut, colorDelete, colorGet, colorCAS, colorCASRev, colorUnknown,
	color.RGBA{R: 227, G: 119, B: 194, A: 255},
}

// RaftLog is each member's in-memory raft log over virtual time, in
// entries: it grows with every write and drops when the member compacts
// it after saving a snapshot. Snapshots saved are marked on the member's
// line, snapshots a leader sent on the leader's line, and a follower
// restoring one is a dotted line, labelled as on the latency chart. A
// member's line breaks while it is down.
func RaftLog(r *scenarios.Result) (*plot.Plot, error) {
	if len(r.LogSizes) == 0 {
		return nil, fmt.Errorf("%s, seed %d: the run recorded no raft log sizes (Result.LogSizes); run it again with this version of etcdlab, which records them", r.Source, r.Seed())
	}
	end := r.Settings.Duration
	for _, s := range r.LogSizes {
		end = max(end, s.At)
	}
	logs := memberLogs(r, end)

	p := plot.New()
	st := r.Settings.Member
	p.Title.Text = runName(r) + ": each member's raft log in memory (virtual time)\n"
	// Compaction shows as a drop in a member's samples: it happens every
	// 100 applied entries beyond the catch-up entries, with or without a
	// snapshot on disk.
	compacted := false
	last := map[uint64]uint64{}
	for _, l := range r.LogSizes {
		if prev, ok := last[l.Member]; ok && l.Entries < prev {
			compacted = true
			break
		}
		last[l.Member] = l.Entries
	}
	if compacted {
		p.Title.Text += fmt.Sprintf("drops: raft's log compacted every %d applied entries (a disk snapshot every --snapshot-count %d), keeping --snapshot-catchup-entries %d",
			min(st.SnapshotCount, 100), st.SnapshotCount, st.SnapshotCatchUpEntries)
	} else {
		p.Title.Text += fmt.Sprintf("no drop: no member applied enough entries to compact past --snapshot-catchup-entries %d", st.SnapshotCatchUpEntries)
	}
	// Why the leader's line climbs on after a send while its snapshots
	// go on: etcd holds off compaction while a snapshot is in flight and
	// for 30s after it got through (node/snapshot.go's
	// releaseDelayAfterSnapshot), so the follower finds the entries that
	// follow it.
	if slices.ContainsFunc(r.Snapshots, func(s scenarios.SnapshotRecord) bool { return s.Kind == scenarios.SnapshotSent }) {
		p.Title.Text += "\na member that sent a snapshot as leader compacts nothing while it is in flight and for 30s after"
	}
	p.X.Label.Text = "virtual time (s)"
	p.X.Min, p.X.Max = 0, seconds(end)
	p.X.Tick.Marker = secondTicks{}
	p.Y.Label.Text = "entries in raft's in-memory log"
	p.Y.Tick.Marker = countTicks{}
	leg := newSideLegend(p)

	restores := &rowLabels{color: colorStorage, size: vg.Points(8), rows: 3}
	peak := 0.0
	for _, l := range logs {
		peak = max(peak, float64(l.peak))
	}
	p.Y.Min, p.Y.Max = 0, headroom(max(peak, 1)*1.03, restores.height(), 13*vg.Centimeter)
	// A leader that sent a snapshot may hold thousands of entries while
	// the others compact theirs to a hundred, whose sawtooth would be a
	// flat line at the foot of a linear axis. Past four times what
	// compaction lets a log reach, the axis is logarithmic, from 1. It
	// plots log10 of the sizes on a linear axis with decadeTicks: with
	// gonum's LogScale the axis label is placed by the linear middle of
	// the range, near the top, and the data area shrinks to make room.
	y := func(entries float64) float64 { return entries }
	if reach := min(st.SnapshotCount, 100) + st.SnapshotCatchUpEntries; compacted && peak > 4*float64(reach) {
		y = func(entries float64) float64 { return math.Log10(max(entries, 1)) } // an empty log at the foot
		p.Y.Tick.Marker = decadeTicks{}
		p.Y.Label.Text += " (log scale)"
		p.Y.Min, p.Y.Max = 0, y(peak*1.1)/(1-labelShare(restores.height(), 13*vg.Centimeter))
	}
	for _, l := range logs {
		for _, seg := range l.segments {
			for i := range seg {
				seg[i].Y = y(seg[i].Y)
			}
		}
	}

	shadeFaults(p, r, leg)
	// Each member's line a step narrower than the one before, n1's no
	// wider than 4 points: thicker, a sawtooth turns to a smear.
	step := 0.9
	if len(logs) > 1 {
		step = min(step, 3/float64(len(logs)-1))
	}
	for i, l := range logs {
		c := memberColors[i%len(memberColors)]
		var first *plotter.Line
		for _, seg := range l.segments {
			line, err := plotter.NewLine(seg)
			if err != nil {
				return nil, err
			}
			line.StepStyle = plotter.PostStep
			line.Color = c
			// Members holding the same log draw one line over another:
			// n1's widest, each next one narrower on top, so every
			// member's colour shows along the edges.
			line.Width = vg.Points(1.2 + step*float64(len(logs)-1-i))
			p.Add(line)
			if first == nil {
				first = line
			}
		}
		if first != nil {
			leg.Add(fmt.Sprintf("n%d (at most %d)", l.id, l.peak), first)
		}
	}

	savedAt, sent := plotter.XYs{}, plotter.XYs{}
	failed := 0
	for _, sn := range r.Snapshots {
		var l memberLog // none, for a member that never ran: at 0
		if i := slices.IndexFunc(logs, func(l memberLog) bool { return l.id == sn.Member }); i >= 0 {
			l = logs[i]
		}
		switch sn.Kind {
		case scenarios.SnapshotSaved:
			savedAt = append(savedAt, plotter.XY{X: seconds(sn.At), Y: y(float64(l.before(sn.At)))})
		case scenarios.SnapshotSent:
			sent = append(sent, plotter.XY{X: seconds(sn.At), Y: y(float64(l.before(sn.At)))})
			if sn.Failed {
				failed++
			}
		case scenarios.SnapshotRestored:
			restores.add(seconds(sn.At), fmt.Sprintf("n%d snapshot %d", sn.Member, sn.Index))
		}
	}
	for _, m := range []struct {
		xys   plotter.XYs
		name  string
		glyph draw.GlyphStyle
	}{
		{savedAt, fmt.Sprintf("snapshot saved (%d)", len(savedAt)), draw.GlyphStyle{Color: color.Black, Radius: vg.Points(2), Shape: draw.RingGlyph{}}},
		{sent, fmt.Sprintf("snapshot sent by the leader (%d, %d failed)", len(sent), failed), draw.GlyphStyle{Color: color.Black, Radius: vg.Points(3.5), Shape: draw.TriangleGlyph{}}},
	} {
		if len(m.xys) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(m.xys)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = m.glyph
		p.Add(sc)
		leg.Add(m.name, sc)
	}
	if err := vlines(p, restores.xs, p.Y.Min, p.Y.Max, colorStorage, dotted, "snapshot restored by a follower", leg.Add); err != nil {
		return nil, err
	}
	p.Add(restores)
	p.Add(plotter.NewGrid())
	return p, nil
}

// memberLog is one member's log sizes, as step lines: a segment for each
// stretch its process was up.
type memberLog struct {
	id       uint64
	samples  []scenarios.LogSize
	segments []plotter.XYs
	peak     uint64
}

// before is the member's log size just before at: a snapshot's marker
// sits at the top of the drop it causes.
func (l memberLog) before(at time.Duration) uint64 {
	i, _ := slices.BinarySearchFunc(l.samples, at, func(s scenarios.LogSize, t time.Duration) int { return cmp.Compare(s.At, t) })
	if i == 0 {
		return 0
	}
	return l.samples[i-1].Entries
}

// memberLogs splits each member's samples where its process went down.
// A sample is taken only when the size changed, so a member restarting
// with the log it had before records none: its last size holds.
func memberLogs(r *scenarios.Result, end time.Duration) []memberLog {
	ids := timelineMembers(r)
	for _, s := range r.LogSizes {
		ids = append(ids, s.Member)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var logs []memberLog
	for _, id := range ids {
		l := memberLog{id: id}
		// Up and down, in order: a sample is a change while up.
		type change struct {
			at      time.Duration
			down    bool
			entries uint64
			sample  bool
		}
		var changes []change
		for _, s := range r.States {
			if s.Member == id {
				changes = append(changes, change{at: s.At, down: s.State == "down"})
			}
		}
		for _, s := range r.LogSizes {
			if s.Member == id {
				l.samples = append(l.samples, s)
				l.peak = max(l.peak, s.Entries)
				changes = append(changes, change{at: s.At, entries: s.Entries, sample: true})
			}
		}
		slices.SortStableFunc(l.samples, func(a, b scenarios.LogSize) int { return cmp.Compare(a.At, b.At) })
		// States before samples at the same moment: a restart, then its log.
		slices.SortStableFunc(changes, func(a, b change) int { return cmp.Compare(a.at, b.at) })
		var seg plotter.XYs
		var size uint64
		up := len(r.States) == 0 // a result without states: up throughout
		closeSeg := func(at time.Duration) {
			if len(seg) > 0 {
				seg = append(seg, plotter.XY{X: seconds(at), Y: float64(size)})
				l.segments = append(l.segments, seg)
			}
			seg = nil
		}
		for _, c := range changes {
			switch {
			case c.sample:
				size, up = c.entries, true
				seg = append(seg, plotter.XY{X: seconds(c.at), Y: float64(size)})
			case c.down:
				closeSeg(c.at)
				up = false
			case !up:
				up = true
				seg = append(seg, plotter.XY{X: seconds(c.at), Y: float64(size)})
			}
		}
		if up {
			closeSeg(end)
		}
		logs = append(logs, l)
	}
	return logs
}
