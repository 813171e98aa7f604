package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"reflect"
	"strings"
	"time"
)

// Trace is the run's record. Every event goes into the fingerprint as it
// happens, in a compact canonical form (its time, its source, and its
// fields in binary: a Record); its text — one line an event, virtual time
// first — is formatted only when someone wants it (Keep, or a sink that
// streams it), since formatting every message of a run costs more than
// simulating it. The fingerprint is the SHA-256 of the canonical records,
// so it is the same whether the text was formatted or not.
type Trace struct {
	hash  hash.Hash
	buf   []byte // canonical records not yet hashed
	rec   Record // the record being built, reused
	n     int    // records so far
	keep  bool   // hold the text lines in lines
	lines []string
	sink  func(line string) // sees every text line as it is added, if set
}

// hashChunk is how many bytes of records are gathered before they are
// hashed: one call into SHA-256 per chunk instead of one per record.
const hashChunk = 16 << 10

func newTrace() *Trace { return &Trace{hash: sha256.New()} }

// Text reports whether the trace's text is wanted. A caller whose
// description of an event is costly (a raft message) builds it only then.
func (t *Trace) Text() bool { return t.keep || t.sink != nil }

// Record starts an event's canonical record, stamped with at and who. The
// caller adds the event's fields and calls Done. Records are hashed in
// order; the trace holds only one being built at a time.
func (t *Trace) Record(at time.Duration, who string) *Record {
	if t.rec.t != nil {
		// The open record's bytes would be lost: it shares the buffer.
		panic("sim: a trace record started before the one before it was done (an argument's String logging?)")
	}
	t.rec.t = t
	t.rec.b = binary.AppendUvarint(t.buf, uint64(at))
	t.rec.String(who)
	return &t.rec
}

// Record is one event's canonical form being built: each field is a tag
// byte and the value in binary, strings and bytes length-first, so no two
// different sequences of fields encode the same.
type Record struct {
	t *Trace
	b []byte
}

// Field tags of the canonical form.
const (
	tagString = 's'
	tagInt    = 'i'
	tagUint   = 'u'
	tagBytes  = 'b'
	tagFloat  = 'f'
	tagTrue   = 'T'
	tagFalse  = 'F'
	tagText   = 't' // a value of some other type, as fmt's %v prints it
	tagEnd    = '\n'
)

func (r *Record) String(s string) *Record {
	r.b = binary.AppendUvarint(append(r.b, tagString), uint64(len(s)))
	r.b = append(r.b, s...)
	return r
}

func (r *Record) Int(v int64) *Record {
	r.b = binary.AppendVarint(append(r.b, tagInt), v)
	return r
}

func (r *Record) Uint(v uint64) *Record {
	r.b = binary.AppendUvarint(append(r.b, tagUint), v)
	return r
}

func (r *Record) Bytes(p []byte) *Record {
	r.b = binary.AppendUvarint(append(r.b, tagBytes), uint64(len(p)))
	r.b = append(r.b, p...)
	return r
}

// Any adds a field of any type: basic kinds (named or not) in binary,
// anything else as its text.
func (r *Record) Any(a any) *Record {
	switch v := a.(type) {
	case string:
		return r.String(v)
	case int:
		return r.Int(int64(v))
	case time.Duration:
		return r.Int(int64(v))
	case uint64:
		return r.Uint(v)
	case []byte:
		return r.Bytes(v)
	case bool:
		return r.bool(v)
	case error:
		return r.String(v.Error())
	}
	switch v := reflect.ValueOf(a); v.Kind() {
	case reflect.String:
		return r.String(v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return r.Int(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return r.Uint(v.Uint())
	case reflect.Bool:
		return r.bool(v.Bool())
	case reflect.Float32, reflect.Float64:
		r.b = binary.LittleEndian.AppendUint64(append(r.b, tagFloat), math.Float64bits(v.Float()))
		return r
	}
	s := fmt.Sprint(a)
	r.b = binary.AppendUvarint(append(r.b, tagText), uint64(len(s)))
	r.b = append(r.b, s...)
	return r
}

func (r *Record) bool(v bool) *Record {
	if v {
		r.b = append(r.b, tagTrue)
	} else {
		r.b = append(r.b, tagFalse)
	}
	return r
}

// Done ends the record: it joins the fingerprint.
func (r *Record) Done() {
	t := r.t
	t.buf = append(r.b, tagEnd)
	r.b, r.t = nil, nil
	t.n++
	if len(t.buf) >= hashChunk {
		t.hash.Write(t.buf)
		t.buf = t.buf[:0]
	}
}

// Line adds an event's text, stamped with at and who, for whoever wants
// it (see Text); the event's record is the caller's to add.
func (t *Trace) Line(at time.Duration, who, msg string) {
	if !t.Text() {
		return
	}
	for _, l := range FormatLines(at, who, msg) {
		t.line(l)
	}
}

// FormatLines is an event's text as the trace prints it, stamped with at
// and who. A message of several lines (raft describes a long MsgApp's
// entries one a line) becomes several text lines, each with its time and
// source, the later ones indented: every line greps on its own.
func FormatLines(at time.Duration, who, msg string) []string {
	prefix := FormatTime(at) + " " + padRight(who, 4) + " "
	if !strings.Contains(msg, "\n") {
		return []string{prefix + msg}
	}
	var lines []string
	for i, part := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
		if i > 0 {
			part = "  " + strings.TrimLeft(part, " ")
		}
		lines = append(lines, prefix+part)
	}
	return lines
}

func (t *Trace) line(line string) {
	if t.keep {
		t.lines = append(t.lines, line)
	}
	if t.sink != nil {
		t.sink(line)
	}
}

// Keep has the trace hold its text lines from now on (Lines, String).
func (t *Trace) Keep() { t.keep = true }

// Lines is the text kept so far (see Keep). The slice must not be
// modified.
func (t *Trace) Lines() []string { return t.lines }

// Len is the number of records so far, kept or not.
func (t *Trace) Len() int { return t.n }

// String is the kept text, one line an event.
func (t *Trace) String() string {
	if len(t.lines) == 0 {
		return ""
	}
	return strings.Join(t.lines, "\n") + "\n"
}

// Fingerprint is the hex SHA-256 of the canonical records so far.
func (t *Trace) Fingerprint() string {
	t.hash.Write(t.buf)
	t.buf = t.buf[:0]
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
