package scenarios

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Experiment is a run as data: the settings that shape it, the faults the
// nemesis injects and what the run must show. A catalog scenario draws an
// experiment from a seed; `etcdlab show` prints it as a text file a student
// can edit, and running that file gives the same run, fingerprint and all,
// even after the catalog has changed.
//
// The seed still matters when an experiment runs: it drives everything the
// experiment leaves to chance — network jitter, what clients read and
// write, members' election timeouts, which follower a fault picks.
type Experiment struct {
	Scenario string // the scenario it was drawn from; names report files
	Seed     uint64
	Settings Settings
	Faults   []Fault
	Expect   []Expectation
	// Notes explain how the experiment was drawn (the swarm's choice of
	// fault families, say). Files print them as comments: they change
	// nothing.
	Notes []string
}

// Fault is one entry of the fault schedule. Which members it hits is a
// selector resolved when it fires ("leader", "follower", "n3"), since who
// leads at 3.4 s is something only the run can tell.
type Fault struct {
	Kind string        // one of FaultKinds
	At   time.Duration // when it fires; with After, when it is armed
	For  time.Duration // how long it lasts; 0 for a fault that does not end by itself
	Who  string        // a selector: see parseSelector
	// After, if set, makes the fault wait from At until the member it
	// selects sends or receives a message: "sent:MsgVoteResp",
	// "received:MsgApp", or "granted-vote". The fault then hits that
	// member.
	After string
	Args  []Arg // kind-specific parameters, in the kind's order
	Line  int   // the file line it came from, for error messages; 0 if none
}

// Arg is one key=value parameter of a fault or an expectation.
type Arg struct{ Key, Value string }

// Arg returns the value of the parameter key, or "".
func (f Fault) Arg(key string) string { return argValue(f.Args, key) }

// End is when the fault stops being in force, if it fires at At.
func (f Fault) End() time.Duration { return f.At + f.For }

// ArmedFor is how long a fault with after= waits for its message before
// it gives up.
const ArmedFor = 5 * time.Second

// latestEnd is the latest a fault can stop being in force, a member it
// crashed restarting included.
func (f Fault) latestEnd() time.Duration {
	end := f.End() + argDuration(f.Args, "restart-after", 0)
	if f.After != "" {
		end += ArmedFor
	}
	if k, ok := lookupFaultKind(f.Kind); ok && k.outlast != nil {
		end += k.outlast(f)
	}
	return end
}

// Expectation is a claim the run must show beyond the checks every run
// gets (linearizability, raft safety, convergence).
type Expectation struct {
	Kind string // one of expectKinds
	Args []Arg
	Line int // the file line it came from, for error messages; 0 if none
}

// Arg returns the value of the parameter key, or "".
func (e Expectation) Arg(key string) string { return argValue(e.Args, key) }

