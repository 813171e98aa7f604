package compactor

import "time"

// RevInterval is how often the revision compactor looks at the store
// (etcd's revInterval).
const RevInterval = 5 * time.Minute

// Revision keeps the last retention revisions: every RevInterval it
// compacts to the current revision minus retention, if that is positive
// and not what it last compacted to (etcd's --auto-compaction-mode
// revision).
type Revision struct {
	retention int64

	started  bool
	deadline time.Duration // when etcd's clock.After(revInterval) fires
	prev     int64         // the last revision compacted to

	inflight    bool
	inflightRev int64
	paused      bool
}

// NewRevision returns etcd's Revision compactor keeping retention
// revisions.
func NewRevision(retention int64) *Revision {
	return &Revision{retention: retention}
}

// Tick is one pass of etcd's Run loop, if its timer is due.
func (rc *Revision) Tick(now time.Duration, rev int64) (int64, bool) {
	if !rc.started {
		// Run arms the first timer; unlike Periodic it samples nothing.
		rc.started = true
		rc.deadline = now + RevInterval
		return 0, false
	}
	if rc.inflight || now < rc.deadline {
		return 0, false
	}
	rc.deadline = now + RevInterval
	if rc.paused {
		return 0, false
	}
	compactRev := rev - rc.retention
	if compactRev <= 0 || compactRev == rc.prev {
		return 0, false
	}
	rc.inflight, rc.inflightRev = true, compactRev
	return compactRev, true
}

// Done ends the s.Compact call etcd's loop was blocked in. Only a success
// is remembered, so a failure is retried at the next interval. rev is
// unused: Revision reads the store only when its timer fires.
func (rc *Revision) Done(now time.Duration, rev int64, err error) {
	if !rc.inflight {
		panic("compactor: Done without a compaction in flight")
	}
	rc.inflight = false
	if succeeded(err) {
		rc.prev = rc.inflightRev
	}
	rc.deadline = now + RevInterval
}

// Pause stops compactions.
func (rc *Revision) Pause() { rc.paused = true }

// Resume lets compactions come again.
func (rc *Revision) Resume() { rc.paused = false }
