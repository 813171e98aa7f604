package node

import (
	"errors"
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdlab/etcdlab/node/api"
)

// handleWrite proposes a put or delete. The reply comes when this member
// applies the entry (applyEntries), or when the request times out.
func (n *Node) handleWrite(from string, req *api.Request) {
	id := n.newProposalID()
	if size := uint64(len(encodeProposal(id, req))); size > n.cfg.MaxRequestBytes {
		// etcd's processInternalRaftRequestOnce refuses it before raft.
		n.reply(from, &api.Response{ID: req.ID, Err: api.ErrRequestTooLarge})
		return
	}
	n.track(id, from, req)
	n.held = append(n.held, id)
	n.proposeHeld()
}

// proposeHeld proposes the held writes, in arrival order, once raft knows
// a leader. Until then they wait, as in etcd: raft.Node's run loop stops
// taking proposals (propc = nil) while raft has no leader, so the
// server's Propose blocks until one appears or the request times out.
// Like raft.Node, this asks raft itself, not the leader of the last
// Ready, which lags while a Ready is stalled.
func (n *Node) proposeHeld() {
	if len(n.held) == 0 || n.rn.BasicStatus().Lead == raft.None {
		return
	}
	held := n.held
	n.held = nil
	for _, id := range held {
		r, ok := n.requests[id]
		if !ok {
			continue // it timed out while held
		}
		var err error
		if cc := confChange(id, r.req); cc != nil {
			err = n.rn.ProposeConfChange(cc)
		} else {
			n.env.Proposed(r.req.ID, id)
			err = n.rn.Propose(encodeProposal(id, r.req))
		}
		if err != nil {
			// With a leader known, raft drops a proposal while a leader
			// transfer is under way; the write definitely did not happen.
			if errors.Is(err, raft.ErrProposalDropped) {
				err = api.ErrProposalDropped
			}
			delete(n.requests, id)
			n.reply(r.from, &api.Response{ID: r.req.ID, Err: err})
		}
	}
}

func (n *Node) track(id uint64, from string, req *api.Request) {
	n.requests[id] = &request{from: from, req: req, deadline: n.ticks + n.cfg.requestTicks()}
	n.queue = append(n.queue, id)
}

// expireRequests answers ErrTimeout to requests past their deadline. A
// timed-out write may still be applied later: the client cannot know.
func (n *Node) expireRequests() {
	for len(n.queue) > 0 {
		id := n.queue[0]
		r, ok := n.requests[id]
		if ok && r.deadline > n.ticks {
			return
		}
		n.queue = n.queue[1:]
		if ok {
			delete(n.requests, id)
			err := api.ErrTimeout
			if r.req.MoveLeader != nil {
				err = api.ErrTimeoutLeaderTransfer
			}
			n.reply(r.from, &api.Response{ID: r.req.ID, Err: err})
		}
	}
}

// applyEntries applies committed entries to the store in log order and
// answers the writes this member proposed. A restarted member skips, for
// the store, the entries its backend's consistent index says it holds
// (etcd's applyEntryNormal); membership changes go to raft regardless.
func (n *Node) applyEntries(ents []*raftpb.Entry) stall {
	for i, e := range ents {
		if isConfChange(e) && !n.confFailpointPassed {
			// etcd's apply passes beforeApplyOneConfChange before each
			// membership change; a sleep there holds the apply, and here
			// the Ready, until Resume (applyRest carries on).
			if n.env.Failpoint(BeforeApplyOneConfChange) > 0 {
				n.toApply, n.confFailpointPassed = ents[i:], true
				return stalledAtFailpoint
			}
		}
		n.confFailpointPassed = false
		n.applyEntry(e)
	}
	n.toApply = nil
	if len(ents) > 0 {
		n.serveReads()
	}
	return notStalled
}

// applyRest applies what a failpoint's sleep before a membership change
// held back, and runs again if another one sleeps.
func (n *Node) applyRest(*raft.Ready) stall {
	if len(n.toApply) == 0 {
		return notStalled
	}
	st := n.applyEntries(n.toApply)
	if st != notStalled {
		n.next-- // this step again, for what is still held back
	}
	return st
}

func isConfChange(e *raftpb.Entry) bool {
	return e.GetType() == raftpb.EntryConfChange || e.GetType() == raftpb.EntryConfChangeV2
}

// applyEntry applies one committed entry.
func (n *Node) applyEntry(e *raftpb.Entry) {
	// The index, term and digest move before the entry is applied, as
	// etcd's SetConsistentApplyingIndex does: a backend commit the entry
	// itself forces (a delete, the batch limit) must record the index of
	// the state it holds.
	inBackend := e.GetIndex() <= n.backend.consistentIndex
	n.applied, n.snap.appliedTerm = e.GetIndex(), e.GetTerm()
	if !inBackend {
		n.digest = chainDigest(n.digest, e)
	}
	skipStore := inBackend && !n.cfg.Bugs.SkipConsistentIndex
	switch e.GetType() {
	case raftpb.EntryNormal:
		if !skipStore {
			n.applyNormal(e)
		}
	case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
		n.applyConfChange(e, inBackend)
		if !skipStore {
			n.noteWrite(false)
		}
	}
	if inBackend {
		// The digest the backend kept is already that of its consistent
		// index; the checkers saw these entries applied in the member's
		// past life.
		return
	}
	n.env.Applied(n.applied, n.digest)
	n.chainApplied()
}

