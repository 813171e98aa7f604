package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/etcdlab/etcdlab/network"
)

// ParseExperiment reads an experiment file, as Experiment.String writes
// it. name is how errors refer to the file. Lines are "key value"; # starts
// a comment. Settings a file leaves out keep the defaults of a healthy
// 3-member cluster with etcd's flags, so a hand-written file may be short.
func ParseExperiment(name, text string) (Experiment, error) {
	e := Experiment{Settings: DefaultSettings(3)}
	var haveSeed bool
	seen := map[string]int{} // setting key -> the line that set it
	// Routes are read last: what a route line leaves out is the cluster's
	// link, whichever line sets it.
	type routeLine struct {
		line   int
		fields []string
	}
	var routes []routeLine
	for i, raw := range strings.Split(text, "\n") {
		line, _, _ := strings.Cut(raw, "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		key, rest := fields[0], fields[1:]
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, i+1, fmt.Sprintf(format, args...))
		}
		if len(rest) == 0 {
			return e, fail("%s has no value", key)
		}
		value := strings.Join(rest, " ")
		if key != "route" && key != "fault" && key != "expect" {
			if first, dup := seen[key]; dup {
				return e, fail("%s is set twice, here and on line %d", key, first)
			}
			seen[key] = i + 1
		}
		switch key {
		case "scenario":
			e.Scenario = value
		case "seed":
			seed, err := strconv.ParseUint(value, 10, 64)
			if err != nil {
				return e, fail("seed %q is not a whole number", value)
			}
			e.Seed, haveSeed = seed, true
		case "route":
			routes = append(routes, routeLine{i + 1, rest})
		case "fault":
			f, err := parseFault(rest)
			if err != nil {
				return e, fail("fault: %v", err)
			}
			f.Line = i + 1
			e.Faults = append(e.Faults, f)
		case "expect":
			args, err := parseArgs(rest[1:], expectArgs(rest[0]))
			if err != nil {
				return e, fail("expect %s: %v", rest[0], err)
			}
			e.Expect = append(e.Expect, Expectation{Kind: rest[0], Args: args, Line: i + 1})
		default:
			if err := e.Settings.Set(key, value); err != nil {
				return e, fail("%v", err)
			}
		}
	}
	for _, rl := range routes {
		r, err := parseRoute(rl.fields, e.Settings.Link)
		if err == nil && slices.ContainsFunc(e.Settings.Routes, func(o Route) bool { return o.From == r.From && o.To == r.To }) {
			err = fmt.Errorf("n%d->n%d is given twice", r.From, r.To)
		}
		if err != nil {
			return e, fmt.Errorf("%s:%d: route: %v", name, rl.line, err)
		}
		e.Settings.Routes = append(e.Settings.Routes, r)
	}
	if !haveSeed {
		return e, fmt.Errorf("%s: no seed line; add one such as 'seed 1'", name)
	}
	if e.Scenario == "" {
		e.Scenario = "experiment"
	}
	if err := e.Validate(); err != nil {
		return e, fileError(name, err)
	}
	return e, nil
}

// parseFault reads "KIND at=T for=D who=S after=... k=v ...".
func parseFault(fields []string) (Fault, error) {
	f := Fault{Kind: fields[0]}
	k, ok := lookupFaultKind(f.Kind)
	if !ok {
		return f, fmt.Errorf("unknown fault kind %q (known: %s)", f.Kind, strings.Join(faultKindNames(), ", "))
	}
	allowed := []string{"at", "for"}
	if !k.newMember && !k.cluster {
		allowed = append(allowed, "who")
	}
	if k.after {
		allowed = append(allowed, "after")
	}
	for _, a := range k.args {
		allowed = append(allowed, a.key)
	}
	args, err := parseArgs(fields[1:], allowed)
	if err != nil {
		return f, fmt.Errorf("%s: %w", f.Kind, err)
	}
	f.Who = k.who
	var haveAt bool
	for _, a := range args {
		switch a.Key {
		case "at", "for":
			d, err := parseDuration(a.Value)
			if err != nil {
				return f, fmt.Errorf("%s: %s=: %w", f.Kind, a.Key, err)
			}
			if a.Key == "at" {
				f.At, haveAt = d, true
			} else {
				f.For = d
			}
		case "who":
			f.Who = a.Value
		case "after":
			f.After = a.Value
		default:
			f.Args = append(f.Args, a)
		}
	}
	if !haveAt {
		return f, fmt.Errorf("%s needs at=TIME", f.Kind)
	}
	return f, nil
}

// parseRoute reads "nA->nB latency=... jitter=... drop=... duplicate=...";
// what it leaves out is the cluster's link.
func parseRoute(fields []string, base network.Link) (Route, error) {
	from, to, ok := strings.Cut(fields[0], "->")
	a, errA := strconv.ParseUint(strings.TrimPrefix(from, "n"), 10, 64)
	b, errB := strconv.ParseUint(strings.TrimPrefix(to, "n"), 10, 64)
	if !ok || errA != nil || errB != nil || !strings.HasPrefix(from, "n") || !strings.HasPrefix(to, "n") {
		return Route{}, fmt.Errorf("%q is not a route such as n1->n2", fields[0])
	}
	args, err := parseArgs(fields[1:], []string{"latency", "jitter", "drop", "duplicate"})
	if err != nil {
		return Route{}, err
	}
	r := Route{From: a, To: b, Link: base}
	for _, arg := range args {
		var err error
		switch arg.Key {
		case "latency":
			r.Link.Latency, err = parseDuration(arg.Value)
		case "jitter":
			r.Link.Jitter, err = parseDuration(arg.Value)
		case "drop":
			r.Link.DropRate, err = parseRatio(arg.Value)
		case "duplicate":
			r.Link.DuplicateRate, err = parseRatio(arg.Value)
		}
		if err != nil {
			return Route{}, fmt.Errorf("%s=: %w", arg.Key, err)
		}
	}
	return r, nil
}
