package checker

import (
	"fmt"
	"time"
)

// Raft checks raft's safety properties as a run goes, so a breach is
// reported with the virtual time it was seen:
//
//   - election safety: at most one member leads a term;
//   - a member's commit index never goes back (within one life: a
//     restarted member may recover a lower one from its log);
//   - state-machine safety: members that applied an index applied the
//     same entries, with the same terms, in the same order, up to it.
//     Members report a digest chained over every entry they apply, so
//     equal digests at one index mean equal applied prefixes;
//   - log matching: logs that hold an entry of the same term at an index
//     are identical up to it, applied or not. Members report the same
//     chained digest over their logs;
//   - leader completeness: a new leader's log holds every entry known to
//     be committed when it takes over (see Logged).
//
// Feed Observe with every member's state after every input to it, Applied
// with every entry a member applies, Logged with every entry it appends
// to its log and SnapshotInstalled with every snapshot it installs. The
// checker keeps one digest per index, and one per (index, term) of the
// logs: the first one reported there.
type Raft struct {
	termLeader map[uint64]uint64    // term -> the member that led it
	twoLeaders map[[2]uint64]bool   // (term, member) already reported as a second leader
	commit     map[uint64]uint64    // member -> highest commit this life
	applied    map[uint64]digestRef // index -> first digest reported there
	diverged   map[uint64]bool      // members already reported for applying other entries
	elections  int
	compared   int // indexes at which two members' digests were compared

	logged      map[[2]uint64]digestRef // (index, term) -> first log digest reported there
	logs        map[uint64]*logView     // member -> what its log holds, as far as it told
	logCompared int                     // (index, term) pairs at which two members' logs were compared
	// The highest index known committed: by a member's commit index, and
	// by a member applying it (which also tells its digest).
	maxCommit, maxApplied mark
	leaderChecks          int // elections at which the new leader's log was held to a committed index

	violations []string
	firstAt    time.Duration // when the first violation was seen
}

// mark is an index and the member that reported it.
type mark struct{ index, member uint64 }

// digestRef is the first digest reported at an index (applied) or at an
// (index, term) (logged), and who reported it.
type digestRef struct {
	member, digest uint64
	compared       bool // a second member reported it too
}

// record keeps the first digest reported at key, and counts in *compared
// the keys a second member reports too. It returns the first report and
// whether there was one before this.
func record[K comparable](refs map[K]digestRef, key K, member, digest uint64, compared *int) (digestRef, bool) {
	ref, seen := refs[key]
	if !seen {
		refs[key] = digestRef{member: member, digest: digest}
		return ref, false
	}
	if ref.member != member && !ref.compared {
		ref.compared = true
		refs[key] = ref
		*compared++
	}
	return ref, true
}

// MemberState is a member's raft state, as the Raft checker needs it.
type MemberState struct {
	ID     uint64
	Leader bool // it thinks it leads Term
	Term   uint64
	Commit uint64
}

// NewRaft returns a checker that has seen nothing.
func NewRaft() *Raft {
	return &Raft{
		termLeader: map[uint64]uint64{},
		twoLeaders: map[[2]uint64]bool{},
		commit:     map[uint64]uint64{},
		applied:    map[uint64]digestRef{},
		diverged:   map[uint64]bool{},
		logged:     map[[2]uint64]digestRef{},
		logs:       map[uint64]*logView{},
	}
}

// Observe checks one member's raft state at virtual time at. It returns
// the violations this state reveals (usually none), already recorded for
// the verdict.
func (c *Raft) Observe(at time.Duration, st MemberState) []string {
	var found []string
	if st.Commit < c.commit[st.ID] {
		found = append(found, c.violate(at, "n%d commit index went back from %d to %d", st.ID, c.commit[st.ID], st.Commit))
	}
	c.commit[st.ID] = st.Commit
	// Raft advances a commit index only over entries a quorum holds, so
	// the entry stays committed whatever becomes of this member.
	if st.Commit > c.maxCommit.index {
		c.maxCommit = mark{st.Commit, st.ID}
	}

	if st.Leader {
		prev, seen := c.termLeader[st.Term]
		switch {
		case !seen:
			c.termLeader[st.Term] = st.ID
			c.elections++
			found = append(found, c.checkLeaderLog(at, st)...)
		case prev != st.ID && !c.twoLeaders[[2]uint64{st.Term, st.ID}]:
			// Reported once: a second leader stays one at every input
			// until it steps down.
			c.twoLeaders[[2]uint64{st.Term, st.ID}] = true
			found = append(found, c.violate(at, "n%d and n%d both lead term %d", prev, st.ID, st.Term))
		}
	}
	return found
}

