package node

import (
	"errors"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3"

	"github.com/etcdlab/etcdlab/node/api"
	"github.com/etcdlab/etcdlab/node/lease"
)

// The Lease service, as etcd's server runs it around its lessor:
//
//   - Grant and Revoke go through raft, so every member's lessor holds the
//     same leases; the server picks a grant's ID when the client leaves it
//     0.
//   - Only the leader's lessor (the primary) runs the leases' clocks. Every
//     500 ms it looks for expired leases and proposes a LeaseRevoke for
//     each; a revoke deletes the lease's keys in one revision.
//   - A leader promotes its lessor once it applies the first entry of its
//     term, extending every lease by an election timeout, and demotes it
//     when it stops leading: the leases' clocks then stop everywhere until
//     the next leader starts them again.
//   - KeepAlive and TimeToLive need the primary; a KeepAlive waits for a
//     ReadIndex round to confirm the leadership first. etcd's followers forward
//     them to the leader over the peer HTTP API (leasehttp); here a
//     follower answers ErrNotLeader and the client asks the next member,
//     which costs a client a round trip more per leader change.

// leaseLoopTicks is how many ticks apart the lessor's loop runs (etcd's
// runLoop every 500 ms).
func (n *Node) leaseLoopTicks() uint64 {
	return max(uint64(lease.LoopInterval/n.cfg.HeartbeatInterval), 1)
}

func newLessor(cfg Config) *lease.Lessor {
	return lease.NewLessor(lease.LessorConfig{
		MinLeaseTTL: lease.MinLeaseTTLFor(cfg.HeartbeatInterval, cfg.electionTicks()),
		// etcd's server passes its request timeout here.
		ExpiredLeasesRetryInterval: cfg.RequestTimeout(),
	})
}

// leases is the lessor as node/txn uses it.
func (n *Node) leases() txnLessor { return txnLessor{n.lessor} }

type txnLessor struct{ le *lease.Lessor }

func (t txnLessor) Lookup(id int64) bool { return t.le.Lookup(lease.LeaseID(id)) != nil }
func (t txnLessor) Attach(id int64, key []byte) error {
	return t.le.Attach(lease.LeaseID(id), []lease.LeaseItem{{Key: string(key)}})
}
func (t txnLessor) Detach(id int64, key []byte) {
	_ = t.le.Detach(lease.LeaseID(id), []lease.LeaseItem{{Key: string(key)}}) // a lease already gone holds no keys
}

// handleLease serves the Lease service's requests.
func (n *Node) handleLease(from string, req *api.Request) {
	switch {
	case req.LeaseGrant != nil:
		if req.LeaseGrant.ID == 0 {
			// etcd's LeaseGrant: the server's request ID generator, the
			// top bit cleared so the ID is a positive int64.
			req.LeaseGrant.ID = int64(n.newProposalID() & (1<<63 - 1))
		}
		n.handleWrite(from, req)
	case req.LeaseRevoke != nil:
		n.handleWrite(from, req)
	case req.LeaseLeases != nil:
		n.reply(from, &api.Response{ID: req.ID, LeaseLeases: n.lessor.LeaseLeases()})
	case !n.lessor.IsPrimary():
		n.reply(from, &api.Response{ID: req.ID, Err: api.ErrNotLeader})
	case req.LeaseKeepAlive != nil:
		// etcd's LeaseRenew first ensures this member still leads, with a
		// ReadIndex round (ensureLeadership): a leader cut off from the
		// others, not yet deposed, must not renew a lease the new
		// leader's lessor will expire. The round is a linearizable read's.
		n.trackRead(from, req)
	default:
		ttl, err := n.lessor.TimeToLive(lease.LeaseID(req.LeaseTimeToLive.ID), req.LeaseTimeToLive.Keys, n.env.Now())
		n.reply(from, &api.Response{ID: req.ID, LeaseTimeToLive: ttl, Err: applyError(err)})
	}
}

