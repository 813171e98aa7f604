package node

import (
	"errors"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdlab/etcdlab/node/api"
	"github.com/etcdlab/etcdlab/node/lease"
	"github.com/etcdlab/etcdlab/node/mvcc"
	"github.com/etcdlab/etcdlab/node/txn"
)

// apply carries out one committed InternalRaftRequest, as etcd's applier
// does (server/etcdserver/apply: applierV3backend, wrapped in the capped
// applier that refuses to grow the store while a NOSPACE alarm is
// raised), and returns the response for the client that proposed it.
// Every change is in the store before apply returns; the watchers hear of
// it then (events, one revision at a time).
func (n *Node) apply(r *pb.InternalRaftRequest) (*api.Response, []*mvccpb.Event) {
	before := n.store.Rev()
	resp := &api.Response{}
	// etcd's quotaApplierV3: a write applied while the backend is past its
	// quota still happens, but answers NOSPACE (the arrival check may have
	// passed on a member whose file was smaller).
	overQuota := !n.underQuota(&api.Request{Put: r.Put, Txn: r.Txn, LeaseGrant: r.LeaseGrant})
	var err error
	switch {
	case r.Put != nil:
		if err = n.capped(); err == nil {
			resp.Put, err = n.applyPut(r.Put)
		}
	case r.DeleteRange != nil:
		tw := n.store.Write()
		resp.DeleteRange, err = txn.DeleteRange(tw, r.DeleteRange, n.leases())
		tw.End()
	case r.Txn != nil:
		if txnHasPut(r.Txn) {
			err = n.capped()
		}
		if err == nil {
			resp.Txn, err = n.applyTxn(r.Txn)
		}
	case r.Compaction != nil:
		resp.Compact, err = n.applyCompaction(r.Compaction)
	case r.LeaseGrant != nil:
		if err = n.capped(); err == nil {
			resp.LeaseGrant, err = n.applyLeaseGrant(r.LeaseGrant)
		}
	case r.LeaseRevoke != nil:
		resp.LeaseRevoke, err = n.applyLeaseRevoke(r.LeaseRevoke)
	case r.LeaseCheckpoint != nil:
		_, err = n.applyLeaseCheckpoint(r.LeaseCheckpoint)
	case r.Alarm != nil:
		resp.Alarm = n.applyAlarm(r.Alarm)
	default:
		err = api.ErrBadRequest
	}
	if err == nil && overQuota {
		err = api.ErrNoSpace
	}
	resp.Err = applyError(err)
	return resp, n.changed(before)
}

// changed hands the watchers the events of every revision the apply
// created (one; several only under the txn-split bug), and counts the
// write in the backend's batch.
func (n *Node) changed(before int64) []*mvccpb.Event {
	rev := n.store.Rev()
	if rev == before {
		n.noteWrite(false) // the entry still moves the consistent index
		return nil
	}
	evs := n.store.Events(before+1, rev+1)
	deleted := false
	for r, i := before+1, 0; r <= rev; r++ {
		j := i
		for j < len(evs) && evs[j].Kv.ModRevision == r {
			deleted = deleted || evs[j].Type == mvccpb.DELETE
			j++
		}
		if j > i {
			n.sendWatch(0, n.watch.Notify(r, evs[i:j]))
		}
		i = j
	}
	n.noteWrite(deleted)
	return evs
}

// applyError is the error a client sees for an error of the apply, as
// etcd's v3rpc togRPCError maps them.
func applyError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, lease.ErrLeaseNotFound):
		return rpctypes.ErrLeaseNotFound
	case errors.Is(err, lease.ErrLeaseExists):
		return rpctypes.ErrLeaseExist
	case errors.Is(err, lease.ErrLeaseTTLTooLarge):
		return rpctypes.ErrLeaseTTLTooLarge
	}
	return txn.ToRPCError(err)
}

func (n *Node) applyPut(p *pb.PutRequest) (*pb.PutResponse, error) {
	tw := n.store.Write()
	defer tw.End()
	return txn.Put(tw, p, n.leases())
}

// applyTxn is etcd's txn.Txn. Under the txn-split bug, the writes of the
// branch the compares chose each get their own revision, as if the Txn
// were several requests: what a Txn promises is exactly that they do not.
func (n *Node) applyTxn(t *pb.TxnRequest) (*pb.TxnResponse, error) {
	if !n.cfg.Bugs.TxnSplit || txn.IsTxnReadonly(t) {
		return txn.Txn(n.store, t, n.leases())
	}
	which, err := txn.Txn(n.store, &pb.TxnRequest{Compare: t.Compare}, n.leases())
	if err != nil {
		return nil, err
	}
	ops := t.Failure
	if which.Succeeded {
		ops = t.Success
	}
	resp := &pb.TxnResponse{Succeeded: which.Succeeded}
	for _, op := range ops {
		one, err := txn.Txn(n.store, &pb.TxnRequest{Success: []*pb.RequestOp{op}}, n.leases())
		if err != nil {
			return nil, err
		}
		resp.Responses = append(resp.Responses, one.Responses...)
	}
	return resp, nil
}

