package node

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdlab/etcdlab/node/api"
	"github.com/etcdlab/etcdlab/node/lease"
)

// The Lease service at node level, against etcd's documentation
// (https://etcd.io/docs/v3.7/learning/api/#lease-api) and its server:
// grants and revokes go through raft, the leader keeps the leases' clocks.

// advance moves the cluster's clock on by d, a heartbeat interval at a
// time, ticking every member and settling after each tick.
func (c *cluster) advance(d time.Duration) {
	step := DefaultConfig(1, nil).HeartbeatInterval
	for elapsed := time.Duration(0); elapsed < d; elapsed += step {
		c.clock += step
		for _, id := range c.ids() {
			if !c.envs[id].down {
				c.nodes[id].Tick()
			}
		}
		c.settle()
	}
}

func (c *cluster) grant(via uint64, id, ttl int64) *pb.LeaseGrantResponse {
	c.t.Helper()
	return c.ok(via, &api.Request{LeaseGrant: &pb.LeaseGrantRequest{ID: id, TTL: ttl}}).LeaseGrant
}

func (c *cluster) putLeased(via uint64, key string, leaseID int64) *api.Response {
	c.t.Helper()
	return c.ok(via, &api.Request{Put: &pb.PutRequest{Key: []byte(key), Value: []byte("v"), Lease: leaseID}})
}

// has reports whether member id's store holds key now.
func (c *cluster) has(id uint64, key string) bool {
	return c.rangeOf(id, &pb.RangeRequest{Key: []byte(key), Serializable: true}).Count == 1
}

func TestLeaseGrant(t *testing.T) {
	c := newKVCluster(t)
	minTTL := lease.MinLeaseTTLFor(100*time.Millisecond, 10)
	require.Equal(t, int64(2), minTTL, "etcd's defaults: 1.5 election timeouts, rounded up")
	for _, tt := range []struct {
		name    string
		id, ttl int64
		wantTTL int64
		wantErr error
		anyID   bool
		sameRev bool
	}{
		{name: "a TTL below the minimum is raised to it", id: 1, ttl: 1, wantTTL: minTTL},
		{name: "a TTL above it is kept", id: 2, ttl: 60, wantTTL: 60},
		{name: "ID 0: the server picks one", id: 0, ttl: 30, wantTTL: 30, anyID: true},
		{name: "an ID granted already", id: 2, ttl: 60, wantErr: api.ErrLeaseExist},
		{name: "a TTL too large", id: 3, ttl: lease.MaxLeaseTTL + 1, wantErr: api.ErrLeaseTTLTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(2, &api.Request{LeaseGrant: &pb.LeaseGrantRequest{ID: tt.id, TTL: tt.ttl}})
			require.Equal(t, tt.wantErr, r.Err)
			if tt.wantErr != nil {
				return
			}
			require.Equal(t, tt.wantTTL, r.LeaseGrant.TTL)
			if tt.anyID {
				require.Positive(t, r.LeaseGrant.ID)
			} else {
				require.Equal(t, tt.id, r.LeaseGrant.ID)
			}
			for _, id := range c.ids() {
				require.NotNil(t, c.nodes[id].lessor.Lookup(lease.LeaseID(r.LeaseGrant.ID)), "n%d has the lease", id)
			}
		})
	}
	require.Equal(t, int64(1), c.nodes[1].Status().Rev, "a grant writes no key")
}

