// Package sim is the deterministic kernel every etcdlab run stands on:
// virtual time, an event queue ordered by (time, sequence), random streams
// derived from one seed, and the trace whose hash is the run's fingerprint.
//
// A run is a pure function of its seed. Nothing here reads the wall clock,
// starts a goroutine or touches global randomness; the one piece of global
// state a run cannot avoid, crypto/rand.Reader (raft draws election timeouts
// from it), is captured for the run's lifetime by New and given back by
// Close.
package sim

import (
	"fmt"
	"io"
	"time"
)

// Sim is one simulation: a clock, a queue of pending events and a trace.
type Sim struct {
	seed   uint64
	now    time.Duration
	seq    uint64
	queue  eventQueue
	trace  *Trace
	closer func()
	events uint64
	reader *switchReader // what crypto/rand.Reader reads while the run is open
	// streams are every random stream handed out, and fork the number of
	// the fork in force (0: none): see Fork.
	streams []namedStream
	fork    uint64
}

// New starts a simulation for seed. It takes the process-wide simulation
// lock and points crypto/rand.Reader at a stream derived from the seed, so
// it blocks while another simulation is open. Close must be called.
func New(seed uint64) *Sim {
	s := &Sim{seed: seed, trace: newTrace()}
	// Outside WithReader, crypto/rand reads one shared stream. Callers
	// that run a member's code wrap the call in WithReader with that
	// member's own stream, so each member's election timeouts are its own.
	s.reader = &switchReader{cur: s.stream("raft/crypto-rand-reader")}
	s.closer = captureCryptoRand(s.reader)
	return s
}

// WithReader runs fn with crypto/rand.Reader reading r, then puts back the
// reader in force before. raft draws election timeouts from
// crypto/rand.Reader; a harness that calls into one member at a time
// passes that member's own stream here, so adding a member or a client
// never shifts another member's timeouts.
func (s *Sim) WithReader(r io.Reader, fn func()) {
	saved := s.reader.cur
	s.reader.cur = r
	defer func() { s.reader.cur = saved }()
	fn()
}

// switchReader is the crypto/rand.Reader of an open run: it reads
// whichever stream WithReader put in force.
type switchReader struct{ cur io.Reader }

func (r *switchReader) Read(p []byte) (int, error) { return r.cur.Read(p) }

// Close gives crypto/rand.Reader back and releases the simulation lock.
// Calling it twice is harmless.
func (s *Sim) Close() {
	if s.closer != nil {
		s.closer()
		s.closer = nil
	}
}

// Seed is the seed the simulation was started with.
func (s *Sim) Seed() uint64 { return s.seed }

// Now is the virtual time since the run's start.
func (s *Sim) Now() time.Duration { return s.now }

// Events is how many events have run so far.
func (s *Sim) Events() uint64 { return s.events }

// Trace is the run's trace.
func (s *Sim) Trace() *Trace { return s.trace }

// OnTrace has fn see every trace line as it is logged, so a replay can
// stream the run instead of printing it at the end.
func (s *Sim) OnTrace(fn func(line string)) { s.trace.sink = fn }

// Tracing reports whether the trace's text is wanted: see Trace.Text.
func (s *Sim) Tracing() bool { return s.trace.Text() }

// Logf logs an event: its canonical record (who, the format and each
// argument) joins the fingerprint, and its text, stamped with the current
// virtual time, the trace's lines if they are wanted. who names the actor
// ("n1", "c3", "net", "nemesis").
func (s *Sim) Logf(who, format string, args ...any) {
	r := s.trace.Record(s.now, who).String(format)
	for _, a := range args {
		r.Any(a)
	}
	r.Done()
	if s.trace.Text() {
		s.trace.Line(s.now, who, fmt.Sprintf(format, args...))
	}
}

// Record starts the canonical record of an event stamped now, for a
// caller that logs often and builds its fields itself (the network): it
// ends the record with Done and adds the text with Line if Tracing.
func (s *Sim) Record(who string) *Record { return s.trace.Record(s.now, who) }

// Line adds an event's text, stamped now, if the text is wanted.
func (s *Sim) Line(who, text string) { s.trace.Line(s.now, who, text) }

// At schedules fn at virtual time t. Events at equal times run in the order
// they were scheduled. Scheduling in the past is a bug in the caller.
func (s *Sim) At(t time.Duration, fn func()) {
	if t < s.now {
		panic(fmt.Sprintf("sim: event scheduled at %v, before now (%v)", t, s.now))
	}
	s.seq++
	s.queue.push(event{at: t, seq: s.seq, fn: fn})
}

// After schedules fn d after now.
func (s *Sim) After(d time.Duration, fn func()) { s.At(s.now+d, fn) }

// Drop discards the events still queued: the run is over, and they hold
// whatever they would have acted on. Nothing runs after it.
func (s *Sim) Drop() { s.queue = nil }

// RunUntil runs events in order until the queue is empty or the next event
// lies after end; the clock then stands at end.
func (s *Sim) RunUntil(end time.Duration) { s.RunUntilLimit(end, 0) }

// RunUntilLimit is RunUntil that stops, and returns false, once the run
// has run maxEvents events in all (0 for no limit): a bound on a run whose
// settings make virtual time barely move.
func (s *Sim) RunUntilLimit(end time.Duration, maxEvents uint64) bool {
	for len(s.queue) > 0 && s.queue[0].at <= end {
		if maxEvents > 0 && s.events >= maxEvents {
			return false
		}
		e := s.queue.pop()
		s.now = e.at
		s.events++
		e.fn()
	}
	if end > s.now {
		s.now = end
	}
	return true
}

type event struct {
	at  time.Duration
	seq uint64
	fn  func()
}

func (e event) before(f event) bool {
	if e.at != f.at {
		return e.at < f.at
	}
	return e.seq < f.seq
}

// eventQueue is a binary min-heap on (at, seq): seq breaks ties so that
// equal times keep the order of scheduling, which a heap alone would not.
// It is container/heap's algorithm on a typed slice: a run pushes and pops
// millions of events, and heap.Interface boxes each one.
type eventQueue []event

func (q *eventQueue) push(e event) {
	*q = append(*q, e)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h[i].before(h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (q *eventQueue) pop() event {
	h := *q
	top, last := h[0], len(h)-1
	h[0] = h[last]
	h[last] = event{} // let the closure go
	h = h[:last]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[l].before(h[least]) {
			least = l
		}
		if r < len(h) && h[r].before(h[least]) {
			least = r
		}
		if least == i {
			break
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
	*q = h
	return top
}
