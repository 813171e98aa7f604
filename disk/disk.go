// Package disk is the simulated disk that holds a member's data dir: WAL
// segments (member/wal/*.wal), snapshots (member/snap/*.snap), the
// backend (member/snap/db) and received backends (member/snap/*.snap.db).
// Like Pebble's in-memory vfs that can lose unsynced data, it is a tiny
// file system of named files whose writes are visible at once but durable
// only after an fsync of that file, which takes simulated time. A crash
// takes every file back to what was durable, the way real file systems
// treat the files etcd keeps:
//
//   - A file only appended to since it was last synced (a WAL segment)
//     keeps its synced prefix. With torn writes on, a random part of the
//     unsynced tail survives too, as a write cut off by power loss
//     would; the part is drawn from [0, unsynced), so a tear always loses
//     something.
//   - A file rewritten with WriteFile since it was last synced (the
//     backend) goes back whole to its last synced content and is never
//     torn: bbolt commits copy-on-write and flips one of two meta pages,
//     so a crash leaves the previous commit, not a mix.
//   - A file created and never synced is not on disk yet. With torn writes
//     on, a random prefix of what it holds survives, possibly nothing, and
//     then the file exists but is empty: the half-written .snap that
//     etcd's snapshotter is built to meet. Without torn writes it
//     vanishes.
//   - Remove, Rename and Truncate are durable at once: etcd fsyncs the
//     directory after unlinking and renaming, and its WAL repair truncates
//     and syncs before the member starts. A crash never undoes them.
//   - An fsync makes durable what the file held when it began, not what was
//     written while it ran; and a crash before it completes means it never
//     completes at all.
//
// Faults act on fsync the way a failing device does (Pebble's errorfs
// injects at the same point): it can be slowed down, and it can fail.
// Both faults belong to the device, not the process, so they outlast a
// Crash.
//
// Whenever the order of files could reach randomness or output (the torn
// lengths a crash draws, List), files go in sorted name order, so a run
// stays a function of its seed.
package disk

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/etcdlab/etcdlab/sim"
)

// ErrSyncFailed is the error a failed fsync completes with: what
// fdatasync(2) reports when the device gives up. etcd treats any WAL sync
// error as fatal (the member exits), so a faithful member never retries.
var ErrSyncFailed = errors.New("fdatasync: input/output error")

// Config is how the disk behaves.
type Config struct {
	FsyncLatency time.Duration // base time an fsync takes
	FsyncJitter  time.Duration // extra fsync time drawn from [0, FsyncJitter)
	TornWrites   bool          // a crash may leave part of an unsynced write behind
}

// Disk is one member's disk.
type Disk struct {
	sim          *sim.Sim
	rng          *rand.Rand
	cfg          Config
	files        map[string]*file
	epoch        int           // bumped by a crash, so a sync in flight then never completes
	extraLatency time.Duration // a slow-disk fault: added to every fsync started while set
	failSyncs    int           // a failing-disk fault: how many of the next fsyncs fail
}

// file is one named file. Its durable content, and the content of each
// sync in flight, may share a backing array with data (syncing a long WAL
// must not copy it). That is safe because every such view that shares
// data's array is a prefix of data: Append writes only past len(data),
// WriteFile installs the caller's array (which the caller gives up), and
// Truncate cuts the views along with data.
type file struct {
	data      []byte         // what the running process reads
	durable   []byte         // what a crash goes back to, before any torn tail
	persisted bool           // synced once, or left by a crash: otherwise the file itself is not on disk yet
	rewritten bool           // written with WriteFile since durable: data need not extend it
	syncs     []*pendingSync // in flight, oldest first
}

// pendingSync is an fsync in flight: what it will make durable.
type pendingSync struct {
	content   []byte // what the file held when the sync began, cut by later truncates
	rewritten bool   // WriteFile since the sync began: the file no longer extends content
}

