package lease

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLeaseQueue is etcd's: an expired lease is handed out, pushed back
// by the retry interval, and handed out again after it.
func TestLeaseQueue(t *testing.T) {
	expiredRetryInterval := 100 * time.Millisecond
	le := NewLessor(LessorConfig{ExpiredLeasesRetryInterval: expiredRetryInterval})
	now := time.Duration(0)

	// insert in reverse order of expiration time
	for i := 50; i >= 1; i-- {
		exp := now + time.Hour
		if i == 1 {
			exp = now
		}
		le.leaseMap[LeaseID(i)] = &Lease{ID: LeaseID(i)}
		le.leaseExpiredNotifier.RegisterOrUpdate(&LeaseWithTime{id: LeaseID(i), time: exp})
	}

	// first element is expired.
	require.Equal(t, LeaseID(1), le.leaseExpiredNotifier.Peek().id)

	existExpiredEvent := func() {
		l, more := le.expireExists(now)
		require.NotNil(t, l, "expect expiry lease exists")
		require.Equal(t, LeaseID(1), l.ID)
		require.False(t, more)
		require.Equal(t, 50, le.leaseExpiredNotifier.Len(), "the expired lease is pushed back to the heap")
		require.Equal(t, LeaseID(1), le.leaseExpiredNotifier.Peek().id)
	}
	noExpiredEvent := func() {
		// re-acquire the expired item, nothing exists
		l, more := le.expireExists(now)
		require.Nil(t, l)
		require.False(t, more)
	}

	existExpiredEvent() // first acquire
	noExpiredEvent()    // second acquire
	now += expiredRetryInterval
	existExpiredEvent() // acquire after retry interval

	// A revoked lease's item is dropped: "next" says look again.
	delete(le.leaseMap, 1)
	now += expiredRetryInterval
	l, more := le.expireExists(now)
	require.Nil(t, l)
	require.True(t, more)
	require.Equal(t, 49, le.leaseExpiredNotifier.Len())
}
