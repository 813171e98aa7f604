package lease

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// Ported from etcd's server/lease/lessor_test.go: its tests wait on the
// wall clock; these pass the time instead.

const minLeaseTTL = int64(5)

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func newTestLessor(cfg LessorConfig) *Lessor {
	if cfg.MinLeaseTTL == 0 {
		cfg.MinLeaseTTL = minLeaseTTL
	}
	return NewLessor(cfg)
}

// etcd computes the lessor's minimum TTL from the election timeout in
// whole ticks: (3*ticks)/2 heartbeats, rounded up to seconds.
func TestMinLeaseTTLFor(t *testing.T) {
	for _, tc := range []struct {
		heartbeat time.Duration
		ticks     int
		want      int64
	}{
		{100 * time.Millisecond, 10, 2}, // etcd's defaults: 1.5 s
		{100 * time.Millisecond, 50, 8}, // 7.5 s
		{10 * time.Millisecond, 5, 1},   // 70 ms still grants a second
		{time.Second, 21, 31},           // (63/2) ticks = 31 s, not 31.5 s
		{500 * time.Millisecond, 10, 8}, // 7.5 s
	} {
		require.Equal(t, tc.want, MinLeaseTTLFor(tc.heartbeat, tc.ticks), "%v x %d", tc.heartbeat, tc.ticks)
	}
}

// TestLessorGrant ensures Lessor can grant wanted lease; a TTL under the
// minimum is raised to it.
func TestLessorGrant(t *testing.T) {
	le := newTestLessor(LessorConfig{})
	le.Promote(0, 0)

	l, err := le.Grant(1, 1, 0)
	require.NoError(t, err)
	require.Equal(t, minLeaseTTL, l.TTL())
	require.Same(t, l, le.Lookup(1))
	require.Equal(t, sec(5), l.Remaining(0))

	_, err = le.Grant(1, 1, 0)
	require.ErrorIs(t, err, ErrLeaseExists)

	nl, err := le.Grant(2, 1, sec(1))
	require.NoError(t, err)
	require.Equal(t, []*Lease{l, nl}, le.Leases())

	re := newTestLessor(LessorConfig{})
	require.NoError(t, re.Recover(le.Marshal(), nil))
	require.NotNil(t, re.Lookup(1), "the lease is in the bucket")
}

func TestLessorGrantErrors(t *testing.T) {
	for _, tc := range []struct {
		id   LeaseID
		ttl  int64
		want error
	}{
		{NoLease, 10, ErrLeaseNotFound},
		{1, MaxLeaseTTL + 1, ErrLeaseTTLTooLarge}, // TestLessorMaxTTL
		{1, MaxLeaseTTL, nil},
		{1, -3, nil}, // raised to the minimum
	} {
		le := newTestLessor(LessorConfig{})
		_, err := le.Grant(tc.id, tc.ttl, 0)
		require.ErrorIs(t, err, tc.want, "Grant(%d, %d)", tc.id, tc.ttl)
	}
	require.Equal(t, "not a primary lessor", ErrNotPrimary.Error())
	require.Equal(t, "lease not found", ErrLeaseNotFound.Error())
	require.Equal(t, "lease already exists", ErrLeaseExists.Error())
	require.Equal(t, "too large lease TTL", ErrLeaseTTLTooLarge.Error())
}

// TestLessorRevoke ensures Lessor can revoke a lease: its keys come back
// sorted for one delete, and the revoked lease is gone.
func TestLessorRevoke(t *testing.T) {
	le := newTestLessor(LessorConfig{})
	_, err := le.Grant(1, 100, 0)
	require.NoError(t, err)
	require.NoError(t, le.Attach(1, []LeaseItem{{"foo"}, {"bar"}}))
	require.Equal(t, LeaseID(1), le.GetLease(LeaseItem{"foo"}))

	keys, err := le.Revoke(1)
	require.NoError(t, err)
	require.Equal(t, []string{"bar", "foo"}, keys)
	require.Nil(t, le.Lookup(1))
	require.Equal(t, NoLease, le.GetLease(LeaseItem{"foo"}), "the store's delete finds no lease to detach")
	require.Empty(t, le.Marshal(), "gone from the bucket")

	_, err = le.Revoke(1)
	require.ErrorIs(t, err, ErrLeaseNotFound)
}

