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
	"container/heap"
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

// Logf adds a line to the trace, stamped with the current virtual time.
// who names the actor ("n1", "c3", "net", "nemesis").
func (s *Sim) Logf(who, format string, args ...any) {
	s.trace.add(s.now, who, fmt.Sprintf(format, args...))
}

// At schedules fn at virtual time t. Events at equal times run in the order
// they were scheduled. Scheduling in the past is a bug in the caller.
func (s *Sim) At(t time.Duration, fn func()) {
	if t < s.now {
		panic(fmt.Sprintf("sim: event scheduled at %v, before now (%v)", t, s.now))
	}
	s.seq++
	heap.Push(&s.queue, event{at: t, seq: s.seq, fn: fn})
}

// After schedules fn d after now.
func (s *Sim) After(d time.Duration, fn func()) { s.At(s.now+d, fn) }

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
		e := heap.Pop(&s.queue).(event)
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

// eventQueue is a min-heap on (at, seq): seq breaks ties so that equal
// times keep the order of scheduling, which a heap alone would not.
type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = event{}
	*q = old[:len(old)-1]
	return e
}
