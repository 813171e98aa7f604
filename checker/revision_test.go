package checker

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Histories with etcd's revisions, as the clients saw them: each write's
// header revision, each read's mod_revision, create_revision and version
// and the revision it was served at. etcd's first write creates revision
// 2 (an empty store is at 1).

func rput(client int, key, value string, rev int64, call, ret int) Operation {
	op := put(client, key, value, call, ret)
	op.Rev = rev
	return op
}

// rget is a Get that found value with (mod, create, version), served at
// rev; value "" is a Get that found nothing.
func rget(client int, key, value string, mod, create, version, rev int64, call, ret int) Operation {
	op := get(client, key, value, call, ret)
	op.Rev = rev
	if value != "" {
		op.ModRev, op.CreateRev, op.Version = mod, create, version
	}
	return op
}

func rdel(client int, key string, deleted bool, rev int64, call, ret int) Operation {
	op := del(client, key, deleted, call, ret)
	op.Rev = rev
	return op
}

func casRev(client int, key string, expect int64, value string, ok bool, rev int64, call, ret int) Operation {
	return Operation{Client: client, Kind: CASRev, Key: key, ExpectModRev: expect, Value: value,
		Call: ms(call), Return: ms(ret), Outcome: OK, Found: ok, Rev: rev}
}

func rcas(client int, key, expect, value string, ok bool, rev int64, call, ret int) Operation {
	op := cas(client, key, expect, value, ok, call, ret)
	op.Rev = rev
	return op
}

func txnPuts(client int, keys, values []string, rev int64, call, ret int) Operation {
	return Operation{Client: client, Kind: TxnPuts, Keys: keys, Values: values,
		Call: ms(call), Return: ms(ret), Outcome: OK, Rev: rev}
}

// unknown is op with its outcome unknown: no reply, so no revision.
func unknown(op Operation) Operation {
	op = with(op, Unknown)
	op.Return = ms(100000)
	return op
}

// One key's life in etcd, and the same life with one thing etcd would
// never report.
func TestAKeysRevisionsAndVersionsFollowEtcd(t *testing.T) {
	life := func(edit func([]Operation)) []Operation {
		ops := []Operation{
			rput(1, "k", "a", 2, 0, 1),
			rget(2, "k", "a", 2, 2, 1, 2, 2, 3),
			rput(1, "k", "b", 3, 4, 5),
			rget(2, "k", "b", 3, 2, 2, 3, 6, 7),
			rdel(1, "k", true, 4, 8, 9),
			rget(2, "k", "", 0, 0, 0, 4, 10, 11),
			rdel(1, "k", false, 4, 12, 13), // deleting nothing creates no revision
			rput(1, "k", "c", 5, 14, 15),
			rget(2, "k", "c", 5, 5, 1, 5, 16, 17), // created anew: version 1
		}
		if edit != nil {
			edit(ops)
		}
		return ops
	}
	v := check(t, life(nil)...)
	require.True(t, v.OK, v.Detail)

	for _, tt := range []struct {
		name string
		edit func([]Operation)
	}{
		{"the right value, the wrong version", func(ops []Operation) { ops[3].Version = 1 }},
		{"the right value, an older mod revision", func(ops []Operation) { ops[3].ModRev = 2 }},
		{"create revision moved by an update", func(ops []Operation) { ops[3].CreateRev = 3 }},
		{"a recreated key keeps its old version", func(ops []Operation) { ops[8].Version = 3 }},
		{"a recreated key keeps its old create revision", func(ops []Operation) { ops[8].CreateRev = 2 }},
		{"a read served below the key's mod revision", func(ops []Operation) { ops[3].Rev = 2 }},
		{"a delete that does not advance the revision", func(ops []Operation) { ops[4].Rev = 3 }},
		{"a put that reuses the delete's revision", func(ops []Operation) {
			ops[7].Rev, ops[8].ModRev, ops[8].CreateRev = 4, 4, 4
		}},
		{"a delete of nothing that creates a revision", func(ops []Operation) { ops[6].Rev = 5 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := check(t, life(tt.edit)...)
			require.False(t, v.OK, "must fail")
			require.False(t, v.Undecided)
		})
	}
}

