package checker

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// checkRevisions checks, across keys, what porcupine's check per key
// cannot see of etcd's one revision counter, and says what broke ("" if
// nothing did):
//
//   - Revisions never go backwards in real time: if A returned OK before B
//     was called, B's header revision is at least A's. Every entry up to
//     A's revision was applied, so committed, before A returned (A's own
//     entry for a write; for a read, the entries the member had applied
//     when it served it). For a write B: B reaches raft after that,
//     and whichever leader appends it holds every committed entry (leader
//     completeness), so B's entry follows A's in the log and is applied
//     later, at a higher revision. For a linearizable read B: it is
//     served after ReadIndex, at an index the leader confirmed as its
//     commit index after committing an entry of its own term, so at or
//     above every entry committed when B was called, A's included; the
//     member applies up to it before it reads.
//   - A write that creates a revision creates one above every revision
//     observed before it was called (the same argument, strictly: its
//     entry comes after), and no two writes create the same revision.
//     One Txn creates one revision for all of its keys; a Txn is one
//     operation here (TxnPuts), so two operations never share one.
//
// Only operations that came back OK with a recorded revision count: an
// unknown outcome's header, if any, came with an error. Serializable
// reads, which may be stale by design, must not be in the history.
func checkRevisions(ops []Operation) string {
	var known []int
	for i, op := range ops {
		if op.Outcome == OK && op.Rev != 0 {
			known = append(known, i)
		}
	}
	if msg := sharedRevision(ops, known); msg != "" {
		return msg
	}
	return backwards(ops, known)
}

// creates reports whether an OK operation created a revision.
func creates(op Operation) bool {
	switch op.Kind {
	case Put, TxnPuts:
		return true
	case Delete, CAS, CASRev:
		return op.Found // deleted something, or the compare held
	}
	return false
}

// sharedRevision finds two writes that created one revision.
func sharedRevision(ops []Operation, known []int) string {
	by := map[int64]int{}
	for _, i := range known {
		if !creates(ops[i]) {
			continue
		}
		if j, ok := by[ops[i].Rev]; ok {
			return fmt.Sprintf("%s and %s both created revision %d", name(ops[j]), name(ops[i]), ops[i].Rev)
		}
		by[ops[i].Rev] = i
	}
	return ""
}

// backwards finds an operation called after another had returned at a
// higher revision (or, for a write, at its own or higher). It sweeps the
// operations by call time, keeping the highest revision returned before.
func backwards(ops []Operation, known []int) string {
	byReturn := slices.Clone(known)
	slices.SortStableFunc(byReturn, func(a, b int) int { return cmp.Compare(ops[a].Return, ops[b].Return) })
	byCall := slices.Clone(known)
	slices.SortStableFunc(byCall, func(a, b int) int { return cmp.Compare(ops[a].Call, ops[b].Call) })
	highest, next := -1, 0 // the op that returned the highest revision so far
	for _, b := range byCall {
		// porcupine's intervals are closed: A precedes B only if it
		// returned strictly before B was called.
		for ; next < len(byReturn) && ops[byReturn[next]].Return < ops[b].Call; next++ {
			if a := byReturn[next]; highest < 0 || ops[a].Rev > ops[highest].Rev {
				highest = a
			}
		}
		if highest < 0 {
			continue
		}
		before, op := ops[highest], ops[b]
		switch {
		case op.Rev < before.Rev:
			return fmt.Sprintf("%s called at %v has revision %d, below revision %d of %s that returned at %v",
				name(op), op.Call, op.Rev, before.Rev, name(before), before.Return)
		case op.Rev == before.Rev && creates(op):
			return fmt.Sprintf("%s called at %v created revision %d, which %s had returned at %v",
				name(op), op.Call, op.Rev, name(before), before.Return)
		}
	}
	return ""
}

// name is an operation as a failure quotes it.
func name(op Operation) string {
	key := op.Key
	if op.Kind == TxnPuts {
		key = strings.Join(op.Keys, ", ")
	}
	return fmt.Sprintf("client %d's %v(%s)", op.Client, op.Kind, key)
}