// New returns an empty disk drawing its randomness from rng.
func New(s *sim.Sim, rng *rand.Rand, cfg Config) *Disk {
	return &Disk{sim: s, rng: rng, cfg: cfg, files: map[string]*file{}}
}

// SetExtraFsyncLatency adds d to every fsync started from now on, as a
// saturated or degraded device would (etcd warns "slow fdatasync" past one
// second). Zero ends the fault. An fsync already started keeps its time.
func (d *Disk) SetExtraFsyncLatency(extra time.Duration) {
	if extra < 0 {
		panic("disk: negative extra fsync latency")
	}
	d.extraLatency = extra
}

// FailSyncs makes the next n fsyncs started, of any file, complete with
// ErrSyncFailed, replacing any count still pending; zero ends the fault.
func (d *Disk) FailSyncs(n int) {
	if n < 0 {
		panic("disk: negative count of failing fsyncs")
	}
	d.failSyncs = n
}

// open returns the named file, creating it empty if it is missing.
func (d *Disk) open(name string) *file {
	f, ok := d.files[name]
	if !ok {
		f = &file{data: []byte{}}
		d.files[name] = f
	}
	return f
}

// mustGet returns the named file, which the caller must have created: a
// missing one is a bug in the member, not a fault of the disk.
func (d *Disk) mustGet(op, name string) *file {
	f, ok := d.files[name]
	if !ok {
		panic(fmt.Sprintf("disk: %s of missing file %q", op, name))
	}
	return f
}

// Append writes b at the end of the named file, creating it if it is
// missing.
func (d *Disk) Append(name string, b []byte) {
	f := d.open(name)
	f.data = append(f.data, b...)
}

// WriteFile replaces the named file's content with b, creating the file if
// it is missing. The disk keeps b itself: the caller must not change it
// afterwards. Until a sync of the file completes, a crash takes it back
// whole to what it held before.
func (d *Disk) WriteFile(name string, b []byte) {
	f := d.open(name)
	// b becomes the file's content, not a copy of it: a backend image is
	// the whole store, written every batch interval, and copying it each
	// time was a tenth of a long run. The old array may still back the
	// durable content or a sync in flight; it is left as it is.
	f.data = b
	f.rewritten = true
	for _, s := range f.syncs {
		s.rewritten = true
	}
}

// Sync fsyncs the named file: after the fsync latency it makes durable
// what the file held when the sync began, then calls done with nil. While
// a FailSyncs fault lasts it makes nothing durable and calls done with
// ErrSyncFailed; a later successful sync covers the same bytes again.
// (Linux may instead mark the failed pages clean and lose them silently,
// "fsyncgate"; since etcd stops at the first sync error, the difference
// never reaches a faithful member.) A crash before the sync completes
// means done is never called. If the file is removed or replaced while the
// sync runs, the sync still succeeds, as an fsync of an unlinked file's
// descriptor does, but makes nothing durable. Syncing another file makes
// nothing of this one durable.
func (d *Disk) Sync(name string, done func(err error)) {
	f := d.mustGet("sync", name)
	epoch := d.epoch
	latency := d.cfg.FsyncLatency + d.extraLatency
	if d.cfg.FsyncJitter > 0 {
		latency += time.Duration(d.rng.Int64N(int64(d.cfg.FsyncJitter)))
	}
	// Decided when the sync starts, so "the next n" means the next n
	// started, whatever order their latencies finish them in.
	fail := d.failSyncs > 0
	if fail {
		d.failSyncs--
	}
	var s *pendingSync
	if !fail {
		s = &pendingSync{content: f.data}
		f.syncs = append(f.syncs, s)
	}
	d.sim.After(latency, func() {
		if d.epoch != epoch {
			return
		}
		if fail {
			done(ErrSyncFailed)
			return
		}
		f.complete(s)
		done(nil)
	})
}

