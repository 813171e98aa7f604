package checker

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"
)

// randomHistory is one key's history as clients would see an etcd that
// is linearizable: each operation takes effect at a random point within
// its call and return, on one key with etcd's revisions. Some writes end
// with an unknown outcome (taking effect or not), and, if corrupt, one
// read reports what the key held earlier, or at another revision: usually
// a history with no valid order.
func randomHistory(rng *rand.Rand, corrupt, valuesOnly bool) ([]porcupine.Operation, []string) {
	type pending struct {
		op    porcupine.Operation
		at    int64 // when it takes effect
		tie   int64 // which goes first of those taking effect at the same time
		apply bool  // an unknown write that takes effect
	}
	var ops []pending
	for client := range 1 + rng.IntN(4) {
		// Times on a coarse grid, so that one operation is often called
		// at the very time another returns: porcupine takes those as
		// overlapping, and so must the cuts.
		t := 2 * int64(rng.IntN(10))
		for range 10 + rng.IntN(60) {
			call := t + 2*int64(rng.IntN(3))
			ret := call + 2*(1+int64(rng.IntN(10)))
			in := kvInput{key: "k", value: fmt.Sprintf("v%d", rng.IntN(4)), valuesOnly: valuesOnly}
			switch r := rng.IntN(100); {
			case r < 45:
				in.kind = Get
			case r < 80:
				in.kind = Put
			case r < 90:
				in.kind = Delete
			case r < 95 || valuesOnly:
				in.kind, in.expect = CAS, fmt.Sprintf("v%d", rng.IntN(4))
			default:
				in.kind = CASRev // its expected revision is drawn when it takes effect
			}
			p := pending{op: porcupine.Operation{ClientId: client, Input: in, Call: call, Return: ret},
				at: call + rng.Int64N(ret-call+1), tie: rng.Int64()} // at the call or the return, too
			if in.kind != Get && rng.IntN(100) < 3 {
				p.op.Return, p.apply = math.MaxInt64, rng.IntN(2) == 0
				p.op.Output = kvOutput{unknown: true}
			}
			ops = append(ops, p)
			t = ret
		}
	}
	// Take effect in time order.
	order := make([]int, len(ops))
	for i := range order {
		order[i] = i
	}
	less := func(a, b pending) bool {
		if a.at != b.at {
			return a.at < b.at
		}
		return a.tie < b.tie // porcupine orders neither of two at one instant first
	}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && less(ops[order[j]], ops[order[j-1]]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	var st struct {
		exists               bool
		value                string
		mod, create, version int64
	}
	rev := int64(1)
	var values []string
	put := func(v string) {
		rev++
		if !st.exists {
			st.create, st.version = rev, 0
		}
		st.exists, st.value, st.mod = true, v, rev
		st.version++
		values = append(values, v)
	}
	for _, i := range order {
		if rng.IntN(10) < 3 {
			rev += 1 + int64(rng.IntN(2)) // other keys' writes
		}
		p := &ops[i]
		in := p.op.Input.(kvInput)
		unknown := p.op.Return == math.MaxInt64
		if unknown && !p.apply {
			continue
		}
		var out kvOutput
		switch in.kind {
		case Get:
			out = kvOutput{found: st.exists, value: st.value}
			if st.exists {
				out.modRev, out.createRev, out.version = st.mod, st.create, st.version
			}
		case Put:
			put(in.value)
		case Delete:
			out.found = st.exists
			if st.exists {
				rev++
				st.exists = false
			}
		case CAS:
			out.found = st.exists && st.value == in.expect
			if out.found {
				put(in.value)
			}
		case CASRev:
			switch {
			case rng.IntN(2) == 0 && st.exists:
				in.expectModRev = st.mod
			case rng.IntN(2) == 0:
				in.expectModRev = 0
			default:
				in.expectModRev = 1 + rng.Int64N(rev)
			}
			p.op.Input = in
			out.found = st.exists && st.mod == in.expectModRev || !st.exists && in.expectModRev == 0
			if out.found {
				put(in.value)
			}
		}
		out.rev = rev
		switch r := rng.IntN(100); {
		case valuesOnly:
			out.rev, out.modRev, out.createRev, out.version = 0, 0, 0, 0
		case r < 3:
			out.rev = 0 // a reply without a header revision
		case r < 6 && in.kind == Get:
			out.modRev, out.createRev, out.version = 0, 0, 0 // a read that recorded no revisions
		}
		if !unknown {
			p.op.Output = out
		}
	}
	history := make([]porcupine.Operation, len(ops))
	for i, p := range ops {
		history[i] = p.op
	}
	if corrupt {
		var reads []int
		for i, op := range history {
			if op.Input.(kvInput).kind == Get {
				reads = append(reads, i)
			}
		}
		if len(reads) > 0 {
			corruptRead(rng, &history[reads[rng.IntN(len(reads))]], values)
		}
	}
	return history, values
}

// corruptRead makes a read report something else than it saw: another
// mod or create revision, version, store revision, or value.
func corruptRead(rng *rand.Rand, op *porcupine.Operation, values []string) {
	out := op.Output.(kvOutput)
	switch r := rng.IntN(5); {
	case r == 0 && out.found && out.modRev > 1:
		out.modRev--
	case r == 1 && out.found:
		out.createRev += int64(rng.IntN(3)) - 1
	case r == 2 && out.found:
		out.version += int64(rng.IntN(3)) - 1
	case r == 3 && out.rev > 1:
		out.rev -= 1 + rng.Int64N(out.rev-1) // served at an older revision
	case len(values) > 0:
		out.found, out.value = true, values[rng.IntN(len(values))] // an earlier value, perhaps
	}
	op.Output = out
}

// Checking a key in segments gives porcupine's verdict on the whole key,
// on histories with and without a valid order, with and without
// revisions, with open writes: the cuts lose nothing and invent nothing.
func TestSegmentsGiveTheWholeHistorysVerdict(t *testing.T) {
	defer func(n int) { minSegment = n }(minSegment)
	minSegment = 3 // cut as often as it is sound to
	rng := rand.New(rand.NewPCG(1, 2))
	whole := kvModel
	whole.Partition = nil
	var cut, illegal int
	for i := range 6000 {
		h, values := randomHistory(rng, i%3 == 1, i%4 == 3)
		if i%3 == 2 {
			// Where a cut is least checked: the first read of a segment
			// that starts from a witness's state.
			if segs := segments(h); len(segs) > 1 {
				seg := segs[1+rng.IntN(len(segs)-1)]
				if j := slices.IndexFunc(seg.ops, func(op porcupine.Operation) bool { return op.Input.(kvInput).kind == Get }); j >= 0 {
					k := slices.IndexFunc(h, func(op porcupine.Operation) bool {
						return op.ClientId == seg.ops[j].ClientId && op.Call == seg.ops[j].Call
					})
					corruptRead(rng, &h[k], values)
				}
			}
		}
		want := porcupine.CheckOperations(whole, h)
		segs := segments(h)
		got := true
		for _, s := range segs {
			if !porcupine.CheckOperations(s.model(), s.ops) {
				got = false
				break
			}
		}
		require.Equal(t, want, got, "history %d (%d operations, %d segments)", i, len(h), len(segs))
		if len(segs) > 1 {
			cut++
		}
		if !want {
			illegal++
		}
	}
	// The comparison means something only if both kinds of history were
	// cut often.
	require.Greater(t, cut, 1200, "histories cut")
	require.Greater(t, illegal, 1000, "histories with no valid order")
}

// A segment starts from what its witness read saw, at the highest
// revision reported before the cut.
func TestSegmentsStartFromWhatTheWitnessSaw(t *testing.T) {
	defer func(n int) { minSegment = n }(minSegment)
	minSegment = 1
	op := func(kind Kind, call, ret int64, out kvOutput) porcupine.Operation {
		return porcupine.Operation{Input: kvInput{kind: kind, key: "k", value: "a"}, Call: call, Return: ret, Output: out}
	}
	h := []porcupine.Operation{
		op(Put, 0, 10, kvOutput{rev: 2}),
		op(Get, 11, 20, kvOutput{found: true, value: "a", modRev: 2, createRev: 2, version: 1, rev: 2}),
		op(Get, 12, 21, kvOutput{found: true, value: "a", modRev: 2, createRev: 2, version: 1, rev: 5}),
		op(Put, 30, 40, kvOutput{rev: 6}),
	}
	segs := segments(h)
	require.Len(t, segs, 2)
	require.Len(t, segs[0].ops, 3)
	require.Equal(t, kvState{exists: true, value: "a", modRev: exactly(2), createRev: exactly(2), version: 1, seen: 5}, *segs[1].start)

	// A read called at the very time a write returned overlaps it: it is
	// no witness (the whole history is valid, with b's put after the
	// read).
	eq := []porcupine.Operation{
		op(Put, 0, 5, kvOutput{rev: 2}),
		{Input: kvInput{kind: Put, key: "k", value: "b"}, Call: 6, Return: 10, Output: kvOutput{rev: 3}},
		op(Get, 10, 12, kvOutput{found: true, value: "a", modRev: 2, createRev: 2, version: 1, rev: 2}),
		{Input: kvInput{kind: Get, key: "k"}, Call: 20, Return: 22, Output: kvOutput{found: true, value: "b", modRev: 3, createRev: 2, version: 2, rev: 3}},
	}
	whole := kvModel
	whole.Partition = nil
	require.True(t, porcupine.CheckOperations(whole, eq))
	require.Len(t, segments(eq), 1)

	// An open write, or a write the read did not follow, leaves no cut.
	open := op(Put, 1, math.MaxInt64, kvOutput{unknown: true})
	require.Len(t, segments(append([]porcupine.Operation{open}, h...)), 1)
	late := op(Put, 15, 25, kvOutput{rev: 3})
	require.Len(t, segments([]porcupine.Operation{h[0], h[1], late, h[3]}), 1)
}
