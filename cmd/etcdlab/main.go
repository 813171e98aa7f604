// Command etcdlab runs etcdlab's experiments: a simulated etcd cluster on a
// virtual clock, replayable from its seed.
//
//	etcdlab list
//	etcdlab show SCENARIO [--seed N] [--SETTING VALUE ...] > exp.txt
//	etcdlab run SCENARIO|FILE [--seed N] [--SETTING VALUE ...]
//	etcdlab replay SCENARIO|FILE ...
//	etcdlab plot SCENARIO|FILE [--chart NAME] ... --out FILE.png
//	etcdlab plot SCENARIO|FILE --chart downtime --seeds 1-500 [--vary SETTING=V1,V2] --out FILE.png
//	etcdlab sweep SCENARIO|FILE [--seeds 1-40] [--report downtime] ...
//	etcdlab notebooks [--check]
//
// Exit status: 0 when every verdict holds, 1 when one fails, 2 for bad
// input.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/etcdlab/etcdlab/internal/atomicfile"
	"github.com/etcdlab/etcdlab/notebooks/charts"
	"github.com/etcdlab/etcdlab/scenarios"
	"github.com/etcdlab/etcdlab/sim"
)

const usage = `etcdlab: a laboratory for etcd's internals, on a simulated clock and network.

usage:
  etcdlab list                           the scenarios, and the fault kinds an experiment may use
  etcdlab show SCENARIO [flags]          print the experiment a seed draws, as a file you can edit and run
  etcdlab run SCENARIO|FILE [flags]      run one seed and summarize it
  etcdlab replay SCENARIO|FILE [flags]   run one seed and print its trace, one event a line
  etcdlab plot SCENARIO|FILE --out F.png draw a chart of one run (--chart NAME, default latency), or
                                         of many seeds (--seeds LIST); etcdlab plot --list names them
  etcdlab sweep SCENARIO|FILE [flags]    run many seeds, a line each, and list the failures
  etcdlab sweep merge FILES...           the final table of sweeps written with --json
  etcdlab report SCENARIO|FILE --out F.html  one self-contained page: verdicts, chart, timeline
  etcdlab shrink SCENARIO|FILE [flags]   make a failing seed's experiment as small as it can be while it
                                         fails the same check, and write it as a file to run
  etcdlab notebooks [--check] [--dir D] [NOTE.md]  run the study notes' etcdlab blocks (from the
                                         repository's root; notes in --dir, default notebooks) and write their
                                         output and figures; --check fails if any would change

exit status: 0 every check passed; 1 a check failed; 2 bad input; 3 a file could not be written

flags:
  --seed N            the seed; every run of one seed is the same (default 1, or the file's)
  --seeds LIST        sweep, plot: seeds as ranges and single seeds, e.g. 1-40 or 3,7,10-12 (default 1-10)
  --chart NAME        plot: which chart (default latency); etcdlab plot --list names them
  --vary K=V1,V2,...  plot --seeds: one group of seeds per value of setting K, e.g. election-timeout=500ms,1s
  --report downtime   sweep: per seed, leader loss to new leader and to first write, and their spread
  --check-determinism run: run twice and print the first trace line where the runs differ
  --workers N         sweep, plot --seeds: worker processes, one simulation each (default: the CPU count)
  --shard K/N|auto    sweep: run every N-th seed from the K-th (auto: a Kubernetes Indexed Job's
                      JOB_COMPLETION_INDEX, with ETCDLAB_SHARDS=N)
  --json              sweep: one JSON result a seed, for 'etcdlab sweep merge FILES...'
  --report-dir DIR    where a failing run leaves a folder: experiment, summary, trace, chart, porcupine's
                      page, the replay and shrink commands (default ./etcdlab-failures)
  --out FILE          plot: the chart to write (.png, .svg, .pdf; 983 px wide); shrink: the experiment file
                      (default shrunk-SOURCE-seedN.txt)
  --until T --fork K  run, replay: replay exactly up to virtual time T, then go on with fresh randomness K
  --until T --forks L run: try the forks L (e.g. 1-20) from T: if they all fail as the run does, the
                      failure was settled by T
  --check NAME        shrink: the check to keep failing (default: the first that fails)
  --node N --type T   replay: only lines of member or client N (and messages to or from it), only raft
                      messages of type T (MsgApp...), or T = client, fault, verdict
  --from T --to T     replay: only lines in this virtual-time window (3.5s, 200ms)
  --op ID             replay: the life of one request (its ID follows # in the trace): sent, proposed,
                      replicated, committed, answered
  --porcupine FILE    replay: porcupine's page of --porcupine-keys k0,k1 (default: the key that failed, else k0), with
                      faults and leader changes marked and the member that served each operation
  --mermaid FILE      replay: a Mermaid sequence diagram of the window's messages (or, with --op, of
                      the request's life), instead of the trace
  --chrome-trace FILE replay: Chrome trace-event JSON (Perfetto): members' terms as leader, clients'
                      operations, faults
  --budget N          shrink: runs the search may make (default 60)

settings (every command; a file's lines use the same keys):
%s`

