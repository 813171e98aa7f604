package checker

import (
	"fmt"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// CheckSerializable holds serializable reads to what etcd promises them:
// a state the store really went through, at the revision the response's
// header names, and never one ahead of what the cluster applied. A
// member cut off from the leader serves such reads from its own store,
// so they may be stale; they may not be invented. Each read is compared
// with the Truth's version of the key at the read's header revision.
// Reads whose revision falls after a gap in the Truth (a revision no
// member reported) are not judged.
func CheckSerializable(truth *Truth, reads []Operation) Verdict {
	ix := truth.build()
	byKey := map[string][]int{} // key -> indexes into ix.revs of the revisions that changed it
	for i, r := range ix.revs {
		for _, e := range r.events {
			k := string(e.ev.GetKv().GetKey())
			if n := len(byKey[k]); n == 0 || byKey[k][n-1] != i {
				byKey[k] = append(byKey[k], i)
			}
		}
	}
	v := Verdict{Name: "serializable reads", OK: true}
	var checked, stale, unjudged int
	var bad []string
	for _, op := range reads {
		if op.Kind != Get || op.Outcome != OK || !op.Serializable || op.Rev == 0 {
			continue
		}
		if applied := ix.lastRevAt(op.Return); op.Rev > applied {
			bad = append(bad, fmt.Sprintf("client %d's get %s at %v was served at revision %d, beyond the last any member had applied by then (%d)",
				op.Client, op.Key, op.Return, op.Rev, applied))
			continue
		}
		want, ok := keyAt(ix, byKey[op.Key], op.Key, op.Rev)
		if !ok {
			unjudged++
			continue
		}
		checked++
		if op.Rev < ix.lastRevAt(op.Call) {
			stale++
		}
		if why := readMatches(op, want); why != "" {
			bad = append(bad, fmt.Sprintf("client %d's get %s at revision %d (%v) %s", op.Client, op.Key, op.Rev, op.Return, why))
		}
	}
	v.Detail = fmt.Sprintf("%d serializable reads checked against the applied history, %d of them stale (served below the newest revision applied when they were sent)", checked, stale)
	if unjudged > 0 {
		v.Detail += fmt.Sprintf("; %d not judged (a gap in the history)", unjudged)
	}
	if checked == 0 && len(bad) == 0 {
		// Nothing judged is nothing vouched for.
		v.OK = false
		v.Detail = fmt.Sprintf("no serializable read could be checked (%d not judged: a gap in the history)", unjudged)
	}
	if len(bad) > 0 {
		v.OK = false
		v.Detail = fmt.Sprintf("%s (and %d more)", bad[0], len(bad)-1)
		if len(bad) == 1 {
			v.Detail = bad[0]
		}
	}
	return v
}

// keyAt is the key's version at rev in the Truth (nil if it had none),
// and whether the Truth knows it: no revision between the key's last
// change at or below rev and rev itself is missing.
func keyAt(ix *truthIndex, changes []int, key string, rev int64) (*mvccpb.KeyValue, bool) {
	i, _ := slices.BinarySearchFunc(changes, rev+1, func(pos int, r int64) int { return cmpInt(ix.revs[pos].Rev, r) })
	from := int64(1)
	var kv *mvccpb.KeyValue
	if i > 0 {
		r := ix.revs[changes[i-1]]
		from = r.Rev
		for _, e := range r.events {
			if string(e.ev.GetKv().GetKey()) == key {
				kv = nil
				if e.ev.GetType() == mvccpb.Event_PUT {
					kv = e.ev.GetKv()
				}
			}
		}
	}
	// Every revision in (from, rev] must be known, or the key may have
	// changed unseen.
	known := int64(ix.at(rev+1) - ix.at(from+1))
	return kv, known == rev-from
}

// readMatches says how a read differs from the key's true version, ""
// if it does not.
func readMatches(op Operation, want *mvccpb.KeyValue) string {
	switch {
	case want == nil && op.Found:
		return fmt.Sprintf("found %q, but the key did not exist then", op.Result)
	case want == nil:
		return ""
	case !op.Found:
		return fmt.Sprintf("found nothing, but the key held %q (mod %d)", want.Value, want.ModRevision)
	case op.Result != string(want.Value) || (op.ModRev != 0 && (op.ModRev != want.ModRevision ||
		op.CreateRev != want.CreateRevision || op.Version != want.Version)):
		return fmt.Sprintf("read %q (mod %d, create %d, version %d), but the key held %q (mod %d, create %d, version %d)",
			op.Result, op.ModRev, op.CreateRev, op.Version, want.Value, want.ModRevision, want.CreateRevision, want.Version)
	}
	return ""
}

// RevAt is the newest revision any member had applied by time t.
func (t *Truth) RevAt(at time.Duration) int64 { return t.build().lastRevAt(at) }

// lastRevAt is the newest revision any member had applied by time t.
// The first apply of a revision never comes before the first apply of
// the one below it (that member applied both, in order), so the earliest
// apply times rise with the revisions.
func (ix *truthIndex) lastRevAt(t time.Duration) int64 {
	i, _ := slices.BinarySearchFunc(ix.revs, t, func(r *indexedRev, t time.Duration) int {
		if r.at <= t {
			return -1
		}
		return 1
	})
	if i == 0 {
		return 1
	}
	return ix.revs[i-1].Rev
}
