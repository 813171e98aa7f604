package checker

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Small experiments: each history is written as the clients saw it, with
// call and return times in milliseconds.

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func put(client int, key, value string, call, ret int) Operation {
	return Operation{Client: client, Kind: Put, Key: key, Value: value, Call: ms(call), Return: ms(ret), Outcome: OK}
}

func get(client int, key, value string, call, ret int) Operation {
	return Operation{Client: client, Kind: Get, Key: key, Call: ms(call), Return: ms(ret), Outcome: OK, Found: value != "", Result: value}
}

func del(client int, key string, deleted bool, call, ret int) Operation {
	return Operation{Client: client, Kind: Delete, Key: key, Call: ms(call), Return: ms(ret), Outcome: OK, Found: deleted}
}

func with(op Operation, o Outcome) Operation {
	op.Outcome = o
	op.Found, op.Result = false, ""
	return op
}

func check(t *testing.T, ops ...Operation) Verdict {
	return CheckLinearizable(ops, "", "test")
}

func TestSequentialHistoryIsLinearizable(t *testing.T) {
	v := check(t,
		get(1, "k", "", 0, 1),
		put(1, "k", "a", 2, 3),
		get(2, "k", "a", 4, 5),
		del(1, "k", true, 6, 7),
		get(2, "k", "", 8, 9),
		del(2, "k", false, 10, 11),
	)
	require.True(t, v.OK, v.Detail)
	require.Equal(t, "linearizable", v.Name)
}

// Overlapping operations may take effect in either order.
func TestConcurrentOperationsMayTakeEffectInAnyOrder(t *testing.T) {
	v := check(t,
		put(1, "k", "a", 0, 10),
		put(2, "k", "b", 1, 9),
		get(3, "k", "a", 2, 11), // b, then a: both puts overlap the get
		get(3, "k", "a", 12, 13),
	)
	require.True(t, v.OK, v.Detail)
}

// The bug linearizability exists to catch: a read that began after a write
// completed returns the value from before it.
func TestStaleReadIsCaughtAndVisualized(t *testing.T) {
	dir := t.TempDir()
	ops := []Operation{
		put(1, "k", "old", 0, 1),
		put(1, "k", "new", 2, 3),
		get(2, "k", "old", 4, 5),
		put(1, "other", "x", 0, 1),
	}
	v := CheckLinearizable(ops, dir, "stale")
	require.False(t, v.OK)
	require.Contains(t, v.Detail, "key k (3 operations) has no valid order")
	require.FileExists(t, v.Visualization)
}

func TestReadOfAValueNeverWrittenIsCaught(t *testing.T) {
	require.False(t, check(t, put(1, "k", "a", 0, 1), get(2, "k", "b", 2, 3)).OK)
	require.False(t, check(t, get(2, "k", "b", 2, 3)).OK)
}

func TestWriteWithUnknownOutcomeMayOrMayNotHaveHappened(t *testing.T) {
	lost := with(put(1, "k", "a", 0, 100), Unknown)
	require.True(t, check(t, lost, get(2, "k", "a", 200, 201)).OK, "it happened, late")
	require.True(t, check(t, lost, get(2, "k", "", 200, 201)).OK, "it never happened")
	require.False(t, check(t, get(2, "k", "a", 0, 1), with(put(1, "k", "a", 5, 100), Unknown)).OK,
		"but it cannot be seen before it was called")
}

// A definite failure did not happen: reading its value is a violation.
func TestFailedWritesDidNotHappen(t *testing.T) {
	require.False(t, check(t, with(put(1, "k", "a", 0, 1), Failed), get(2, "k", "a", 2, 3)).OK)
}

func TestReadsWithUnknownOutcomeAreIgnored(t *testing.T) {
	require.True(t, check(t, put(1, "k", "a", 0, 1), with(get(2, "k", "", 2, 3), Unknown)).OK)
}

func TestDeleteReportsWhetherTheKeyExisted(t *testing.T) {
	require.False(t, check(t, put(1, "k", "a", 0, 1), del(1, "k", false, 2, 3)).OK)
	require.False(t, check(t, del(1, "k", true, 0, 1)).OK)
	require.False(t, check(t, put(1, "k", "a", 0, 1), del(1, "k", true, 2, 3), get(1, "k", "a", 4, 5)).OK)
}

func TestVerdictIsDeterministic(t *testing.T) {
	ops := []Operation{put(1, "a", "1", 0, 3), put(2, "b", "2", 1, 2), get(3, "a", "1", 4, 5), get(3, "b", "", 4, 5)}
	require.Equal(t, check(t, ops...), check(t, ops...))
	require.False(t, check(t, ops...).OK)
}

// A history porcupine cannot decide in time is undecided, not failed: many
// writes open at once on one key, and reads that pin down no order, are
// exponential work. The wall-clock limit is cut short here to make it so.
func TestAnUndecidableHistoryIsUndecidedNotFailed(t *testing.T) {
	defer func(d time.Duration) { LinearizableTimeout = d }(LinearizableTimeout)
	LinearizableTimeout = 10 * time.Millisecond
	var ops []Operation
	for c := 1; c <= 40; c++ {
		ops = append(ops, with(put(c, "k", fmt.Sprintf("v%d", c), c, 100000), Unknown))
	}
	for c := 1; c <= 40; c++ {
		ops = append(ops, get(100+c, "k", fmt.Sprintf("v%d", 41-c), 1000+2*c, 1001+2*c))
	}
	v := check(t, ops...)
	require.False(t, v.OK)
	require.True(t, v.Undecided, v.Detail)
	require.Equal(t, "UNDECIDED", v.Mark())
	require.Contains(t, v.Detail, "undecided")
}