// TestLessorRenew ensures Lessor can renew an existing lease, on the
// primary only.
func TestLessorRenew(t *testing.T) {
	le := newTestLessor(LessorConfig{})
	_, err := le.Grant(1, 10, 0)
	require.NoError(t, err)

	_, _, err = le.Renew(1, 0)
	require.ErrorIs(t, err, ErrNotPrimary, "a follower forwards keep-alives")

	le.Promote(0, 0)
	ttl, cp, err := le.Renew(1, sec(3))
	require.NoError(t, err)
	require.Nil(t, cp)
	require.Equal(t, int64(10), ttl)
	require.Equal(t, sec(10), le.Lookup(1).Remaining(sec(3)))

	_, _, err = le.Renew(2, sec(3))
	require.ErrorIs(t, err, ErrLeaseNotFound)
}

// TestLessorRenewWithCheckpointer: a checkpointed remaining TTL is
// cleared through raft before the renew.
func TestLessorRenewWithCheckpointer(t *testing.T) {
	le := newTestLessor(LessorConfig{LeaseCheckpoint: true})
	le.Promote(0, 0)
	_, err := le.Grant(1, 10, 0)
	require.NoError(t, err)
	require.NoError(t, le.Checkpoint(1, 7, 0))

	ttl, cp, err := le.Renew(1, sec(2))
	require.NoError(t, err)
	require.Equal(t, int64(-1), ttl)
	require.True(t, proto.Equal(&pb.LeaseCheckpointRequest{Checkpoints: []*pb.LeaseCheckpoint{{ID: 1, Remaining_TTL: 0}}}, cp), "%v", cp)

	// The checkpoint applies; the renew is tried again.
	require.NoError(t, le.Checkpoint(1, 0, sec(2)))
	ttl, cp, err = le.Renew(1, sec(2))
	require.NoError(t, err)
	require.Nil(t, cp)
	require.Equal(t, int64(10), ttl)
	require.Equal(t, int64(0), le.Lookup(1).RemainingTTL())
	require.Equal(t, sec(10), le.Lookup(1).Remaining(sec(2)))
}

// TestLessorExpire: the primary hands out an expired lease for revocation;
// a renew of it waits until the revoke and then fails.
func TestLessorExpire(t *testing.T) {
	le := newTestLessor(LessorConfig{MinLeaseTTL: 1})
	le.Promote(time.Second, 0)
	_, err := le.Grant(1, 1, 0)
	require.NoError(t, err)

	require.Empty(t, le.ExpiredLeases(sec(0.5)))
	require.Equal(t, []LeaseID{1}, le.ExpiredLeases(sec(1)))

	// expired lease cannot be renewed
	_, _, err = le.Renew(1, sec(1))
	require.ErrorIs(t, err, ErrRenewBlocked)

	// Handed out once per retry interval (3 s) while it is not revoked.
	require.Empty(t, le.ExpiredLeases(sec(3.5)))
	require.Equal(t, []LeaseID{1}, le.ExpiredLeases(sec(4)))

	// expired lease can be revoked
	_, err = le.Revoke(1)
	require.NoError(t, err)
	_, _, err = le.Renew(1, sec(4))
	require.ErrorIs(t, err, ErrLeaseNotFound)
	require.Empty(t, le.ExpiredLeases(sec(10)))
}

// TestLessorExpireAndDemote: the blocked renew fails with ErrNotPrimary
// once the lessor is demoted.
func TestLessorExpireAndDemote(t *testing.T) {
	le := newTestLessor(LessorConfig{MinLeaseTTL: 1})
	le.Promote(time.Second, 0)
	_, err := le.Grant(1, 1, 0)
	require.NoError(t, err)
	require.Equal(t, []LeaseID{1}, le.ExpiredLeases(sec(1)))
	_, _, err = le.Renew(1, sec(1))
	require.ErrorIs(t, err, ErrRenewBlocked)

	le.Demote()
	_, _, err = le.Renew(1, sec(1))
	require.ErrorIs(t, err, ErrNotPrimary)
	require.True(t, le.Lookup(1).Demoted())
	require.Empty(t, le.ExpiredLeases(sec(100)), "a follower expires nothing")
}