// errHelp is a command's --help: its usage, exit status 0.
type errHelp struct{ cmd string }

func (e errHelp) Error() string { return e.cmd + " --help" }

// errWrite is a file that could not be written: exit status 3, apart
// from a failed check's 1.
type errWrite struct{ err error }

func (e errWrite) Error() string { return e.err.Error() }
func (e errWrite) Unwrap() error { return e.err }

// errUsage marks bad input: exit status 2.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func main() {
	code, err := run(os.Args[1:], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdlab:", err)
		var u errUsage
		var w errWrite
		switch {
		case errors.As(err, &u):
			fmt.Fprintln(os.Stderr, "run 'etcdlab help' for usage")
			code = 2
		case errors.As(err, &w):
			code = 3
		case code == 0:
			code = 1
		}
	}
	os.Exit(code)
}

func usageText() string {
	var b strings.Builder
	for _, key := range scenarios.SettingKeys() {
		fmt.Fprintf(&b, "  --%-30s %s\n", key+" V", scenarios.SettingDoc(key))
	}
	return fmt.Sprintf(usage, b.String())
}

func run(args []string, out io.Writer) (int, error) {
	if len(args) == 0 {
		return 2, errUsage{"which command? one of list, show, run, replay, plot, sweep, shrink, report, notebooks"}
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(out, usageText())
		return 0, nil
	case "list":
		if len(args) > 0 {
			return 2, errUsage{fmt.Sprintf("list takes no arguments, got %q", args)}
		}
		fmt.Fprintln(out, "scenarios:")
		for _, s := range scenarios.All() {
			fmt.Fprintf(out, "  %-14s %s\n", s.Name, s.Summary)
		}
		fmt.Fprintln(out, "fault kinds (fault KIND at=TIME for=DURATION who=leader|follower[:N]|learner|any[:N]|all|nN ...):")
		for _, k := range scenarios.FaultKinds() {
			fmt.Fprintf(out, "  %-12s %s\n", k[0], k[1])
		}
		return 0, nil
	case "sweep":
		if len(args) > 0 && args[0] == "merge" {
			return merge(args[1:], out)
		}
		return parseAndDo(cmd, args, out)
	case "plot":
		if slices.Contains(args, "--list") || slices.Contains(args, "-list") {
			if len(args) > 1 {
				return 2, errUsage{fmt.Sprintf("plot --list takes nothing else, got %q", args)}
			}
			listCharts(out)
			return 0, nil
		}
		return parseAndDo(cmd, args, out)
	case "notebooks":
		return notebooks(args, out)
	case "show", "run", "replay", "shrink", "report":
		return parseAndDo(cmd, args, out)
	}
	return 2, errUsage{fmt.Sprintf("unknown command %q", cmd)}
}

func parseAndDo(cmd string, args []string, out io.Writer) (int, error) {
	inv, err := parse(cmd, args)
	var help errHelp
	if errors.As(err, &help) {
		fmt.Fprint(out, usageText())
		return 0, nil
	}
	if err != nil {
		return 2, err
	}
	return inv.do(out)
}

// invocation is a parsed show, run, replay, plot or sweep command.
type invocation struct {
	cmd    string
	source string                // a scenario name or a file path
	file   *scenarios.Experiment // the file's experiment, if source is a file
	seed   uint64
	seeds  []uint64 // sweep
	opts   scenarios.Options
	out    string
	report string
	// sweep: the command line after "sweep" (workers get it again),
	// worker processes, this process's shard K of N, JSON lines out, and
	// worker mode (seeds come on stdin).
	args          []string
	seedsSpec     string // --seeds as given
	workers       int
	shard, shards int
	json, worker  bool
	// plot: the chart, and the setting whose values group the seeds.
	chart charts.Chart
	vary  vary
	// run: run twice and compare the traces.
	checkDeterminism bool
	// shrink: the check to keep failing ("" for the first that fails),
	// and how many runs the search may make.
	check  string
	budget int
	// replay: which trace lines to print, and the diagrams to write.
	filter               filter
	mermaid, chromeTrace string
	op                   string // one request's life
	porcupine            string // porcupine's page
	keys                 []string
	// run --until T --forks LIST: the forks to try from T.
	until time.Duration
	forks []uint64
}

// onceFlag is a flag that may be given once: a second --vary would
// silently replace the first.
type onceFlag struct {
	name  string
	value string
}

