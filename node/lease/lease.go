// Package lease is etcd's lessor (server/lease at release-3.7) without
// goroutines, locks or a clock: leases that expire unless kept alive, the
// keys attached to them, and the leader's duty to revoke the expired ones.
//
// Time is an argument: every method that reads the clock takes now, a
// time.Duration on the member's own clock (the node's Env.Now), and the
// caller must pass one clock consistently. Where etcd's runLoop wakes every
// 500 ms and sends on ExpiredLeasesC or calls the Checkpointer, the node
// calls ExpiredLeases and ScheduledCheckpoints on its own timer and
// proposes what they return. Where etcd's Revoke deletes the lease's keys
// through a RangeDeleter, Revoke here returns them, sorted, and the caller
// deletes them in the same write as the lease; so this package knows
// nothing of mvcc.
package lease

import (
	"math"
	"slices"
	"time"
)

// LeaseID names a lease; etcd hands out positive ones.
type LeaseID int64

// NoLease is a special LeaseID representing the absence of a lease.
const NoLease = LeaseID(0)

// forever is the expiry of a lease nobody may expire: every lease on a
// lessor that is not the primary. etcd uses the zero time.Time; on a
// clock that starts at zero the largest duration plays that part.
const forever = time.Duration(math.MaxInt64)

// LeaseItem is what a lease holds: a key of the store.
type LeaseItem struct {
	Key string
}

// Lease is one lease. Its fields are the lessor's; read them through the
// methods.
type Lease struct {
	ID LeaseID
	// ttl is the granted time to live in seconds.
	ttl int64
	// remainingTTL is the last checkpointed remaining time to live in
	// seconds; zero means unset, and the full ttl is used.
	remainingTTL int64
	// expiry is when the lease expires on the lessor's clock; forever on a
	// lessor that is not the primary.
	expiry  time.Duration
	itemSet map[LeaseItem]struct{}
}

func newLease(id LeaseID, ttl int64) *Lease {
	return &Lease{ID: id, ttl: ttl, expiry: forever, itemSet: map[LeaseItem]struct{}{}}
}

// TTL returns the TTL of the Lease.
func (l *Lease) TTL() int64 { return l.ttl }

// RemainingTTL is the last checkpointed remaining TTL, 0 if none.
func (l *Lease) RemainingTTL() int64 { return l.remainingTTL }

// getRemainingTTL returns the last checkpointed remaining TTL of the lease,
// or the full TTL when there is none: what a refresh grants.
func (l *Lease) getRemainingTTL() int64 {
	if l.remainingTTL > 0 {
		return l.remainingTTL
	}
	return l.ttl
}

// refresh sets the expiry to now + extend + the remaining TTL.
func (l *Lease) refresh(now, extend time.Duration) {
	l.expiry = now + extend + time.Duration(l.getRemainingTTL())*time.Second
}

// forever sets the expiry of lease to be forever.
func (l *Lease) forever() { l.expiry = forever }

// Demoted returns true if the lease's expiry has been reset to forever.
func (l *Lease) Demoted() bool { return l.expiry == forever }

// Remaining returns the remaining time of the lease at now; the largest
// duration if it never expires.
func (l *Lease) Remaining(now time.Duration) time.Duration {
	if l.expiry == forever {
		return forever
	}
	return l.expiry - now
}

func (l *Lease) expired(now time.Duration) bool { return l.Remaining(now) <= 0 }

// Keys returns all the keys attached to the lease, sorted. etcd returns
// them in map order and sorts where the order matters (Revoke); here they
// are always sorted, so no caller can leak map order.
func (l *Lease) Keys() []string {
	keys := make([]string, 0, len(l.itemSet))
	for it := range l.itemSet { //lint:allow maprange sorted below
		keys = append(keys, it.Key)
	}
	slices.Sort(keys)
	return keys
}