// A stale read with the value unchanged: the register checked values
// alone and passed it; the revision shows the read is from before the
// second put completed.
func TestAStaleReadOfAnOlderModRevisionIsCaught(t *testing.T) {
	ops := []Operation{
		rput(1, "k", "a", 2, 0, 1),
		rput(1, "k", "a", 3, 2, 3),
		rget(2, "k", "a", 2, 2, 1, 3, 4, 5),
	}
	v := check(t, ops...)
	require.False(t, v.OK)
	require.Contains(t, v.Detail, "key k")

	ops[2].ModRev, ops[2].Version = 0, 0 // as the value-only register saw it
	require.True(t, check(t, ops...).OK)
	ops[2] = rget(2, "k", "a", 3, 2, 2, 3, 4, 5)
	require.True(t, check(t, ops...).OK)
}

// A delete that leaves the store's revision where it was: the next write,
// on another key, creates the revision the delete reported. Each key
// alone is fine; only the check across keys sees it.
func TestADeleteThatDoesNotAdvanceTheRevisionIsCaught(t *testing.T) {
	v := check(t,
		rput(1, "a", "1", 2, 0, 1),
		rdel(1, "a", true, 3, 2, 3),
		rput(2, "b", "1", 3, 4, 5),
		rget(2, "b", "1", 3, 3, 1, 3, 6, 7),
	)
	require.False(t, v.OK)
	require.Contains(t, v.Detail, "revisions: client 1's delete(a) and client 2's put(b) both created revision 3")

	v = check(t,
		rput(1, "a", "1", 2, 0, 1),
		rdel(1, "a", true, 3, 2, 3),
		rput(2, "b", "1", 4, 4, 5),
		rget(2, "b", "1", 4, 4, 1, 4, 6, 7),
	)
	require.True(t, v.OK, v.Detail)
}

// One Txn puts two keys at one revision. Split over two revisions, one
// key is read at a mod revision that is not the Txn's.
func TestATxnSplitOverTwoRevisionsIsCaught(t *testing.T) {
	history := func(modB int64) []Operation {
		return []Operation{
			txnPuts(1, []string{"a", "b"}, []string{"1", "2"}, 5, 0, 1),
			rget(2, "a", "1", 5, 5, 1, modB, 2, 3),
			rget(2, "b", "2", modB, modB, 1, modB, 4, 5),
		}
	}
	require.True(t, check(t, history(5)...).OK)
	v := check(t, history(6)...)
	require.False(t, v.OK)
	require.Contains(t, v.Detail, "key b")

	// Recorded as two puts, the same Txn would look like two writes
	// creating one revision: the reason TxnPuts is one operation.
	v = check(t,
		rput(1, "a", "1", 5, 0, 1),
		rput(1, "b", "2", 5, 0, 1),
	)
	require.False(t, v.OK)
	require.Contains(t, v.Detail, "both created revision 5")
}

// Header revisions never go backwards in real time, even across keys
// that share no operation.
func TestRevisionsGoingBackwardsAcrossKeysAreCaught(t *testing.T) {
	for _, tt := range []struct {
		name string
		ops  []Operation
		ok   bool
	}{
		{"a later read of another key at the write's revision", []Operation{
			rput(1, "a", "1", 5, 0, 1), rget(2, "b", "", 0, 0, 0, 5, 2, 3)}, true},
		{"a later read of another key below it", []Operation{
			rput(1, "a", "1", 5, 0, 1), rget(2, "b", "", 0, 0, 0, 4, 2, 3)}, false},
		{"an overlapping read below it", []Operation{
			rput(1, "a", "1", 5, 0, 3), rget(2, "b", "", 0, 0, 0, 4, 2, 5)}, true},
		{"a later write on another key below it", []Operation{
			rget(1, "a", "", 0, 0, 0, 5, 0, 1), rput(2, "b", "1", 4, 2, 3)}, false},
		{"a later write at the revision a read was served at", []Operation{
			rget(1, "a", "", 0, 0, 0, 5, 0, 1), rput(2, "b", "1", 5, 2, 3)}, false},
		{"a later write above it", []Operation{
			rget(1, "a", "", 0, 0, 0, 5, 0, 1), rput(2, "b", "1", 6, 2, 3)}, true},
		{"a failed compare later, at the revision", []Operation{
			rput(1, "a", "1", 5, 0, 1), casRev(2, "b", 3, "x", false, 5, 2, 3)}, true},
		{"an unknown write's stale error header counts for nothing", []Operation{
			rput(1, "a", "1", 5, 0, 1), func() Operation { op := unknown(rput(2, "b", "1", 0, 2, 3)); op.Rev = 1; return op }()}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := check(t, tt.ops...)
			require.Equal(t, tt.ok, v.OK, v.Detail)
			if !tt.ok {
				require.Contains(t, v.Detail, "revisions:")
			}
		})
	}
}

