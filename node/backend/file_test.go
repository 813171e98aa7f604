package backend

import (
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3/raftpb"
)

func TestCRC32CombineIsTheCRCOfTheConcatenation(t *testing.T) {
	a, b := []byte("the meta and lease buckets"), []byte{}
	for n := range 300 {
		require.Equal(t, crc32.Checksum(append(append([]byte{}, a...), b...), crcTable),
			crc32Combine(crc32.Checksum(a, crcTable), crc32.Checksum(b, crcTable), len(b)), "len(b) %d", len(b))
		b = append(b, byte(n*7))
	}
	for _, n := range []int{1 << 16, 1<<20 + 3} {
		b := make([]byte, n)
		b[n/3] = 1
		require.Equal(t, crc32.Checksum(append(append([]byte{}, a...), b...), crcTable),
			crc32Combine(crc32.Checksum(a, crcTable), crc32.Checksum(b, crcTable), len(b)), "len(b) %d", len(b))
	}
}

// commits drives a File the way a member does: a key bucket that grows,
// meta and leases that change, and now and then a rewrite.
type commits struct {
	f     File
	kv    []byte
	index uint64
}

func (c *commits) next(t *testing.T, appended string, extends bool) (Meta, Buckets, []byte) {
	t.Helper()
	if !extends {
		c.kv = []byte("rewritten:")
	}
	c.kv = append(c.kv, appended...)
	c.index++
	m := Meta{ConsistentIndex: c.index * 1000, Term: c.index / 3, Digest: c.index * 77,
		ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}[:1+c.index%3]},
		Removed:   make([]uint64, c.index%4), Alarms: []Alarm{{MemberID: c.index, Alarm: 1}}[:c.index%2]}
	bk := Buckets{KV: c.kv[:len(c.kv):len(c.kv)], Lease: []byte(fmt.Sprint("leases", c.index*c.index))}
	return m, bk, c.f.Commit(m, bk, extends)
}

func requireDecodes(t *testing.T, b []byte, m Meta, bk Buckets) {
	t.Helper()
	got, gotBk, err := Decode(b)
	require.NoError(t, err)
	require.Equal(t, string(bk.KV), string(gotBk.KV))
	require.Equal(t, string(bk.Lease), string(gotBk.Lease))
	require.Equal(t, m.ConsistentIndex, got.ConsistentIndex)
	require.Equal(t, m.Term, got.Term)
	require.Equal(t, m.Digest, got.Digest)
	require.Equal(t, m.ConfState.GetVoters(), got.ConfState.GetVoters())
	require.Equal(t, len(m.Removed), len(got.Removed))
	require.Equal(t, len(m.Alarms), len(got.Alarms))
}

// The member's own file is Encode's bytes reordered behind the same
// header: the same length (the member's db size, the quota) and the same
// first bytes (a crash counts lost bytes from the first difference).
func TestOwnFileIsEncodeReordered(t *testing.T) {
	var c commits
	for i := range 50 {
		m, bk, own := c.next(t, fmt.Sprintf("put %d;", i), i%17 != 5)
		enc := Encode(m, bk)
		require.Len(t, own, len(enc), "commit %d", i)
		require.Equal(t, enc[:headerLen], own[:headerLen], "commit %d", i)
		requireDecodes(t, own, m, bk)
		requireDecodes(t, enc, m, bk)
	}
}

// Two images alternate, each filled with only what it lacks: an image
// returned stays as it was through the next commit, and the one after it
// reuses its array.
func TestImagesPingPongOverCommits(t *testing.T) {
	var c commits
	var prev, beforePrev []byte
	var prevM Meta
	var prevBk Buckets
	reused := 0
	for i := range 200 {
		extends := i%50 != 25 // a compaction's rewrite now and then
		m, bk, b := c.next(t, fmt.Sprintf("k%d=%s;", i, string(make([]byte, i%9))), extends)
		requireDecodes(t, b, m, bk)
		if prev != nil {
			requireDecodes(t, prev, prevM, prevBk) // the durable image, untouched
			require.NotSame(t, &prev[0], &b[0], "commit %d wrote into the image before it", i)
		}
		if beforePrev != nil && &beforePrev[0] == &b[0] {
			reused++
		}
		beforePrev, prev, prevM, prevBk = prev, b, m, bk
	}
	require.Greater(t, reused, 150, "images are reused, not reallocated")
	// A restart starts a new File over the same store.
	var again File
	m, bk, _ := c.next(t, "after restart;", true)
	requireDecodes(t, again.Commit(m, bk, false), m, bk)
}

func TestCommitRefusesAKeyBucketThatShrank(t *testing.T) {
	var f File
	m := Meta{ConfState: &raftpb.ConfState{}}
	f.Commit(m, Buckets{KV: []byte("longer")}, true)
	f.Commit(m, Buckets{KV: []byte("longer!")}, true)
	require.Panics(t, func() { f.Commit(m, Buckets{KV: []byte("short")}, true) })
}