func TestLeaseKeepAliveIsAnsweredByTheLeader(t *testing.T) {
	c := newKVCluster(t)
	c.grant(1, 7, 10)
	c.advance(3 * time.Second)

	r := c.ok(1, &api.Request{LeaseKeepAlive: &pb.LeaseKeepAliveRequest{ID: 7}})
	require.Equal(t, int64(7), r.LeaseKeepAlive.ID)
	require.Equal(t, int64(10), r.LeaseKeepAlive.TTL)
	ttl := c.ok(1, &api.Request{LeaseTimeToLive: &pb.LeaseTimeToLiveRequest{ID: 7}}).LeaseTimeToLive
	require.Equal(t, int64(10), ttl.TTL, "the keep-alive refreshed it")

	require.Equal(t, api.ErrNotLeader, c.do(2, &api.Request{LeaseKeepAlive: &pb.LeaseKeepAliveRequest{ID: 7}}).Err)
	require.Equal(t, api.ErrNotLeader, c.do(3, &api.Request{LeaseTimeToLive: &pb.LeaseTimeToLiveRequest{ID: 7}}).Err)

	r = c.ok(1, &api.Request{LeaseKeepAlive: &pb.LeaseKeepAliveRequest{ID: 99}})
	require.Zero(t, r.LeaseKeepAlive.TTL, "an unknown lease answers TTL 0")
}

func TestLeaseTimeToLiveAndLeases(t *testing.T) {
	c := newKVCluster(t)
	c.grant(1, 7, 10)
	c.grant(1, 8, 20)
	c.putLeased(2, "b", 7)
	c.putLeased(2, "a", 7)
	c.advance(3 * time.Second)

	ttl := c.ok(1, &api.Request{LeaseTimeToLive: &pb.LeaseTimeToLiveRequest{ID: 7, Keys: true}}).LeaseTimeToLive
	require.Equal(t, int64(10), ttl.GrantedTTL)
	require.InDelta(t, 7, ttl.TTL, 1, "about 7 s of 10 left")
	require.Equal(t, [][]byte{[]byte("a"), []byte("b")}, ttl.Keys)
	noKeys := c.ok(1, &api.Request{LeaseTimeToLive: &pb.LeaseTimeToLiveRequest{ID: 7}}).LeaseTimeToLive
	require.Empty(t, noKeys.Keys)

	require.Equal(t, api.ErrLeaseNotFound, c.do(1, &api.Request{LeaseTimeToLive: &pb.LeaseTimeToLiveRequest{ID: 99}}).Err)

	for _, id := range c.ids() { // any member lists them
		ls := c.ok(id, &api.Request{LeaseLeases: &pb.LeaseLeasesRequest{}}).LeaseLeases
		require.Len(t, ls.Leases, 2)
	}
}

func TestLeaseRevokeDeletesItsKeysInOneRevision(t *testing.T) {
	c := newKVCluster(t, "other=x") // rev 2
	c.grant(1, 7, 60)
	c.putLeased(1, "a", 7) // 3
	c.putLeased(1, "b", 7) // 4
	r := c.ok(2, &api.Request{LeaseRevoke: &pb.LeaseRevokeRequest{ID: 7}})
	require.NotNil(t, r.LeaseRevoke)
	require.Equal(t, int64(5), r.Header.Revision, "both keys in one revision")
	for _, id := range c.ids() {
		require.False(t, c.has(id, "a"))
		require.False(t, c.has(id, "b"))
		require.True(t, c.has(id, "other"))
		require.Nil(t, c.nodes[id].lessor.Lookup(7))
	}
	require.Equal(t, api.ErrLeaseNotFound, c.do(2, &api.Request{LeaseRevoke: &pb.LeaseRevokeRequest{ID: 7}}).Err)
	require.Equal(t, api.ErrLeaseNotFound, c.do(2, &api.Request{Put: &pb.PutRequest{Key: []byte("a"), Lease: 7}}).Err)
}

// With no keep-alives, the leader revokes a lease once its TTL has passed
// on its own clock, within a run of its lessor loop (500 ms), and the
// lease's keys go in one revision; never before the TTL.
func TestLeaseExpiresOnTheLeadersClock(t *testing.T) {
	c := newKVCluster(t)
	c.grant(1, 7, 5)
	c.putLeased(1, "a", 7)
	c.putLeased(1, "b", 7)
	rev := c.nodes[1].Status().Rev

	c.advance(4900 * time.Millisecond)
	require.True(t, c.has(2, "a"), "not before the TTL")
	c.advance(600 * time.Millisecond)
	for _, id := range c.ids() {
		require.False(t, c.has(id, "a"), "n%d: gone after the TTL", id)
		require.False(t, c.has(id, "b"), "n%d: gone after the TTL", id)
		require.Equal(t, rev+1, c.nodes[id].Status().Rev, "one revision for both keys")
	}
}

