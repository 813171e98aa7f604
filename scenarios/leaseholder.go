package scenarios

import (
	"fmt"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/network"
	"github.com/etcdlab/etcdlab/node/api"
)

// leaseHolder takes a lease, attaches keys to it and keeps it alive for a
// while, the way a service registers itself in etcd or a Kubernetes
// apiserver writes its events:
//
//   - it grants a lease of lease-ttl, then puts a few keys with it;
//   - it sends a keep-alive every TTL/3, as clientv3's KeepAlive does; the
//     lessor's clock runs on the leader, so a follower answers "not
//     leader" and the holder asks the next member;
//   - after a while it stops: it revokes the lease, or simply goes quiet
//     and lets it expire; then it starts over with a new lease.
//
// Its keys ("lease/<holder>/<lease>/<n>", new names for each lease, so
// the lease checker can tell each lease's keys apart) are apart from the workload's, so their
// expiry does not disturb the linearizability check; the lease checker
// holds them to their leases.
type leaseHolder struct {
	c     *Cluster
	id    int
	addr  network.Addr
	next  int
	seq   uint64
	ops   []checker.LeaseOp
	lease int64 // the lease held, 0 while granting
	keys  int
	until time.Duration // when it stops keeping the lease alive
	// notLeader counts "not leader" answers in a row: once every member
	// gave one, the cluster has no leader, and the holder waits before
	// asking again rather than spin.
	notLeader int
	// inflight is the request awaiting an answer: its index in ops (-1
	// for a put), its request ID and where it went.
	inflight struct {
		op       int
		id       uint64
		req      *api.Request
		to       network.Addr
		put      bool
		deadline time.Duration
	}
}

func newLeaseHolder(c *Cluster, id int) *leaseHolder {
	h := &leaseHolder{c: c, id: id, addr: network.Addr(fmt.Sprintf("l%d", id)), next: id - 1}
	c.net.Attach(h.addr, h.receive)
	c.net.OnRefused(h.addr, func(to network.Addr, _ []byte) { h.lost(to) })
	c.sim.After(0, h.grant)
	return h
}

func (h *leaseHolder) ttl() int64 { return int64(h.c.settings.LeaseTTL / time.Second) }

// active: holders stop starting new work when the run settles.
func (h *leaseHolder) active() bool {
	return h.c.sim.Now() < h.c.settings.Duration-h.c.settings.Settle
}

func (h *leaseHolder) grant() {
	if !h.active() {
		return
	}
	h.lease, h.keys = 0, 0
	h.ops = append(h.ops, checker.LeaseOp{Client: h.id, Kind: checker.LeaseGrant, Call: h.c.sim.Now(), TTL: h.ttl()})
	h.send(len(h.ops)-1, &api.Request{LeaseGrant: &pb.LeaseGrantRequest{TTL: h.ttl()}})
}

func (h *leaseHolder) send(op int, req *api.Request) {
	m := h.pick()
	if m == nil {
		h.c.sim.After(retryWait, func() { h.send(op, req) })
		return
	}
	h.seq++
	req.ID = requestID(leaseHolderIDs, h.id, h.seq)
	h.inflight.op, h.inflight.id, h.inflight.req, h.inflight.to, h.inflight.put = op, req.ID, req, m.addr, req.Put != nil
	deadline := h.c.sim.Now() + h.c.settings.ClientTimeout
	h.inflight.deadline = deadline
	h.c.net.Send(h.addr, m.addr, func() string { return "lease " + req.Op() }, append([]byte{wireRequest}, req.Marshal()...))
	id := req.ID
	h.c.sim.At(deadline, func() {
		if h.inflight.id == id {
			h.inflight.id = 0
			h.gaveUp(op)
		}
	})
}

// leaderWaitThrottle is how long a holder waits after every live member
// said it does not lead (the lab's back-off; etcd's LeaseRenew sleeps
// 50 ms between its own tries to reach a leader).
const leaderWaitThrottle = 50 * time.Millisecond

// pick is the next member in turn for the holder's request.
func (h *leaseHolder) pick() *member { return h.c.nextLive(&h.next) }

// gaveUp: no answer in time. A grant or revoke may or may not have
// happened; the holder starts over with a new lease.
func (h *leaseHolder) gaveUp(op int) {
	if op >= 0 && h.ops[op].Kind == checker.LeaseKeepAlive && h.lease != 0 {
		h.c.sim.After(h.keepAliveEvery(), h.keepAlive)
		return
	}
	h.c.sim.After(retryWait, h.grant)
}

func (h *leaseHolder) keepAliveEvery() time.Duration {
	return time.Duration(h.ttl()) * time.Second / 3
}

