package checker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Each test is a run as the Raft checker sees it: members' states in the
// order they were observed. The node's bug switches prove the checker
// catches real breaches (scenarios' tests); these pin down each rule.

// step is one thing the checker is told: a member's state, an entry a
// member applied or logged, a snapshot it installed, its restart.
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

func logged(id, index, term, digest uint64) step {
	return func(c *Raft, at time.Duration) []string { return c.Logged(at, id, index, term, digest) }
}

// logs is member id logging the entries from index on, of the terms
// given, each with the digest of chain at its index: chain 0xa0 holds
// 0xa1 at index 1, 0xa2 at 2. Digests of one chain at one index are equal,
// so logs with the same chain are the same log.
func logs(id, chain, from uint64, terms ...uint64) step {
	return func(c *Raft, at time.Duration) []string {
		var found []string
		for i, term := range terms {
			index := from + uint64(i)
			found = append(found, c.Logged(at, id, index, term, chain+index)...)
		}
		return found
	}
}

func snapshot(id, index, term, digest uint64) step {
	return func(c *Raft, at time.Duration) []string { return c.SnapshotInstalled(at, id, index, term, digest) }
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
	require.False(t, v.Timed)
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
	require.True(t, v.Timed, "a chart marks when it broke")
	require.Equal(t, ms(3), v.At)
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

// Members log the same entries, and each new leader holds what was
// applied: every log part of the verdict counts what it compared.
func TestMatchingLogsHold(t *testing.T) {
	v := run(
		logs(1, 0xa0, 1, 1, 1, 1), logs(2, 0xa0, 1, 1, 1, 1), logs(3, 0xa0, 1, 1, 1, 1), // the bootstrap
		applied(1, 3, 0xa3), applied(2, 3, 0xa3), follower(1, 1, 3),
		logs(1, 0xa0, 4, 2), leader(1, 2, 3), // its first entry, in the input that made it leader
		logs(2, 0xa0, 4, 2), logs(3, 0xa0, 4, 2), leader(1, 2, 4), applied(1, 4, 0xa4),
		logs(2, 0xa0, 5, 3), leader(2, 3, 4),
	).Verdict()
	require.True(t, v.OK, v.Detail)
	require.False(t, v.Timed)
	require.Equal(t, "one leader per term (2 terms had one); commit indexes never went back; applied entries agree at all 1 index compared; "+
		"logs match at all 4 (index, term) pairs two members held; new leaders held every committed entry (2 elections checked)", v.Detail)
}

// n1 led term 2 and wrote an entry only it holds; the leader of term 3
// overwrites it on n1 with its own. The entry at index 3 differs, but of
// another term: no mismatch. And n1's log ends where it was overwritten,
// so when it leads again it is judged by the entries of term 3.
func TestAnOverwrittenSuffixIsNoMismatch(t *testing.T) {
	v := run(
		logs(1, 0xa0, 1, 1, 1), logs(2, 0xa0, 1, 1, 1), logs(3, 0xa0, 1, 1, 1),
		applied(1, 2, 0xa2), applied(2, 2, 0xa2),
		logs(1, 0xb0, 3, 2, 2), leader(1, 2, 2),
		logs(2, 0xc0, 3, 3), leader(2, 3, 2), logs(2, 0xc0, 4, 3), logs(3, 0xc0, 3, 3, 3), leader(2, 3, 4),
		logs(1, 0xc0, 3, 3), follower(1, 3, 2), logs(1, 0xc0, 4, 3), follower(1, 3, 4),
		applied(2, 4, 0xc4), applied(1, 3, 0xc3), applied(1, 4, 0xc4),
		logs(1, 0xc0, 5, 4), leader(1, 4, 4),
	).Verdict()
	require.True(t, v.OK, v.Detail)
	require.Equal(t, "one leader per term (3 terms had one); commit indexes never went back; applied entries agree at all 2 indexes compared; "+
		"logs match at all 4 (index, term) pairs two members held; new leaders held every committed entry (3 elections checked)", v.Detail)
}

// n3 was far behind: it gets a snapshot at index 5 and the entries after
// it. Its log, starting after the snapshot, holds all that was applied.
// After a restart it reports its log again, the entries it recovered
// before the snapshot they follow, compacts it, and leads with it.
func TestASnapshotThenMoreEntries(t *testing.T) {
	v := run(
		logs(1, 0xa0, 1, 1, 1, 1, 1, 1), logs(2, 0xa0, 1, 1, 1, 1, 1, 1), applied(1, 5, 0xa5), applied(2, 5, 0xa5),
		snapshot(3, 5, 1, 0xa5),
		logs(1, 0xa0, 6, 2), leader(1, 2, 5), logs(2, 0xa0, 6, 2), logs(3, 0xa0, 6, 2), leader(1, 2, 6), applied(1, 6, 0xa6),
		logs(3, 0xa0, 7, 3), leader(3, 3, 6),
		restarted(3), logs(3, 0xa0, 6, 2, 3), snapshot(3, 5, 1, 0xa5), follower(3, 3, 6),
		applied(3, 7, 0xa7), snapshot(3, 6, 2, 0xa6), // it compacts its log: index 7 stays in it
		leader(3, 4, 7), // its first entry of term 4 waits at a failpoint before its WAL write
	).Verdict()
	require.True(t, v.OK, v.Detail)
	require.Equal(t, "one leader per term (3 terms had one); commit indexes never went back; applied entries agree at all 1 index compared; "+
		"logs match at all 6 (index, term) pairs two members held; new leaders held every committed entry (3 elections checked)", v.Detail)
}

// A restarted member reports the log its disk kept: the same entries are
// no mismatch, and not a second member's either.
func TestARestartedMemberReportsItsLogAgain(t *testing.T) {
	v := run(
		logs(1, 0xa0, 1, 1, 1, 1), logs(2, 0xa0, 1, 1, 1), // n2 holds 2 of them
		restarted(1), logs(1, 0xa0, 1, 1, 1), // its last write was lost
		logs(1, 0xb0, 3, 2), follower(1, 2, 0),
	).Verdict()
	require.True(t, v.OK, v.Detail)
	require.Equal(t, "no leader elected; commit indexes never went back; no applied entry to compare; "+
		"logs match at all 2 (index, term) pairs two members held; no new leader after a commit to check", v.Detail)
}

// n1 holds entries of terms 2 and 3 that no quorum took; the leader of
// term 4, which lacks index 4, overwrites n1's log from there. n1's log
// then holds term 4's entry at 4, the one applied there, not term 2's.
func TestALogOverwrittenAcrossTerms(t *testing.T) {
	v := run(
		logs(1, 0xa0, 1, 1, 1, 2), logs(2, 0xa0, 1, 1, 1, 2), applied(2, 3, 0xa3),
		logs(1, 0xb0, 4, 2, 3),
		logs(2, 0xc0, 4, 4), leader(2, 4, 3), logs(1, 0xc0, 4, 4, 4), logs(2, 0xc0, 5, 4), applied(2, 4, 0xc4),
		logs(1, 0xc0, 6, 5), leader(1, 5, 4),
	).Verdict()
	require.True(t, v.OK, v.Detail)
	require.Contains(t, v.Detail, "new leaders held every committed entry (2 elections checked)")
}

func TestNoLogEntryHeldByTwoMembers(t *testing.T) {
	v := run(logged(1, 1, 1, 0xa1), leader(1, 2, 0)).Verdict()
	require.Equal(t, "one leader per term (1 term had one); commit indexes never went back; no applied entry to compare; "+
		"no log entry held by two members to compare; no new leader after a commit to check", v.Detail)
}

// n2's log differs from n1's at index 2, under the same term; by the
// chain it differs at index 3 too, which is the same breach: reported
// once. n3, which holds n1's entries, is no breach either.
func TestDifferentLogsUnderOneTerm(t *testing.T) {
	c := NewRaft()
	require.Empty(t, logs(1, 0xa0, 1, 1, 1, 1)(c, ms(1)))
	require.Empty(t, logged(2, 1, 1, 0xa1)(c, ms(2)))
	want := "at 3ms: n1 and n2 logged different entries up to index 2, where both hold an entry of term 1 (digests 00000000000000a2, 0000000000000bad)"
	require.Equal(t, []string{want}, logged(2, 2, 1, 0xbad)(c, ms(3)))
	require.Empty(t, logged(2, 3, 1, 0xbad3)(c, ms(4)))
	require.Empty(t, logs(3, 0xa0, 1, 1, 1, 1)(c, ms(5)))
	v := c.Verdict()
	require.False(t, v.OK)
	require.Equal(t, want, v.Detail)
}

// Once raft overwrites the entry that differed, the member's log matches
// again, and a new breach is a new report.
func TestAnOverwrittenMismatchIsForgotten(t *testing.T) {
	v := run(
		logs(1, 0xa0, 1, 1, 1, 2), logs(2, 0xa0, 1, 1), logged(2, 2, 1, 0xbad),
		logs(2, 0xa0, 2, 1, 2), // overwritten from index 2: it matches again
		logs(3, 0xa0, 1, 1, 1), logged(3, 3, 2, 0xbad3), logged(2, 3, 2, 0xbad4),
	).Verdict()
	require.Equal(t, "at 2ms: n1 and n2 logged different entries up to index 2, where both hold an entry of term 1 (digests 00000000000000a2, 0000000000000bad) (and 2 more)", v.Detail)
}

func TestASnapshotIsMatchedLikeAnEntry(t *testing.T) {
	v := run(logs(1, 0xa0, 1, 1, 1, 1), snapshot(2, 3, 1, 0xbad)).Verdict()
	require.Equal(t, "at 1ms: n1 and n2 logged different entries up to index 3, where both hold an entry of term 1 (digests 00000000000000a3, 0000000000000bad)", v.Detail)
}

// One leader makes each entry of a term, so a member cannot hold another
// one after a restart.
func TestALogThatChangedUnderOneTerm(t *testing.T) {
	v := run(logs(1, 0xa0, 1, 1, 1), restarted(1), logged(1, 1, 1, 0xa1), logged(1, 2, 1, 0xbad)).Verdict()
	require.Equal(t, "at 3ms: n1's log changed up to index 2, where it holds an entry of term 1 again (digests 00000000000000a2, 0000000000000bad)", v.Detail)
}

// n1 commits index 3, which n3 never got; n3 then leads term 2 (raft
// would not let it: say a vote was forgotten). Nothing applied index 3
// yet, but its commit index says it is committed. Reported once, when n3
// first leads, not at every input it leads in.
func TestANewLeaderWithoutACommittedEntry(t *testing.T) {
	c := NewRaft()
	for i, s := range []step{logs(1, 0xa0, 1, 1, 1, 1), logs(2, 0xa0, 1, 1, 1, 1), logs(3, 0xa0, 1, 1, 1), follower(1, 1, 3), applied(1, 2, 0xa2)} {
		require.Empty(t, s(c, ms(i)))
	}
	want := "at 5ms: n3 leads term 2 but its log ends at index 2, short of index 3, which n1 committed"
	require.Equal(t, []string{want}, leader(3, 2, 2)(c, ms(5)))
	require.Empty(t, leader(3, 2, 2)(c, ms(6)))
	v := c.Verdict()
	require.False(t, v.OK)
	require.Equal(t, want, v.Detail)
}

// n3 held index 4 once, but raft overwrote its log from index 3: what
// counts is the log it holds when it leads.
func TestANewLeaderWhoseLogWasCutShort(t *testing.T) {
	v := run(
		logs(1, 0xa0, 1, 1, 1, 1, 1), logs(3, 0xa0, 1, 1, 1, 1, 1), applied(1, 4, 0xa4),
		logs(3, 0xb0, 3, 2), leader(3, 3, 2),
	).Verdict()
	require.Equal(t, "at 4ms: n3 leads term 3 but its log ends at index 3, short of index 4, which n1 applied", v.Detail)
}

// n1 led term 2 and its entry at index 3 was applied; n3 still holds an
// entry of term 1 there, which no quorum took, and leads term 3. Its log
// is long enough: its entry at 3 is the wrong one.
func TestANewLeaderHoldingAnotherEntryThanTheApplied(t *testing.T) {
	v := run(
		logs(1, 0xa0, 1, 1, 1, 2), logs(2, 0xa0, 1, 1, 1, 2), applied(1, 3, 0xa3),
		logs(3, 0xa0, 1, 1, 1), logs(3, 0xb0, 3, 1, 3), leader(3, 3, 2),
	).Verdict()
	require.Equal(t, "at 5ms: n3 leads term 3 but its log holds another entry at index 3 (of term 1) than the one n1 applied there (digests 00000000000000b3, 00000000000000a3)", v.Detail)
}
