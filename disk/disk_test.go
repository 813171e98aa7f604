package disk

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcdlab/etcdlab/sim"
)

const (
	wal    = "member/wal/0000000000000000-0000000000000000.wal"
	db     = "member/snap/db"
	snap   = "member/snap/0000000000000002-0000000000000005.snap"
	snapDB = "member/snap/0000000000000005.snap.db"
)

func newDisk(s *sim.Sim, torn bool) *Disk {
	return New(s, s.Rand("disk"), Config{FsyncLatency: 2 * time.Millisecond, TornWrites: torn})
}

// withSim runs fn in a simulation for seed, closed even if fn fails the
// test, so that the next simulation can open.
func withSim(seed uint64, fn func(s *sim.Sim)) {
	s := sim.New(seed)
	defer s.Close()
	fn(s)
}

// read is the named file's content, failing the test if it is missing.
func read(t *testing.T, d *Disk, name string) string {
	t.Helper()
	b, ok := d.Read(name)
	require.True(t, ok, "%s is missing", name)
	return string(b)
}

// synced syncs the named file and runs the simulation until it is durable.
func synced(t *testing.T, s *sim.Sim, d *Disk, name string) {
	t.Helper()
	ok := false
	d.Sync(name, func(err error) {
		require.NoError(t, err)
		ok = true
	})
	s.RunUntil(s.Now() + time.Second)
	require.True(t, ok)
}

func TestWritesAreVisibleAtOnceAndDurableAfterFsync(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append(wal, []byte("abc"))
	require.Equal(t, "abc", read(t, d, wal))

	var syncedAt time.Duration
	d.Sync(wal, func(err error) {
		require.NoError(t, err)
		syncedAt = s.Now()
	})
	d.Append(wal, []byte("def")) // written after the fsync began: not covered by it
	s.RunUntil(time.Second)
	require.Equal(t, 2*time.Millisecond, syncedAt)

	require.Equal(t, 3, d.Crash())
	require.Equal(t, "abc", read(t, d, wal))
}

func TestCrashDuringFsyncLosesTheWriteAndNeverCompletes(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append(wal, []byte("abc"))
	synced(t, s, d, wal)
	d.Append(wal, []byte("def"))
	done := false
	d.Sync(wal, func(error) { done = true })
	require.Equal(t, 3, d.Crash())
	s.RunUntil(2 * time.Second)
	require.False(t, done)
	require.Equal(t, "abc", read(t, d, wal))
}

func TestTornWritesKeepAPrefixOfWhatWasNotSynced(t *testing.T) {
	kept := map[int]bool{}
	for seed := uint64(1); seed <= 20; seed++ {
		withSim(seed, func(s *sim.Sim) {
			d := newDisk(s, true)
			d.Append(wal, []byte("synced"))
			synced(t, s, d, wal)
			d.Append(wal, []byte("0123456789"))
			lost := d.Crash()
			got := read(t, d, wal)
			require.Equal(t, "synced0123456789"[:len(got)], got)
			require.GreaterOrEqual(t, len(got), len("synced"))
			require.Less(t, len(got), len("synced0123456789"), "a tear always loses something")
			require.Equal(t, len("synced0123456789")-len(got), lost)
			kept[len(got)] = true
		})
	}
	require.Greater(t, len(kept), 3, "torn lengths should vary with the seed")
}

// What a crash keeps is durable from then on: a second crash keeps it too.
func TestWhatACrashKeepsIsDurable(t *testing.T) {
	s := sim.New(3)
	defer s.Close()
	d := newDisk(s, true)
	d.Append(wal, []byte("0123456789"))
	d.Crash()
	got := read(t, d, wal)
	require.Equal(t, 0, d.Crash())
	require.Equal(t, got, read(t, d, wal))
}

func TestTruncateIsDurableAtOnce(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append(wal, []byte("abcdef"))
	synced(t, s, d, wal)
	d.Truncate(wal, 3)
	require.Equal(t, "abc", read(t, d, wal))
	require.Equal(t, 0, d.Crash())
	require.Equal(t, "abc", read(t, d, wal), "the synced bytes cut off stay cut off")
}

func TestTruncateLeavesUnsyncedBytesUnsynced(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append(wal, []byte("abc"))
	synced(t, s, d, wal)
	d.Append(wal, []byte("def"))
	d.Truncate(wal, 5)
	require.Equal(t, 2, d.Crash())
	require.Equal(t, "abc", read(t, d, wal))
}