// complete makes what s covers durable, unless a sync that began later
// has already completed: its content is the newer, so s must not take the
// file back.
func (f *file) complete(s *pendingSync) {
	i := slices.Index(f.syncs, s)
	if i < 0 {
		return
	}
	f.durable, f.rewritten, f.persisted = s.content, s.rewritten, true
	f.syncs = f.syncs[i+1:]
}

// Truncate cuts the named file to its first size bytes, durably: a crash
// never brings back what was cut. Bytes below size that were not synced
// stay unsynced.
func (d *Disk) Truncate(name string, size int) {
	f := d.mustGet("truncate", name)
	if size < 0 || size > len(f.data) {
		panic(fmt.Sprintf("disk: truncate of %q (%d bytes) to %d", name, len(f.data), size))
	}
	// The views are cut along with data, so that bytes appended after
	// this, which reuse the array past size, are never seen through them.
	f.data = f.data[:size]
	f.durable = f.durable[:min(len(f.durable), size)]
	for _, s := range f.syncs {
		s.content = s.content[:min(len(s.content), size)]
	}
}

// Remove deletes the named file, durably; a missing file is no error.
// A sync in flight on it completes into a file no name reaches.
func (d *Disk) Remove(name string) {
	delete(d.files, name)
}

// Rename moves a file to a new name, replacing any file there, atomically
// and durably. The file keeps its durability state and its syncs in
// flight: if from was never synced, what a crash leaves under to is what
// it would have left under from.
func (d *Disk) Rename(from, to string) {
	f := d.mustGet("rename", from)
	if from == to {
		return // rename(2) of a file onto itself does nothing
	}
	d.Remove(to)
	delete(d.files, from)
	d.files[to] = f
}

// Read returns the named file's current content, as the running process
// sees it, and whether the file exists. The bytes are a copy, which the
// caller may keep or change.
func (d *Disk) Read(name string) ([]byte, bool) {
	f, ok := d.files[name]
	if !ok {
		return nil, false
	}
	return append([]byte{}, f.data...), true
}

// FileSize is a file's current length, without copying it as Read does.
func (d *Disk) FileSize(name string) (int, bool) {
	f, ok := d.files[name]
	if !ok {
		return 0, false
	}
	return len(f.data), true
}

// List returns the names of the files on the disk, sorted.
func (d *Disk) List() []string { return slices.Sorted(maps.Keys(d.files)) }

// Size is the total length in bytes of every file, for reports.
func (d *Disk) Size() int {
	n := 0
	for _, f := range d.files { //lint:allow maprange a sum does not depend on order
		n += len(f.data)
	}
	return n
}

// Crash takes every file back to what was durable, as the package doc
// describes, and returns how many bytes were lost in total: for each file,
// the bytes the running process saw that the survivor does not hold at the
// same offset (all of them for a file that vanished).
func (d *Disk) Crash() (lost int) {
	d.epoch++
	// Sorted, so the torn lengths are drawn in an order set by the names.
	for _, name := range d.List() {
		f := d.files[name]
		var keep []byte
		switch {
		case !f.persisted:
			if !d.cfg.TornWrites {
				delete(d.files, name)
				lost += len(f.data)
				continue
			}
			keep = f.data[:d.tear(len(f.data))]
		case f.rewritten:
			keep = f.durable
		default:
			keep = f.data[:len(f.durable)+d.tear(len(f.data)-len(f.durable))]
		}
		lost += len(f.data) - commonPrefix(f.data, keep)
		// What survived is on disk now, so it is all durable. Sharing
		// keep's array is safe: no other view of it outlives the crash.
		f.data, f.durable = keep, keep
		f.persisted, f.rewritten, f.syncs = true, false, nil
	}
	return lost
}

// tear returns how many of n unsynced bytes survive a crash: none without
// torn writes, otherwise a number drawn from [0, n). Nothing is drawn when
// nothing is unsynced.
func (d *Disk) tear(n int) int {
	if !d.cfg.TornWrites || n == 0 {
		return 0
	}
	return d.rng.IntN(n)
}

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
