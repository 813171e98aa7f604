package compactor

import (
	"fmt"
	"time"
)

// Periodic compacts the store to the revision it had about one retention
// period ago (etcd's --auto-compaction-mode periodic).
//
// It samples the store's revision every retry interval: a tenth of the
// period, or 6 minutes for any period of an hour or more (not a tenth of
// the period, as etcd's comment above its Run says). It keeps the last
// Retentions samples in a ring. The first compaction comes at the first
// sample time at least one period after the start, to the very first
// sample, taken at the start. From then on it compacts every compact
// interval (the period, capped at one hour) to the oldest sample in the
// now full ring, taken about one period and one retry interval before. A
// failed compaction is retried a retry interval later, to the then oldest
// sample; a revision already compacted to is skipped. While paused it keeps
// sampling, so after Resume its next compaction goes to a recent window.
type Periodic struct {
	period time.Duration

	// revs is the ring of samples; revs[0] is the oldest.
	revs []int64

	started      bool
	deadline     time.Duration // when etcd's clock.After(retryInterval) fires
	lastRevision int64
	lastSuccess  time.Duration
	// baseInterval is how long after the last success (or the start) a
	// compaction may come: the period the first time, the compact
	// interval after that.
	baseInterval time.Duration

	inflight    bool
	inflightRev int64
	paused      bool
}

// NewPeriodic returns etcd's Periodic for a retention period of at least
// 10ns (a shorter one has no retry interval).
func NewPeriodic(period time.Duration) *Periodic {
	if period < retryDivisor {
		panic(fmt.Sprintf("compactor: periodic retention %v is under %v", period, time.Duration(retryDivisor)))
	}
	pc := &Periodic{period: period}
	// revs won't be longer than the retentions.
	pc.revs = make([]int64, 0, pc.Retentions())
	return pc
}

const retryDivisor = 10

// CompactInterval is how often compactions come after the first: the
// period, capped at one hour (e.g. retention 10m compacts every 10
// minutes, retention 2h every hour).
func (pc *Periodic) CompactInterval() time.Duration {
	return min(pc.period, time.Hour)
}

// RetryInterval is how often the revision is sampled and a failed
// compaction retried: a tenth of the compact interval.
func (pc *Periodic) RetryInterval() time.Duration {
	return min(pc.period, time.Hour) / retryDivisor
}

// Retentions is how many samples the ring keeps: one period's worth of
// retry intervals, plus one.
func (pc *Periodic) Retentions() int {
	return int(pc.period/pc.RetryInterval()) + 1
}

// Tick is one pass of etcd's Run loop, if its timer is due.
func (pc *Periodic) Tick(now time.Duration, rev int64) (int64, bool) {
	if !pc.started {
		// Run: the loop starts counting from now.
		pc.started = true
		pc.lastSuccess = now
		pc.baseInterval = pc.period
		pc.sample(now, rev)
		return 0, false
	}
	if pc.inflight || now < pc.deadline {
		return 0, false
	}
	if pc.paused {
		pc.sample(now, rev)
		return 0, false
	}
	compactRev := pc.revs[0]
	if now-pc.lastSuccess < pc.baseInterval || compactRev == pc.lastRevision {
		pc.sample(now, rev)
		return 0, false
	}
	// wait up to initial given period
	if pc.baseInterval == pc.period {
		pc.baseInterval = pc.CompactInterval()
	}
	pc.inflight, pc.inflightRev = true, compactRev
	return compactRev, true
}

// Done ends the s.Compact call etcd's loop was blocked in: a success moves
// the window on, a failure leaves it to be retried at the next interval.
func (pc *Periodic) Done(now time.Duration, rev int64, err error) {
	if !pc.inflight {
		panic("compactor: Done without a compaction in flight")
	}
	pc.inflight = false
	if succeeded(err) {
		pc.lastRevision = pc.inflightRev
		pc.lastSuccess = now
	}
	pc.sample(now, rev)
}

// sample is the top of etcd's loop: record the revision, drop the oldest
// beyond the ring's size, and arm the timer.
func (pc *Periodic) sample(now time.Duration, rev int64) {
	pc.revs = append(pc.revs, rev)
	if len(pc.revs) > pc.Retentions() {
		pc.revs = pc.revs[1:] // pc.revs[0] is always the rev at pc.period ago
	}
	pc.deadline = now + pc.RetryInterval()
}

// Pause stops compactions; samples are still taken.
func (pc *Periodic) Pause() { pc.paused = true }

// Resume lets compactions come again.
func (pc *Periodic) Resume() { pc.paused = false }