// A write whose outcome is unknown has no revision: the first read that
// reports it pins it, within what the key was seen at before and after.
func TestAnUnknownWritesRevisionIsPinnedByTheFirstRead(t *testing.T) {
	for _, tt := range []struct {
		name string
		ops  []Operation
		ok   bool
	}{
		{"read at any revision above the key's", []Operation{
			rput(1, "k", "a", 2, 0, 1), unknown(rput(2, "k", "b", 0, 2, 3)),
			rget(3, "k", "b", 7, 2, 2, 7, 4, 5), rget(3, "k", "b", 7, 2, 2, 9, 6, 7)}, true},
		{"read at the revision it overwrote", []Operation{
			rput(1, "k", "a", 2, 0, 1), unknown(rput(2, "k", "b", 0, 2, 3)),
			rget(3, "k", "b", 2, 2, 2, 7, 4, 5)}, false},
		{"read at two revisions", []Operation{
			rput(1, "k", "a", 2, 0, 1), unknown(rput(2, "k", "b", 0, 2, 3)),
			rget(3, "k", "b", 7, 2, 2, 7, 4, 5), rget(3, "k", "b", 8, 2, 2, 9, 6, 7)}, false},
		{"a mod revision above the revision served at", []Operation{
			unknown(rput(2, "k", "b", 0, 2, 3)), rget(3, "k", "b", 9, 9, 1, 8, 4, 5)}, false},
		{"seen at 5 by a failed cas, read at 4", []Operation{
			rput(1, "k", "a", 2, 0, 1), unknown(rput(2, "k", "b", 0, 2, 3)),
			rcas(3, "k", "a", "y", false, 5, 4, 5), rget(3, "k", "b", 4, 2, 2, 6, 6, 7)}, true},
		{"seen at 5 by a failed cas, read at 6", []Operation{
			rput(1, "k", "a", 2, 0, 1), unknown(rput(2, "k", "b", 0, 2, 3)),
			rcas(3, "k", "a", "y", false, 5, 4, 5), rget(3, "k", "b", 6, 2, 2, 6, 6, 7)}, false},
		{"a created key's create revision is its mod revision", []Operation{
			unknown(rput(2, "k", "b", 0, 2, 3)), rget(3, "k", "b", 4, 3, 1, 4, 4, 5)}, false},
		{"two unknown puts above 2 take 3 and 4 at least", []Operation{
			rput(1, "k", "a", 2, 0, 1), unknown(rput(2, "k", "b", 0, 2, 3)), unknown(rput(3, "k", "c", 0, 2, 3)),
			rget(4, "k", "c", 4, 2, 3, 4, 4, 5)}, true},
		{"two unknown puts above 2 cannot end at 3", []Operation{
			rput(1, "k", "a", 2, 0, 1), unknown(rput(2, "k", "b", 0, 2, 3)), unknown(rput(3, "k", "c", 0, 2, 3)),
			rget(4, "k", "c", 3, 2, 3, 4, 4, 5)}, false},
		{"an unknown create read after a later put", []Operation{
			unknown(rput(1, "k", "a", 0, 0, 1)), rput(2, "k", "b", 6, 2, 3),
			rget(3, "k", "b", 6, 4, 2, 6, 4, 5)}, true},
		{"an unknown create cannot come after the put that updated it", []Operation{
			unknown(rput(1, "k", "a", 0, 0, 1)), rput(2, "k", "b", 6, 2, 3),
			rget(3, "k", "b", 6, 7, 2, 7, 4, 5)}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := check(t, tt.ops...)
			require.Equal(t, tt.ok, v.OK, v.Detail)
		})
	}
}

