package checker

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"
)

// kvModel is etcd's store seen one key at a time. Keys are independent
// for the model, so porcupine checks each key's operations alone: a
// history of thousands of operations becomes a handful of small searches.
// Why that is sound although revisions are global: the package comment.
//
// A state is the state the key is in (kvState) or, as etcd's
// non-deterministic model keeps several, the set of states it may be in
// (kvStates): two only when a CASRev whose outcome is unknown compares a
// revision the model does not know yet, so that it may or may not have
// succeeded.
var kvModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(kvInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		slices.Sort(keys)
		out := make([][]porcupine.Operation, len(keys))
		for i, k := range keys {
			out[i] = byKey[k]
		}
		return out
	},
	Init: func() any { return kvState{} },
	Step: func(state, input, output any) (bool, any) {
		in, out := input.(kvInput), output.(kvOutput)
		var buf [4]kvState
		next := kvStates(buf[:0])
		switch st := state.(type) {
		case kvState:
			next = st.step(in, out, next)
		case kvStates:
			for _, st := range st {
				next = st.step(in, out, next)
			}
		}
		next = canonical(next)
		switch len(next) {
		case 0:
			return false, state
		case 1:
			return true, next[0]
		}
		return true, slices.Clone(next)
	},
	Equal: func(a, b any) bool {
		if a, ok := a.(kvState); ok {
			b, ok := b.(kvState)
			return ok && a == b
		}
		bs, ok := b.(kvStates)
		return ok && slices.Equal(a.(kvStates), bs)
	},
	DescribeOperation: func(input, output any) string {
		return describe(input.(kvInput), output.(kvOutput))
	},
	DescribeState: func(state any) string {
		if st, ok := state.(kvState); ok {
			return st.String()
		}
		var s []string
		for _, st := range state.(kvStates) {
			s = append(s, st.String())
		}
		return strings.Join(s, " or ")
	},
}

// kvInput and kvOutput are what porcupine sees of an operation on one key
// (a TxnPuts becomes one put per key, sharing its revision).
type kvInput struct {
	kind         Kind // Put, Get, Delete, CAS or CASRev
	key          string
	value        string
	expect       string // CAS
	expectModRev int64  // CASRev
	txn          bool   // a put that is one key of a TxnPuts
	// valuesOnly: the history records no revision at all, so the key is
	// a register of values. Counting versions and revisions nobody reports
	// would only make states that differ in nothing anybody saw, which
	// porcupine's cache cannot merge.
	valuesOnly bool
}

type kvOutput struct {
	unknown bool // the client never learnt the result
	found   bool
	value   string
	// rev is the header's revision, 0 if not known: the revision a write
	// created, or the one the store had when it served anything else.
	rev int64
	// modRev, createRev and version are what a Get read, 0 if not recorded.
	modRev, createRev, version int64
	// member served it (0 if unknown): for the picture, never the model.
	member uint64
}

// revRange is a revision the model knows only within bounds: lo < r <= hi.
// A write with a known revision makes it exact; one whose revision nobody
// learnt leaves it above the highest revision the key had been seen at
// (a write creates a revision above every existing one), unbounded; each
// later operation that sees the key at a known revision bounds it from
// above, and the first read that reports it pins it.
type revRange struct{ lo, hi int64 }

func exactly(r int64) revRange      { return revRange{r - 1, r} }
func above(r int64) revRange        { return revRange{r, math.MaxInt64} }
func (r revRange) has(x int64) bool { return r.lo < x && x <= r.hi }
func (r revRange) known() bool      { return r.hi == r.lo+1 }
func (r revRange) min() int64       { return r.lo + 1 }
func (r revRange) empty() bool      { return r.lo >= r.hi }

func (r revRange) String() string {
	switch {
	case r.known():
		return fmt.Sprint(r.hi)
	case r.hi == math.MaxInt64:
		return fmt.Sprintf(">%d", r.lo)
	}
	return fmt.Sprintf("%d..%d", r.lo+1, r.hi)
}

// kvState is one key as etcd's store holds it (mvccpb.KeyValue without
// the lease) and the highest revision it has been seen at.
type kvState struct {
	exists            bool
	value             string
	modRev, createRev revRange
	version           int64
	// seen is a revision the key has reached in the order being tried:
	// the highest known one it was written or read at (after a delete at
	// an unknown revision, one below that delete's). A later write must
	// create a higher one and a later read be served at one at least as
	// high: the order by revision is one a correct etcd always admits.
	seen int64
}

