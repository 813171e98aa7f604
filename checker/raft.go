package checker

import (
	"fmt"
	"time"
)

// Raft checks raft's safety properties on members' states as a run goes,
// so a breach is caught at the instant it happens, with its virtual time:
//
//   - election safety: at most one member leads a term;
//   - a member's commit index never goes back (within one incarnation: a
//     restarted member may recover a lower one from its log);
//   - state-machine safety, with log matching folded in: members that
//     have applied up to the same index applied the same entries, with
//     the same terms, in the same order. Members report a digest chained
//     over every entry they applied, so two equal digests at one index
//     mean two equal applied prefixes.
//
// Feed it every member's state after every input to the member; it keeps
// one digest per index, and the first member to report each.
type Raft struct {
	termLeader map[uint64]uint64     // term -> the member that led it
	commit     map[uint64]uint64     // member -> highest commit this incarnation
	applied    map[uint64]appliedRef // index -> first digest reported there
	last       map[uint64]uint64     // member -> last applied index checked
	diverged   map[uint64]bool       // members already reported for applying other entries
	elections  int
	compared   int // indexes at which two members' digests were compared
	violations []string
}

type appliedRef struct {
	member, digest uint64
	compared       bool // a second member reported this index too
}

// MemberState is what the Raft checker needs from a member.
type MemberState struct {
	ID      uint64
	Leader  bool // it thinks it leads Term
	Term    uint64
	Commit  uint64
	Applied uint64 // index of the last entry applied to its state machine
	Digest  uint64 // chained digest of entries 1..Applied
}

// NewRaft returns a checker that has seen nothing.
func NewRaft() *Raft {
	return &Raft{
		termLeader: map[uint64]uint64{},
		commit:     map[uint64]uint64{},
		applied:    map[uint64]appliedRef{},
		last:       map[uint64]uint64{},
		diverged:   map[uint64]bool{},
	}
}

// Observe checks one member's state at virtual time at. It returns the
// violations this state reveals (usually none), already recorded for the
// verdict.
func (c *Raft) Observe(at time.Duration, st MemberState) []string {
	var found []string
	violate := func(format string, args ...any) {
		v := fmt.Sprintf("at %v: ", at) + fmt.Sprintf(format, args...)
		found = append(found, v)
		c.violations = append(c.violations, v)
	}

	if st.Commit < c.commit[st.ID] {
		violate("n%d commit index went back from %d to %d", st.ID, c.commit[st.ID], st.Commit)
	}
	c.commit[st.ID] = st.Commit

	if st.Leader {
		prev, seen := c.termLeader[st.Term]
		switch {
		case !seen:
			c.termLeader[st.Term] = st.ID
			c.elections++
		case prev != st.ID:
			violate("n%d and n%d both lead term %d", prev, st.ID, st.Term)
		}
	}

	if st.Applied > 0 && st.Applied != c.last[st.ID] {
		c.last[st.ID] = st.Applied
		ref, seen := c.applied[st.Applied]
		if seen && ref.member != st.ID && !ref.compared {
			ref.compared = true
			c.applied[st.Applied] = ref
			c.compared++
		}
		switch {
		case !seen:
			c.applied[st.Applied] = appliedRef{member: st.ID, digest: st.Digest}
		case ref.digest != st.Digest && !c.diverged[st.ID]:
			// Once a member's applied prefix differs, it differs at every
			// later index too: report it once, not at every entry.
			c.diverged[st.ID] = true
			violate("n%d and n%d applied different entries up to index %d (digests %016x, %016x)",
				ref.member, st.ID, st.Applied, ref.digest, st.Digest)
		}
	}
	return found
}

// Restarted tells the checker a member came back from its log: its commit
// index may start lower than the dead incarnation's, and it applies its
// log again from the start.
func (c *Raft) Restarted(id uint64) {
	delete(c.commit, id)
	delete(c.last, id)
	delete(c.diverged, id)
}

// Verdict is the checker's judgement of everything it observed.
func (c *Raft) Verdict() Verdict {
	v := Verdict{Name: "raft safety", OK: len(c.violations) == 0}
	switch {
	case !v.OK && len(c.violations) > 1:
		v.Detail = fmt.Sprintf("%s (and %d more)", c.violations[0], len(c.violations)-1)
	case !v.OK:
		v.Detail = c.violations[0]
	default:
		v.Detail = fmt.Sprintf("one leader per term (%s elected one); commit indexes never went back; applied entries agree at the %s compared",
			plural(c.elections, "term"), plural(c.compared, "index"))
	}
	return v
}

// MemberEnd is a member's state when a run ends.
type MemberEnd struct {
	ID      uint64
	Up      bool
	Applied uint64
	Digest  uint64 // as in MemberState
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
	case n == 0:
		return "no " + noun
	case n == 1:
		return "1 " + noun
	case noun == "index":
		return fmt.Sprintf("%d indexes", n)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
