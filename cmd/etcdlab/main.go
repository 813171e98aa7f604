// Command etcdlab runs etcdlab's scenarios: a simulated etcd cluster on a
// virtual clock, replayable from its seed.
//
//	etcdlab list
//	etcdlab run SCENARIO [--seed N] [--duration D] [--bug NAME,...]
//	etcdlab replay SCENARIO [--seed N] ...
//	etcdlab plot SCENARIO [--seed N] --out FILE.png
//	etcdlab sweep SCENARIO [--seeds 1-40] ...
//
// Exit status: 0 when every verdict holds, 1 when one fails, 2 for bad
// input.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/etcdlab/etcdlab/node"
	"github.com/etcdlab/etcdlab/notebooks/charts"
	"github.com/etcdlab/etcdlab/scenarios"
	"github.com/etcdlab/etcdlab/sim"
)

const usage = `etcdlab: a laboratory for etcd's internals, on a simulated clock and network.

usage:
  etcdlab list                        the scenarios
  etcdlab run SCENARIO [flags]        run one seed and summarize it
  etcdlab replay SCENARIO [flags]     run one seed and print its trace, one event a line
  etcdlab plot SCENARIO --out F.png   draw client latency over virtual time
  etcdlab sweep SCENARIO [flags]       run many seeds, a line each, and list the failures

flags (run, replay, plot, sweep):
  --seed N          the seed; every run of one seed is the same (default 1)
  --seeds LIST      sweep only: seeds as ranges and single seeds, e.g. 1-40 or 3,7,10-12 (default 1-10)
  --duration D      virtual time to simulate, e.g. 20s (default: the scenario's)
  --bug NAME,...    switch on deliberate bugs, to watch a checker catch them:
                    %s
  --report-dir DIR  where a failed check writes its visualization (default: a temp dir)
`