func (f *onceFlag) String() string { return f.value }
func (f *onceFlag) Set(v string) error {
	if f.value != "" {
		return fmt.Errorf("given twice; one --%s varies one setting", f.name)
	}
	f.value = v
	return nil
}

// settingFlag collects a setting override in the order given.
type settingFlag struct {
	key  string
	opts *scenarios.Options
}

func (f settingFlag) String() string { return "" }
func (f settingFlag) Set(v string) error {
	var s scenarios.Settings
	if err := s.Set(f.key, v); err != nil { // check the value now, for a clear message
		return errors.New(strings.TrimPrefix(err.Error(), f.key+": "))
	}
	if f.key == "bug" {
		// A list flag given twice accumulates: --bug a --bug b is --bug
		// a,b; --bug none clears what came before it.
		i := slices.IndexFunc(f.opts.Set, func(a scenarios.Arg) bool { return a.Key == "bug" })
		switch {
		case i >= 0 && v == "none":
			f.opts.Set = slices.Delete(f.opts.Set, i, i+1)
		case i >= 0 && f.opts.Set[i].Value != "none":
			f.opts.Set[i].Value += "," + v
			return nil
		case i >= 0:
			f.opts.Set[i].Value = v
			return nil
		}
	}
	f.opts.Set = append(f.opts.Set, scenarios.Arg{Key: f.key, Value: v})
	return nil
}