// applyConfChange hands a committed membership change to raft, once the
// member has checked it (validateConfChange) against the membership its
// backend holds; inBackend: the backend holds it already, so only raft
// needs it again.
func (n *Node) applyConfChange(e *raftpb.Entry, inBackend bool) {
	var cc raftpb.ConfChangeI
	var err error
	if e.GetType() == raftpb.EntryConfChangeV2 {
		v2 := &raftpb.ConfChangeV2{}
		cc, err = v2, proto.Unmarshal(e.GetData(), v2)
	} else {
		v1 := &raftpb.ConfChange{}
		cc, err = v1, proto.Unmarshal(e.GetData(), v1)
	}
	if err != nil {
		panic(fmt.Sprintf("member %d: entry %d: bad conf change: %v", n.cfg.ID, e.GetIndex(), err))
	}
	v1, ok := cc.(*raftpb.ConfChange)
	if !ok {
		n.snap.confState = n.rn.ApplyConfChange(cc)
		return
	}
	var invalid error
	if !inBackend {
		invalid = n.validateConfChange(v1)
	}
	if invalid != nil {
		// etcd applies a refused change as a no-op (NodeID None), so raft
		// still learns the pending change is done.
		v1 = proto.CloneOf(v1)
		v1.NodeId = proto.Uint64(raft.None)
		n.env.Logf("refused membership change at index %d: %v", e.GetIndex(), invalid)
	}
	n.snap.confState = n.rn.ApplyConfChange(v1)
	n.confChanged(v1, invalid)
}

func (n *Node) applyNormal(e *raftpb.Entry) {
	if len(e.GetData()) == 0 {
		// A new leader's empty entry: once it applies it, the leader's
		// lessor starts the leases' clocks (etcd's applyEntryNormal).
		n.promoteLessor()
		return
	}
	r := &pb.InternalRaftRequest{}
	if err := proto.Unmarshal(e.GetData(), r); err != nil {
		// Every member decodes the same bytes the same way, so skipping
		// keeps them in agreement; it can only be a bug in the encoder.
		n.env.Logf("entry %d: %v", e.GetIndex(), err)
		return
	}
	id := r.GetHeader().GetID()
	resp, evs := n.apply(r)
	resp.SetHeader(n.header())
	n.env.AppliedWrite(r, resp, evs)
	n.autoCompacted(id, resp.Err)
	w, ok := n.requests[id]
	if !ok {
		return // proposed elsewhere, or already timed out here
	}
	delete(n.requests, id)
	// The client's copy: the one AppliedWrite was given stays as it was.
	out := *resp
	out.ID = w.req.ID
	n.env.Reply(w.from, &out)
}

// reply sends a response, with this member's header in it and in the
// response inside, as etcd's servers fill each response's header.
func (n *Node) reply(to string, resp *api.Response) {
	resp.SetHeader(n.header())
	n.env.Reply(to, resp)
}

// encodeProposal wraps a client's write in an InternalRaftRequest with the
// server's request ID in its header, the data of etcd's raft entries.
func encodeProposal(id uint64, req *api.Request) []byte {
	return mustMarshal(&pb.InternalRaftRequest{Header: &pb.RequestHeader{ID: id},
		Put: req.Put, DeleteRange: req.DeleteRange, Txn: req.Txn, Compaction: req.Compact,
		LeaseGrant: req.LeaseGrant, LeaseRevoke: req.LeaseRevoke, Alarm: req.Alarm})
}

func mustMarshal(r *pb.InternalRaftRequest) []byte {
	b, err := proto.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("proposal: %v", err)) // keys and values are bytes: it cannot fail
	}
	return b
}

// EntryFormatter returns how to describe the entries of a message of type
// t in traces: ReadIndex messages carry a read's context in their one
// entry, every other message carries proposals.
func EntryFormatter(t raftpb.MessageType) raft.EntryFormatter {
	if t == raftpb.MessageType_MsgReadIndex || t == raftpb.MessageType_MsgReadIndexResp {
		return func(b []byte) string { return fmt.Sprintf("read #%x", b) }
	}
	return FormatEntryData
}

// FormatEntryData describes a proposal for traces, in the
// raft.EntryFormatter shape: "put k1=c2-7", "delete k3".
func FormatEntryData(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	r := &pb.InternalRaftRequest{}
	if err := proto.Unmarshal(b, r); err != nil {
		return fmt.Sprintf("<%d bytes: %v>", len(b), err)
	}
	return DescribeRequest(&api.Request{Put: r.Put, DeleteRange: r.DeleteRange, Txn: r.Txn,
		Compact: r.Compaction, LeaseGrant: r.LeaseGrant, LeaseRevoke: r.LeaseRevoke, Alarm: r.Alarm})
}