// Applied checks that member applied the entry at index with the same
// applied prefix (digest) as every other member that applied index. It
// returns the violation, if this is one, already recorded.
func (c *Raft) Applied(at time.Duration, member, index, digest uint64) []string {
	if index > c.maxApplied.index {
		c.maxApplied = mark{index, member}
	}
	ref, seen := record(c.applied, index, member, digest, &c.compared)
	if !seen {
		return nil
	}
	if ref.digest == digest || c.diverged[member] {
		return nil
	}
	// Once a member's applied prefix differs, it differs at every later
	// index too: report it once, not at every entry.
	c.diverged[member] = true
	if ref.member == member {
		return []string{c.violate(at, "n%d applied different entries up to index %d than in its life before a restart (digests %016x, %016x)",
			member, index, ref.digest, digest)}
	}
	return []string{c.violate(at, "n%d and n%d applied different entries up to index %d (digests %016x, %016x)",
		ref.member, member, index, ref.digest, digest)}
}

func (c *Raft) violate(at time.Duration, format string, args ...any) string {
	v := fmt.Sprintf("at %v: ", at) + fmt.Sprintf(format, args...)
	if len(c.violations) == 0 {
		c.firstAt = at
	}
	c.violations = append(c.violations, v)
	return v
}

// Restarted tells the checker a member came back from its log: its commit
// index may start lower than its past life's, it applies its log again
// from the start, and it reports its log again from its snapshot, as its
// disk kept it (a crash may have lost writes it reported last life).
func (c *Raft) Restarted(id uint64) {
	delete(c.commit, id)
	delete(c.diverged, id)
	delete(c.logs, id)
}

// Verdict is the checker's judgement of everything it observed.
func (c *Raft) Verdict() Verdict {
	v := Verdict{Name: "raft safety", OK: len(c.violations) == 0, At: c.firstAt, Timed: len(c.violations) > 0}
	switch {
	case !v.OK && len(c.violations) > 1:
		v.Detail = fmt.Sprintf("%s (and %d more)", c.violations[0], len(c.violations)-1)
	case !v.OK:
		v.Detail = c.violations[0]
	default:
		leaders, applied := "no leader elected", "no applied entry to compare"
		if c.elections > 0 {
			leaders = fmt.Sprintf("one leader per term (%s had one)", plural(c.elections, "term"))
		}
		if c.compared > 0 {
			applied = fmt.Sprintf("applied entries agree at all %s compared", plural(c.compared, "index"))
		}
		v.Detail = leaders + "; commit indexes never went back; " + applied
		// A harness that reports no logs gets the verdict it had before
		// logs were checked, rather than two parts saying nothing.
		if len(c.logged) > 0 {
			logs, held := "no log entry held by two members to compare", "no new leader after a commit to check"
			if c.logCompared > 0 {
				logs = fmt.Sprintf("logs match at all %s two members held", plural(c.logCompared, "(index, term) pair"))
			}
			if c.leaderChecks > 0 {
				held = fmt.Sprintf("new leaders held every committed entry (%s checked)", plural(c.leaderChecks, "election"))
			}
			v.Detail += "; " + logs + "; " + held
		}
	}
	return v
}

// MemberEnd is a member's state when a run ends.
type MemberEnd struct {
	ID      uint64
	Up      bool
	Applied uint64
	Digest  uint64 // chained over the entries applied, 1..Applied
	Rev     int64  // the store's revision
	Store   string // a digest of the store's contents
}

// Converged checks that, after a quiet spell, every live member applied
// the same entries and holds the same store: nothing a member applied was
// lost or invented on its way to the others.
func Converged(members []MemberEnd) Verdict {
	v := Verdict{Name: "members converged"}
	var ref *MemberEnd
	for i := range members {
		m := &members[i]
		if !m.Up {
			continue
		}
		if ref == nil {
			ref = m
			continue
		}
		if m.Applied != ref.Applied || m.Digest != ref.Digest || m.Store != ref.Store {
			v.Detail = fmt.Sprintf("n%d applied %d (digest %016x, store %s), n%d applied %d (digest %016x, store %s)",
				ref.ID, ref.Applied, ref.Digest, ref.Store, m.ID, m.Applied, m.Digest, m.Store)
			return v
		}
	}
	if ref == nil {
		v.Detail = "no live member"
		return v
	}
	v.OK = true
	v.Detail = fmt.Sprintf("live members applied index %d, revision %d, store %s", ref.Applied, ref.Rev, ref.Store)
	return v
}

func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case noun == "index":
		return fmt.Sprintf("%d indexes", n)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