// Only the primary expires leases: a lease granted on a follower never
// expires there, and Promote starts its clock.
func TestLessorExpiresOnlyOnPrimary(t *testing.T) {
	le := newTestLessor(LessorConfig{})
	_, err := le.Grant(1, 5, 0)
	require.NoError(t, err)
	require.True(t, le.Lookup(1).Demoted())
	require.Empty(t, le.ExpiredLeases(sec(1e6)))

	le.Promote(sec(1), sec(100))
	require.Empty(t, le.ExpiredLeases(sec(105.9)))
	require.Equal(t, []LeaseID{1}, le.ExpiredLeases(sec(106)))
}

// Half the revoke rate per call, in expiry order, ties by ID.
func TestLessorExpiredLeasesRateLimited(t *testing.T) {
	le := newTestLessor(LessorConfig{MinLeaseTTL: 1, LeaseRevokeRate: 10})
	le.Promote(0, 0)
	for id := LeaseID(12); id >= 1; id-- {
		ttl := int64(1)
		if id == 12 {
			ttl = 2
		}
		_, err := le.Grant(id, ttl, 0)
		require.NoError(t, err)
	}
	require.Equal(t, []LeaseID{1, 2, 3, 4, 5}, le.ExpiredLeases(sec(5)))
	require.Equal(t, []LeaseID{6, 7, 8, 9, 10}, le.ExpiredLeases(sec(5.5)))
	require.Equal(t, []LeaseID{11, 12}, le.ExpiredLeases(sec(6)))
	require.Empty(t, le.ExpiredLeases(sec(6.5)))
	require.Equal(t, []LeaseID{1, 2, 3, 4, 5}, le.ExpiredLeases(sec(8)), "retried after 3 s")
}

// A renewed lease leaves the expiry queue's head.
func TestLessorRenewPostponesExpiry(t *testing.T) {
	le := newTestLessor(LessorConfig{})
	le.Promote(0, 0)
	_, err := le.Grant(1, 5, 0)
	require.NoError(t, err)
	_, _, err = le.Renew(1, sec(4))
	require.NoError(t, err)
	require.Empty(t, le.ExpiredLeases(sec(8.9)))
	require.Equal(t, []LeaseID{1}, le.ExpiredLeases(sec(9)))
}

// Promote gives every lease its remaining TTL plus extend from now.
func TestLessorPromoteExtends(t *testing.T) {
	le := newTestLessor(LessorConfig{})
	for _, g := range []struct {
		id  LeaseID
		ttl int64
	}{{1, 10}, {2, 20}, {3, 1}} {
		_, err := le.Grant(g.id, g.ttl, 0)
		require.NoError(t, err)
	}
	le.Promote(sec(1), sec(50))
	require.True(t, le.IsPrimary())
	for id, want := range map[LeaseID]time.Duration{1: sec(11), 2: sec(21), 3: sec(6)} { //lint:allow maprange each case is checked on its own
		require.Equal(t, want, le.Lookup(id).Remaining(sec(50)), "lease %d", id)
	}
	require.Equal(t, []LeaseID{3, 1, 2}, ids(le.Leases()), "by expiry")
}

