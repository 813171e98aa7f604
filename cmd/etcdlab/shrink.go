package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/etcdlab/etcdlab/scenarios"
)

// shrink makes a failing seed's experiment smaller (scenarios.Shrink),
// prints each reduction tried, and writes the smallest experiment that
// still fails the same check as a file `etcdlab run` takes.
func (inv *invocation) shrink(out io.Writer) (int, error) {
	e, err := inv.experiment(inv.seed)
	if err != nil {
		return 2, errUsage{err.Error()}
	}
	if inv.budget < 1 {
		return 2, errUsage{fmt.Sprintf("shrink: --budget %d: use 1 or more", inv.budget)}
	}
	fmt.Fprintf(out, "shrinking %s seed %d (at most %d runs)\n", inv.source, inv.seed, inv.budget)
	small, r, err := scenarios.Shrink(e, inv.check, inv.opts, inv.budget, func(st scenarios.ShrinkStep) {
		mark := "no  "
		if st.Kept {
			mark = "kept"
		}
		fmt.Fprintf(out, "  %s %s\n", mark, st.What)
	})
	switch {
	case errors.Is(err, scenarios.ErrNothingToShrink):
		fmt.Fprintln(out, err)
		return 0, nil
	case errors.Is(err, scenarios.ErrNoSuchFailure):
		return 2, errUsage{fmt.Sprintf("shrink: --check: %v", err)}
	case err != nil:
		return 1, err
	}
	s := small.Settings
	failed := r.Failed()[0]
	for _, v := range r.Failed() {
		if v.Name == inv.check {
			failed = v
		}
	}
	fmt.Fprintf(out, "smallest: %d faults (of %d), %d members, %d clients, %d keys, %v; still fails %s: %s\n",
		len(small.Faults), len(e.Faults), s.Nodes, s.Clients, s.Keys, s.Duration, failed.Name, shorten(failed.Detail, 100))
	if err := writeAtomically(inv.out, []byte(small.String())); err != nil {
		return 3, errWrite{err}
	}
	fmt.Fprintf(out, "wrote %s; run it: go run ./cmd/etcdlab run %s\n", inv.out, inv.out)
	return 0, nil
}

// writeAtomically writes the file whole or not at all: a temporary file
// beside it, synced, then renamed over it.
func writeAtomically(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a rename, there is nothing left to remove
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes it private
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
