package disk

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcdlab/etcdlab/sim"
)

func newDisk(s *sim.Sim, torn bool) *Disk {
	return New(s, s.Rand("disk"), Config{FsyncLatency: 2 * time.Millisecond, TornWrites: torn})
}

func TestWritesAreVisibleAtOnceAndDurableAfterFsync(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append([]byte("abc"))
	require.Equal(t, "abc", string(d.Contents()))

	var syncedAt time.Duration
	d.Sync(func() { syncedAt = s.Now() })
	d.Append([]byte("def")) // written after the fsync began: not covered by it
	s.RunUntil(time.Second)
	require.Equal(t, 2*time.Millisecond, syncedAt)

	require.Equal(t, 3, d.Crash())
	require.Equal(t, "abc", string(d.Contents()))
}

func TestCrashDuringFsyncLosesTheWriteAndNeverCompletes(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append([]byte("abc"))
	done := false
	d.Sync(func() { done = true })
	d.Crash()
	s.RunUntil(time.Second)
	require.False(t, done)
	require.Empty(t, d.Contents())
}

func TestTornWritesKeepAPrefixOfWhatWasNotSynced(t *testing.T) {
	kept := map[int]bool{}
	for seed := uint64(1); seed <= 20; seed++ {
		s := sim.New(seed)
		d := newDisk(s, true)
		d.Append([]byte("synced"))
		d.Sync(func() {})
		s.RunUntil(time.Second)
		d.Append([]byte("0123456789"))
		d.Crash()
		got := string(d.Contents())
		require.Equal(t, "synced0123456789"[:len(got)], got)
		require.GreaterOrEqual(t, len(got), len("synced"))
		kept[len(got)] = true
		s.Close()
	}
	require.Greater(t, len(kept), 3, "torn lengths should vary with the seed")
}

func TestTruncateCutsATornTail(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append([]byte("abcdef"))
	d.Truncate(3)
	require.Equal(t, "abc", string(d.Contents()))
}