// errUsage marks bad input: exit status 2.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func main() {
	code, err := run(os.Args[1:], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdlab:", err)
		var u errUsage
		if errors.As(err, &u) {
			fmt.Fprintln(os.Stderr, "run 'etcdlab help' for usage")
			code = 2
		} else if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func run(args []string, out io.Writer) (int, error) {
	if len(args) == 0 {
		fmt.Fprintf(out, usage, strings.Join(node.BugNames(), ", "))
		return 2, nil
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprintf(out, usage, strings.Join(node.BugNames(), ", "))
		return 0, nil
	case "list":
		if len(args) > 0 {
			return 2, errUsage{fmt.Sprintf("list takes no arguments, got %q", args)}
		}
		for _, s := range scenarios.All() {
			fmt.Fprintf(out, "%-14s %s\n", s.Name, s.Summary)
		}
		return 0, nil
	case "run", "replay", "plot", "sweep":
		inv, err := parseRun(cmd, args)
		if err != nil {
			return 2, err
		}
		return inv.do(out)
	}
	return 2, errUsage{fmt.Sprintf("unknown command %q", cmd)}
}

// invocation is a parsed run, replay or plot command.
type invocation struct {
	cmd      string
	scenario string
	seed     uint64
	seeds    []uint64 // sweep
	opts     scenarios.Options
	out      string
}

func parseRun(cmd string, args []string) (*invocation, error) {
	inv := &invocation{cmd: cmd}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by main
	fs.Uint64Var(&inv.seed, "seed", 1, "")
	seeds := fs.String("seeds", "1-10", "")
	fs.DurationVar(&inv.opts.Duration, "duration", 0, "")
	bug := fs.String("bug", "", "")
	fs.StringVar(&inv.opts.ReportDir, "report-dir", "", "")
	fs.StringVar(&inv.out, "out", "", "")

	// The scenario may come before or after the flags.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		inv.scenario, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return nil, errUsage{fmt.Sprintf("%s: %v", cmd, err)}
	}
	rest := fs.Args()
	if inv.scenario == "" && len(rest) > 0 {
		inv.scenario, rest = rest[0], rest[1:]
	}
	switch {
	case inv.scenario == "":
		return nil, errUsage{fmt.Sprintf("%s: which scenario? one of: %s", cmd, strings.Join(scenarios.Names(), ", "))}
	case len(rest) > 0:
		return nil, errUsage{fmt.Sprintf("%s: unexpected arguments %q", cmd, rest)}
	case inv.opts.Duration < 0 || (inv.opts.Duration == 0 && isSet(fs, "duration")):
		return nil, errUsage{fmt.Sprintf("%s: --duration %v must be positive", cmd, inv.opts.Duration)}
	case cmd == "plot" && inv.out == "":
		return nil, errUsage{"plot: --out FILE.png is required"}
	case cmd != "plot" && inv.out != "":
		return nil, errUsage{fmt.Sprintf("%s: --out is only for plot", cmd)}
	case cmd == "sweep" && isSet(fs, "seed"):
		return nil, errUsage{"sweep: use --seeds, e.g. --seeds 1-40"}
	case cmd != "sweep" && isSet(fs, "seeds"):
		return nil, errUsage{fmt.Sprintf("%s: --seeds is only for sweep; use --seed N", cmd)}
	}
	if cmd == "sweep" {
		var err error
		if inv.seeds, err = parseSeeds(*seeds); err != nil {
			return nil, errUsage{fmt.Sprintf("sweep: --seeds %q: %v", *seeds, err)}
		}
	}
	if _, ok := scenarios.Lookup(inv.scenario); !ok {
		return nil, errUsage{fmt.Sprintf("unknown scenario %q (known: %s)", inv.scenario, strings.Join(scenarios.Names(), ", "))}
	}
	if *bug != "" {
		if err := inv.opts.Bugs.Set(*bug); err != nil {
			return nil, errUsage{fmt.Sprintf("%s: --bug: %v", cmd, err)}
		}
	}
	if inv.out != "" {
		if err := charts.CheckPath(inv.out); err != nil {
			return nil, errUsage{fmt.Sprintf("plot: --out: %v", err)}
		}
	}
	if inv.opts.ReportDir == "" {
		inv.opts.ReportDir = os.TempDir()
	}
	return inv, nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func (inv *invocation) do(out io.Writer) (int, error) {
	if inv.cmd == "sweep" {
		return inv.sweep(out)
	}
	start := time.Now()
	r, err := scenarios.Run(inv.scenario, inv.seed, inv.opts)
	if err != nil {
		return 2, errUsage{err.Error()}
	}
	wall := time.Since(start)
	switch inv.cmd {
	case "replay":
		for _, line := range r.Trace {
			fmt.Fprintln(out, line)
		}
		fmt.Fprintln(out)
	case "plot":
		if err := charts.SaveLatency(r, inv.out); err != nil {
			return 1, err
		}
		fmt.Fprintf(out, "wrote %s\n", inv.out)
	}
	summarize(out, r, wall)
	if !r.OK() {
		return 1, nil
	}
	return 0, nil
}

// summarize prints a run the way a student reads it: what was simulated,
// who led when, what faults hit, how clients fared, and the verdicts.
func summarize(out io.Writer, r *scenarios.Result, wall time.Duration) {
	fmt.Fprintf(out, "scenario %s, seed %d\n", r.Scenario, r.Seed)
	fmt.Fprintf(out, "settings:\n%s", r.Settings)
	fmt.Fprintln(out, "faults:")
	if len(r.Faults) == 0 {
		fmt.Fprintln(out, "  none")
	}
	for _, f := range r.Faults {
		fmt.Fprintf(out, "  %s to %s  %s\n", sim.FormatTime(f.Start), sim.FormatTime(f.End), f.Label)
	}
	fmt.Fprintln(out, "leaders:")
	for _, lc := range r.LeaderChanges {
		fmt.Fprintf(out, "  %s  n%d leads term %d\n", sim.FormatTime(lc.At), lc.Member, lc.Term)
	}
	ok, failed, unknown := r.Counts()
	fmt.Fprintf(out, "operations: %d ok, %d failed, %d unknown outcome; latency p50 %v, p99 %v (virtual)\n",
		ok, failed, unknown, r.Latency(0.50).Round(time.Microsecond), r.Latency(0.99).Round(time.Microsecond))
	fmt.Fprintf(out, "network: %d messages sent, %d delivered, %d dropped, %d duplicated, %d blocked by partitions\n",
		r.Net.Sent, r.Net.Delivered, r.Net.Dropped, r.Net.Duplicated, r.Net.Blocked)
	fmt.Fprintln(out, "verdicts:")
	r.WriteVerdicts(out)
	fmt.Fprintf(out, "fingerprint: %s\n", r.Fingerprint)
	speed := float64(r.Settings.Duration) / float64(wall)
	fmt.Fprintf(out, "simulated %v in %v wall time (%.0fx real time), %d events\n",
		r.Settings.Duration, wall.Round(time.Millisecond), speed, r.Events)
	fmt.Fprintf(out, "replay: %s  (%d trace lines)\n", r.ReplayCommand(), len(r.Trace))
}