// A blocked keep-alive, sent after the lease expired but before its
// revoke applied, answers TTL 0 once the revoke applies, as etcd's Renew
// waits for it.
func TestLeaseKeepAliveOfAnExpiredLeaseAnswersZero(t *testing.T) {
	c := newKVCluster(t)
	c.grant(1, 7, 2)
	c.clock += 3 * time.Second // expired, and the lessor loop has not run yet
	c.nodes[1].Request("ka", &api.Request{LeaseKeepAlive: &pb.LeaseKeepAliveRequest{ID: 7}})
	require.Empty(t, c.replies["ka"], "it waits for the revoke")
	c.advance(time.Second)
	require.Len(t, c.replies["ka"], 1)
	require.NoError(t, c.replies["ka"][0].Err)
	require.Zero(t, c.replies["ka"][0].LeaseKeepAlive.TTL)
}

// A new leader starts the leases' clocks again from its first entry of
// the term, with an election timeout of grace: a lease outlives its TTL
// counted from the grant across a leader change.
func TestLeaderChangeExtendsLeases(t *testing.T) {
	c := newKVCluster(t)
	c.grant(1, 7, 5)
	c.putLeased(1, "a", 7)
	c.advance(3 * time.Second)

	c.nodes[1].rn.TransferLeader(2)
	c.nodes[1].process()
	c.settle()
	require.Equal(t, uint64(2), c.nodes[2].Status().Leader)
	require.True(t, c.nodes[2].lessor.IsPrimary())
	require.False(t, c.nodes[1].lessor.IsPrimary())

	// Promoted at ~3 s: expires at ~3 + 5 + 1 = 9 s, not at 5 s.
	c.advance(5 * time.Second) // 8 s
	require.True(t, c.has(3, "a"), "the new leader extended it")
	c.advance(1500 * time.Millisecond) // 9.5 s
	require.False(t, c.has(3, "a"), "and then revoked it")
}

// A restart keeps the leases (the lease bucket of the backend) and
// attaches the keys the store holds to them again.
func TestRestartKeepsLeasesAndTheirKeys(t *testing.T) {
	c := newKVCluster(t, "plain=x")
	c.grant(1, 7, 60)
	c.putLeased(1, "a", 7)
	c.putLeased(1, "b", 7)
	for _, id := range c.ids() {
		c.nodes[id].CommitTick() // the backend holds the leases and keys
	}
	c.settle()
	files := map[uint64]map[string][]byte{}
	for _, id := range c.ids() {
		files[id] = c.crash(id)
	}
	c.clock += time.Second
	for _, id := range c.ids() {
		c.restart(id, files[id])
	}
	c.elect(1)

	ttl := c.ok(1, &api.Request{LeaseTimeToLive: &pb.LeaseTimeToLiveRequest{ID: 7, Keys: true}}).LeaseTimeToLive
	require.Equal(t, int64(60), ttl.GrantedTTL)
	require.Equal(t, [][]byte{[]byte("a"), []byte("b")}, ttl.Keys)

	c.ok(2, &api.Request{LeaseRevoke: &pb.LeaseRevokeRequest{ID: 7}})
	for _, id := range c.ids() {
		require.False(t, c.has(id, "a"), "n%d re-attached a to the lease", id)
		require.True(t, c.has(id, "plain"))
	}
	require.Equal(t, c.nodes[1].Hash(), c.nodes[2].Hash())
}

