package checker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Each test is a run as the Raft checker sees it: members' states in the
// order they were observed. The node's bug switches prove the checker
// catches real breaches (scenarios' tests); these pin down each rule.

// step is one thing the checker is told: a member's state, or an entry a
// member applied.
type step func(c *Raft, at time.Duration) []string

func leader(id, term, commit uint64) step {
	return func(c *Raft, at time.Duration) []string {
		return c.Observe(at, MemberState{ID: id, Leader: true, Term: term, Commit: commit})
	}
}

func follower(id, term, commit uint64) step {
	return func(c *Raft, at time.Duration) []string {
		return c.Observe(at, MemberState{ID: id, Term: term, Commit: commit})
	}
}

func applied(id, index, digest uint64) step {
	return func(c *Raft, at time.Duration) []string { return c.Applied(at, id, index, digest) }
}

func restarted(id uint64) step {
	return func(c *Raft, at time.Duration) []string { c.Restarted(id); return nil }
}

// run feeds the steps to a new checker, one a millisecond.
func run(steps ...step) *Raft {
	c := NewRaft()
	for i, s := range steps {
		s(c, ms(i))
	}
	return c
}

func TestHealthyRunHolds(t *testing.T) {
	v := run(
		follower(1, 1, 0), follower(2, 1, 0),
		leader(1, 2, 0), leader(1, 2, 3), follower(2, 2, 3),
		applied(1, 3, 0xa), applied(2, 3, 0xa),
		leader(2, 3, 3), // a later term, a new leader
		applied(2, 4, 0xc), applied(2, 5, 0xb), applied(1, 4, 0xc), applied(1, 5, 0xb),
		restarted(1), follower(1, 3, 2), // it replays its log from the start
		applied(1, 3, 0xa),
	).Verdict()
	require.True(t, v.OK, v.Detail)
	require.Equal(t, "one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 3 indexes compared", v.Detail)
}

func TestTwoLeadersInOneTerm(t *testing.T) {
	c := NewRaft()
	require.Empty(t, leader(1, 4, 0)(c, ms(1)))
	require.Empty(t, leader(1, 4, 7)(c, ms(2))) // the same leader, seen again
	require.Equal(t, []string{"at 3ms: n1 and n3 both lead term 4"}, leader(3, 4, 0)(c, ms(3)))
	v := c.Verdict()
	require.False(t, v.OK)
	require.Equal(t, "at 3ms: n1 and n3 both lead term 4", v.Detail)
}

func TestCommitIndexGoingBack(t *testing.T) {
	v := run(follower(2, 1, 5), follower(2, 1, 4)).Verdict()
	require.False(t, v.OK)
	require.Equal(t, "at 1ms: n2 commit index went back from 5 to 4", v.Detail)
}

func TestRestartedMemberMayRecoverALowerCommit(t *testing.T) {
	require.True(t, run(follower(2, 1, 5), restarted(2), follower(2, 1, 3)).Verdict().OK)
}

func TestDifferentEntriesAppliedAtOneIndex(t *testing.T) {
	v := run(applied(1, 7, 0xaa), applied(2, 6, 0x11), applied(2, 7, 0xbb), applied(3, 7, 0xaa)).Verdict()
	require.False(t, v.OK)
	require.Equal(t, "at 2ms: n1 and n2 applied different entries up to index 7 (digests 00000000000000aa, 00000000000000bb)", v.Detail)
}

// Every applied entry is compared, so a member that diverges and then
// stops applying (it crashed, or the run ended) is still caught.
func TestADivergenceIsCaughtAtItsOwnIndex(t *testing.T) {
	v := run(applied(1, 4, 0xa), applied(2, 4, 0xa), applied(1, 5, 0xbad), applied(2, 5, 0xb), applied(3, 6, 0xc)).Verdict()
	require.False(t, v.OK)
	require.Equal(t, "at 3ms: n1 and n2 applied different entries up to index 5 (digests 0000000000000bad, 000000000000000b)", v.Detail)
}

func TestADivergedMemberIsReportedOnce(t *testing.T) {
	v := run(applied(1, 7, 0xa), applied(2, 7, 0xb), applied(1, 8, 0xc), applied(2, 8, 0xd), applied(3, 8, 0xe)).Verdict()
	require.Equal(t, "at 1ms: n1 and n2 applied different entries up to index 7 (digests 000000000000000a, 000000000000000b) (and 1 more)", v.Detail)
}

func TestEveryViolationIsCounted(t *testing.T) {
	v := run(leader(1, 2, 0), leader(2, 2, 0), leader(3, 2, 0)).Verdict()
	require.Equal(t, "at 1ms: n1 and n2 both lead term 2 (and 1 more)", v.Detail)
}

func TestNoElection(t *testing.T) {
	v := run(follower(1, 1, 0)).Verdict()
	require.Equal(t, "no leader elected; commit indexes never went back; no applied entry to compare", v.Detail)
}

func TestConverged(t *testing.T) {
	same := MemberEnd{Up: true, Applied: 9, Digest: 0xd, Rev: 6, Store: "f00d"}
	a, b, down := same, same, MemberEnd{ID: 3}
	a.ID, b.ID = 1, 2
	v := Converged([]MemberEnd{a, b, down})
	require.True(t, v.OK, v.Detail)
	require.Equal(t, "live members applied index 9, revision 6, store f00d", v.Detail)

	b.Store = "beef"
	v = Converged([]MemberEnd{a, b, down})
	require.False(t, v.OK)
	require.Equal(t, "n1 applied 9 (digest 000000000000000d, store f00d), n2 applied 9 (digest 000000000000000d, store beef)", v.Detail)

	b = same
	b.ID, b.Digest = 2, 0xe // same store, reached by another history
	require.False(t, Converged([]MemberEnd{a, b}).OK)

	require.Equal(t, Verdict{Name: "members converged", Detail: "no live member"}, Converged([]MemberEnd{down}))
}

// A second leader stays one at every input until it steps down: that is
// one violation, not one per input.
func TestASecondLeaderIsReportedOnce(t *testing.T) {
	v := run(leader(1, 2, 0), leader(2, 2, 0), leader(2, 2, 0), leader(2, 2, 0)).Verdict()
	require.Equal(t, "at 1ms: n1 and n2 both lead term 2", v.Detail)
}