func (s kvState) String() string {
	if !s.exists {
		return fmt.Sprintf("(none) seen %d", s.seen)
	}
	return fmt.Sprintf("%q mod %v create %v ver %d seen %d", s.value, s.modRev, s.createRev, s.version, s.seen)
}

// step appends to next the states s can go to by the operation, none if
// the operation's output is impossible from s.
func (s kvState) step(in kvInput, out kvOutput, next kvStates) kvStates {
	if out.unknown {
		// An open write took effect, at a revision nobody learnt; that it
		// never did porcupine tries by placing it after everything else.
		switch in.kind {
		case Put:
			return append(next, s.put(in.value, 0, in.valuesOnly))
		case Delete:
			return append(next, s.deleted(0))
		case CAS:
			if s.exists && s.value == in.expect {
				return append(next, s.put(in.value, 0, in.valuesOnly))
			}
			return append(next, s)
		case CASRev:
			if held, ok := s.compareModRev(in.expectModRev); ok {
				next = append(next, held.put(in.value, 0, in.valuesOnly))
			}
			if s.mayDifferFrom(in.expectModRev) {
				next = append(next, s)
			}
			return next
		}
		return next // an unknown Get never reaches the model
	}
	switch in.kind {
	case Put:
		return s.write(in.value, out.rev, in.valuesOnly, next)
	case Delete:
		if out.found != s.exists {
			return next
		}
		if !out.found {
			return s.observe(out.rev, next)
		}
		if out.rev != 0 && out.rev <= s.floor() {
			return next
		}
		return append(next, s.deleted(out.rev))
	case CAS:
		holds := s.exists && s.value == in.expect
		if out.found != holds {
			return next
		}
		if holds {
			return s.write(in.value, out.rev, in.valuesOnly, next)
		}
		return s.observe(out.rev, next)
	case CASRev:
		if !out.found {
			if !s.mayDifferFrom(in.expectModRev) {
				return next
			}
			return s.observe(out.rev, next)
		}
		held, ok := s.compareModRev(in.expectModRev)
		if !ok {
			return next
		}
		return held.write(in.value, out.rev, in.valuesOnly, next)
	}
	// Get
	if out.found != s.exists || out.found && out.value != s.value {
		return next
	}
	if !out.found || out.modRev == 0 {
		return s.observe(out.rev, next)
	}
	if out.version != s.version || out.rev != 0 && out.modRev > out.rev {
		return next
	}
	read, ok := s.pin(out.modRev)
	if !ok || !read.createRev.has(out.createRev) {
		return next
	}
	read.createRev = exactly(out.createRev)
	return read.observe(out.rev, next)
}

// floor is the highest revision the key is known to have reached: a
// write to it creates a higher one.
func (s kvState) floor() int64 {
	if s.exists && !s.modRev.empty() { // empty: a register of values only
		return max(s.seen, s.modRev.min())
	}
	return s.seen
}

// write is a put with a known outcome, at a known revision above the
// key's floor, or at one the model does not know.
func (s kvState) write(value string, rev int64, valuesOnly bool, next kvStates) kvStates {
	if rev != 0 && rev <= s.floor() {
		return next
	}
	return append(next, s.put(value, rev, valuesOnly))
}

// put is etcd's put of value at rev (0: unknown): version 1 and
// create_revision rev if the key did not exist, else version+1.
func (s kvState) put(value string, rev int64, valuesOnly bool) kvState {
	if valuesOnly {
		return kvState{exists: true, value: value}
	}
	r := above(s.floor())
	if rev != 0 {
		r = exactly(rev)
	}
	n := kvState{exists: true, value: value, modRev: r, createRev: r, version: 1, seen: max(s.seen, rev)}
	if s.exists {
		n.createRev, n.version = s.createRev, s.version+1
		if rev != 0 {
			// Every put since the creation took a revision below this one.
			n.createRev.hi = min(n.createRev.hi, rev-s.version)
		}
	}
	return n
}

// deleted is the key after a delete that deleted it at rev (0: unknown):
// gone, so the next put starts at version 1, creating it anew.
func (s kvState) deleted(rev int64) kvState {
	return kvState{seen: max(s.floor(), rev)}
}