// TestLessorRenewExtendPileup ensures Lessor extends leases on promotion
// if too many expire at the same time.
func TestLessorRenewExtendPileup(t *testing.T) {
	const leaseRevokeRate = 10
	le := newTestLessor(LessorConfig{LeaseRevokeRate: leaseRevokeRate})
	ttl := int64(10)
	for i := 1; i <= leaseRevokeRate*10; i++ {
		_, err := le.Grant(LeaseID(2*i), ttl, 0)
		require.NoError(t, err)
		// ttls that overlap spillover for ttl=10
		_, err = le.Grant(LeaseID(2*i+1), ttl+1, 0)
		require.NoError(t, err)
	}

	// simulate stop and recovery
	le2 := newTestLessor(LessorConfig{LeaseRevokeRate: leaseRevokeRate})
	require.NoError(t, le2.Recover(le.Marshal(), nil))

	// extend after recovery should extend expiration on lease pile-up
	now := sec(1000)
	le2.Promote(0, now)

	windowCounts := map[int64]int{}
	for _, l := range le2.Leases() {
		// round up slightly for baseline ttl
		windowCounts[int64(l.Remaining(now).Seconds()+0.1)]++
	}
	for i := ttl; i < ttl+20; i++ {
		c := windowCounts[i]
		require.LessOrEqual(t, c, leaseRevokeRate, "expiring at %ds", i)
		require.GreaterOrEqual(t, c, leaseRevokeRate/2, "expiring at %ds", i)
	}

	// Which leases are pushed back does not depend on map order.
	le3 := newTestLessor(LessorConfig{LeaseRevokeRate: leaseRevokeRate})
	require.NoError(t, le3.Recover(le.Marshal(), nil))
	le3.Promote(0, now)
	for _, l := range le2.Leases() {
		require.Equal(t, l.expiry, le3.Lookup(l.ID).expiry, "lease %d", l.ID)
	}
}

func TestLessorDemote(t *testing.T) {
	le := newTestLessor(LessorConfig{LeaseCheckpoint: true, CheckpointInterval: time.Second})
	le.Promote(0, 0)
	for id := LeaseID(1); id <= 3; id++ {
		_, err := le.Grant(id, 10, 0)
		require.NoError(t, err)
	}
	le.Demote()
	require.False(t, le.IsPrimary())
	for _, l := range le.Leases() {
		require.True(t, l.Demoted())
	}
	require.Empty(t, le.ExpiredLeases(sec(100)))
	require.Empty(t, le.ScheduledCheckpoints(sec(100)))
	_, err := le.TimeToLive(1, false, sec(1))
	require.ErrorIs(t, err, ErrNotPrimary)
}

func TestLessorDetach(t *testing.T) {
	le := newTestLessor(LessorConfig{})
	_, err := le.Grant(1, 100, 0)
	require.NoError(t, err)
	require.NoError(t, le.Attach(1, []LeaseItem{{"foo"}, {"bar"}}))
	require.NoError(t, le.Detach(1, []LeaseItem{{"foo"}}))
	require.Equal(t, []string{"bar"}, le.Lookup(1).Keys())
	require.Equal(t, NoLease, le.GetLease(LeaseItem{"foo"}))
	require.Equal(t, LeaseID(1), le.GetLease(LeaseItem{"bar"}))

	require.ErrorIs(t, le.Attach(2, []LeaseItem{{"x"}}), ErrLeaseNotFound)
	require.ErrorIs(t, le.Detach(2, []LeaseItem{{"x"}}), ErrLeaseNotFound)
}

// TestLessorRecover ensures Lessor recovers leases from the bucket; they
// never expire until promoted, and the store's keys are attached again.
func TestLessorRecover(t *testing.T) {
	le := newTestLessor(LessorConfig{})
	le.Promote(0, 0)
	_, err := le.Grant(1, 10, 0)
	require.NoError(t, err)
	_, err = le.Grant(2, 20, 0)
	require.NoError(t, err)
	require.NoError(t, le.Attach(1, []LeaseItem{{"a"}}))

	nle := newTestLessor(LessorConfig{})
	require.NoError(t, nle.Recover(le.Marshal(), map[string]LeaseID{"a": 1, "b": 2, "c": 3}))
	require.Equal(t, []LeaseID{1, 2}, ids(nle.Leases()))
	require.Equal(t, int64(10), nle.Lookup(1).TTL())
	require.Equal(t, int64(20), nle.Lookup(2).TTL())
	require.True(t, nle.Lookup(1).Demoted())
	require.Equal(t, []string{"a"}, nle.Lookup(1).Keys())
	require.Equal(t, []string{"b"}, nle.Lookup(2).Keys())
	require.Equal(t, NoLease, nle.GetLease(LeaseItem{"c"}), "a key of a missing lease stays unattached")

	// A smaller minimum at the old member is raised on recovery.
	big := newTestLessor(LessorConfig{MinLeaseTTL: 15})
	require.NoError(t, big.Recover(le.Marshal(), nil))
	require.Equal(t, int64(15), big.Lookup(1).TTL())
}

