package backend

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3/raftpb"
)

func TestEncodeDecodeRoundTrips(t *testing.T) {
	m := Meta{ConsistentIndex: 42, Term: 3, Digest: 0xfeed, ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}},
		Removed: []uint64{4}, Alarms: []Alarm{{MemberID: 2, Alarm: 1}}}
	bk := Buckets{KV: []byte("store"), Lease: []byte("leases")}
	var f File
	for _, c := range []struct {
		name string
		b    []byte
	}{{"snapshot db", Encode(m, bk)}, {"own file", f.Commit(m, bk, true)}} {
		name, b := c.name, c.b
		got, gotBk, err := Decode(b)
		require.NoError(t, err, name)
		require.Equal(t, "store", string(gotBk.KV), name)
		require.Equal(t, "leases", string(gotBk.Lease), name)
		require.Equal(t, m.Removed, got.Removed, name)
		require.Equal(t, m.Alarms, got.Alarms, name)
		require.Equal(t, m.ConsistentIndex, got.ConsistentIndex, name)
		require.Equal(t, m.Term, got.Term, name)
		require.Equal(t, m.Digest, got.Digest, name)
		require.Equal(t, m.ConfState.GetVoters(), got.ConfState.GetVoters(), name)
	}
}

// A damaged or torn file of either layout is refused, never half read.
func TestDamagedFilesAreRefused(t *testing.T) {
	m := Meta{ConsistentIndex: 7, ConfState: &raftpb.ConfState{Voters: []uint64{1}}, Alarms: []Alarm{{MemberID: 1, Alarm: 1}}}
	bk := Buckets{KV: []byte("store"), Lease: []byte("l")}
	var f File
	f.Commit(m, Buckets{KV: []byte("st")}, true)
	for _, b := range [][]byte{Encode(m, bk), f.Commit(m, bk, true)} {
		for cut := range len(b) {
			_, _, err := Decode(b[:cut])
			require.ErrorIs(t, err, ErrCorrupt, "cut at %d", cut)
		}
		for i := range b {
			for _, bit := range []byte{0x01, 0x40, 0x80} {
				bad := append([]byte{}, b...)
				bad[i] ^= bit
				_, _, err := Decode(bad)
				require.ErrorIs(t, err, ErrCorrupt, "byte %d flipped", i)
			}
		}
	}
}