func parse(cmd string, args []string) (*invocation, error) {
	inv := &invocation{cmd: cmd}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by main
	fs.Uint64Var(&inv.seed, "seed", 1, "")
	seeds := fs.String("seeds", "1-10", "")
	fs.StringVar(&inv.opts.ReportDir, "report-dir", "", "")
	fs.StringVar(&inv.out, "out", "", "")
	fs.StringVar(&inv.report, "report", "", "")
	// GOMAXPROCS follows a container's CPU limit, where NumCPU would
	// count the whole machine's cores.
	fs.IntVar(&inv.workers, "workers", runtime.GOMAXPROCS(0), "")
	shard := fs.String("shard", "", "")
	fs.BoolVar(&inv.json, "json", false, "")
	inv.worker = cmd == "sweep" && os.Getenv(workerEnv) != ""
	fs.BoolVar(&inv.checkDeterminism, "check-determinism", false, "")
	fs.StringVar(&inv.check, "check", "", "")
	fs.StringVar(&inv.filter.node, "node", "", "")
	fs.StringVar(&inv.filter.typ, "type", "", "")
	fs.Var(durationFlag{&inv.filter.from}, "from", "")
	fs.Var(durationFlag{&inv.filter.to}, "to", "")
	fs.StringVar(&inv.mermaid, "mermaid", "", "")
	fs.StringVar(&inv.op, "op", "", "")
	var until time.Duration
	fs.Var(durationFlag{&until}, "until", "")
	fork := fs.Uint64("fork", 0, "")
	forks := fs.String("forks", "", "")
	fs.StringVar(&inv.porcupine, "porcupine", "", "")
	keys := fs.String("porcupine-keys", "", "")
	fs.StringVar(&inv.chromeTrace, "chrome-trace", "", "")
	fs.IntVar(&inv.budget, "budget", 60, "")
	chart := fs.String("chart", "latency", "")
	varyFlag := onceFlag{name: "vary"}
	fs.Var(&varyFlag, "vary", "")
	inv.args = args
	for _, key := range scenarios.SettingKeys() {
		fs.Var(settingFlag{key, &inv.opts}, key, "")
	}

	// Flags may come before, after or on both sides of the source: Go's
	// flag package stops at the first argument that is not a flag, so
	// parse again after each one.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			// The flag package names flags with one dash; this CLI's usage
			// spells them with two.
			msg := strings.ReplaceAll(err.Error(), "for flag -", "for --")
			msg = strings.ReplaceAll(msg, "flag provided but not defined: -", "unknown flag --")
			msg = strings.ReplaceAll(msg, "flag needs an argument: -", "a value is missing after --")
			msg = strings.ReplaceAll(msg, ": parse error", ": not a whole number from 0 to 18446744073709551615")
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp{cmd}
			}
			return nil, errUsage{fmt.Sprintf("%s: %s", cmd, msg)}
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) > 0 {
		inv.source, rest = rest[0], rest[1:]
	}
	switch {
	case inv.source == "":
		return nil, errUsage{fmt.Sprintf("%s: which scenario or experiment file? scenarios: %s", cmd, strings.Join(scenarios.Names(), ", "))}
	case len(rest) > 0:
		return nil, errUsage{fmt.Sprintf("%s: unexpected arguments %q", cmd, rest)}
	case cmd == "plot" && inv.out == "":
		return nil, errUsage{"plot: --out FILE.png is required (etcdlab plot --list names the charts)"}
	case cmd != "plot" && (isSet(fs, "chart") || isSet(fs, "vary")):
		return nil, errUsage{fmt.Sprintf("%s: --chart and --vary are for plot", cmd)}
	case cmd == "report" && !strings.HasSuffix(inv.out, ".html"):
		return nil, errUsage{"report: --out FILE.html is required"}
	case cmd != "plot" && cmd != "shrink" && cmd != "report" && inv.out != "":
		return nil, errUsage{fmt.Sprintf("%s: --out is only for plot, shrink and report", cmd)}
	case cmd != "replay" && (!inv.filter.empty() || inv.mermaid != "" || inv.chromeTrace != "" || inv.op != "" || inv.porcupine != "" || *keys != ""):
		return nil, errUsage{fmt.Sprintf("%s: --node, --type, --from, --to, --op, --mermaid, --chrome-trace, --porcupine and --porcupine-keys are for replay", cmd)}
	case cmd != "shrink" && inv.check != "":
		return nil, errUsage{fmt.Sprintf("%s: --check is only for shrink", cmd)}
	case cmd == "sweep" && isSet(fs, "seed"):
		return nil, errUsage{"sweep: use --seeds, e.g. --seeds 1-40"}
	case cmd != "sweep" && cmd != "plot" && isSet(fs, "seeds"):
		return nil, errUsage{fmt.Sprintf("%s: --seeds is only for sweep and plot; use --seed N", cmd)}
	case cmd != "sweep" && isSet(fs, "report"):
		return nil, errUsage{fmt.Sprintf("%s: --report is only for sweep", cmd)}
	case cmd != "run" && inv.checkDeterminism:
		return nil, errUsage{fmt.Sprintf("%s: --check-determinism is only for run", cmd)}
	case cmd != "sweep" && cmd != "plot" && isSet(fs, "workers"):
		return nil, errUsage{fmt.Sprintf("%s: --workers is only for sweep and plot --seeds", cmd)}
	case cmd != "sweep" && (isSet(fs, "shard") || isSet(fs, "json")):
		return nil, errUsage{fmt.Sprintf("%s: --shard and --json are only for sweep", cmd)}
	case inv.workers < 1:
		return nil, errUsage{fmt.Sprintf("%s: --workers %d: use 1 or more", cmd, inv.workers)}
	case inv.json && isSet(fs, "report"):
		return nil, errUsage{"sweep: --json writes every seed's result; --report is for the text summary"}
	case isSet(fs, "report") && inv.report != "downtime":
		return nil, errUsage{fmt.Sprintf("sweep: --report %q: the one report is downtime", inv.report)}
	}
	if _, ok := scenarios.Lookup(inv.source); !ok {
		e, err := readExperiment(inv.source)
		if err != nil {
			return nil, err
		}
		inv.file = &e
		if isSet(fs, "seed") {
			inv.opts.Seed = &inv.seed
		}
	}
	if cmd == "sweep" {
		var err error
		inv.seedsSpec = *seeds
		if inv.seeds, err = parseSeeds(*seeds); err != nil {
			return nil, errUsage{fmt.Sprintf("sweep: --seeds %q: %v", *seeds, err)}
		}
		inv.shard, inv.shards = 1, 1
		if *shard != "" {
			if inv.shard, inv.shards, err = parseShard(*shard); err != nil {
				return nil, errUsage{fmt.Sprintf("sweep: --shard: %v", err)}
			}
		}
	}
	if cmd == "plot" {
		var err error
		if inv.chart, err = charts.Lookup(*chart); err != nil {
			return nil, errUsage{fmt.Sprintf("plot: --chart: %v", err)}
		}
		across := inv.chart.Seeds != nil
		switch {
		case across && isSet(fs, "seed"):
			return nil, errUsage{fmt.Sprintf("plot --chart %s draws many seeds: use --seeds, e.g. --seeds 1-200", *chart)}
		case !across && (isSet(fs, "seeds") || isSet(fs, "vary") || isSet(fs, "workers")):
			return nil, errUsage{fmt.Sprintf("plot --chart %s draws one run: use --seed N (--seeds, --vary and --workers are for charts across seeds)", *chart)}
		case across:
			inv.seedsSpec = *seeds
			if inv.seeds, err = parseSeeds(*seeds); err != nil {
				return nil, errUsage{fmt.Sprintf("plot: --seeds %q: %v", *seeds, err)}
			}
		}
		if varyFlag.value != "" {
			if inv.vary, err = parseVary(varyFlag.value); err != nil {
				return nil, errUsage{"plot: " + err.Error()}
			}
			if slices.ContainsFunc(inv.opts.Set, func(a scenarios.Arg) bool { return a.Key == inv.vary.key }) {
				return nil, errUsage{fmt.Sprintf("plot: --%s is given and varied by --vary; give it only in --vary", inv.vary.key)}
			}
		}
	}
	if *keys != "" {
		inv.keys = strings.Split(*keys, ",")
	}
	inv.opts.Spans = inv.chromeTrace != "" // the only view that draws them
	switch {
	case (*fork != 0 || *forks != "") && !isSet(fs, "until"):
		return nil, errUsage{fmt.Sprintf("%s: --fork and --forks need --until T, the moment to fork at", cmd)}
	case isSet(fs, "until") && until == 0:
		return nil, errUsage{fmt.Sprintf("%s: --until 0: a fork must come after the start", cmd)}
	case until != 0 && *fork == 0 && *forks == "":
		return nil, errUsage{fmt.Sprintf("%s: --until needs --fork K (or --forks LIST on run)", cmd)}
	case *fork != 0 && *forks != "":
		return nil, errUsage{fmt.Sprintf("%s: --fork or --forks, not both", cmd)}
	case *forks != "" && cmd != "run":
		return nil, errUsage{fmt.Sprintf("%s: --forks is for run", cmd)}
	case (*fork != 0 || *forks != "") && cmd != "run" && cmd != "replay":
		return nil, errUsage{fmt.Sprintf("%s: --until and --fork are for run and replay", cmd)}
	case *fork != 0:
		inv.opts.Fork = &scenarios.Fork{At: until, K: *fork}
	case *forks != "":
		var err error
		if inv.forks, err = parseSeeds(*forks); err != nil {
			return nil, errUsage{fmt.Sprintf("%s: --forks %q: %v", cmd, *forks, err)}
		}
		if slices.Contains(inv.forks, 0) {
			return nil, errUsage{fmt.Sprintf("%s: --forks: fork 0 is the run itself; number forks from 1", cmd)}
		}
		inv.until = until
	}
	if cmd == "shrink" && inv.out == "" {
		inv.out = fmt.Sprintf("shrunk-%s-seed%d.txt", strings.TrimSuffix(filepath.Base(inv.source), filepath.Ext(inv.source)), inv.seed)
	}
	if inv.out != "" && cmd == "plot" {
		if err := charts.CheckPath(inv.out); err != nil {
			return nil, errUsage{fmt.Sprintf("plot: --out: %v", err)}
		}
	}
	if inv.out != "" && (cmd == "shrink" || cmd == "report") {
		if err := checkOut(inv.out); err != nil {
			return nil, errUsage{fmt.Sprintf("%s: --out: %v", cmd, err)}
		}
	}
	if inv.opts.ReportDir == "" {
		// Made when a failure first needs it: commands that write nothing
		// leave no empty folder behind.
		inv.opts.ReportDir = DefaultReportDir
	} else {
		if err := os.MkdirAll(inv.opts.ReportDir, 0o755); err != nil {
			return nil, errUsage{fmt.Sprintf("%s: --report-dir: %v", cmd, err)}
		}
		if err := charts.CheckWritable(inv.opts.ReportDir); err != nil {
			return nil, errUsage{fmt.Sprintf("%s: --report-dir: %v", cmd, err)}
		}
	}
	for _, out := range []string{inv.mermaid, inv.chromeTrace, inv.porcupine} {
		if err := checkOut(out); err != nil {
			return nil, errUsage{fmt.Sprintf("%s: %v", cmd, err)}
		}
	}
	if inv.porcupine == "" && len(inv.keys) > 0 {
		return nil, errUsage{fmt.Sprintf("%s: --porcupine-keys is for --porcupine", cmd)}
	}
	if inv.filter.to > 0 && inv.filter.from > inv.filter.to {
		return nil, errUsage{fmt.Sprintf("%s: --from %v is after --to %v", cmd, inv.filter.from, inv.filter.to)}
	}
	if cmd != "shrink" && isSet(fs, "budget") {
		return nil, errUsage{fmt.Sprintf("%s: --budget is only for shrink", cmd)}
	}
	return inv, nil
}

