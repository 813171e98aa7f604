package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// Sweeps on every core. A simulation owns the process-wide
// crypto/rand.Reader (raft draws its election timeouts from it), so one
// process runs one simulation at a time, and a sweep's parallelism is
// worker processes: the sweep starts --workers copies of this program in
// worker mode (the same command line, with ETCDLAB_SWEEP_WORKER set),
// hands each a seed on its stdin as soon as it is free, and reads back
// one seedResult a line. A worker that dies is that seed's failure, and
// a new worker takes its place.

// workerEnv marks a process started as a sweep's worker; a test binary
// checks it in TestMain to behave as the CLI.
const workerEnv = "ETCDLAB_SWEEP_WORKER"

// runSeeds runs every seed, in this process or in workers, and hands
// each result to got, in whatever order they finish.
func (inv *invocation) runSeeds(seeds []uint64, got func(seedResult)) error {
	workers := min(inv.workers, len(seeds))
	if workers <= 1 {
		for _, seed := range seeds {
			sr, err := newSeedResult(inv, seed)
			if err != nil {
				return err
			}
			got(sr)
		}
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("sweep: cannot start workers: %v", err)
	}
	type reply struct {
		w   *worker
		sr  seedResult
		err error
	}
	replies := make(chan reply)
	var pool []*worker
	for range workers {
		w, err := startWorker(self, inv.args)
		if err != nil {
			return err
		}
		pool = append(pool, w)
		go w.read(func(sr seedResult, err error) { replies <- reply{w, sr, err} })
	}
	defer func() {
		for _, w := range pool {
			w.stop()
		}
	}()
	queue, busy := seeds, 0
	for _, w := range pool {
		w.send(queue[0])
		queue, busy = queue[1:], busy+1
	}
	for busy > 0 {
		r := <-replies
		busy--
		var werr errWrite
		if errors.As(r.err, &werr) {
			return r.err
		}
		if r.err != nil {
			// The worker died with its seed (a Go runtime error, the
			// kernel's OOM killer): that seed is a bug of etcdlab's to
			// replay; a new worker takes the rest.
			r.w.stop()
			got(inv.result(seedResult{Seed: r.w.seed, Crash: r.err.Error(), Replay: inv.replay(r.w.seed)}))
			w, err := startWorker(self, inv.args)
			if err != nil {
				return err
			}
			pool = append(pool, w)
			go w.read(func(sr seedResult, err error) { replies <- reply{w, sr, err} })
			r.w = w
		} else {
			got(r.sr)
		}
		if len(queue) > 0 {
			r.w.send(queue[0])
			queue, busy = queue[1:], busy+1
		}
	}
	return nil
}

// worker is one worker process, and the seed it was last given.
type worker struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	seed uint64
}

func startWorker(self string, args []string) (*worker, error) {
	cmd := exec.Command(self, append([]string{"sweep"}, args...)...)
	cmd.Env = append(os.Environ(), workerEnv+"=1")
	dieWithParent(cmd)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("sweep: cannot start a worker: %v", err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	return &worker{cmd: cmd, in: in, out: sc}, nil
}

func (w *worker) send(seed uint64) {
	w.seed = seed
	fmt.Fprintln(w.in, seed)
}

// read hands every result line of the worker to got; a worker that ends
// or writes something else is an error.
func (w *worker) read(got func(seedResult, error)) {
	for w.out.Scan() {
		var sr seedResult
		if err := json.Unmarshal(w.out.Bytes(), &sr); err != nil {
			got(sr, fmt.Errorf("sweep: a worker wrote %q: %v", w.out.Text(), err))
			return
		}
		got(sr, nil)
	}
	err := w.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		// The worker could not write a failure's folder: a disk problem,
		// not a bug, and every other worker would meet it too.
		got(seedResult{}, errWrite{fmt.Errorf("a worker could not write a failure's folder under the report directory")})
		return
	}
	got(seedResult{}, fmt.Errorf("the worker running this seed died (%v); run it alone to see why", err))
}

func (w *worker) stop() {
	w.in.Close()
	if w.cmd.Process != nil {
		w.cmd.Process.Kill()
	}
}

// serveSeeds is worker mode: run each seed read from stdin, write its
// result as a JSON line.
func (inv *invocation) serveSeeds(out io.Writer) (int, error) {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		seed, err := strconv.ParseUint(strings.TrimSpace(sc.Text()), 10, 64)
		if err != nil {
			return 2, fmt.Errorf("worker: %q is not a seed", sc.Text())
		}
		sr, err := newSeedResult(inv, seed)
		if err != nil {
			return exitStatus(err)
		}
		b, err := json.Marshal(sr)
		if err != nil {
			return 1, err
		}
		fmt.Fprintln(out, string(b))
	}
	return 0, nil
}

