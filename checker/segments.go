package checker

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/anishathalye/porcupine"
)

// A key's history is checked in segments, each from the state the one
// before it ended in. porcupine's search remembers, for every state it
// reaches, the set of operations linearized so far: memory quadratic in
// the operations it is given. A 10-minute run on 5 keys gives it 27,000
// operations a key and hundreds of megabytes; segments of a few hundred
// keep it small, whatever the run's length.
//
// A cut is sound where two things hold (Herlihy and Wing's locality is
// about objects; this is about time):
//
//   - Quiescence: every operation called before the cut returned before
//     it, and none still open (an unknown outcome never returns). Then
//     every linearization orders all of the segment before everything
//     after it, so the history is linearizable exactly when the segment
//     is, and the rest is from some state the segment can end in.
//   - A witness: a read that returned the key whole (value, mod and create
//     revision, version) and was called after every write of the segment
//     had returned. Every linearization orders it after all of them, so
//     the segment can end in one state only: the one the read saw, seen at
//     the highest revision any of the segment's operations reported (the
//     model's seen only grows, and reaches each reported revision).
//
// Where no such point exists (a busy key, a write whose outcome nobody
// learnt) the segment simply goes on.

// minSegment is how many operations a segment holds at least before it
// may be cut: porcupine's memory at that size is small, and fewer cuts
// are fewer states built by hand.
var minSegment = 200

// segment is part of one key's history and the state the key is in
// before it: Init for the first.
type segment struct {
	ops   []porcupine.Operation
	start *kvState // nil: the model's initial state
}

// model is porcupine's model for the segment: kvModel starting from the
// state the segment starts in.
func (s segment) model() porcupine.Model {
	m := kvModel
	m.Partition = nil // one key already
	if s.start != nil {
		st := *s.start
		m.Init = func() any { return st }
	}
	return m
}

// describe names the segment for a verdict: the key, its size within the
// key's (of all operations on it), and where it starts.
func (s segment) describe(all int) string {
	k := s.ops[0].Input.(kvInput).key
	switch {
	case s.start == nil && len(s.ops) == all:
		return fmt.Sprintf("key %s (%d operations)", k, all)
	case s.start == nil:
		return fmt.Sprintf("key %s (its first %d of %d operations)", k, len(s.ops), all)
	}
	return fmt.Sprintf("key %s (%d of its %d operations, from %v, starting from %s, as a read saw it)",
		k, len(s.ops), all, formatNanos(s.ops[0].Call), s.start)
}

func formatNanos(t int64) string {
	return fmt.Sprintf("%.6fs", float64(t)/1e9)
}

// segments cuts one key's operations where it is sound to (see above).
func segments(ops []porcupine.Operation) []segment {
	ops = slices.Clone(ops)
	slices.SortStableFunc(ops, func(a, b porcupine.Operation) int { return cmp.Compare(a.Call, b.Call) })
	var out []segment
	var start *kvState
	begin := 0
	// Of the operations since the last cut: the latest return, the latest
	// return of a write, and the read called last that returned the key
	// whole. Of all operations so far, never reset at a cut: the highest
	// revision reported (the model's seen only grows), and whether every
	// one reported a revision (or none needs to: a register of values).
	lastReturn, lastWrite, seen := int64(math.MinInt64), int64(math.MinInt64), int64(0)
	complete := true
	witness := -1
	for i, op := range ops {
		if i-begin >= minSegment && complete && lastReturn < op.Call && witness >= 0 && ops[witness].Call > lastWrite {
			st := witnessed(ops[witness], seen)
			out = append(out, segment{ops: ops[begin:i], start: start})
			start, begin = &st, i
			lastReturn, lastWrite, witness = math.MinInt64, math.MinInt64, -1
		}
		in, res := op.Input.(kvInput), op.Output.(kvOutput)
		lastReturn = max(lastReturn, op.Return)
		if in.kind != Get {
			lastWrite = max(lastWrite, op.Return)
		}
		if res.unknown || res.rev == 0 && !in.valuesOnly {
			// An open write may take effect after any cut; an operation
			// without a revision leaves the model's revisions open.
			complete = false
		}
		seen = max(seen, res.rev)
		if in.kind == Get && !res.unknown && (in.valuesOnly || !res.found || res.modRev != 0) {
			witness = i
		}
	}
	if begin < len(ops) {
		out = append(out, segment{ops: ops[begin:], start: start})
	}
	return out
}

// witnessed is the state a read saw, as the model holds it, with seen the
// highest revision its segment reported.
func witnessed(read porcupine.Operation, seen int64) kvState {
	in, out := read.Input.(kvInput), read.Output.(kvOutput)
	switch {
	case !out.found && in.valuesOnly:
		return kvState{}
	case !out.found:
		return kvState{seen: seen}
	case in.valuesOnly:
		return kvState{exists: true, value: out.value}
	}
	return kvState{exists: true, value: out.value, modRev: exactly(out.modRev), createRev: exactly(out.createRev),
		version: out.version, seen: seen}
}