// readExperiment reads an experiment file, or says that the source is
// neither a scenario nor a readable file.
func readExperiment(path string) (scenarios.Experiment, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return scenarios.Experiment{}, errUsage{fmt.Sprintf("unknown scenario %q, and no such experiment file (scenarios: %s)",
				path, strings.Join(scenarios.Names(), ", "))}
		}
		return scenarios.Experiment{}, errUsage{fmt.Sprintf("experiment file: %v", err)}
	}
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return scenarios.Experiment{}, errUsage{fmt.Sprintf("%s is not a scenario, and not an experiment file: it is not text (scenarios: %s)", path, strings.Join(scenarios.Names(), ", "))}
	}
	e, err := scenarios.ParseExperiment(path, string(b))
	if err != nil {
		return e, errUsage{err.Error()}
	}
	return e, nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// runSeed runs the invocation's source with one seed.
func (inv *invocation) runSeed(seed uint64) (*scenarios.Result, error) {
	opts := inv.opts
	if inv.file != nil {
		if inv.cmd == "sweep" || opts.Seed != nil {
			opts.Seed = &seed
		}
		return scenarios.RunFile(inv.source, *inv.file, opts)
	}
	return scenarios.Run(inv.source, seed, opts)
}

// experiment is what the invocation would run with one seed.
func (inv *invocation) experiment(seed uint64) (scenarios.Experiment, error) {
	if inv.file == nil {
		return scenarios.Expand(inv.source, seed, inv.opts)
	}
	opts := inv.opts
	if inv.cmd == "sweep" {
		opts.Seed = &seed
	}
	return scenarios.Prepare(inv.source, *inv.file, opts)
}