func TestLessorCheckpointScheduling(t *testing.T) {
	le := newTestLessor(LessorConfig{MinLeaseTTL: 1, CheckpointInterval: time.Second, LeaseCheckpoint: true})
	_, err := le.Grant(1, 2, 0)
	require.NoError(t, err)
	require.Empty(t, le.ScheduledCheckpoints(sec(5)), "not scheduled off the primary")

	le.Promote(0, sec(10))
	require.Empty(t, le.ScheduledCheckpoints(sec(10.5)))
	got := le.ScheduledCheckpoints(sec(11))
	want := []*pb.LeaseCheckpointRequest{{Checkpoints: []*pb.LeaseCheckpoint{{ID: 1, Remaining_TTL: 1}}}}
	require.Len(t, got, 1)
	require.True(t, proto.Equal(want[0], got[0]), "%v", got)
	require.Empty(t, le.ScheduledCheckpoints(sec(11)), "one checkpoint per schedule")

	// Applying the checkpoint schedules the next only if the remaining
	// TTL outlives the interval.
	require.NoError(t, le.Checkpoint(1, 1, sec(11)))
	require.Empty(t, le.ScheduledCheckpoints(sec(20)))
}

// Checkpoints come in batches of 1000, at most 500 batches per loop.
func TestLessorCheckpointBatches(t *testing.T) {
	// A revoke rate above the lease count, so Promote spreads nothing.
	le := newTestLessor(LessorConfig{MinLeaseTTL: 1, CheckpointInterval: time.Second, LeaseCheckpoint: true, LeaseRevokeRate: 10000})
	for id := LeaseID(1); id <= 2500; id++ {
		_, err := le.Grant(id, 100, 0)
		require.NoError(t, err)
	}
	le.Promote(0, 0)
	reqs := le.ScheduledCheckpoints(sec(1.5))
	require.Len(t, reqs, 3)
	require.Len(t, reqs[0].Checkpoints, 1000)
	require.Len(t, reqs[2].Checkpoints, 500)
	require.Equal(t, int64(1), reqs[0].Checkpoints[0].ID)
	require.Equal(t, int64(99), reqs[0].Checkpoints[0].Remaining_TTL, "rounded up: 98.5 s left")
}

func TestLessorCheckpointOffByDefault(t *testing.T) {
	le := newTestLessor(LessorConfig{CheckpointInterval: time.Second})
	le.Promote(0, 0)
	_, err := le.Grant(1, 100, 0)
	require.NoError(t, err)
	require.Empty(t, le.ScheduledCheckpoints(sec(50)))
}

func TestLessorCheckpointsRestoredOnPromote(t *testing.T) {
	le := newTestLessor(LessorConfig{})
	_, err := le.Grant(1, 10, 0)
	require.NoError(t, err)
	require.NoError(t, le.Checkpoint(1, 5, 0))
	le.Promote(0, sec(7))
	require.Equal(t, sec(5), le.Lookup(1).Remaining(sec(7)))
}

// etcd v3.6 and newer persist remainingTTL on checkpoint.
func TestLessorCheckpointPersistenceAfterRestart(t *testing.T) {
	le := newTestLessor(LessorConfig{})
	l, err := le.Grant(2, 10, 0)
	require.NoError(t, err)
	require.Equal(t, int64(10), l.getRemainingTTL())
	require.NoError(t, le.Checkpoint(2, 5, 0))
	require.Equal(t, int64(5), l.getRemainingTTL())

	le2 := newTestLessor(LessorConfig{})
	require.NoError(t, le2.Recover(le.Marshal(), nil))
	require.Equal(t, int64(5), le2.Lookup(2).getRemainingTTL())
}

