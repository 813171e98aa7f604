package checker

import (
	"fmt"
	"sort"
	"time"
)

// Logged checks that member's log, which now holds at index an entry of
// term, with digest chained over its log's entries 1..index, matches every
// other log that holds an entry of term at index: raft's log matching says
// they are then identical up to index, so their digests are equal. It
// returns the violation, if this is one, already recorded.
//
// Report an entry once it is in the member's log: after its WAL write,
// and before the Observe of the input that wrote it. An index at or below
// the member's last one means raft overwrote the log from there; the
// member's log then ends at index. After Restarted, report the log the
// member recovered, from its snapshot (SnapshotInstalled) up.
//
// The log each member reported is what leader completeness is judged on:
// when Observe first sees a member lead a term, its log must reach the
// highest index known committed (any member's commit index, any index a
// member applied), and hold at the highest index a member applied the
// entry that member applied there. A member's commit index says an entry
// is committed but not which one: the member's log may hold, for a while,
// an entry raft has already overwritten in memory but not yet on its disk.
// Applied says which, by its digest.
func (c *Raft) Logged(at time.Duration, member, index, term, digest uint64) []string {
	v := c.view(member)
	v.hold(index, term)
	return c.match(at, member, v, index, term, digest)
}

// SnapshotInstalled tells the checker member's log now starts after a
// snapshot at index of term, with digest chained over the entries 1..index
// it covers (the applied digest there, which is the log's). It is compared
// with the logs that hold an entry of term at index, as Logged is. The log
// ends at index, unless it held that entry already: then raft keeps the
// entries after it, and so does the checker. Entries reported just after
// index before the snapshot (a restart may report the entries it
// recovered first) are kept too.
func (c *Raft) SnapshotInstalled(at time.Duration, member, index, term, digest uint64) []string {
	v := c.view(member)
	v.compact(index, term)
	return c.match(at, member, v, index, term, digest)
}

func (c *Raft) view(member uint64) *logView {
	v := c.logs[member]
	if v == nil {
		v = &logView{}
		c.logs[member] = v
	}
	return v
}

// match compares the log digest member reported at (index, term) with the
// first one reported there.
func (c *Raft) match(at time.Duration, member uint64, v *logView, index, term, digest uint64) []string {
	if v.forkedAt != 0 {
		// Its log differs from another's below index, so by the chain it
		// differs at every later index too: it was reported once, and its
		// digests from there on are kept out of the record, lest a member
		// holding the right entries be reported against them.
		return nil
	}
	ref, seen := record(c.logged, [2]uint64{index, term}, member, digest, &c.logCompared)
	if !seen {
		return nil
	}
	if ref.digest == digest {
		return nil
	}
	v.forkedAt = index
	if ref.member == member {
		// One leader makes each entry of a term, and a member keeps the
		// ones it wrote or loses them: it cannot get another.
		return []string{c.violate(at, "n%d's log changed up to index %d, where it holds an entry of term %d again (digests %016x, %016x)",
			member, index, term, ref.digest, digest)}
	}
	return []string{c.violate(at, "n%d and n%d logged different entries up to index %d, where both hold an entry of term %d (digests %016x, %016x)",
		ref.member, member, index, term, ref.digest, digest)}
}

// checkLeaderLog checks that st.ID, first seen leading st.Term, holds
// every entry known committed (see Logged).
func (c *Raft) checkLeaderLog(at time.Duration, st MemberState) []string {
	if len(c.logged) == 0 {
		return nil // the harness reports no logs: there is nothing to judge
	}
	want, how := c.maxApplied, "applied"
	if c.maxCommit.index > want.index {
		want, how = c.maxCommit, "committed"
	}
	if want.index == 0 {
		return nil
	}
	c.leaderChecks++
	v := c.logs[st.ID]
	if v == nil || v.last < want.index {
		ends := "is empty"
		if v != nil {
			ends = fmt.Sprintf("ends at index %d", v.last)
		}
		return []string{c.violate(at, "n%d leads term %d but its log %s, short of index %d, which n%d %s",
			st.ID, st.Term, ends, want.index, want.member, how)}
	}
	// Equal digests at the highest applied index mean equal logs up to
	// it, so this one comparison covers every index a member applied.
	// Below the log's start the entry is in the leader's snapshot, whose
	// digest was compared when it was installed; from where the log
	// differs from another's, the record holds others' digests, not its.
	a := c.maxApplied
	if a.index == 0 || a.index < v.first || v.forkedAt != 0 && a.index >= v.forkedAt {
		return nil
	}
	term := v.termAt(a.index)
	held, ok := c.logged[[2]uint64{a.index, term}]
	if applied := c.applied[a.index].digest; ok && held.digest != applied {
		return []string{c.violate(at, "n%d leads term %d but its log holds another entry at index %d (of term %d) than the one n%d applied there (digests %016x, %016x)",
			st.ID, st.Term, a.index, term, a.member, held.digest, applied)}
	}
	return nil
}

// logView is what a member's log holds, as far as the checker was told:
// the term of every entry from first to last, kept as runs of one term
// (a log has few, one per leader it took entries from), so a long log
// costs the checker little beyond its digests per (index, term).
type logView struct {
	first, last uint64    // first is the snapshot's index, if the log starts after one
	runs        []termRun // ascending; runs[0].from is first
	// forkedAt is the lowest index at which the log holds other entries
	// than another log with the same term there (0 if none): see match.
	forkedAt uint64
}

// termRun says the log's entries from index from on are of term, up to
// the next run.
type termRun struct{ from, term uint64 }

// hold records that the log now holds an entry of term at index, and
// ends there.
func (v *logView) hold(index, term uint64) {
	if v.forkedAt >= index {
		v.forkedAt = 0 // the entry that differed is overwritten
	}
	if len(v.runs) == 0 || index < v.first || index > v.last+1 {
		// The first entry of the log, or one that leaves a gap: the log
		// as the checker knows it starts here.
		v.first, v.runs = index, v.runs[:0]
	} else {
		k := sort.Search(len(v.runs), func(k int) bool { return v.runs[k].from >= index })
		v.runs = v.runs[:k]
	}
	if n := len(v.runs); n == 0 || v.runs[n-1].term != term {
		v.runs = append(v.runs, termRun{index, term})
	}
	v.last = index
}

// compact records that the log now starts after a snapshot at index of
// term: see SnapshotInstalled.
func (v *logView) compact(index, term uint64) {
	switch {
	case len(v.runs) > 0 && v.first <= index && index <= v.last && v.termAt(index) == term:
		k := sort.Search(len(v.runs), func(k int) bool { return v.runs[k].from > index })
		v.runs = append(v.runs[:0], v.runs[k-1:]...)
		v.runs[0].from = index
	case len(v.runs) > 0 && v.first == index+1:
		if v.runs[0].term == term {
			v.runs[0].from = index
		} else {
			v.runs = append([]termRun{{index, term}}, v.runs...)
		}
	default:
		v.last, v.runs, v.forkedAt = index, append(v.runs[:0], termRun{index, term}), 0
	}
	v.first = index
}

// termAt is the term of the entry at index, which must be in the log.
func (v *logView) termAt(index uint64) uint64 {
	k := sort.Search(len(v.runs), func(k int) bool { return v.runs[k].from > index })
	return v.runs[k-1].term
}