func (inv *invocation) do(out io.Writer) (int, error) {
	switch inv.cmd {
	case "show":
		e, err := inv.experiment(inv.seed)
		if err != nil {
			return 2, errUsage{err.Error()}
		}
		fmt.Fprint(out, e)
		return 0, nil
	case "sweep":
		return inv.sweep(out)
	case "plot":
		if inv.chart.Seeds != nil {
			return inv.plotSeeds(out)
		}
	case "shrink":
		return inv.shrink(out)
	}
	if len(inv.forks) > 0 {
		return inv.runForks(out)
	}
	start := time.Now()
	var trace *bufio.Writer
	kept := 0 // trace lines the filters kept
	if inv.cmd == "replay" && inv.mermaid == "" && inv.chromeTrace == "" && inv.op == "" && inv.porcupine == "" {
		// The trace streams as the run goes: `replay ... | head` answers
		// at once, even for a run of minutes.
		trace = bufio.NewWriterSize(out, 64<<10)
		defer trace.Flush() // a run that panics still shows its last lines
		inv.opts.Trace = func(line string) {
			if inv.filter.keep(line) {
				kept++
				trace.WriteString(line)
				trace.WriteByte('\n')
			}
		}
	}
	// Views, reports and the determinism check read the trace's text; a
	// plain run formats none (it costs more than the simulation).
	inv.opts.KeepTrace = inv.cmd == "report" || inv.checkDeterminism || (inv.cmd == "replay" && trace == nil)
	r, err := inv.runSeed(inv.seed)
	if trace != nil {
		trace.Flush()
	}
	if err != nil {
		return 2, errUsage{err.Error()}
	}
	if inv.checkDeterminism {
		return inv.compareRuns(out, r)
	}
	wall := time.Since(start)
	switch inv.cmd {
	case "report":
		return inv.writeReport(out, r, wall)
	case "replay":
		if trace != nil && kept == 0 {
			fmt.Fprintln(out, "(no trace line matched --node, --type, --from and --to: members are n1.., clients c1.., types such as MsgApp, or client, fault, verdict)")
		}
		if code, err := inv.writeViews(out, r); err != nil {
			return code, err
		}
		fmt.Fprintln(out)
	case "plot":
		if code, err := inv.plotRun(out, r); err != nil {
			return code, err
		}
	}
	var dir string
	if !r.OK() {
		// The folder first: porcupine's page moves into it, and the
		// summary then names it where it is.
		if dir, err = inv.writeFailure(r, wall); err != nil {
			summarize(out, r, wall) // the run's outcome still counts
			return 3, errWrite{fmt.Errorf("the failure's folder: %w", err)}
		}
	}
	summarize(out, r, wall)
	if dir != "" {
		fmt.Fprintf(out, "failure folder: %s\n", dir)
		return 1, nil
	}
	return 0, nil
}

// writeViews writes the diagrams replay was asked for, or one request's
// life.
func (inv *invocation) writeViews(out io.Writer, r *scenarios.Result) (int, error) {
	lines := r.Trace
	if inv.op != "" {
		life, err := opLife(r.Trace, inv.op)
		if err != nil {
			return 2, errUsage{fmt.Sprintf("replay: --op: %v", err)}
		}
		if inv.mermaid == "" {
			for _, l := range life {
				fmt.Fprintln(out, l)
			}
		}
		lines = life // --mermaid draws the request's life
	}
	for _, v := range []struct {
		path  string
		write func(io.Writer) error
	}{
		{inv.mermaid, func(w io.Writer) error { return mermaid(w, lines, inv.filter) }},
		{inv.chromeTrace, func(w io.Writer) error { return chromeTrace(w, r) }},
	} {
		if v.path == "" {
			continue
		}
		var b bytes.Buffer
		if err := v.write(&b); err != nil {
			return 2, errUsage{fmt.Sprintf("replay: %v", err)}
		}
		if err := atomicfile.WriteFile(v.path, b.Bytes()); err != nil {
			return 3, errWrite{err}
		}
		fmt.Fprintf(out, "wrote %s\n", v.path)
	}
	if inv.porcupine != "" {
		if err := porcupinePage(r, inv.keys, inv.porcupine); err != nil {
			return 3, errWrite{fmt.Errorf("--porcupine: %w", err)}
		}
		fmt.Fprintf(out, "wrote %s\n", inv.porcupine)
	}
	return 0, nil
}

