package checker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// A truth of three writes to one key: put a (rev 2), put b (rev 3),
// delete (rev 4), each applied 10 ms after the one before.
func serialTruth() *Truth {
	t := NewTruth()
	put := func(rev, create, ver int64, v string) []*mvccpb.Event {
		return []*mvccpb.Event{{Type: mvccpb.PUT, Kv: &mvccpb.KeyValue{Key: []byte("k"), Value: []byte(v),
			ModRevision: rev, CreateRevision: create, Version: ver}}}
	}
	t.Add(Applied{Member: 1, At: 10 * time.Millisecond, Rev: 2, Events: put(2, 2, 1, "a")})
	t.Add(Applied{Member: 1, At: 20 * time.Millisecond, Rev: 3, Events: put(3, 2, 2, "b")})
	t.Add(Applied{Member: 1, At: 30 * time.Millisecond, Rev: 4, Events: []*mvccpb.Event{
		{Type: mvccpb.DELETE, Kv: &mvccpb.KeyValue{Key: []byte("k"), ModRevision: 4}}}})
	return t
}

func sread(rev int64, found bool, value string, mod, create, ver int64) Operation {
	return Operation{Client: 1, Kind: Get, Key: "k", Serializable: true, Outcome: OK, Rev: rev,
		Found: found, Result: value, ModRev: mod, CreateRev: create, Version: ver,
		Call: 35 * time.Millisecond, Return: 36 * time.Millisecond}
}

func TestStaleSerializableReadsOfRealStatesPass(t *testing.T) {
	v := CheckSerializable(serialTruth(), []Operation{
		sread(1, false, "", 0, 0, 0),
		sread(2, true, "a", 2, 2, 1),
		sread(3, true, "b", 3, 2, 2),
		sread(4, false, "", 0, 0, 0),
	})
	require.True(t, v.OK, v.Detail)
	require.Contains(t, v.Detail, "4 serializable reads checked", v.Detail)
	require.Contains(t, v.Detail, "3 of them stale")
}

func TestInventedSerializableReadsFail(t *testing.T) {
	for name, op := range map[string]Operation{
		"a value never written":      sread(3, true, "x", 3, 2, 2),
		"a version off by one":       sread(3, true, "b", 3, 2, 3),
		"a key read after delete":    sread(4, true, "b", 3, 2, 2),
		"nothing where a key stood":  sread(2, false, "", 0, 0, 0),
		"a revision from the future": sread(9, false, "", 0, 0, 0),
	} {
		v := CheckSerializable(serialTruth(), []Operation{op})
		require.False(t, v.OK, "%s: %s", name, v.Detail)
	}
}

func TestReadsAfterAGapAreNotJudged(t *testing.T) {
	// Applied at 1 ms; the reads return at 36 ms.
	tr := NewTruth()
	tr.Add(Applied{Member: 1, At: time.Millisecond, Rev: 5, Events: []*mvccpb.Event{{Type: mvccpb.PUT,
		Kv: &mvccpb.KeyValue{Key: []byte("k"), Value: []byte("z"), ModRevision: 5, CreateRevision: 5, Version: 1}}}})
	v := CheckSerializable(tr, []Operation{sread(4, true, "q", 3, 3, 1)})
	require.False(t, v.OK, "nothing judged is nothing vouched for: %s", v.Detail)
	require.Contains(t, v.Detail, "no serializable read could be checked (1 not judged")
	v = CheckSerializable(tr, []Operation{sread(4, true, "q", 3, 3, 1), sread(5, true, "z", 5, 5, 1)})
	require.True(t, v.OK, v.Detail)
	require.Contains(t, v.Detail, "1 not judged")
}