// The durable content and syncs in flight share the WAL's backing array;
// bytes appended after a truncate reuse the array past the cut, and must
// never show through them.
func TestBytesAppendedAfterATruncateNeverShowThroughOlderViews(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append(wal, make([]byte, 64))
	d.Truncate(wal, 0) // leaves room to append in place
	d.Append(wal, []byte("abcdef"))
	synced(t, s, d, wal)
	d.Truncate(wal, 3)
	d.Append(wal, []byte("XYZ"))
	require.Equal(t, 3, d.Crash())
	require.Equal(t, "abc", read(t, d, wal), "the durable view saw the bytes appended after the truncate")

	d.Append(wal, []byte("def"))
	ok := false
	d.Sync(wal, func(err error) { ok = err == nil }) // covers "abcdef"
	d.Truncate(wal, 4)
	d.Append(wal, []byte("QRS")) // "abcdQRS", written over the sync's view of "ef"
	s.RunUntil(s.Now() + time.Second)
	require.True(t, ok)
	require.Equal(t, "abcdQRS", read(t, d, wal))
	require.Equal(t, 3, d.Crash())
	require.Equal(t, "abcd", read(t, d, wal), "the sync made durable bytes written after it began")
}

// A rewrite must not change the bytes the durable content or a sync in
// flight see, even when it is the same length as what it replaces.
func TestAWriteFileNeverChangesWhatIsDurable(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.WriteFile(db, []byte("commit-1"))
	synced(t, s, d, db)
	d.WriteFile(db, []byte("commit-2"))
	d.Crash()
	require.Equal(t, "commit-1", read(t, d, db))
}

func TestReadReturnsACopy(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append(wal, []byte("abc"))
	b, ok := d.Read(wal)
	require.True(t, ok)
	b[0] = 'X'
	require.Equal(t, "abc", read(t, d, wal))

	_, ok = d.Read("member/snap/none")
	require.False(t, ok)
}

// bbolt commits atomically: a crash leaves the last synced commit whole,
// never part of a newer one, whatever the torn-write setting.
func TestARewrittenFileGoesBackWholeToWhatWasSynced(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		withSim(seed, func(s *sim.Sim) {
			d := newDisk(s, true)
			d.WriteFile(db, []byte("commit-1"))
			synced(t, s, d, db)
			d.WriteFile(db, []byte("commit-2 and then some"))
			d.Append(db, []byte("more"))
			require.Equal(t, len("2 and then somemore"), d.Crash())
			require.Equal(t, "commit-1", read(t, d, db))
		})
	}
}

func TestAFileNeverSyncedVanishesWithoutTornWrites(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.WriteFile(snap, []byte("snapshot"))
	d.Append(wal, []byte("entries"))
	require.Equal(t, len("snapshot")+len("entries"), d.Crash())
	require.Empty(t, d.List())
}

// A .snap written but not synced before a crash may be left half-written
// or empty, as etcd's snapshotter expects.
func TestAFileNeverSyncedKeepsAPrefixWithTornWrites(t *testing.T) {
	kept := map[int]bool{}
	for seed := uint64(1); seed <= 30; seed++ {
		withSim(seed, func(s *sim.Sim) {
			d := newDisk(s, true)
			d.WriteFile(snap, []byte("snap"))
			d.Crash()
			got := read(t, d, snap)
			require.Equal(t, "snap"[:len(got)], got)
			kept[len(got)] = true
		})
	}
	require.True(t, kept[0], "some seed should leave the file empty")
	require.Greater(t, len(kept), 2, "torn lengths should vary with the seed")
}

// A WriteFile while a sync runs is not covered by it: the sync makes the
// earlier content durable, and the rewrite is still lost whole on a crash.
func TestASyncCoversOnlyWhatTheFileHeldWhenItBegan(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, true)
	d.WriteFile(db, []byte("commit-1"))
	ok := false
	d.Sync(db, func(err error) { ok = err == nil })
	d.WriteFile(db, []byte("commit-2"))
	d.Append(db, []byte("!"))
	s.RunUntil(time.Second)
	require.True(t, ok)
	d.Crash()
	require.Equal(t, "commit-1", read(t, d, db))
}

// A sync that began earlier but finishes later must not take the file
// back to what it held then.
func TestAnOlderSyncFinishingLastDoesNotUndoANewerOne(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	var errs []error
	record := func(err error) { errs = append(errs, err) }
	d.WriteFile(db, []byte("commit-1"))
	d.SetExtraFsyncLatency(time.Second)
	d.Sync(db, record)
	d.SetExtraFsyncLatency(0)
	d.WriteFile(db, []byte("commit-2"))
	d.Sync(db, record)
	s.RunUntil(2 * time.Second)
	require.Equal(t, []error{nil, nil}, errs)
	require.Equal(t, 0, d.Crash())
	require.Equal(t, "commit-2", read(t, d, db))
}