// checkOut refuses, before any work, a path a file cannot be written to:
// a folder, or one in a folder that is missing or read-only.
func checkOut(path string) error {
	if path == "" {
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a folder; name a file", path)
	}
	if err := charts.CheckWritable(filepath.Dir(path)); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// durationFlag is a --from/--to virtual time: 3.5s, 200ms.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string { return "" }
func (f durationFlag) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not a virtual time such as 3.5s", v)
	}
	*f.d = d
	return nil
}

// compareRuns runs the seed a second time and says whether the two runs
// are the same, and if not, the first trace line where they part: a
// simulation that is not a pure function of its seed breaks replays.
func (inv *invocation) compareRuns(out io.Writer, first *scenarios.Result) (int, error) {
	second, err := inv.runSeed(inv.seed)
	if err != nil {
		return 2, errUsage{err.Error()}
	}
	a, b := first.Trace, second.Trace
	for i := range max(len(a), len(b)) {
		if i < len(a) && i < len(b) && a[i] == b[i] {
			continue
		}
		line := func(t []string) string {
			if i < len(t) {
				return t[i]
			}
			return "(the trace had ended)"
		}
		fmt.Fprintf(out, "NOT DETERMINISTIC: the two runs part at trace line %d:\n  first:  %s\n  second: %s\n", i+1, line(a), line(b))
		return 1, nil
	}
	if first.Fingerprint != second.Fingerprint {
		// The fingerprint hashes every event's fields, some of which the
		// text does not show (a message's bytes).
		fmt.Fprintf(out, "NOT DETERMINISTIC: the two runs print the same %d trace lines but their fingerprints differ (%.12s, %.12s): an event's fields the text does not show differ\n",
			len(a), first.Fingerprint, second.Fingerprint)
		return 1, nil
	}
	fmt.Fprintf(out, "deterministic: two runs, %d identical trace lines, fingerprint %s\n", len(a), first.Fingerprint)
	return 0, nil
}

// summarize prints a run the way a student reads it: what was simulated,
// what the faults did, who led when, how clients fared, and the verdicts.
// wallClock says whether output may show wall-clock times. Notebooks
// turn it off: their output must be the same on every machine.
var wallClock = true