func TestLessorTimeToLive(t *testing.T) {
	le := newTestLessor(LessorConfig{})
	le.Promote(0, 0)
	_, err := le.Grant(1, 10, 0)
	require.NoError(t, err)
	require.NoError(t, le.Attach(1, []LeaseItem{{"b"}, {"a"}}))

	resp, err := le.TimeToLive(1, true, sec(2.5))
	require.NoError(t, err)
	want := &pb.LeaseTimeToLiveResponse{ID: 1, TTL: 7, GrantedTTL: 10, Keys: [][]byte{[]byte("a"), []byte("b")}}
	require.True(t, proto.Equal(want, resp), "%v", resp)

	resp, err = le.TimeToLive(1, false, sec(2.5))
	require.NoError(t, err)
	require.Nil(t, resp.Keys)

	_, err = le.TimeToLive(9, false, 0)
	require.ErrorIs(t, err, ErrLeaseNotFound)

	_, err = le.Grant(2, 10, sec(1))
	require.NoError(t, err)
	ll := le.LeaseLeases()
	require.True(t, proto.Equal(&pb.LeaseLeasesResponse{Leases: []*pb.LeaseStatus{{ID: 1}, {ID: 2}}}, ll), "%v", ll)
}

func TestBucketRoundTrip(t *testing.T) {
	le := newTestLessor(LessorConfig{MinLeaseTTL: 1})
	for _, g := range []struct {
		id       LeaseID
		ttl, rem int64
	}{{7, 60, 30}, {1, 5, 0}, {1 << 62, MaxLeaseTTL, 1}} {
		_, err := le.Grant(g.id, g.ttl, 0)
		require.NoError(t, err)
		require.NoError(t, le.Checkpoint(g.id, g.rem, 0))
	}
	b := le.Marshal()
	re := newTestLessor(LessorConfig{MinLeaseTTL: 1})
	require.NoError(t, re.Recover(b, nil))
	require.Equal(t, b, re.Marshal())
	require.Equal(t, []LeaseID{1, 7, 1 << 62}, ids(re.Leases()))
	require.Equal(t, int64(30), re.Lookup(7).RemainingTTL())
	require.NoError(t, re.Recover(nil, nil), "an empty bucket")
	require.Empty(t, re.Leases())
}

func TestBucketCorrupt(t *testing.T) {
	le := newTestLessor(LessorConfig{})
	_, err := le.Grant(1, 10, 0)
	require.NoError(t, err)
	_, err = le.Grant(300, 20, 0)
	require.NoError(t, err)
	good := le.Marshal()

	for name, b := range map[string][]byte{ //lint:allow maprange each case is checked on its own
		"garbage":         []byte("not a bucket"),
		"truncated":       good[:len(good)-1],
		"wrong field":     {0x10, 0x01},
		"no id":           {0x0a, 0x02, 0x10, 0x05},
		"unknown field":   {0x0a, 0x04, 0x08, 0x01, 0x20, 0x01},
		"duplicate id":    append(append([]byte{}, good...), good[:good[1]+2]...),
		"bytes in lease":  {0x0a, 0x04, 0x08, 0x01, 0x12, 0x00},
		"overlong length": {0x0a, 0x7f, 0x08},
	} {
		re := newTestLessor(LessorConfig{})
		_, err := re.Grant(5, 10, 0)
		require.NoError(t, err)
		require.ErrorIs(t, re.Recover(b, nil), ErrCorrupt, name)
		require.NotNil(t, re.Lookup(5), "%s: a failed recover changes nothing", name)
	}

	// Never a panic: every prefix and every single-bit flip.
	for i := range len(good) {
		_ = newTestLessor(LessorConfig{}).Recover(good[:i], nil)
		for bit := range 8 {
			b := append([]byte{}, good...)
			b[i] ^= 1 << bit
			_ = newTestLessor(LessorConfig{}).Recover(b, nil)
		}
	}
}

func ids(ls []*Lease) []LeaseID {
	var out []LeaseID
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out
}