// shardSeeds is this shard's share of the seeds: every N-th from the
// K-th, so shards get seeds of every size alike.
func (inv *invocation) shardSeeds() []uint64 {
	if inv.shards <= 1 {
		return inv.seeds
	}
	var mine []uint64
	for i, seed := range inv.seeds {
		if i%inv.shards == inv.shard-1 {
			mine = append(mine, seed)
		}
	}
	return mine
}

func (inv *invocation) shardNote() string {
	if inv.shards <= 1 {
		return ""
	}
	return fmt.Sprintf(" (shard %d of %d)", inv.shard, inv.shards)
}

// parseShard reads --shard K/N, or auto: a Kubernetes Indexed Job's
// JOB_COMPLETION_INDEX (0-based) and the shard count from
// ETCDLAB_SHARDS (set it to the Job's completions).
func parseShard(v string) (k, n int, err error) {
	if v == "auto" {
		idx, err1 := strconv.Atoi(os.Getenv("JOB_COMPLETION_INDEX"))
		total, err2 := strconv.Atoi(os.Getenv("ETCDLAB_SHARDS"))
		if err1 != nil || err2 != nil || idx < 0 || idx >= total {
			return 0, 0, fmt.Errorf("auto needs JOB_COMPLETION_INDEX (0..N-1, set by an Indexed Job) and ETCDLAB_SHARDS=N")
		}
		return idx + 1, total, nil
	}
	ks, ns, ok := strings.Cut(v, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 1 || k > n {
		return 0, 0, fmt.Errorf("%q is not K/N with 1 <= K <= N, or auto", v)
	}
	return k, n, nil
}

// progress is a live bar on a terminal (seeds done, failures, rate, time
// left), and nothing elsewhere: the seed lines are the record then.
type progress struct {
	bar *progressbar.ProgressBar
}

func newProgress(total int) *progress {
	if !isatty.IsTerminal(os.Stderr.Fd()) {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("seeds"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetDescription("sweep"))}
}

func (p *progress) add(failures int) {
	if p.bar == nil {
		return
	}
	_ = p.bar.Add(1)
	p.bar.Describe(fmt.Sprintf("sweep, %d failed", failures))
}

// println prints a line without tearing the bar.
func (p *progress) println(out io.Writer, line string) {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintln(out, line)
	if p.bar != nil {
		_ = p.bar.RenderBlank()
	}
}

func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// merge reads the JSON lines of one sweep (--json), whole or in shards,
// and prints its final table, as the whole sweep would. Lines of another
// sweep, a shard missing, or a seed twice are refused: the table would
// claim what was not run.
func merge(files []string, out io.Writer) (int, error) {
	if len(files) == 0 || slices.Contains(files, "--help") || slices.Contains(files, "-h") {
		return 2, errUsage{"sweep merge FILES...: the files sweep --json wrote, one sweep's shards"}
	}
	var results []seedResult
	seen := map[uint64]string{}
	shards := map[string]bool{}
	var sweep string
	total := 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return 2, errUsage{fmt.Sprintf("sweep merge: %v", err)}
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for line := 1; sc.Scan(); line++ {
			var sr seedResult
			if err := json.Unmarshal(sc.Bytes(), &sr); err != nil || sr.Replay == "" || sr.Sweep == "" {
				f.Close()
				return 2, errUsage{fmt.Sprintf("sweep merge: %s:%d: not a line of sweep --json", name, line)}
			}
			if sweep == "" {
				sweep = sr.Sweep
			}
			if sr.Sweep != sweep {
				f.Close()
				return 2, errUsage{fmt.Sprintf("sweep merge: %s:%d is from the sweep %q, not %q", name, line, sr.Sweep, sweep)}
			}
			if other, dup := seen[sr.Seed]; dup {
				f.Close()
				return 2, errUsage{fmt.Sprintf("sweep merge: seed %d is in %s and %s", sr.Seed, other, name)}
			}
			seen[sr.Seed] = name
			shards[sr.Shard] = true
			if _, n, err := parseShard(sr.Shard); err == nil {
				total = n
			}
			results = append(results, sr)
		}
		f.Close()
	}
	if len(results) == 0 {
		return 2, errUsage{"sweep merge: the files hold no results"}
	}
	for k := 1; k <= total; k++ {
		if !shards[fmt.Sprintf("%d/%d", k, total)] {
			return 2, errUsage{fmt.Sprintf("sweep merge: shard %d of %d of %q is missing", k, total, sweep)}
		}
	}
	// Every seed of the sweep must be there: a shard's file cut short
	// would otherwise pass for a whole one.
	if _, spec, ok := strings.Cut(sweep, " --seeds "); ok {
		if want, err := parseSeeds(spec); err == nil {
			for _, seed := range want {
				if _, ok := seen[seed]; !ok {
					return 2, errUsage{fmt.Sprintf("sweep merge: seed %d of %q is in none of the files", seed, sweep)}
				}
			}
		}
	}
	slices.SortFunc(results, func(a, b seedResult) int { return cmp.Compare(a.Seed, b.Seed) })
	return finalTable(out, results, 0, false), nil
}
