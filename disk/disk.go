// Package disk is the simulated disk that holds a node's write-ahead log.
// Like Pebble's in-memory vfs that can lose unsynced data, a write is
// visible at once but durable only after an fsync, which takes simulated
// time. A crash keeps what was synced, and may keep a torn prefix of what
// was not.
package disk

import (
	"math/rand/v2"
	"time"

	"github.com/etcdlab/etcdlab/sim"
)

// Config is how the disk behaves.
type Config struct {
	FsyncLatency time.Duration // base time an fsync takes
	FsyncJitter  time.Duration // extra fsync time drawn from [0, FsyncJitter)
	TornWrites   bool          // a crash may leave part of an unsynced write behind
}

// Disk is one node's disk.
type Disk struct {
	sim    *sim.Sim
	rng    *rand.Rand
	cfg    Config
	data   []byte
	synced int
	epoch  int // bumped by a crash, so a sync in flight then never completes
}

// New returns an empty disk drawing its randomness from rng.
func New(s *sim.Sim, rng *rand.Rand, cfg Config) *Disk {
	return &Disk{sim: s, rng: rng, cfg: cfg}
}

// Append writes b at the end of the log.
func (d *Disk) Append(b []byte) { d.data = append(d.data, b...) }

// Sync makes everything written so far durable, then calls done.
func (d *Disk) Sync(done func()) {
	upTo, epoch := len(d.data), d.epoch
	latency := d.cfg.FsyncLatency
	if d.cfg.FsyncJitter > 0 {
		latency += time.Duration(d.rng.Int64N(int64(d.cfg.FsyncJitter)))
	}
	d.sim.After(latency, func() {
		if d.epoch != epoch {
			return
		}
		d.synced = max(d.synced, upTo)
		done()
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