func argValue(args []Arg, key string) string {
	for _, a := range args {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

// Validate rejects an experiment that cannot run, saying which part and
// why.
func (e Experiment) Validate() error {
	if err := e.Settings.Validate(); err != nil {
		return err
	}
	quiet := e.Settings.Duration - e.Settings.Settle
	for i, f := range e.Faults {
		if err := f.validate(e.Settings); err != nil {
			return atLine(f.Line, fmt.Errorf("fault %d (%s): %w", i+1, f.Kind, err))
		}
		if end := f.latestEnd(); end > quiet {
			return atLine(f.Line, fmt.Errorf("fault %d (%s) ends at %v, inside the last %v of the run, which is kept quiet for members to settle; use a duration of more than %v",
				i+1, f.Kind, end, e.Settings.Settle, end+e.Settings.Settle))
		}
	}
	for i, x := range e.Expect {
		if err := x.validate(e.Faults); err != nil {
			return atLine(x.Line, fmt.Errorf("expect %d (%s): %w", i+1, x.Kind, err))
		}
		if x.Kind == "liveness" {
			heal, within := e.lastFaultEnd(), argDuration(x.Args, "within", 0)
			if heal+within > quiet {
				return atLine(x.Line, fmt.Errorf("expect %d (liveness): the faults heal at %v and the bound is %v, but clients stop at %v; use a duration of more than %v",
					i+1, heal, within, quiet, heal+within+e.Settings.Settle))
			}
		}
		f := argInt(x.Args, "fault", 0)
		switch {
		case x.Kind == "no-commit" && !cuts(e.Faults[f-1].Kind):
			return atLine(x.Line, fmt.Errorf("expect %d (no-commit): fault %d is a %s; no-commit is about a leader cut off by a network fault (isolate, partition, bridge, one-way)", i+1, f, e.Faults[f-1].Kind))
		case x.Kind == "no-commit" && e.Faults[f-1].After != "":
			return atLine(x.Line, fmt.Errorf("expect %d (no-commit): fault %d waits for a message, so when to measure is not known in advance", i+1, f))
		case x.Kind == "writes-during" && e.Faults[f-1].For == 0:
			return atLine(x.Line, fmt.Errorf("expect %d (writes-during): fault %d has no for=, so there is no window to write in", i+1, f))
		}
	}
	return nil
}

func cuts(kind string) bool {
	k, _ := lookupFaultKind(kind)
	return k.cuts
}

// lineError is an error about one line of an experiment file.
type lineError struct {
	line int
	err  error
}

func (e lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }
func (e lineError) Unwrap() error { return e.err }

func atLine(line int, err error) error {
	if line == 0 {
		return err
	}
	return lineError{line, err}
}

// fileError names the file, and the line if the error has one, as
// compilers do: "p.txt:12: ...".
func fileError(name string, err error) error {
	var le lineError
	if errors.As(err, &le) {
		return fmt.Errorf("%s:%d: %w", name, le.line, le.err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// lastFaultEnd is when the last fault stops being in force: the start of
// the liveness phase.
func (e Experiment) lastFaultEnd() time.Duration {
	var end time.Duration
	for _, f := range e.Faults {
		end = max(end, f.latestEnd())
	}
	return end
}

// String is the experiment as a file `etcdlab run` takes.
func (e Experiment) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# etcdlab experiment: %s, seed %d\n", e.Scenario, e.Seed)
	b.WriteString("# Every line below shapes the run. Edit any of them, then run the file:\n")
	b.WriteString("#   go run ./cmd/etcdlab run FILE\n")
	b.WriteString("# Flags override settings: etcdlab run FILE --nodes 3 --election-timeout 500ms\n")
	for _, l := range e.SettingLines() {
		b.WriteString(l + "\n")
	}
	line := func(key, value string) { fmt.Fprintf(&b, "%-30s %s\n", key, value) }
	if len(e.Faults) > 0 {
		b.WriteString("\n# faults: KIND at=TIME for=DURATION who=SELECTOR ...; members are picked when a fault fires\n")
	}
	for _, f := range e.Faults {
		line("fault", f.String())
	}
	if len(e.Expect) > 0 {
		b.WriteString("\n# what the run must show, besides linearizability, raft safety and convergence\n")
	}
	for _, x := range e.Expect {
		line("expect", x.String())
	}
	return b.String()
}

// SettingLines are the experiment's notes (as comments), its scenario,
// seed and every setting, a line each, as a file holds them.
func (e Experiment) SettingLines() []string {
	var out []string
	for _, n := range e.Notes {
		out = append(out, "# "+n)
	}
	line := func(key, value string) { out = append(out, fmt.Sprintf("%-30s %s", key, value)) }
	line("scenario", e.Scenario)
	line("seed", fmt.Sprint(e.Seed))
	for _, s := range settingsTable {
		line(s.key, s.get(&e.Settings))
	}
	for _, r := range e.Settings.Routes {
		line("route", r.String())
	}
	return out
}

func (f Fault) String() string {
	parts := []string{f.Kind, "at=" + f.At.String()}
	if f.For > 0 {
		parts = append(parts, "for="+f.For.String())
	}
	if f.Who != "" {
		parts = append(parts, "who="+f.Who)
	}
	if f.After != "" {
		parts = append(parts, "after="+f.After)
	}
	for _, a := range f.Args {
		parts = append(parts, a.Key+"="+a.Value)
	}
	return strings.Join(parts, " ")
}

func (x Expectation) String() string {
	parts := []string{x.Kind}
	for _, a := range x.Args {
		parts = append(parts, a.Key+"="+a.Value)
	}
	return strings.Join(parts, " ")
}