func TestSyncingOneFileMakesNoOtherDurable(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append(wal, []byte("entries"))
	d.WriteFile(db, []byte("commit-1"))
	synced(t, s, d, db)
	d.WriteFile(db, []byte("commit-2"))
	d.Append(wal, []byte("more"))
	synced(t, s, d, wal)
	d.Crash()
	require.Equal(t, []string{db, wal}, d.List())
	require.Equal(t, "entriesmore", read(t, d, wal))
	require.Equal(t, "commit-1", read(t, d, db))
}

func TestRemoveIsDurableAtOnce(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, true)
	d.WriteFile(snap, []byte("snapshot"))
	synced(t, s, d, snap)
	d.Remove(snap)
	d.Remove("member/snap/none") // no error
	_, ok := d.Read(snap)
	require.False(t, ok)
	d.Crash()
	require.Empty(t, d.List())
}

// An fsync of an unlinked file's descriptor succeeds, but nothing can
// bring the file back.
func TestASyncInFlightDoesNotBringARemovedFileBack(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.WriteFile(snap, []byte("snapshot"))
	var errs []error
	d.Sync(snap, func(err error) { errs = append(errs, err) })
	d.Remove(snap)
	d.WriteFile(snap, []byte("other")) // a new file under the same name
	s.RunUntil(time.Second)
	require.Equal(t, []error{nil}, errs)
	d.Crash()
	require.Empty(t, d.List(), "the sync made the new file durable")
}

// etcd renames a received snapshot db over the backend.
func TestRenameReplacesItsTargetAtomicallyAndDurably(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, true)
	d.WriteFile(db, []byte("old backend"))
	synced(t, s, d, db)
	d.Append(snapDB, []byte("received backend"))
	synced(t, s, d, snapDB)
	d.Rename(snapDB, db)
	require.Equal(t, []string{db}, d.List())
	require.Equal(t, "received backend", read(t, d, db))
	require.Equal(t, 0, d.Crash())
	require.Equal(t, []string{db}, d.List())
	require.Equal(t, "received backend", read(t, d, db))

	d.Rename(db, db) // onto itself: nothing happens
	require.Equal(t, "received backend", read(t, d, db))
}

// A renamed file keeps its durability: renaming does not sync it, and
// what a crash leaves under the new name is what it would have left under
// the old.
func TestRenameOfAnUnsyncedFileKeepsItsDurabilityState(t *testing.T) {
	withSim(1, func(s *sim.Sim) {
		d := newDisk(s, false)
		d.WriteFile(db, []byte("old backend"))
		synced(t, s, d, db)
		d.Append(snapDB, []byte("received backend"))
		d.Rename(snapDB, db)
		d.Crash()
		require.Empty(t, d.List(), "the rename replaced db durably; the unsynced file under its name vanished")
	})

	for seed := uint64(1); seed <= 10; seed++ {
		withSim(seed, func(s *sim.Sim) {
			d := newDisk(s, true)
			d.Append(snapDB, []byte("received backend"))
			d.Rename(snapDB, db)
			d.Crash()
			require.Equal(t, []string{db}, d.List())
			got := read(t, d, db)
			require.Equal(t, "received backend"[:len(got)], got)
			require.Less(t, len(got), len("received backend"))
		})
	}
}

// A sync in flight follows its file to the new name.
func TestASyncInFlightFollowsARename(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append(snapDB, []byte("received backend"))
	ok := false
	d.Sync(snapDB, func(err error) { ok = err == nil })
	d.Rename(snapDB, db)
	s.RunUntil(time.Second)
	require.True(t, ok)
	require.Equal(t, 0, d.Crash())
	require.Equal(t, "received backend", read(t, d, db))
}

func TestListIsSortedAndSizeCountsEveryFile(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	for _, name := range []string{snapDB, wal, snap, db} {
		d.Append(name, []byte(name))
	}
	require.Equal(t, []string{snap, snapDB, db, wal}, d.List())
	require.Equal(t, len(wal)+len(db)+len(snap)+len(snapDB), d.Size())
}

