package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/etcdlab/etcdlab/notebooks/charts"
	"github.com/etcdlab/etcdlab/scenarios"
)

// Plotting. A chart of one run draws that run's Result; a chart across
// seeds runs a sweep per --vary value (in worker processes, as sweep
// does) and draws what each seed's summary kept.

// listCharts prints `plot --list`.
func listCharts(out io.Writer) {
	fmt.Fprintln(out, "charts (etcdlab plot SCENARIO|FILE --chart NAME --out F.png; .svg and .pdf too):")
	for _, c := range charts.All {
		kind := "one run (--seed N)"
		if c.Seeds != nil {
			kind = "across seeds (--seeds LIST [--vary SETTING=V1,V2,...])"
		}
		fmt.Fprintf(out, "  %-12s %s\n  %-12s %s\n", c.Name, kind, "", c.About)
	}
}

// vary is --vary SETTING=V1,V2,...: one group of seeds per value.
type vary struct {
	key    string
	values []string
}

func parseVary(s string) (vary, error) {
	key, list, ok := strings.Cut(s, "=")
	if !ok || key == "" || list == "" {
		return vary{}, fmt.Errorf("--vary %q: write SETTING=V1,V2,..., e.g. --vary election-timeout=500ms,1s,2s", s)
	}
	key = strings.TrimPrefix(key, "--")
	v := vary{key: key}
	if n := len(strings.Split(list, ",")); n > 10 {
		return vary{}, fmt.Errorf("--vary %s: %d values; a chart tells at most 10 groups apart", key, n)
	}
	seen := map[string]string{}
	for _, value := range strings.Split(list, ",") {
		var st scenarios.Settings
		if err := st.Set(key, value); err != nil {
			return vary{}, fmt.Errorf("--vary %s: %v", key, strings.TrimPrefix(err.Error(), key+": "))
		}
		// Two spellings of one value (1s, 1000ms) are one group twice.
		canon := st.Get(key)
		if was, ok := seen[canon]; ok {
			return vary{}, fmt.Errorf("--vary %s: %s and %s are the same value; give each value once", key, was, value)
		}
		seen[canon] = value
		v.values = append(v.values, value)
	}
	return v, nil
}

// plotSeeds runs the invocation's seeds once per --vary value, prints a
// line per group, and draws the chart across them.
func (inv *invocation) plotSeeds(out io.Writer) (int, error) {
	values := []string{""}
	if inv.vary.key != "" {
		values = inv.vary.values
	}
	start := time.Now()
	// Every group's experiments are checked before the first runs, so a
	// bad value is refused before minutes of work.
	type group struct {
		label string // the value, as the chart's legend names it
		sub   *invocation
	}
	var todo []group
	for _, value := range values {
		args := withoutFlags(inv.args, "chart", "out", "vary")
		label := inv.source
		if value != "" {
			args = append(args, "--"+inv.vary.key, value)
			label = value
		}
		sub, err := parse("sweep", args)
		if err != nil {
			return 2, err
		}
		for _, seed := range sub.seeds {
			if _, err := sub.experiment(seed); err != nil {
				if value != "" {
					return 2, errUsage{fmt.Sprintf("plot --vary %s=%s: %v", inv.vary.key, value, err)}
				}
				return 2, errUsage{err.Error()}
			}
		}
		todo = append(todo, group{label, sub})
	}
	var groups []charts.Group
	code := 0
	for _, t := range todo {
		label, sub := t.label, t.sub
		var failing []seedResult
		g := charts.Group{Label: label, Vary: inv.vary.key, Source: inv.source}
		var downs []scenarios.Downtime
		failed := 0
		err := sub.runSeeds(sub.seeds, func(sr seedResult) {
			g.Seeds = append(g.Seeds, charts.Seed{Seed: sr.Seed, Downtime: sr.Downtime})
			if sr.Downtime != nil {
				downs = append(downs, *sr.Downtime)
			}
			if !sr.OK {
				failed++
				failing = append(failing, sr)
			}
		})
		if err != nil {
			return exitStatus(err)
		}
		name := label
		if inv.vary.key != "" {
			name = inv.vary.key + " " + label
		}
		fmt.Fprintf(out, "%s: %s, %d ok, %d failed\n", name, seedCount(len(g.Seeds)), len(g.Seeds)-failed, failed)
		if inv.chart.Name == "downtime" || inv.chart.Name == "election" {
			writeDowntimeSummary(out, downs, len(g.Seeds))
		}
		if failed > 0 {
			code = 1 // drawn all the same
			slices.SortFunc(failing, func(a, b seedResult) int { return cmp.Compare(a.Seed, b.Seed) })
			var seeds []string
			for _, sr := range failing[:min(len(failing), 10)] {
				seeds = append(seeds, fmt.Sprint(sr.Seed))
			}
			more := ""
			if len(failing) > 10 {
				more = fmt.Sprintf(" and %d more", len(failing)-10)
			}
			fmt.Fprintf(out, "  failing seeds: %s%s; the first: %s\n", strings.Join(seeds, ", "), more, failing[0].Replay)
		}
		groups = append(groups, g)
	}
	p, err := inv.chart.Seeds(groups)
	if err != nil {
		return 2, errUsage{fmt.Sprintf("plot --chart %s: %v", inv.chart.Name, err)}
	}
	if err := inv.chart.Save(p, inv.out); err != nil {
		return 3, errWrite{err}
	}
	fmt.Fprintf(out, "wrote %s", inv.out)
	if wallClock {
		fmt.Fprintf(out, " (%v wall time)", time.Since(start).Round(time.Millisecond))
	}
	fmt.Fprintln(out)
	if code != 0 {
		fmt.Fprintln(out, "some seeds failed a check (their folders are in --report-dir); the chart draws them all the same")
	}
	return code, nil
}

// plotRun draws a chart of one run.
func (inv *invocation) plotRun(out io.Writer, r *scenarios.Result) (int, error) {
	p, err := inv.chart.Run(r)
	if err != nil {
		return 2, errUsage{fmt.Sprintf("plot --chart %s: %v", inv.chart.Name, err)}
	}
	if err := inv.chart.Save(p, inv.out); err != nil {
		return 3, errWrite{err}
	}
	fmt.Fprintf(out, "wrote %s\n", inv.out)
	return 0, nil
}

// withoutFlags is args without the named flags and their values, in
// either spelling (--name value, --name=value, one dash or two).
func withoutFlags(args []string, names ...string) []string {
	var kept []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		if a == name { // not a flag
			kept = append(kept, a)
			continue
		}
		bare, _, hasValue := strings.Cut(name, "=")
		drop := false
		for _, n := range names {
			drop = drop || bare == n
		}
		if !drop {
			kept = append(kept, a)
			continue
		}
		if !hasValue {
			i++ // the value is the next argument
		}
	}
	return kept
}