// With lease-never-expires, the leader never revokes: keys outlive the
// TTL of a lease nobody keeps alive.
func TestLeaseNeverExpiresBugKeepsKeysPastTheTTL(t *testing.T) {
	for _, bug := range []bool{false, true} {
		c := newClusterWith(quiet{t}, func(cfg *Config) { cfg.Bugs.LeaseNeverExpires = bug }, 1, 2, 3)
		c.elect(1)
		c.grant(1, 7, 2)
		c.putLeased(1, "a", 7)
		c.advance(5 * time.Second)
		require.Equal(t, bug, c.has(2, "a"), "bug %v", bug)
	}
}

// A key put again under another lease, or without one, or deleted, leaves
// its old lease: revoking that lease no longer touches it, and a revoke
// with no keys left makes no revision.
func TestKeysLeaveTheirLease(t *testing.T) {
	c := newKVCluster(t)
	c.grant(1, 7, 60)
	c.grant(1, 8, 60)
	c.putLeased(1, "moved", 7)
	c.putLeased(1, "moved", 8)
	c.putLeased(1, "freed", 7)
	c.ok(1, &api.Request{Put: putReq("freed", "v")})
	c.putLeased(1, "deleted", 7)
	c.ok(1, &api.Request{DeleteRange: deleteReq("deleted")})
	ttl := c.ok(1, &api.Request{LeaseTimeToLive: &pb.LeaseTimeToLiveRequest{ID: 7, Keys: true}}).LeaseTimeToLive
	require.Empty(t, ttl.Keys)

	rev := c.nodes[1].Status().Rev
	r := c.ok(3, &api.Request{LeaseRevoke: &pb.LeaseRevokeRequest{ID: 7}})
	require.Equal(t, rev, r.Header.Revision, "nothing to delete: no revision")
	require.True(t, c.has(2, "moved"))
	require.True(t, c.has(2, "freed"))
	c.ok(3, &api.Request{LeaseRevoke: &pb.LeaseRevokeRequest{ID: 8}})
	require.False(t, c.has(2, "moved"))
}

// The watchers of a lease's keys see its expiry as deletes, all at one
// revision, in one response.
func TestLeaseExpiryIsOneWatchResponse(t *testing.T) {
	c := newKVCluster(t)
	c.grant(1, 7, 2)
	c.putLeased(1, "l/a", 7) // 2
	c.putLeased(1, "l/b", 7) // 3
	c.watchOn(3, "w", &pb.WatchCreateRequest{Key: []byte("l/"), RangeEnd: []byte("l0"), PrevKv: true})
	c.watched("w")
	c.advance(3 * time.Second)
	ws := c.watched("w")
	require.Len(t, ws, 1)
	require.Equal(t, []string{"DELETE l/a@4", "DELETE l/b@4"}, events(ws))
	require.Equal(t, int64(7), ws[0].Events[0].PrevKv.Lease)
}

// When the leader crashes, the leases' clocks stop until a new leader
// applies its term's first entry; from then on it gives them their TTL
// again, plus an election timeout, and answers their keep-alives.
func TestLeaseOutlivesALeaderCrash(t *testing.T) {
	c := newKVCluster(t)
	c.grant(1, 7, 5)
	c.putLeased(1, "a", 7)
	c.advance(3 * time.Second)
	c.crash(1)
	var promoted time.Duration
	for i := 0; promoted == 0; i++ {
		require.Less(t, i, 50, "a new leader is promoted")
		c.advance(100 * time.Millisecond)
		for _, id := range []uint64{2, 3} {
			if c.nodes[id].lessor.IsPrimary() {
				promoted = c.clock
			}
		}
	}
	c.advance(5*time.Second + 900*time.Millisecond) // TTL + most of the grace, after the promotion
	require.True(t, c.has(2, "a"))
	lead := c.nodes[2].Status().Leader
	r := c.ok(lead, &api.Request{LeaseKeepAlive: &pb.LeaseKeepAliveRequest{ID: 7}})
	require.Equal(t, int64(5), r.LeaseKeepAlive.TTL)
	c.advance(5*time.Second + 600*time.Millisecond)
	require.False(t, c.has(2, "a"), "expired %v after its last keep-alive", c.clock-promoted)
}
