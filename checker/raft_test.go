package checker

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Each test is a run as the Raft checker sees it: members' states in the
// order they were observed. The node's bug switches prove the checker
// catches real breaches (scenarios' tests); these pin down each rule.

func leader(id, term, commit uint64) MemberState {
	return MemberState{ID: id, Leader: true, Term: term, Commit: commit}
}

func follower(id, term, commit uint64) MemberState {
	return MemberState{ID: id, Term: term, Commit: commit}
}

func applied(id, index, digest uint64) MemberState {
	return MemberState{ID: id, Term: 2, Commit: index, Applied: index, Digest: digest}
}

func observe(states ...MemberState) *Raft {
	c := NewRaft()
	for i, st := range states {
		c.Observe(ms(i), st)
	}
	return c
}

func TestHealthyRunHolds(t *testing.T) {
	v := observe(
		follower(1, 1, 0), follower(2, 1, 0),
		leader(1, 2, 0), leader(1, 2, 3), follower(2, 2, 3),
		applied(1, 3, 0xa), applied(2, 3, 0xa),
		leader(2, 3, 3), // a later term, a new leader
		applied(2, 5, 0xb), applied(1, 4, 0xc), applied(1, 5, 0xb),
	).Verdict()
	require.True(t, v.OK, v.Detail)
	require.Equal(t, "one leader per term (2 terms elected one); commit indexes never went back; applied entries agree at the 2 indexes compared", v.Detail)
}

func TestTwoLeadersInOneTerm(t *testing.T) {
	c := NewRaft()
	require.Empty(t, c.Observe(ms(1), leader(1, 4, 0)))
	require.Empty(t, c.Observe(ms(2), leader(1, 4, 7))) // the same leader, seen again
	require.Equal(t, []string{"at 3ms: n1 and n3 both lead term 4"}, c.Observe(ms(3), leader(3, 4, 0)))
	v := c.Verdict()
	require.False(t, v.OK)
	require.Equal(t, "at 3ms: n1 and n3 both lead term 4", v.Detail)
}

func TestCommitIndexGoingBack(t *testing.T) {
	v := observe(follower(2, 1, 5), follower(2, 1, 4)).Verdict()
	require.False(t, v.OK)
	require.Equal(t, "at 1ms: n2 commit index went back from 5 to 4", v.Detail)
}

func TestRestartedMemberMayRecoverALowerCommit(t *testing.T) {
	c := observe(follower(2, 1, 5))
	c.Restarted(2)
	c.Observe(ms(9), follower(2, 1, 3))
	require.True(t, c.Verdict().OK)
}

func TestDifferentEntriesAppliedAtOneIndex(t *testing.T) {
	v := observe(applied(1, 7, 0xaa), applied(2, 6, 0x11), applied(2, 7, 0xbb), applied(3, 7, 0xaa)).Verdict()
	require.False(t, v.OK)
	require.Equal(t, "at 2ms: n1 and n2 applied different entries up to index 7 (digests 00000000000000aa, 00000000000000bb)", v.Detail)
}

func TestADivergedMemberIsReportedOnce(t *testing.T) {
	v := observe(applied(1, 7, 0xa), applied(2, 7, 0xb), applied(1, 8, 0xc), applied(2, 8, 0xd), applied(3, 8, 0xe)).Verdict()
	require.Equal(t, "at 1ms: n1 and n2 applied different entries up to index 7 (digests 000000000000000a, 000000000000000b) (and 1 more)", v.Detail)
}

func TestEveryViolationIsCounted(t *testing.T) {
	v := observe(leader(1, 2, 0), leader(2, 2, 0), leader(3, 2, 0)).Verdict()
	require.Equal(t, "at 1ms: n1 and n2 both lead term 2 (and 1 more)", v.Detail)
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
