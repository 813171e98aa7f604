package checker

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Histories in the shape of Jepsen's etcd register test: a few keys,
// reads, writes and compare-and-set, and operations whose outcome the
// client never learnt (Jepsen's :info) left open.

func cas(client int, key, expect, value string, ok bool, call, ret int) Operation {
	return Operation{Client: client, Kind: CAS, Key: key, Expect: expect, Value: value,
		Call: ms(call), Return: ms(ret), Outcome: OK, Found: ok}
}

func TestARegisterHistoryWithCASIsLinearizable(t *testing.T) {
	v := check(t,
		put(1, "r", "1", 0, 2),
		cas(2, "r", "1", "2", true, 3, 6),
		cas(3, "r", "1", "3", false, 4, 7), // lost the race with client 2
		get(1, "r", "2", 8, 9),
		// :info: client 3 timed out; the cas may or may not have happened.
		with(cas(3, "r", "2", "4", true, 10, 1000), Unknown),
		get(2, "r", "4", 12, 13), // so it had
		cas(1, "r", "4", "5", true, 14, 15),
	)
	require.True(t, v.OK, v.Detail)
}

// Two compare-and-sets from the same value cannot both succeed: one of
// them must have seen the other's write.
func TestTwoCASFromOneValueBothSucceedingIsNotLinearizable(t *testing.T) {
	v := check(t,
		put(1, "r", "1", 0, 1),
		cas(2, "r", "1", "2", true, 2, 5),
		cas(3, "r", "1", "3", true, 3, 6),
	)
	require.False(t, v.OK)
	require.Contains(t, v.Detail, "key r")
}

// A cas that failed although the value it expected was there, with
// nothing concurrent to change it, is not linearizable.
func TestACASFailingOnTheValueItExpectedIsNotLinearizable(t *testing.T) {
	v := check(t,
		put(1, "r", "1", 0, 1),
		get(2, "r", "1", 2, 3),
		cas(2, "r", "1", "2", false, 4, 5),
		get(1, "r", "1", 6, 7),
	)
	require.False(t, v.OK)
	// With the cas's outcome unknown the same history is linearizable: an
	// open operation may take effect after every other one, where it
	// changes nothing anybody read.
	v = check(t,
		put(1, "r", "1", 0, 1),
		get(2, "r", "1", 2, 3),
		with(cas(2, "r", "1", "2", false, 4, 1000), Unknown),
		get(1, "r", "1", 6, 7),
	)
	require.True(t, v.OK, v.Detail)
}
