package backend

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3/raftpb"
)

func TestEncodeDecodeRoundTrips(t *testing.T) {
	m := Meta{ConsistentIndex: 42, Term: 3, Digest: 0xfeed, ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}}}
	b := Encode(m, []byte("store"))
	got, store, err := Decode(b)
	require.NoError(t, err)
	require.Equal(t, "store", string(store))
	require.Equal(t, m.ConsistentIndex, got.ConsistentIndex)
	require.Equal(t, m.Term, got.Term)
	require.Equal(t, m.Digest, got.Digest)
	require.Equal(t, m.ConfState.GetVoters(), got.ConfState.GetVoters())
}

// A damaged or torn file is refused, never half read.
func TestDamagedFilesAreRefused(t *testing.T) {
	b := Encode(Meta{ConsistentIndex: 7, ConfState: &raftpb.ConfState{}}, []byte("store"))
	for cut := range len(b) {
		_, _, err := Decode(b[:cut])
		require.ErrorIs(t, err, ErrCorrupt, "cut at %d", cut)
	}
	for i := range b {
		bad := append([]byte{}, b...)
		bad[i] ^= 0x40
		_, _, err := Decode(bad)
		require.ErrorIs(t, err, ErrCorrupt, "byte %d flipped", i)
	}
}
