package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// parseArgs reads key=value fields, allowing only the keys listed, each
// once, and returns them in the order of allowed: the order files print
// them in, so a file read and printed again is the same file.
func parseArgs(fields []string, allowed []string) ([]Arg, error) {
	byKey := map[string]string{}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		switch {
		case !ok || k == "" || v == "":
			return nil, fmt.Errorf("%q is not key=value", f)
		case !slices.Contains(allowed, k):
			return nil, fmt.Errorf("unknown parameter %q (known: %s)", k, strings.Join(allowed, ", "))
		}
		if _, dup := byKey[k]; dup {
			return nil, fmt.Errorf("%s= is given twice", k)
		}
		byKey[k] = v
	}
	var args []Arg
	for _, k := range allowed {
		if v, ok := byKey[k]; ok {
			args = append(args, Arg{k, v})
		}
	}
	return args, nil
}

// Typed views of parameters that validation has already accepted.

func argDuration(args []Arg, key string, def time.Duration) time.Duration {
	if v := argValue(args, key); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func argInt(args []Arg, key string, def int) int {
	if v := argValue(args, key); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func argFloat(args []Arg, key string, def float64) float64 {
	if v := argValue(args, key); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	}
	return def
}

// argCheck validates one parameter's text.
type argCheck func(v string) error

// isClientAddr: a client's address, c<N>, w<N> (a watcher) or l<N> (a
// lease holder); checkCutClient checks N against the run.
func isClientAddr(v string) error {
	if len(v) < 2 || !strings.ContainsRune("cwl", rune(v[0])) {
		return fmt.Errorf("%q is not a client (c1, w1 for a watcher, l1 for a lease holder)", v)
	}
	if n, err := strconv.Atoi(v[1:]); err != nil || n < 1 {
		return fmt.Errorf("%q is not a client (c1, w1 for a watcher, l1 for a lease holder)", v)
	}
	return nil
}

func isDuration(v string) error {
	d, err := parseDuration(v)
	if err == nil && d < 0 {
		return fmt.Errorf("%v must not be negative", d)
	}
	return err
}

func isPositiveInt(v string) error {
	if n, err := strconv.Atoi(v); err != nil || n < 1 {
		return fmt.Errorf("%q is not a whole number of at least 1", v)
	}
	return nil
}

func isRatio(v string) error { _, err := parseRatio(v); return err }

func isBool(v string) error {
	if v != "true" && v != "false" {
		return fmt.Errorf("%q is not true or false", v)
	}
	return nil
}

// isLinkDelay bounds a link's latency or jitter: messages sent on a link
// slower than this would land long after any run a person waits for.
func isLinkDelay(v string) error {
	d, err := parseDuration(v)
	if err == nil && (d < 0 || d > 10*time.Second) {
		return fmt.Errorf("%v is not between 0 and 10s", d)
	}
	return err
}

// isDiskDelay bounds a slow fsync's extra time.
func isDiskDelay(v string) error {
	d, err := parseDuration(v)
	if err == nil && (d < 0 || d > time.Minute) {
		return fmt.Errorf("%v is not between 0 and 1m", d)
	}
	return err
}

func isRate(v string) error {
	if f, err := strconv.ParseFloat(v, 64); err != nil || f < 0.1 || f > 10 {
		return fmt.Errorf("%q is not a clock rate between 0.1 and 10 (1 is true time)", v)
	}
	return nil
}

// isClockJump refuses a clock set back: etcd starts a member's request
// IDs at its clock's millisecond (idutil), so a member restarted on a clock
// set back could reuse IDs of its past life, whose entries may still be
// applied and answer the wrong client.
func isClockJump(v string) error {
	d, err := parseDuration(v)
	if err == nil && d < 0 {
		return fmt.Errorf("%v sets the clock back; a restarted member could reuse its past life's request IDs (etcd's idutil takes them from the clock), so only forward jumps are modelled", d)
	}
	return err
}