// observe appends s seen at the store's revision rev (0: unknown): served
// at rev, so no earlier than any revision the key was seen at, and the
// key's revisions are at most rev.
func (s kvState) observe(rev int64, next kvStates) kvStates {
	if rev == 0 {
		return append(next, s)
	}
	if rev < s.seen {
		return next
	}
	s.seen = rev
	if s.exists {
		s.modRev.hi = min(s.modRev.hi, rev)
		s.createRev.hi = min(s.createRev.hi, rev)
		if s.modRev.empty() || s.createRev.empty() {
			return next
		}
	}
	return append(next, s)
}

// pin is s with its mod revision found to be m, if that can be.
func (s kvState) pin(m int64) (kvState, bool) {
	if !s.exists || !s.modRev.has(m) {
		return s, false
	}
	s.modRev = exactly(m)
	if s.version == 1 {
		// The put that created the key is the last that modified it.
		if !s.createRev.has(m) {
			return s, false
		}
		s.createRev = exactly(m)
		return s, true
	}
	// version-1 puts, each at a higher revision, came after the creation.
	s.createRev.hi = min(s.createRev.hi, m-(s.version-1))
	return s, !s.createRev.empty()
}

// compareModRev is s if etcd's compare "mod_revision(key) == want" can
// hold in it (a missing key's mod_revision is 0), with the revision pinned.
func (s kvState) compareModRev(want int64) (kvState, bool) {
	if want == 0 {
		return s, !s.exists
	}
	return s.pin(want)
}

// mayDifferFrom reports whether the compare "mod_revision(key) == want"
// can fail in s. (A failed compare tells the model only what the key's
// revision is not; a range cannot hold that, so it keeps the range.)
func (s kvState) mayDifferFrom(want int64) bool {
	if !s.exists {
		return want != 0
	}
	return want == 0 || !s.modRev.known() || s.modRev.hi != want
}

// kvStates is the set of states a key may be in, two or more, sorted and
// without duplicates, so that porcupine's cache finds two equal sets equal.
type kvStates []kvState

func canonical(s kvStates) kvStates {
	slices.SortFunc(s, compareStates)
	return slices.Compact(s)
}

func compareStates(a, b kvState) int {
	if a.exists != b.exists {
		if a.exists {
			return 1
		}
		return -1
	}
	return cmp.Or(cmp.Compare(a.value, b.value),
		cmp.Compare(a.modRev.lo, b.modRev.lo), cmp.Compare(a.modRev.hi, b.modRev.hi),
		cmp.Compare(a.createRev.lo, b.createRev.lo), cmp.Compare(a.createRev.hi, b.createRev.hi),
		cmp.Compare(a.version, b.version), cmp.Compare(a.seen, b.seen))
}

func describe(in kvInput, out kvOutput) string {
	var op string
	switch in.kind {
	case Put:
		op = fmt.Sprintf("put(%s, %q)", in.key, in.value)
		if in.txn {
			op = "txn " + op
		}
	case Delete:
		op = fmt.Sprintf("delete(%s)", in.key)
	case CAS:
		op = fmt.Sprintf("cas(%s, %q -> %q)", in.key, in.expect, in.value)
	case CASRev:
		op = fmt.Sprintf("cas(%s, mod %d -> %q)", in.key, in.expectModRev, in.value)
	default:
		op = fmt.Sprintf("get(%s)", in.key)
	}
	var res string
	switch {
	case out.unknown:
		return op + " -> ?"
	case in.kind == Delete:
		res = fmt.Sprintf("deleted %v", out.found)
	case in.kind == CAS || in.kind == CASRev:
		res = fmt.Sprint(out.found)
	case in.kind == Get && !out.found:
		res = "not found"
	case in.kind == Get && out.modRev != 0:
		res = fmt.Sprintf("%q mod %d create %d ver %d", out.value, out.modRev, out.createRev, out.version)
	case in.kind == Get:
		res = fmt.Sprintf("%q", out.value)
	default:
		res = "ok"
	}
	if out.rev != 0 {
		res += fmt.Sprintf(", rev %d", out.rev)
	}
	if out.member != 0 {
		res += fmt.Sprintf(", by n%d", out.member)
	}
	return op + " -> " + res
}