func txnHasPut(t *pb.TxnRequest) bool {
	for _, ops := range [][]*pb.RequestOp{t.Success, t.Failure} {
		for _, op := range ops {
			if op.GetRequestPut() != nil || (op.GetRequestTxn() != nil && txnHasPut(op.GetRequestTxn())) {
				return true
			}
		}
	}
	return false
}

// applyCompaction is etcd's Compact: the compacted revision moves at once
// (reads below it fail from here on) and is recorded as scheduled; the
// key bucket is then cleaned in batches beside the apply (runCompaction).
// The answer does not wait for the batches, even for a physical
// compaction (etcd's answers once they are done).
func (n *Node) applyCompaction(c *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	job, err := n.store.Compact(c.Revision)
	if err != nil {
		return nil, err
	}
	n.scheduleCompaction(job)
	return &pb.CompactionResponse{}, nil
}

// scheduleCompaction is etcd's: the scheduled revision is committed to
// the backend, then the job joins the FIFO scheduler, which runs one
// compaction at a time.
func (n *Node) scheduleCompaction(job *mvcc.Compaction) {
	n.failpointPanicOnly(mvcc.FailpointCompactBeforeCommitScheduledCompact)
	store := n.store
	n.forceCommit(func() {
		if n.store != store {
			return // a snapshot from the leader replaced the store meanwhile
		}
		n.failpointPanicOnly(mvcc.FailpointCompactAfterCommitScheduledCompact)
		n.compactions = append(n.compactions, job)
		if len(n.compactions) == 1 {
			n.compactBatch()
		}
	})
}

// compactBatch runs one batch of the first scheduled compaction, as
// etcd's scheduleCompaction loop does: remove up to the batch limit of
// revisions, commit, and go on once the commit is durable (etcd sleeps
// 10 ms between batches; here the fsync is the pause). The last batch
// records the compaction as finished, in the next ordinary commit. A
// crash between batches leaves a scheduled, unfinished compaction that a
// restart resumes (resumeCompaction).
func (n *Node) compactBatch() {
	job := n.compactions[0]
	n.failpointPanicOnly(mvcc.FailpointCompactAfterAcquiredBatchTxLock)
	if job.Step() {
		n.failpointPanicOnly(mvcc.FailpointCompactBeforeCommitBatch)
		store := n.store
		n.forceCommit(func() {
			if n.store != store {
				return
			}
			n.failpointPanicOnly(mvcc.FailpointCompactAfterCommitBatch)
			n.compactBatch()
		})
		return
	}
	n.failpointPanicOnly(mvcc.FailpointCompactBeforeSetFinishedCompact)
	job.Finish()
	n.failpointPanicOnly(mvcc.FailpointCompactAfterSetFinishedCompact)
	n.noteWrite(false)
	n.env.Logf("finished scheduled compaction: compact-revision=%d", job.Rev())
	n.compactions = n.compactions[1:]
	if len(n.compactions) > 0 {
		n.compactBatch()
	}
}

// autoCompaction runs the auto-compactor on the member's ticks (etcd's
// v3compactor runs on its own timers, on the leader only: Pause and
// Resume follow leadership: updateLeadership). A compaction it
// asks for goes through raft like a client's; its outcome, or the
// request timeout, is what the compactor hears back.
func (n *Node) autoCompaction() {
	ac := &n.autoCompact
	if n.compactor == nil {
		return
	}
	now := n.env.Now()
	if ac.id != 0 {
		if n.ticks > ac.deadline {
			n.env.Logf("failed auto compaction: revision=%d: %v", ac.rev, api.ErrTimeout)
			ac.id = 0
			n.compactor.Done(now, n.store.Rev(), api.ErrTimeout)
		}
		return
	}
	rev, ok := n.compactor.Tick(now, n.store.Rev())
	if !ok {
		return
	}
	n.env.Logf("starting auto compaction: revision=%d", rev)
	id, err := n.proposeInternal(&pb.InternalRaftRequest{Compaction: &pb.CompactionRequest{Revision: rev}})
	if err != nil {
		// Refused by raft at once, as etcd's s.Compact returns: the
		// compactor retries after its retry interval.
		n.env.Logf("failed auto compaction: revision=%d: %v", rev, err)
		n.compactor.Done(now, n.store.Rev(), err)
		return
	}
	ac.id, ac.rev, ac.deadline = id, rev, n.ticks+n.cfg.requestTicks()
}

// autoCompacted hears the outcome of the auto-compactor's request.
func (n *Node) autoCompacted(id uint64, err error) {
	ac := &n.autoCompact
	if ac.id == 0 || id != ac.id {
		return
	}
	ac.id = 0
	if err != nil {
		n.env.Logf("failed auto compaction: revision=%d: %v", ac.rev, err)
	} else {
		n.env.Logf("completed auto compaction: revision=%d", ac.rev)
	}
	n.compactor.Done(n.env.Now(), n.store.Rev(), err)
}
