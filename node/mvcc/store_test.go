package mvcc

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// etcd's revision rules: every change bumps the store's revision; a key
// keeps the revision that created it, the one that last changed it, and
// how often it was written; deleting a missing key changes nothing.
func TestRevisionsFollowEtcd(t *testing.T) {
	s := NewStore()
	require.Equal(t, int64(1), s.Rev())
	require.Equal(t, int64(2), s.Put("a", "1"))
	require.Equal(t, int64(3), s.Put("b", "1"))
	require.Equal(t, int64(4), s.Put("a", "2"))
	kv, ok := s.Get("a")
	require.True(t, ok)
	require.Equal(t, KeyValue{Key: "a", Value: "2", CreateRevision: 2, ModRevision: 4, Version: 2}, kv)

	require.Equal(t, int64(0), s.Delete("missing"))
	require.Equal(t, int64(4), s.Rev())
	require.Equal(t, int64(1), s.Delete("a"))
	require.Equal(t, int64(5), s.Rev())
	_, ok = s.Get("a")
	require.False(t, ok)

	s.Put("a", "3")
	kv, _ = s.Get("a")
	require.Equal(t, KeyValue{Key: "a", Value: "3", CreateRevision: 6, ModRevision: 6, Version: 1}, kv, "a new life after delete")
}

func TestHashSeesEveryDifference(t *testing.T) {
	a, b := NewStore(), NewStore()
	a.Put("k", "v")
	b.Put("k", "v")
	require.Equal(t, a.Hash(), b.Hash())
	b.Put("k", "v")
	require.NotEqual(t, a.Hash(), b.Hash(), "same value, another version")
}

// The backend file holds the store as Marshal encodes it: it comes back
// with the same hash, revision and keys.
func TestMarshalRoundTrips(t *testing.T) {
	s := NewStore()
	s.Put("a", "1")
	s.Put("b", "")
	s.Put("a", "2")
	s.Delete("b")
	got, err := Unmarshal(s.Marshal())
	require.NoError(t, err)
	require.Equal(t, s.Hash(), got.Hash())
	require.Equal(t, s.Rev(), got.Rev())
	kv, ok := got.Get("a")
	require.True(t, ok)
	require.Equal(t, KeyValue{Key: "a", Value: "2", CreateRevision: 2, ModRevision: 4, Version: 2}, kv)

	empty, err := Unmarshal(NewStore().Marshal())
	require.NoError(t, err)
	require.Equal(t, NewStore().Hash(), empty.Hash())

	b := s.Marshal()
	for cut := range len(b) {
		_, err := Unmarshal(b[:cut])
		require.ErrorIs(t, err, ErrCorrupt, "cut at %d", cut)
	}
	_, err = Unmarshal(append(b, 0))
	require.ErrorIs(t, err, ErrCorrupt, "bytes left over")
}