func (h *leaseHolder) receive(from network.Addr, payload []byte) {
	if len(payload) == 0 || payload[0] != wireResponse {
		return
	}
	resp, err := api.UnmarshalResponse(payload[1:])
	if err != nil || resp.ID != h.inflight.id || h.inflight.id == 0 {
		return
	}
	h.inflight.id = 0
	op := h.inflight.op
	now := h.c.sim.Now()
	switch {
	case resp.Err == api.ErrNotSupportedForLearner:
		// A learner serves no write and no lease RPC: ask the next
		// member, as clientv3's balancer moves on from a member that
		// refuses.
		if op >= 0 && h.ops[op].Kind == checker.LeaseKeepAlive {
			h.ops[op].Call = now
		}
		h.send(op, h.inflight.req)
		return
	case resp.Err == api.ErrNotLeader:
		// Only the leader keeps leases' clocks: ask the next member. After
		// a whole round of refusals there is no leader to find, and the
		// holder backs off before the next round. (etcd's member would
		// not refuse: LeaseRenew holds the keep-alive, waits for a leader
		// and forwards it; the lab's follower answers at once, so the
		// back-off is the lab's own, to keep the holder from spinning.)
		if op < 0 || h.ops[op].Kind != checker.LeaseKeepAlive {
			return
		}
		h.notLeader++
		ask := func() {
			h.ops[op].Call = h.c.sim.Now()
			h.send(op, &api.Request{LeaseKeepAlive: &pb.LeaseKeepAliveRequest{ID: h.lease}})
		}
		// A round is as many refusals as there are members, the down ones
		// included: a rough count, since nextLive skips those, but it
		// only sets how often the holder pauses.
		if h.notLeader < len(h.c.members) {
			ask()
			return
		}
		h.notLeader = 0
		h.c.sim.After(leaderWaitThrottle, ask)
		return
	case resp.Err != nil:
		h.notLeader = 0
		h.gaveUp(op)
		return
	}
	h.notLeader = 0
	switch {
	case resp.LeaseGrant != nil:
		h.ops[op].Acked, h.ops[op].Return, h.ops[op].TTL, h.ops[op].Lease = true, now, resp.LeaseGrant.TTL, resp.LeaseGrant.ID
		h.lease = resp.LeaseGrant.ID
		h.until = now + time.Duration(1+h.c.leaseRand.Int64N(4*h.ttl()))*time.Second
		h.putKey()
	case resp.Put != nil:
		h.keys++
		if h.keys < 3 {
			h.putKey()
			return
		}
		h.c.sim.After(h.keepAliveEvery(), h.keepAlive)
	case resp.LeaseKeepAlive != nil:
		h.ops[op].Acked, h.ops[op].Return, h.ops[op].TTL = true, now, resp.LeaseKeepAlive.TTL
		if resp.LeaseKeepAlive.TTL <= 0 {
			h.c.sim.After(retryWait, h.grant) // expired: start over
			return
		}
		h.c.sim.After(h.keepAliveEvery(), h.keepAlive)
	case resp.LeaseRevoke != nil:
		h.ops[op].Acked, h.ops[op].Return = true, now
		h.c.sim.After(retryWait, h.grant)
	}
}

func (h *leaseHolder) putKey() {
	key := fmt.Sprintf("lease/%d/%x/%d", h.id, h.lease, h.keys)
	h.send(-1, &api.Request{Put: &pb.PutRequest{Key: []byte(key), Value: []byte(fmt.Sprint(h.lease)), Lease: h.lease}})
}

// keepAlive renews the lease, until the holder's time with it is up:
// then it revokes it, or (every other time) lets it expire.
func (h *leaseHolder) keepAlive() {
	if h.lease == 0 {
		return
	}
	now := h.c.sim.Now()
	if now >= h.until || !h.active() {
		if h.c.leaseRand.IntN(2) == 0 {
			h.ops = append(h.ops, checker.LeaseOp{Client: h.id, Kind: checker.LeaseRevoke, Lease: h.lease, Call: now})
			h.send(len(h.ops)-1, &api.Request{LeaseRevoke: &pb.LeaseRevokeRequest{ID: h.lease}})
			return
		}
		h.lease = 0
		h.c.sim.After(time.Duration(h.ttl())*time.Second, h.grant) // quiet: let it expire
		return
	}
	h.ops = append(h.ops, checker.LeaseOp{Client: h.id, Kind: checker.LeaseKeepAlive, Lease: h.lease, Call: now})
	h.send(len(h.ops)-1, &api.Request{LeaseKeepAlive: &pb.LeaseKeepAliveRequest{ID: h.lease}})
}

// lost: the member with the request in flight crashed or refused it.
func (h *leaseHolder) lost(member network.Addr) {
	if h.inflight.id == 0 || h.inflight.to != member {
		return
	}
	h.inflight.id = 0
	op := h.inflight.op
	h.c.sim.After(retryWait, func() { h.gaveUp(op) })
}

// leaseOps collects every holder's lease operations for the checker.
func (c *Cluster) leaseOps() []checker.LeaseOp {
	var out []checker.LeaseOp
	for _, h := range c.leaseHolders {
		out = append(out, h.ops...)
	}
	return out
}
