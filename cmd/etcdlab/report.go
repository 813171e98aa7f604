package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/etcdlab/etcdlab/internal/atomicfile"
	"github.com/etcdlab/etcdlab/notebooks/charts"
	"github.com/etcdlab/etcdlab/scenarios"
)

// report writes one self-contained HTML page of a run: the experiment,
// the verdicts, the latency chart, and a timeline of faults, leaders and
// violations; a failed verdict links to the timeline, and each event of
// it to the trace lines around it.
func (inv *invocation) writeReport(out io.Writer, r *scenarios.Result, wall time.Duration) (int, error) {
	var chart template.URL
	if len(r.History) > 0 { // a run without clients has no latency to draw
		p, err := charts.Latency(r)
		if err != nil {
			return 1, err
		}
		var png bytes.Buffer
		c := vgimg.PngCanvas{Canvas: vgimg.New(26*vg.Centimeter, 13*vg.Centimeter)}
		p.Draw(draw.New(c))
		if _, err := c.WriteTo(&png); err != nil {
			return 1, err
		}
		chart = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png.Bytes()))
	}
	var summary bytes.Buffer
	summarize(&summary, r, wall)
	page := reportPage{
		Title:       fmt.Sprintf("etcdlab: %s, seed %d", r.Source, r.Seed()),
		Experiment:  r.Experiment.String(),
		Chart:       chart,
		Replay:      r.ReplayCommand(),
		Fingerprint: r.Fingerprint,
	}
	for _, v := range r.Verdicts {
		page.Verdicts = append(page.Verdicts, reportVerdict{Mark: v.Mark(), Name: v.Name, Detail: v.Detail, Failed: !v.OK})
	}
	page.Events = timeline(r)
	var b bytes.Buffer
	if err := reportTemplate.Execute(&b, page); err != nil {
		return 1, err
	}
	if err := atomicfile.WriteFile(inv.out, b.Bytes()); err != nil {
		return 3, errWrite{err}
	}
	fmt.Fprintf(out, "wrote %s\n", inv.out)
	if !r.OK() {
		return 1, nil
	}
	return 0, nil
}

type reportPage struct {
	Title, Experiment, Replay, Fingerprint string
	Chart                                  template.URL
	Verdicts                               []reportVerdict
	Events                                 []reportEvent
}

type reportVerdict struct {
	Mark, Name, Detail string
	Failed             bool
}

type reportEvent struct {
	ID     string
	At     string
	What   string
	Kind   string // fault, leader, violation
	Around []string
}

var violation = regexp.MustCompile(`^ *([0-9]+\.[0-9]{6})s safety +VIOLATION (.*)$`)

// timeline is the run's faults, leader changes and safety violations in
// time order, each with the trace lines of the 20 ms around it.
func timeline(r *scenarios.Result) []reportEvent {
	type ev struct {
		at         time.Duration
		what, kind string
	}
	var evs []ev
	for _, f := range r.Faults {
		if f.Fired {
			evs = append(evs, ev{f.Start, fmt.Sprintf("fault %d begins: %s (%s)", f.Index, f.Hit(), f.Fault), "fault"})
			if f.End > f.Start {
				evs = append(evs, ev{f.End, fmt.Sprintf("fault %d ends", f.Index), "fault"})
			}
		}
	}
	for _, lc := range r.LeaderChanges {
		evs = append(evs, ev{lc.At, fmt.Sprintf("n%d leads term %d", lc.Member, lc.Term), "leader"})
	}
	for _, line := range r.Trace {
		if m := violation.FindStringSubmatch(line); m != nil {
			at, _ := strconv.ParseFloat(m[1], 64)
			evs = append(evs, ev{time.Duration(at * float64(time.Second)), m[2], "violation"})
		}
	}
	slices.SortStableFunc(evs, func(a, b ev) int { return int(a.at - b.at) })
	var out []reportEvent
	for i, e := range evs {
		out = append(out, reportEvent{ID: fmt.Sprintf("e%d", i+1), At: fmt.Sprintf("%.6fs", e.at.Seconds()), What: e.what, Kind: e.kind,
			Around: around(r.Trace, e.at, 10*time.Millisecond)})
	}
	return out
}

// around are the trace lines within d of t (at most 40).
func around(trace []string, t, d time.Duration) []string {
	var out []string
	for _, line := range trace {
		m := traceLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		at, _ := strconv.ParseFloat(m[1], 64)
		lt := time.Duration(at * float64(time.Second))
		if lt >= t-d && lt <= t+d {
			out = append(out, strings.TrimSpace(line))
			if len(out) == 40 {
				break
			}
		}
	}
	return out
}

var reportTemplate = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:75em;color:#222}
h1{font-size:1.4em} h2{font-size:1.1em;margin-top:2em}
table{border-collapse:collapse} td,th{padding:.2em .6em;border-bottom:1px solid #ddd;vertical-align:top;text-align:left}
.FAIL,.UNDECIDED{color:#b00;font-weight:bold} .ok{color:#070}
.violation{background:#fee} .fault{background:#fff4e0} .leader{background:#f2ecfb}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.85em}
details pre{margin:.3em 0}
img{max-width:100%}
</style></head><body>
<h1>{{.Title}}</h1>
<p>Replay: <code>{{.Replay}}</code><br>Fingerprint: <code>{{.Fingerprint}}</code></p>
<h2>Verdicts</h2>
<table>{{range .Verdicts}}<tr><td class="{{.Mark}}">{{.Mark}}</td><td>{{.Name}}</td><td>{{.Detail}}{{if .Failed}} — <a href="#timeline">see the timeline</a>{{end}}</td></tr>{{end}}</table>
<h2>Client latency</h2>
{{if .Chart}}<img alt="client latency over virtual time" src="{{.Chart}}">{{else}}<p>No client operation in this run, so no latency chart.</p>{{end}}
<h2 id="timeline">Timeline: faults, leaders, violations</h2>
<table>{{range .Events}}<tr id="{{.ID}}" class="{{.Kind}}"><td>{{.At}}</td><td>{{.What}}<details><summary>the trace around it</summary><pre>{{range .Around}}{{.}}
{{end}}</pre></details></td></tr>{{end}}</table>
<h2>Experiment</h2>
<pre>{{.Experiment}}</pre>
</body></html>
`))
