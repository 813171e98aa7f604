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
	d.Sync(func(err error) {
		require.NoError(t, err)
		syncedAt = s.Now()
	})
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
	d.Sync(func(error) { done = true })
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
		d.Sync(func(error) {})
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

func TestExtraFsyncLatencySlowsSyncsStartedWhileSet(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	var doneAt []time.Duration
	record := func(err error) {
		require.NoError(t, err)
		doneAt = append(doneAt, s.Now())
	}
	d.SetExtraFsyncLatency(time.Second)
	d.Sync(record) // 2ms + 1s
	d.SetExtraFsyncLatency(0)
	d.Sync(record) // started after the fault ended: 2ms
	s.RunUntil(2 * time.Second)
	require.Equal(t, []time.Duration{2 * time.Millisecond, time.Second + 2*time.Millisecond}, doneAt)
}

// A failed fsync makes nothing durable: a crash after it keeps only what an
// earlier successful sync covered. The fault ends after n syncs.
func TestFailedSyncsReportAnErrorAndMakeNothingDurable(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append([]byte("abc"))
	var errs []error
	record := func(err error) { errs = append(errs, err) }
	d.Sync(record)
	s.RunUntil(time.Second)
	d.Append([]byte("def"))
	d.FailSyncs(2)
	d.Sync(record)
	d.Sync(record)
	s.RunUntil(2 * time.Second)
	require.Equal(t, []error{nil, ErrSyncFailed, ErrSyncFailed}, errs)
	require.Equal(t, 3, d.Crash())
	require.Equal(t, "abc", string(d.Contents()))

	d.Append([]byte("ghi"))
	d.Sync(record)
	s.RunUntil(3 * time.Second)
	require.NoError(t, errs[3], "the third sync after FailSyncs(2) succeeds")
	require.Equal(t, 0, d.Crash())
	require.Equal(t, "abcghi", string(d.Contents()))
}

func TestACrashDuringAFailingSyncStillNeverCompletes(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.FailSyncs(1)
	called := false
	d.Sync(func(error) { called = true })
	d.Crash()
	s.RunUntil(time.Second)
	require.False(t, called)
}