// Kube-apiserver's optimistic concurrency: create if absent (mod_revision
// 0), update if unchanged since read. The failed CAS patch is first seen
// at 5 by the read that followed, its operation pins its unknown revision.
func TestACASRevRegisterHistoryWithInfoIsLinearizable(t *testing.T) {
	v := check(t,
		casRev(1, "r", 0, "1", true, 2, 0, 1),
		casRev(2, "r", 0, "x", false, 2, 2, 3), // exists already
		rget(1, "r", "1", 2, 2, 1, 2, 4, 5),
		casRev(1, "r", 2, "2", true, 3, 6, 9),
		casRev(2, "r", 2, "3", false, 3, 7, 10), // lost the race with client 1
		// :info: client 2 timed out; the cas may or may not have happened.
		unknown(casRev(2, "r", 3, "4", true, 0, 11, 12)),
		rget(3, "r", "4", 6, 2, 3, 6, 13, 14), // so it had, at 6
		casRev(1, "r", 6, "5", true, 7, 15, 16),
		rget(3, "r", "5", 7, 2, 4, 7, 17, 18),
	)
	require.True(t, v.OK, v.Detail)

	for _, tt := range []struct {
		name string
		ops  []Operation
	}{
		{"a create over an existing key", []Operation{
			rput(1, "r", "1", 2, 0, 1), casRev(2, "r", 0, "2", true, 3, 2, 3)}},
		{"two updates from one revision", []Operation{
			rput(1, "r", "1", 2, 0, 1), casRev(2, "r", 2, "2", true, 3, 2, 5), casRev(3, "r", 2, "3", true, 4, 3, 6)}},
		{"a compare that fails on the key's own revision", []Operation{
			rput(1, "r", "1", 2, 0, 1), casRev(2, "r", 2, "2", false, 2, 2, 3)}},
		{"a compare that holds on a revision the key never had", []Operation{
			rput(1, "r", "1", 2, 0, 1), casRev(2, "r", 3, "2", true, 4, 2, 3)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.False(t, check(t, tt.ops...).OK)
		})
	}
}

// An open CASRev comparing a revision the model has not pinned may have
// succeeded or failed: the model keeps both states until a read decides.
func TestAnOpenCASRevOnAnUnpinnedRevisionKeepsBothOutcomes(t *testing.T) {
	history := func(read Operation) []Operation {
		return []Operation{
			rput(1, "k", "a", 2, 0, 1),
			unknown(rput(2, "k", "b", 0, 2, 3)),
			unknown(casRev(3, "k", 5, "c", true, 0, 4, 5)),
			read,
		}
	}
	require.True(t, check(t, history(rget(4, "k", "c", 6, 2, 3, 6, 10, 11))...).OK, "b at 5, the cas held")
	require.True(t, check(t, history(rget(4, "k", "b", 7, 2, 2, 7, 10, 11))...).OK, "b at 7, the cas failed")
	require.True(t, check(t, history(rget(4, "k", "c", 8, 2, 3, 8, 10, 11))...).OK, "b at 5, the cas at 8")
	require.False(t, check(t, history(rget(4, "k", "c", 5, 2, 3, 5, 10, 11))...).OK, "the cas put after 5")
	require.False(t, check(t, history(rget(4, "k", "c", 6, 2, 2, 6, 10, 11))...).OK, "the cas put only over b")
}

// Jepsen's register test with revisions recorded: a few keys, reads,
// writes and cas by value, :info outcomes left open, a read of another
// key in between.
func TestAJepsenRegisterHistoryWithRevisionsIsLinearizable(t *testing.T) {
	v := check(t,
		rput(1, "r", "1", 2, 0, 2),
		rput(4, "s", "1", 3, 1, 3),
		rcas(2, "r", "1", "2", true, 4, 3, 6),
		rcas(3, "r", "1", "3", false, 5, 4, 7), // lost the race with client 2; s moved on meanwhile
		rput(4, "s", "2", 5, 4, 6),
		rget(1, "r", "2", 4, 2, 2, 5, 8, 9),
		unknown(rcas(3, "r", "2", "4", true, 0, 10, 11)),
		unknown(rput(4, "s", "3", 0, 10, 11)), // never happened
		rget(2, "r", "4", 6, 2, 3, 6, 12, 13),
		rget(4, "s", "2", 5, 3, 2, 6, 12, 13),
		rcas(1, "r", "4", "5", true, 8, 14, 15),
		rget(2, "r", "5", 8, 2, 4, 8, 16, 17),
	)
	require.True(t, v.OK, v.Detail)
}
