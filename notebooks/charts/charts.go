package charts

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/etcdlab/etcdlab/scenarios"
)

// A Chart is one kind of figure. It is drawn either from one run's
// Result (Run) or from many seeds' summaries, grouped by a setting
// (Seeds); exactly one of the two is set.
type Chart struct {
	Name  string
	About string // one line, for `etcdlab plot --list`
	Run   func(r *scenarios.Result) (*plot.Plot, error)
	Seeds func(groups []Group) (*plot.Plot, error)
	// Width and Height of the figure; 0 is 26 × 13 cm, 983 × 491 pixels
	// in a PNG.
	Width, Height vg.Length
}

// Group is one setting's seeds, for a chart across seeds: the runs of
// `etcdlab plot SOURCE --seeds 1-500 --vary election-timeout=...`, one
// group per value.
type Group struct {
	Label  string // the value of the setting that differs, "1s", or the source alone
	Vary   string // the setting that differs between groups, "election-timeout"; "" for one group
	Source string // the scenario or file
	Seeds  []Seed
}

// Seed is what a chart across seeds keeps of one run.
type Seed struct {
	Seed uint64
	// Downtime is the run's first leader loss (scenarios.Result.Downtime);
	// nil if no fault hit a leader.
	Downtime *scenarios.Downtime
}

// All are the charts etcdlab draws, in the order `plot --list` shows them.
var All = []Chart{
	{Name: "latency", About: "client latency over virtual time, by operation; faults shaded; new leaders, step-downs, snapshot restores, membership changes and a failed check's first violation marked", Run: Latency},
	{Name: "latency-cdf", About: "the distribution of client latency per operation type (log scale), p50 and p99 marked: linearizable vs serializable reads, reads vs writes", Run: LatencyCDF},
	{Name: "timeline", About: "each member's raft role over virtual time, a lane each: follower, learner, pre-candidate, candidate, leader with its term, paused, down; faults shaded", Run: Timeline, Height: timelineHeight, Width: 26 * vg.Centimeter},
	{Name: "throughput", About: "client operations completed per second over virtual time, by outcome (ok, failed, unknown); faults shaded; new leaders, step-downs and a failed check's first violation marked", Run: Throughput},
	{Name: "raft-log", About: "each member's in-memory raft log (entries) over virtual time: growth, compaction after snapshots; snapshots saved, sent and restored marked", Run: RaftLog},
	{Name: "watch-lag", About: "how late watchers heard of each write: per event, from the first member applying its revision to the watcher receiving it; faults shaded, new leaders marked", Run: WatchLag},
	{Name: "downtime", About: "how long the cluster had no leader, and no acknowledged write, after a fault hit the leader: a cumulative curve of each, per --vary value", Seeds: Downtime},
	{Name: "election", About: "how long the cluster had no leader after a fault hit the leader, per --vary value: the Raft paper's figure 16", Seeds: ElectionTime},
}

// runName names a run in a chart's title: its source and seed, and the
// settings given on the command line, so two charts of one scenario with
// different flags say how they differ.
func runName(r *scenarios.Result) string {
	name := fmt.Sprintf("%s, seed %d", filepath.Base(r.Source), r.Seed())
	for _, a := range r.Options.Set {
		name += fmt.Sprintf(", --%s %s", a.Key, a.Value)
	}
	return name
}

// Lookup finds a chart by name, with a message that lists the names.
func Lookup(name string) (Chart, error) {
	for _, c := range All {
		if c.Name == name {
			return c, nil
		}
	}
	return Chart{}, fmt.Errorf("no chart %q; charts: %s (etcdlab plot --list says what each draws)", name, strings.Join(Names(), ", "))
}

// Names are the charts' names.
func Names() []string {
	var names []string
	for _, c := range All {
		names = append(names, c.Name)
	}
	return names
}

// Save writes p to path, whole or not at all; the extension picks the
// format (.png, .svg, .pdf).
func (c Chart) Save(p *plot.Plot, path string) error {
	w, h := c.Width, c.Height
	if w == 0 {
		w, h = 26*vg.Centimeter, 13*vg.Centimeter
	}
	return save(p, w, h, path)
}

func save(p *plot.Plot, w, h vg.Length, path string) error {
	if err := CheckPath(path); err != nil {
		return err
	}
	// Drawn into a temporary file beside it (with its extension, which
	// picks the format), then renamed over it.
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.tmp-%d%s", filepath.Base(path), os.Getpid(), filepath.Ext(path)))
	defer os.Remove(tmp)
	if err := p.Save(w, h, tmp); err != nil {
		return fmt.Errorf("save chart: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save chart: %w", err)
	}
	return nil
}

// formats are the file extensions a chart can be saved as.
var formats = []string{".png", ".svg", ".pdf"}

// CheckPath says whether a chart can be saved at path: a known extension,
// in a directory that exists. Checking first spares a run whose chart
// could not be written.
func CheckPath(path string) error {
	if !slices.Contains(formats, strings.ToLower(filepath.Ext(path))) {
		return fmt.Errorf("%q: the extension picks the format; use one of %s", path, strings.Join(formats, ", "))
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%q: no directory %s to write it in", path, dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%q is a directory", path)
	}
	return CheckWritable(dir)
}

// CheckWritable says whether files can be created in dir, by creating
// one and removing it: permissions alone do not tell (a read-only mount,
// /proc).
func CheckWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".etcdlab-check-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
