package node

import (
	"encoding/binary"
	"time"

	"go.etcd.io/raft/v3"

	"github.com/etcdlab/etcdlab/node/api"
	"github.com/etcdlab/etcdlab/node/txn"
)

// Linearizable reads, the way etcd's linearizableReadLoop serves them: a
// read first learns the leader's commit index with raft's ReadIndex (the
// leader confirms it still leads with a heartbeat round to a quorum), then
// waits until this member has applied that far. Whatever completed before
// the read began is then visible.
//
// Reads are batched: one ReadIndex round serves every read that arrived
// before it was asked; reads arriving meanwhile wait for the next round.
// Without batching, every read costs the leader a heartbeat to each peer.

// readIndexRetry is how long a round waits for its answer before asking
// again, as etcd's read loop does (readIndexRetryTime): raft silently drops
// a ReadIndex that reaches a member knowing no leader.
const readIndexRetry = 500 * time.Millisecond

// handleRead serves a Range or a Txn that only reads. Serializable reads
// come from the local store at once and may be stale.
func (n *Node) handleRead(from string, req *api.Request) {
	serializable := req.Range.GetSerializable() || (req.Txn != nil && txn.IsTxnSerializable(req.Txn))
	if serializable || n.cfg.Bugs.StaleReads {
		n.reply(from, n.read(req))
		return
	}
	n.trackRead(from, req)
}

// trackRead queues a request behind the next ReadIndex round.
func (n *Node) trackRead(from string, req *api.Request) {
	id := n.newProposalID()
	n.track(id, from, req)
	n.reads = append(n.reads, id)
	n.startReadRound()
}

// startReadRound asks ReadIndex for the reads not yet in a round, unless a
// round is in flight.
func (n *Node) startReadRound() {
	if n.readRound != 0 {
		return
	}
	round := uint64(0)
	for _, id := range n.reads {
		if r, ok := n.requests[id]; ok && r.batch == 0 {
			if round == 0 {
				round = n.newProposalID()
			}
			r.batch = round
		}
	}
	if round != 0 {
		n.readRound = round
		n.askReadIndex()
	}
}

func (n *Node) askReadIndex() {
	n.readAsked = n.ticks
	n.rn.ReadIndex(binary.BigEndian.AppendUint64(nil, n.readRound))
}

// retryReadIndex asks again when the round in flight went unanswered.
func (n *Node) retryReadIndex() {
	retry := max(uint64(readIndexRetry/n.cfg.HeartbeatInterval), 1)
	if n.readRound != 0 && n.ticks-n.readAsked >= retry {
		n.askReadIndex()
	}
}

// receiveReadStates hands a round's index to its reads and starts the next
// round for the reads that arrived meanwhile.
func (n *Node) receiveReadStates(states []raft.ReadState) {
	for _, rs := range states {
		if len(rs.RequestCtx) != 8 || binary.BigEndian.Uint64(rs.RequestCtx) != n.readRound {
			continue // an answer to a retry of a round already answered
		}
		for _, id := range n.reads {
			if r, ok := n.requests[id]; ok && r.batch == n.readRound {
				r.readIndex = rs.Index
			}
		}
		n.readRound = 0
		n.startReadRound()
	}
}

// failReadRound answers ErrLeaderChanged to the reads of the round in
// flight and starts a round for the reads that arrived after it. etcd's
// read loop does the same when its leaderChangedNotifier fires
// (server/etcdserver/read/read.go, requestCurrentIndex): the old leader
// may never answer, and an answer from it could no longer be trusted to
// be current. Reads that already have their index keep waiting for it to
// be applied: the index was confirmed while that leader still led.
func (n *Node) failReadRound() {
	if n.readRound == 0 {
		return
	}
	for _, id := range n.reads {
		if r, ok := n.requests[id]; ok && r.batch == n.readRound {
			delete(n.requests, id)
			n.reply(r.from, &api.Response{ID: r.req.ID, Err: api.ErrLeaderChanged})
		}
	}
	n.readRound = 0
	n.startReadRound()
}

// serveReads answers the reads whose round's index this member has
// applied, and forgets the ones that timed out.
func (n *Node) serveReads() {
	waiting := n.reads[:0]
	for _, id := range n.reads {
		r, ok := n.requests[id]
		switch {
		case !ok:
		case r.readIndex == 0 || r.readIndex > n.applied:
			waiting = append(waiting, id)
		case r.req.LeaseKeepAlive != nil:
			// Leadership confirmed by a quorum: renew (ensureLeadership).
			delete(n.requests, id)
			n.renew(r.from, r.req)
		default:
			delete(n.requests, id)
			n.reply(r.from, n.read(r.req))
		}
	}
	n.reads = waiting
}

// read serves a read (a Range, or a Txn that only reads) from the local
// store.
func (n *Node) read(req *api.Request) *api.Response {
	resp := &api.Response{ID: req.ID}
	var err error
	if req.Range != nil {
		rv := n.store.Read()
		resp.Range, err = txn.Range(rv, req.Range)
		rv.End()
	} else {
		resp.Txn, err = txn.Txn(n.store, req.Txn, n.leases())
	}
	resp.Err = applyError(err)
	return resp
}
