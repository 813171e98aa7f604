package backend

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3/raftpb"
)

func TestEncodeDecodeRoundTrips(t *testing.T) {
	m := Meta{ConsistentIndex: 42, Term: 3, Digest: 0xfeed, ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}},
		Removed: []uint64{4}, Alarms: []Alarm{{MemberID: 2, Alarm: 1}}}
	b := Encode(m, Buckets{KV: []byte("store"), Lease: []byte("leases")})
	got, bk, err := Decode(b)
	require.NoError(t, err)
	require.Equal(t, "store", string(bk.KV))
	require.Equal(t, "leases", string(bk.Lease))
	require.Equal(t, m.Removed, got.Removed)
	require.Equal(t, m.Alarms, got.Alarms)
	require.Equal(t, m.ConsistentIndex, got.ConsistentIndex)
	require.Equal(t, m.Term, got.Term)
	require.Equal(t, m.Digest, got.Digest)
	require.Equal(t, m.ConfState.GetVoters(), got.ConfState.GetVoters())
}

// A damaged or torn file is refused, never half read.
func TestDamagedFilesAreRefused(t *testing.T) {
	b := Encode(Meta{ConsistentIndex: 7, ConfState: &raftpb.ConfState{}}, Buckets{KV: []byte("store"), Lease: []byte("l")})
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
