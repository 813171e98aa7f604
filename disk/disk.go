// Package disk is the simulated disk that holds a node's write-ahead log.
// Like Pebble's in-memory vfs that can lose unsynced data, a write is
// visible at once but durable only after an fsync, which takes simulated
// time. A crash keeps what was synced, and may keep a torn prefix of what
// was not.
//
// Faults act on fsync the way a failing device does (Pebble's errorfs
// injects at the same point): it can be slowed down, and it can fail.
// Both faults belong to the device, not the process, so they outlast a
// Crash.
package disk

import (
	"errors"
	"math/rand/v2"
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

// Disk is one node's disk.
type Disk struct {
	sim          *sim.Sim
	rng          *rand.Rand
	cfg          Config
	data         []byte
	synced       int
	epoch        int           // bumped by a crash, so a sync in flight then never completes
	extraLatency time.Duration // a slow-disk fault: added to every fsync started while set
	failSyncs    int           // a failing-disk fault: how many of the next fsyncs fail
}

// New returns an empty disk drawing its randomness from rng.
func New(s *sim.Sim, rng *rand.Rand, cfg Config) *Disk {
	return &Disk{sim: s, rng: rng, cfg: cfg}
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

// FailSyncs makes the next n fsyncs started complete with ErrSyncFailed,
// replacing any count still pending; zero ends the fault.
func (d *Disk) FailSyncs(n int) {
	if n < 0 {
		panic("disk: negative count of failing fsyncs")
	}
	d.failSyncs = n
}

// Append writes b at the end of the log.
func (d *Disk) Append(b []byte) { d.data = append(d.data, b...) }

// Sync makes everything written so far durable, then calls done with nil;
// or, while a FailSyncs fault lasts, makes nothing durable and calls done
// with ErrSyncFailed. A later successful sync covers the same bytes again.
// (Linux may instead mark the failed pages clean and lose them silently,
// "fsyncgate"; since etcd stops at the first sync error, the difference
// never reaches a faithful member.) A crash before the sync completes means
// done is never called.
func (d *Disk) Sync(done func(err error)) {
	upTo, epoch := len(d.data), d.epoch
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
	d.sim.After(latency, func() {
		if d.epoch != epoch {
			return
		}
		if fail {
			done(ErrSyncFailed)
			return
		}
		d.synced = max(d.synced, upTo)
		done(nil)
	})
}

// Crash loses what was not synced. With torn writes on, a random prefix of
// the unsynced bytes survives, as a write cut off by power loss would.
// It returns how many bytes were lost.
func (d *Disk) Crash() (lost int) {
	d.epoch++
	keep := d.synced
	if unsynced := len(d.data) - d.synced; d.cfg.TornWrites && unsynced > 0 {
		keep += d.rng.IntN(unsynced)
	}
	lost = len(d.data) - keep
	d.data = d.data[:keep]
	d.synced = keep
	return lost
}

// Truncate cuts the log to its first size bytes, durably: etcd's WAL
// repair truncates and syncs before the member starts.
func (d *Disk) Truncate(size int) {
	d.data = d.data[:size]
	d.synced = min(d.synced, size)
}

// Contents is the log as a restarting node reads it.
func (d *Disk) Contents() []byte { return d.data }

// Size is the log's length in bytes.
func (d *Disk) Size() int { return len(d.data) }
