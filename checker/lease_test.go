package checker

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func secs(s float64) time.Duration { return time.Duration(math.Round(s*1000)) * time.Millisecond }

// leaseRun is the run of the lease tests, one knob per way to break it:
//
//   - lease 1 (TTL 5s) holds k1 and k2; kept alive at 2s and 3s, so it
//     may expire from 8s (send time + TTL) and must by 8.01s (reply time
//   - TTL) + slack; it expires at expireAt;
//   - lease 2 (TTL 10s) holds k3 until a client revokes it at 4s;
//   - lease 3 (TTL 5s) holds k4 and is kept alive to the end;
//   - k5 has no lease; k6 leaves lease 1 when put again without it.
type leaseRun struct {
	expireAt     time.Duration // 0: lease 1 never expires (the lab's lease-never-expires bug)
	splitRevoke  bool          // lease 1's keys go in two revisions
	skipRevoke2  bool          // the client's acknowledged revoke of lease 2 deletes nothing
	revokeTakes3 bool          // lease 1's revoke deletes k3 (lease 2's) as well
}

func (r leaseRun) build() (*Truth, []LeaseOp) {
	s := newKVStore()
	s.txn(secs(1.1), 0, kvPutLease("k1", "v", 1), kvPutLease("k6", "v", 1))
	s.txn(secs(1.2), 0, kvPutLease("k2", "v", 1), kvPut("k5", "v"))
	s.txn(secs(1.5), 0, kvPutLease("k3", "v", 2), kvPutLease("k4", "v", 3))
	s.txn(secs(2.5), 0, kvPut("k6", "w")) // k6 leaves lease 1
	if !r.skipRevoke2 {
		s.txn(secs(4.05), 2, kvDel("k3"))
	}
	switch {
	case r.expireAt == 0:
	case r.splitRevoke:
		s.txn(r.expireAt, 1, kvDel("k1"))
		s.txn(r.expireAt+secs(0.1), 1, kvDel("k2"))
	case r.revokeTakes3:
		s.txn(r.expireAt, 1, kvDel("k1"), kvDel("k2"), kvDel("k3"))
	default:
		s.txn(r.expireAt, 1, kvDel("k1"), kvDel("k2"))
	}
	ops := []LeaseOp{
		{Client: 1, Kind: LeaseGrant, Lease: 1, Call: secs(1), Return: secs(1.01), Acked: true, TTL: 5},
		{Client: 1, Kind: LeaseKeepAlive, Lease: 1, Call: secs(2), Return: secs(2.01), Acked: true, TTL: 5},
		{Client: 1, Kind: LeaseKeepAlive, Lease: 1, Call: secs(3), Return: secs(3.01), Acked: true, TTL: 5},
		{Client: 2, Kind: LeaseGrant, Lease: 2, Call: secs(1), Return: secs(1.01), Acked: true, TTL: 10},
		{Client: 2, Kind: LeaseRevoke, Lease: 2, Call: secs(4), Return: secs(4.1), Acked: true},
		{Client: 3, Kind: LeaseGrant, Lease: 3, Call: secs(1), Return: secs(1.01), Acked: true, TTL: 5},
	}
	for at := 2.0; at < 20; at++ {
		ops = append(ops, LeaseOp{Client: 3, Kind: LeaseKeepAlive, Lease: 3, Call: secs(at), Return: secs(at + 0.01), Acked: true, TTL: 5})
	}
	// A keep-alive answered "not found" renews nothing.
	ops = append(ops, LeaseOp{Client: 1, Kind: LeaseKeepAlive, Lease: 1, Call: secs(9), Return: secs(9.01), Acked: true, TTL: -1})
	return s.truth(), ops
}

var leaseCfg = LeaseCheckConfig{End: secs(20), Slack: secs(2)}

func TestLeaseHonestPasses(t *testing.T) {
	tr, ops := leaseRun{expireAt: secs(8.5)}.build()
	v := CheckLease(tr, ops, leaseCfg)
	require.True(t, v.OK, v.Detail)
	require.Equal(t, "lease", v.Name)
	require.Equal(t, "3 leases with keys: 1 expiry, none early, and 1 client revoke, each in one revision; keys of 2 leases gone in time (1 not judged: deadline near the end or TTL unknown)", v.Detail)
}

func TestLeaseCatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  leaseRun
		cfg  LeaseCheckConfig
		want string
	}{
		{"a lease that never expires", leaseRun{}, leaseCfg,
			`lease 1 (TTL 5s) was not kept alive after it was due to expire at 8.01s, yet key "k1" (attached at revision 2) was still there at the end (20s) (slack 2s)`},
		{"keys deleted long after the deadline", leaseRun{expireAt: secs(12)}, leaseCfg,
			`lease 1 (TTL 5s) was not kept alive after it was due to expire at 8.01s, yet its last key went only at 12.001s (slack 2s)`},
		{"keys deleted before the TTL ran out", leaseRun{expireAt: secs(7.5)}, leaseCfg,
			`lease 1 expired early: its keys were deleted at revision 7 at 7.501s, but a keep-alive sent at 3s was answered with TTL 5s, so it could not expire before 8s`},
		{"a revoke in two revisions", leaseRun{expireAt: secs(8.5), splitRevoke: true}, leaseCfg,
			`the revoke of lease 1 at revision 7 left key "k2" (attached at revision 3) for a later revision`},
		{"a revoke that takes another lease's key", leaseRun{expireAt: secs(8.5), revokeTakes3: true, skipRevoke2: true}, leaseCfg,
			`the revoke of lease 1 at revision 6 deleted key "k3", which was attached to lease 2`},
		{"an acknowledged revoke that left the keys", leaseRun{expireAt: secs(8.5), skipRevoke2: true}, leaseCfg,
			`the revoke of lease 2 was acknowledged at 4.1s, but key "k3" (attached at revision 4) was still there at the end (20s)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, ops := tc.run.build()
			v := CheckLease(tr, ops, tc.cfg)
			require.False(t, v.OK, v.Detail)
			require.Contains(t, v.Detail, tc.want)
		})
	}
}

// What the config excuses: a fast leader clock, and leader changes that
// give every lease a new TTL.
func TestLeaseExcuses(t *testing.T) {
	tr, ops := leaseRun{expireAt: secs(7.5)}.build()
	cfg := leaseCfg
	cfg.EarlyTolerance = secs(0.6)
	v := CheckLease(tr, ops, cfg)
	require.True(t, v.OK, v.Detail)

	// No leader from 7s to 8s: the new leader gave lease 1 a fresh 5s
	// from 8s, so its keys may go as late as 13s + slack.
	tr, ops = leaseRun{expireAt: secs(12)}.build()
	cfg = leaseCfg
	cfg.NoLeader = []Interval{{From: secs(15), To: secs(15.5)}, {From: secs(7), To: secs(8)}}
	v = CheckLease(tr, ops, cfg)
	require.True(t, v.OK, v.Detail)

	// A leader lost after the keys went changes nothing.
	cfg.NoLeader = []Interval{{From: secs(12.5), To: secs(13)}}
	require.False(t, CheckLease(tr, ops, cfg).OK)

	// A deadline within the slack of the end is not judged.
	tr, ops = leaseRun{}.build()
	cfg = leaseCfg
	cfg.End = secs(9)
	v = CheckLease(tr, ops, cfg)
	require.True(t, v.OK, v.Detail)
	require.Contains(t, v.Detail, "2 not judged")
}