func summarize(out io.Writer, r *scenarios.Result, wall time.Duration) {
	e := r.Experiment
	fmt.Fprintf(out, "%s, seed %d\n", r.Source, r.Seed())
	fmt.Fprintln(out, "settings:")
	for _, line := range e.SettingLines() {
		fmt.Fprintf(out, "  %s\n", line)
	}
	fmt.Fprintln(out, "faults:")
	if len(r.Faults) == 0 {
		fmt.Fprintln(out, "  none")
	}
	for _, f := range r.Faults {
		fmt.Fprintf(out, "  %d. %s\n", f.Index, f.Fault)
		switch {
		case !f.Fired:
			fmt.Fprintf(out, "     did not fire: %s\n", f.Note)
		default:
			hit := "hit " + targets(f)
			switch {
			case len(f.Targets) == 0:
				hit = f.Note // an operator's fault acts on the cluster, not on members
			case f.Note != "":
				hit += "; " + f.Note
			}
			busy := "clients busy"
			if !r.Overlapped(f) {
				busy = "no client operation in flight"
			}
			fmt.Fprintf(out, "     %s to %s  %s; %s\n", sim.FormatTime(f.Start), sim.FormatTime(f.End), hit, busy)
		}
	}
	if len(r.Snapshots) > 0 {
		fmt.Fprintln(out, "snapshots:")
		writeSnapshots(out, r.Snapshots)
	}
	fmt.Fprintln(out, "leaders:")
	for _, lc := range r.LeaderChanges {
		fmt.Fprintf(out, "  %s  n%d leads term %d\n", sim.FormatTime(lc.At), lc.Member, lc.Term)
	}
	ok, failed, unknown := r.Counts()
	fmt.Fprintf(out, "operations: %d ok, %d failed, %d unknown outcome; latency p50 %v, p99 %v (virtual)\n",
		ok, failed, unknown, r.Latency(0.50).Round(time.Microsecond), r.Latency(0.99).Round(time.Microsecond))
	var kinds []string
	for _, k := range scenarios.OpTypes {
		if p50, n := r.LatencyOf(k, 0.50); n > 0 {
			p99, _ := r.LatencyOf(k, 0.99)
			kinds = append(kinds, fmt.Sprintf("%s p50 %v p99 %v", k, p50.Round(time.Microsecond), p99.Round(time.Microsecond)))
		}
	}
	if len(kinds) > 0 {
		fmt.Fprintf(out, "  by type: %s\n", strings.Join(kinds, "; "))
	}
	if res := r.Resolved; res.TookEffect+res.NeverApplied+res.Open > 0 {
		fmt.Fprintf(out, "  %s\n", res)
	}
	fmt.Fprintf(out, "network: %d messages sent, %d delivered, %d lost, %d duplicated, %d retransmitted, %d blocked, %d refused\n",
		r.Net.Sent, r.Net.Delivered, r.Net.Dropped, r.Net.Duplicated, r.Net.Retransmitted, r.Net.Blocked, r.Net.Refused)
	var disks []string
	for i, b := range r.DiskBytes {
		disks = append(disks, fmt.Sprintf("n%d %s", i+1, formatBytes(b)))
	}
	fmt.Fprintf(out, "storage: raft log at most %d entries in memory (n%d at %s); data directories at the end: %s\n",
		r.PeakRaftLog.Entries, r.PeakRaftLog.Member, strings.TrimSpace(sim.FormatTime(r.PeakRaftLog.At)), strings.Join(disks, ", "))
	fmt.Fprintf(out, "coverage: %s\n", r.Coverage())
	fmt.Fprintln(out, "verdicts:")
	r.WriteVerdicts(out)
	fmt.Fprintf(out, "fingerprint: %s\n", r.Fingerprint)
	if wallClock {
		speed := float64(r.Settings.Duration) / float64(wall)
		fmt.Fprintf(out, "simulated %v in %v wall time (%.0fx real time), %d events\n",
			r.Settings.Duration, wall.Round(time.Millisecond), speed, r.Events)
	} else {
		fmt.Fprintf(out, "simulated %v, %d events\n", r.Settings.Duration, r.Events)
	}
	fmt.Fprintf(out, "replay: %s\n", r.ReplayCommand())
}

// formatBytes is a size in the unit that reads best.
func formatBytes(b int) string {
	switch {
	case b >= 10<<20:
		return fmt.Sprintf("%dMiB", b>>20)
	case b >= 10<<10:
		return fmt.Sprintf("%dKiB", b>>10)
	}
	return fmt.Sprintf("%dB", b)
}

// writeSnapshots lists the sends and restores one a line, and the
// snapshots members saved to disk as a count per member with the last
// one's index and size: a long run saves hundreds.
func writeSnapshots(out io.Writer, snaps []scenarios.SnapshotRecord) {
	saved := map[uint64][]scenarios.SnapshotRecord{}
	var savers []uint64
	for _, s := range snaps {
		switch s.Kind {
		case scenarios.SnapshotSaved:
			if len(saved[s.Member]) == 0 {
				savers = append(savers, s.Member)
			}
			saved[s.Member] = append(saved[s.Member], s)
		case scenarios.SnapshotSent:
			outcome := fmt.Sprintf("saved by n%d after %v", s.Peer, s.Took.Round(time.Microsecond))
			if s.Failed {
				outcome = fmt.Sprintf("failed: no answer in %v", s.Took.Round(time.Millisecond))
			} else if s.Took == 0 {
				outcome = "still in flight at the end"
			}
			fmt.Fprintf(out, "  %s  n%d sent n%d snapshot %d (%d-byte db): %s\n", sim.FormatTime(s.At), s.Member, s.Peer, s.Index, s.Size, outcome)
		case scenarios.SnapshotRestored:
			fmt.Fprintf(out, "  %s  n%d restored its backend from snapshot %d\n", sim.FormatTime(s.At), s.Member, s.Index)
		}
	}
	slices.Sort(savers)
	for _, id := range savers {
		last := saved[id][len(saved[id])-1]
		fmt.Fprintf(out, "  n%d saved %d snapshots to disk, the last at %s: index %d, %d-byte backend\n",
			id, len(saved[id]), sim.FormatTime(last.At), last.Index, last.Size)
	}
}

func targets(f scenarios.FaultRecord) string {
	var parts []string
	for _, id := range f.Targets {
		p := fmt.Sprintf("n%d", id)
		if id == f.Leader {
			p += fmt.Sprintf(" (leader of term %d)", f.LeaderTerm)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}