// renew is LeaseKeepAlive on the primary, once its leadership is
// confirmed; one that lost it meanwhile answers ErrNotLeader. An unknown lease answers TTL 0,
// as etcd's keep-alive stream does. An expired one that is not revoked yet
// waits, as etcd's Renew does, until the revoke applies (TTL 0) or the
// member stops leading (ErrNotLeader).
func (n *Node) renew(from string, req *api.Request) {
	id := lease.LeaseID(req.LeaseKeepAlive.ID)
	if n.rn.BasicStatus().Lead != n.cfg.ID {
		n.reply(from, &api.Response{ID: req.ID, Err: api.ErrNotLeader})
		return
	}
	ttl, _, err := n.lessor.Renew(id, n.env.Now())
	switch {
	case errors.Is(err, lease.ErrRenewBlocked):
		pid := n.newProposalID()
		n.track(pid, from, req)
		n.blockedRenews = append(n.blockedRenews, pid)
		return
	case errors.Is(err, lease.ErrLeaseNotFound):
		ttl, err = 0, nil
	case errors.Is(err, lease.ErrNotPrimary):
		err = api.ErrNotLeader
	}
	n.reply(from, &api.Response{ID: req.ID, Err: err,
		LeaseKeepAlive: &pb.LeaseKeepAliveResponse{ID: int64(id), TTL: ttl}})
}

// retryRenews gives the keep-alives that waited on an expired lease
// another try, after a revoke applies or the lessor is demoted.
func (n *Node) retryRenews() {
	blocked := n.blockedRenews
	n.blockedRenews = nil
	for _, pid := range blocked {
		if r, ok := n.requests[pid]; ok {
			delete(n.requests, pid)
			n.renew(r.from, r.req)
		}
	}
}

func (n *Node) applyLeaseGrant(g *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	l, err := n.lessor.Grant(lease.LeaseID(g.ID), g.TTL, n.env.Now())
	if err != nil {
		return nil, err
	}
	return &pb.LeaseGrantResponse{ID: int64(l.ID), TTL: l.TTL()}, nil
}

// applyLeaseRevoke removes the lease and deletes its keys in one write
// txn, so all of them go in one revision (etcd's lessor.Revoke).
func (n *Node) applyLeaseRevoke(r *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	keys, err := n.lessor.Revoke(lease.LeaseID(r.ID))
	if err != nil {
		return nil, err
	}
	tw := n.store.Write()
	for _, k := range keys {
		tw.DeleteRange([]byte(k), nil)
	}
	tw.End()
	n.retryRenews()
	return &pb.LeaseRevokeResponse{}, nil
}

func (n *Node) applyLeaseCheckpoint(r *pb.LeaseCheckpointRequest) (*pb.LeaseCheckpointResponse, error) {
	for _, c := range r.Checkpoints {
		if err := n.lessor.Checkpoint(lease.LeaseID(c.ID), c.Remaining_TTL, n.env.Now()); err != nil {
			return nil, err
		}
	}
	return &pb.LeaseCheckpointResponse{}, nil
}

// leaseLoop is the lessor's runLoop on the leader: revoke what expired,
// checkpoint what is due, each through raft. The lease-never-expires bug
// skips the revokes.
func (n *Node) leaseLoop() {
	if n.ticks%n.leaseLoopTicks() != 0 || !n.lessor.IsPrimary() {
		return
	}
	now := n.env.Now()
	if !n.cfg.Bugs.LeaseNeverExpires {
		for _, id := range n.lessor.ExpiredLeases(now) {
			// Refused, the lessor hands it out again after its retry interval.
			_, _ = n.proposeInternal(&pb.InternalRaftRequest{LeaseRevoke: &pb.LeaseRevokeRequest{ID: int64(id)}})
		}
	}
	for _, cp := range n.lessor.ScheduledCheckpoints(now) {
		_, _ = n.proposeInternal(&pb.InternalRaftRequest{LeaseCheckpoint: cp})
	}
}

// promoteLessor promotes the lessor when this member, leading, applies the
// empty entry that opens its term (etcd's applyEntryNormal); see
// updateLeadership for the demotion.
func (n *Node) promoteLessor() {
	if n.role == raft.StateLeader && !n.lessor.IsPrimary() {
		n.lessor.Promote(n.cfg.ElectionTimeout, n.env.Now())
	}
}

// updateLeadership is etcd's: a member that stops leading demotes its
// lessor; the auto-compactor runs only while the member leads.
func (n *Node) updateLeadership() {
	if n.role != raft.StateLeader && n.lessor.IsPrimary() {
		n.lessor.Demote()
		n.retryRenews()
	}
	if n.compactor == nil {
		return
	}
	if n.role == raft.StateLeader {
		n.compactor.Resume()
	} else {
		n.compactor.Pause()
	}
}

// proposeInternal proposes a request the server makes itself (a lease's
// revoke, a checkpoint, an alarm, a compaction), and returns its request
// ID, or raft's refusal (no leader, a leader transfer).
func (n *Node) proposeInternal(r *pb.InternalRaftRequest) (uint64, error) {
	r.Header = &pb.RequestHeader{ID: n.newProposalID()}
	return r.Header.ID, n.rn.Propose(mustMarshal(r))
}
