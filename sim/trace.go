package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"time"
)

// Trace is the run's record: one line an event, virtual time first. Its
// canonical text form is the lines joined by newlines, and the SHA-256 of
// that text is the run's fingerprint.
type Trace struct {
	lines []string
	hash  hash.Hash
	sink  func(line string) // sees every line as it is added, if set
}

func newTrace() *Trace { return &Trace{hash: sha256.New()} }

func (t *Trace) add(at time.Duration, who, msg string) {
	prefix := FormatTime(at) + " " + padRight(who, 4) + " "
	if !strings.Contains(msg, "\n") {
		t.line(prefix + msg)
		return
	}
	// A message of several lines (raft describes a long MsgApp's entries
	// one a line) becomes several trace lines, each with its time and
	// source, the later ones indented: every line greps on its own.
	for i, part := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
		if i > 0 {
			part = "  " + strings.TrimLeft(part, " ")
		}
		t.line(prefix + part)
	}
}

func (t *Trace) line(line string) {
	t.lines = append(t.lines, line)
	t.hash.Write([]byte(line))
	t.hash.Write([]byte{'\n'})
	if t.sink != nil {
		t.sink(line)
	}
}

// Lines is the trace so far. The slice must not be modified.
func (t *Trace) Lines() []string { return t.lines }

// Len is the number of lines so far.
func (t *Trace) Len() int { return len(t.lines) }

// String is the canonical text form.
func (t *Trace) String() string {
	if len(t.lines) == 0 {
		return ""
	}
	return strings.Join(t.lines, "\n") + "\n"
}

// Fingerprint is the hex SHA-256 of the canonical text form.
func (t *Trace) Fingerprint() string {
	return hex.EncodeToString(t.hash.Sum(nil))
}

// FormatTime prints a virtual time as seconds with microseconds, fixed
// width up to 9999 s, so trace lines line up.
func FormatTime(d time.Duration) string {
	sec := d / time.Second
	us := (d % time.Second) / time.Microsecond
	return fmt.Sprintf("%4d.%06ds", sec, us)
}

func padRight(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}