func TestExtraFsyncLatencySlowsSyncsStartedWhileSet(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append(wal, nil)
	var doneAt []time.Duration
	record := func(err error) {
		require.NoError(t, err)
		doneAt = append(doneAt, s.Now())
	}
	d.SetExtraFsyncLatency(time.Second)
	d.Sync(wal, record) // 2ms + 1s
	d.SetExtraFsyncLatency(0)
	d.Sync(wal, record) // started after the fault ended: 2ms
	s.RunUntil(2 * time.Second)
	require.Equal(t, []time.Duration{2 * time.Millisecond, time.Second + 2*time.Millisecond}, doneAt)
}

// A failed fsync makes nothing durable: a crash after it keeps only what an
// earlier successful sync covered. The fault ends after n syncs.
func TestFailedSyncsReportAnErrorAndMakeNothingDurable(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append(wal, []byte("abc"))
	var errs []error
	record := func(err error) { errs = append(errs, err) }
	d.Sync(wal, record)
	s.RunUntil(time.Second)
	d.Append(wal, []byte("def"))
	d.FailSyncs(2)
	d.Sync(wal, record)
	d.Sync(wal, record)
	s.RunUntil(2 * time.Second)
	require.Equal(t, []error{nil, ErrSyncFailed, ErrSyncFailed}, errs)
	require.Equal(t, 3, d.Crash())
	require.Equal(t, "abc", read(t, d, wal))

	d.Append(wal, []byte("ghi"))
	d.Sync(wal, record)
	s.RunUntil(3 * time.Second)
	require.NoError(t, errs[3], "the third sync after FailSyncs(2) succeeds")
	require.Equal(t, 0, d.Crash())
	require.Equal(t, "abcghi", read(t, d, wal))
}

// The fault belongs to the device: it counts syncs of any file, in the
// order they start.
func TestFailSyncsCountsSyncsOfEveryFile(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append(wal, []byte("entries"))
	d.WriteFile(db, []byte("commit-1"))
	errs := map[string]error{}
	d.FailSyncs(1)
	d.Sync(wal, func(err error) { errs[wal] = err })
	d.Sync(db, func(err error) { errs[db] = err })
	s.RunUntil(time.Second)
	require.Equal(t, map[string]error{wal: ErrSyncFailed, db: nil}, errs)
	d.Crash()
	require.Equal(t, []string{db}, d.List(), "the WAL was never synced")
}

func TestACrashDuringAFailingSyncStillNeverCompletes(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append(wal, nil)
	d.FailSyncs(1)
	called := false
	d.Sync(wal, func(error) { called = true })
	d.Crash()
	s.RunUntil(time.Second)
	require.False(t, called)
}

// The faults belong to the device, so a crash does not end them.
func TestFaultsOutlastACrash(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	d := newDisk(s, false)
	d.Append(wal, []byte("abc"))
	synced(t, s, d, wal)
	d.SetExtraFsyncLatency(time.Second)
	d.FailSyncs(1)
	d.Crash()
	start := s.Now()
	var doneAt time.Duration
	var err error
	d.Sync(wal, func(e error) { doneAt, err = s.Now(), e })
	s.RunUntil(start + 2*time.Second)
	require.ErrorIs(t, err, ErrSyncFailed)
	require.Equal(t, start+time.Second+2*time.Millisecond, doneAt)
}

// The same seed tears the same files the same way, whatever order the
// files were created in: the crash draws in name order.
func TestTornWritesAreDeterministic(t *testing.T) {
	names := []string{wal, db, snap, snapDB, "member/wal/0000000000000001-0000000000000010.wal"}
	survivors := func(seed uint64, order []int) map[string]string {
		s := sim.New(seed)
		defer s.Close()
		d := newDisk(s, true)
		for _, i := range order {
			d.Append(names[i], []byte(fmt.Sprintf("synced-%d/", i)))
		}
		for _, i := range order {
			synced(t, s, d, names[i])
			d.Append(names[i], []byte("unsynced bytes of "+names[i]))
		}
		d.Crash()
		out := map[string]string{}
		for _, name := range d.List() {
			out[name] = read(t, d, name)
		}
		return out
	}
	forward, backward := []int{0, 1, 2, 3, 4}, []int{4, 3, 2, 1, 0}
	for seed := uint64(1); seed <= 5; seed++ {
		want := survivors(seed, forward)
		require.Len(t, want, len(names))
		for range 5 {
			require.Equal(t, want, survivors(seed, forward))
			require.Equal(t, want, survivors(seed, backward))
		}
	}
	require.NotEqual(t, survivors(1, forward), survivors(2, forward), "the survivors should vary with the seed")
}
