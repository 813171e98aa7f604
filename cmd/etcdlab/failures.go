package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/etcdlab/etcdlab/notebooks/charts"
	"github.com/etcdlab/etcdlab/scenarios"
	"github.com/etcdlab/etcdlab/sim"
)

// One folder per failing run, under --report-dir (default
// ./etcdlab-failures): everything needed to study the failure without
// running anything — the experiment as a file (run it to replay), the
// summary, the trace, the latency chart, porcupine's page of a failed
// linearizability check — and a README with the replay and shrink
// commands. The folder is built under a temporary name and renamed into
// place, so a full disk leaves no half-written folder behind.

// DefaultReportDir is where failing runs leave their folders.
const DefaultReportDir = "etcdlab-failures"

// writeFailure writes the folder of a failed run and returns its path.
func (inv *invocation) writeFailure(r *scenarios.Result, wall time.Duration) (string, error) {
	name := fmt.Sprintf("%s-seed%d-%.8s", strings.TrimSuffix(filepath.Base(r.Source), filepath.Ext(r.Source)), r.Seed(), r.Fingerprint)
	final := filepath.Join(inv.opts.ReportDir, name)
	if done, err := sameRunsFolder(final, r); done || err != nil {
		return final, err
	}
	if err := os.MkdirAll(inv.opts.ReportDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(inv.opts.ReportDir, "."+name+".tmp-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // after the rename, nothing is left to remove
	for i, v := range r.Verdicts {
		if v.Visualization != "" {
			// porcupine's page, written where every run writes them: it
			// moves into the folder, and the summary says where.
			if err := os.Rename(v.Visualization, filepath.Join(tmp, filepath.Base(v.Visualization))); err != nil {
				return "", err
			}
			r.Verdicts[i].Visualization = filepath.Join(final, filepath.Base(v.Visualization))
		}
	}
	if err := inv.writeTrace(r, filepath.Join(tmp, "trace.txt")); err != nil {
		return "", err
	}
	var summary bytes.Buffer
	summarize(&summary, r, wall)
	fork := ""
	if f := r.Options.Fork; f != nil {
		fork = fmt.Sprintf(" --until %v --fork %d", f.At, f.K)
	}
	shrink := fmt.Sprintf("go run ./cmd/etcdlab shrink %s --out small.txt", r.Invocation())
	if fork != "" {
		shrink = "(shrink cannot fork: it shrinks runs that fail as they are)"
	}
	readme := fmt.Sprintf("%s, seed %d: %s\n\nreplay:  %s\nrerun:   go run ./cmd/etcdlab run %s%s\nshrink:  %s\n",
		r.Source, r.Seed(), firstFailure(r), r.ReplayCommand(), scenarios.ShellQuote(filepath.Join(final, "experiment.txt")), fork, shrink)
	files := map[string]string{
		"experiment.txt": r.Experiment.String(),
		"summary.txt":    summary.String(),
		"README.txt":     readme,
	}
	for _, f := range []string{"experiment.txt", "summary.txt", "README.txt"} {
		if err := os.WriteFile(filepath.Join(tmp, f), []byte(files[f]), 0o644); err != nil {
			return "", err
		}
	}
	if len(r.History) > 0 { // a run without clients has no latency to draw
		if err := charts.SaveLatency(r, filepath.Join(tmp, "latency.png")); err != nil {
			return "", err
		}
	}
	if !r.OK() && len(r.Checked) > 0 {
		// porcupine's page of the failing key (or k0), annotated with the
		// faults and leaders, even when the failed check is not
		// linearizability: what the clients saw is the first thing to read.
		if err := porcupinePage(r, nil, filepath.Join(tmp, "porcupine.html")); err != nil {
			return "", err
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		// Another process wrote the same run's folder meanwhile (running
		// the seed again for its trace takes as long as the run).
		if done, _ := sameRunsFolder(final, r); done {
			return final, nil
		}
		return "", err
	}
	return final, nil
}

// sameRunsFolder says whether final already holds the folder of this run
// (one seed, one fingerprint: the same files), and if so points r's
// porcupine page, one too many, at the folder's. Anything else at that
// path is an error: it is not the folder the summary would name.
func sameRunsFolder(final string, r *scenarios.Result) (bool, error) {
	fi, err := os.Stat(final)
	if err != nil {
		return false, nil
	}
	if _, err := os.Stat(filepath.Join(final, "README.txt")); !fi.IsDir() || err != nil {
		return false, fmt.Errorf("%s is in the way: it is not a failure folder etcdlab wrote whole; move it", final)
	}
	for i, v := range r.Verdicts {
		if v.Visualization != "" {
			os.Remove(v.Visualization)
			r.Verdicts[i].Visualization = filepath.Join(final, filepath.Base(v.Visualization))
		}
	}
	return true, nil
}

// writeTrace writes the text of r's trace to path. A run keeps none
// unless asked (see scenarios.Options.KeepTrace), so this runs the seed
// again, streaming its lines to the file: a run is a pure function of its
// seed, and the fingerprints prove the second run is the first.
func (inv *invocation) writeTrace(r *scenarios.Result, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 256<<10)
	line := func(l string) {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if r.Options.KeepTrace {
		for _, l := range r.Trace {
			line(l)
		}
	} else {
		again := *inv
		again.opts = r.Options
		again.opts.Trace, again.opts.ReportDir, again.opts.TraceOnly = line, "", true
		r2, err := again.runSeed(r.Seed())
		if err != nil {
			return fmt.Errorf("running seed %d again for its trace: %w", r.Seed(), err)
		}
		if r2.Fingerprint != r.Fingerprint {
			return fmt.Errorf("seed %d ran again for its trace with fingerprint %.12s, not %.12s: the simulation is not deterministic (see run --check-determinism)",
				r.Seed(), r2.Fingerprint, r.Fingerprint)
		}
		// The verdicts are this run's: a check that gave up on the wall
		// clock might not give up again.
		for _, v := range r.Verdicts {
			for _, l := range sim.FormatLines(r.Settings.Duration, "run", scenarios.VerdictLine(v)) {
				line(l)
			}
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func firstFailure(r *scenarios.Result) string {
	failed := r.Failed()
	if len(failed) == 0 {
		return "every check passed"
	}
	return fmt.Sprintf("%s %s: %s", failed[0].Mark(), failed[0].Name, failed[0].Detail)
}
