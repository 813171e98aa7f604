package scenarios

import (
	"fmt"
	"slices"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/node/api"
)

// Writes whose clients never learnt the outcome (a timeout, a connection
// reset) are open-ended in the history, and each one left open multiplies
// porcupine's search. A simulation knows what a real client cannot: which
// requests the members applied. As etcd's robustness tests patch their
// histories from the requests the cluster persisted, a run settles such
// writes from the applied log before the check:
//
//   - applied by a quorum of the initial cluster: the write took effect,
//     at the revision the members applied it at, by the time the first of
//     them applied it (which is after its commit, so a sound bound);
//   - applied by no member: it never took effect within the history;
//   - applied by some, but not a quorum (a bug switch may apply entries
//     that are later overwritten): it stays open.

// appliedWrite is a client write request as the members applied it.
type appliedWrite struct {
	first   time.Duration // when the first member applied it
	resp    *api.Response // what it answered there
	members []uint64
}

// openWrite is a write that finished with an unknown outcome: its place
// in the history, and the request IDs of all its attempts.
type openWrite struct {
	op       int
	attempts []uint64
}

// Resolved counts what the applied log settled.
type Resolved struct {
	TookEffect, NeverApplied, Open int
}

func (r Resolved) String() string {
	return fmt.Sprintf("%d unknown writes settled from the applied log: %d took effect, %d never applied, %d left open",
		r.TookEffect+r.NeverApplied+r.Open, r.TookEffect, r.NeverApplied, r.Open)
}

// Proposed: the member proposed a client's request as the raft entry
// with request ID id. IDs are unique across members (node.firstRequestID).
func (e memberEnv) Proposed(reqID, id uint64) { e.m.c.proposals[id] = reqID }

// AppliedWrite: the member applied a raft entry's request.
func (e memberEnv) AppliedWrite(r *pb.InternalRaftRequest, resp *api.Response, evs []*mvccpb.Event) {
	c := e.m.c
	c.recordTruth(e.m.id, r, resp, evs)
	reqID, ok := c.proposals[r.GetHeader().GetID()]
	if !ok {
		return // not a client's (an admin's), or proposed before the run recorded it
	}
	if !c.unsettled[reqID] {
		// The client has its answer: nothing is left to settle, and the
		// members that apply the entry later need no mapping either.
		delete(c.proposals, r.GetHeader().GetID())
		return
	}
	w, ok := c.appliedWrites[reqID]
	if !ok {
		w = &appliedWrite{first: c.sim.Now(), resp: resp}
		c.appliedWrites[reqID] = w
	}
	if !slices.Contains(w.members, e.m.id) {
		w.members = append(w.members, e.m.id)
	}
}

// tookEffect says whether an applied request changed what it asked to:
// it succeeded, or etcd's quota applier made the write and still
// answered NOSPACE.
func tookEffect(resp *api.Response) bool {
	if resp.Err == api.ErrNoSpace {
		return resp.Put != nil || resp.Txn != nil
	}
	return resp.Err == nil
}

// settledHistory is the history for the checker: a copy of the clients'
// history (which the run reports as the clients saw it) with the open
// writes settled.
func (c *Cluster) settledHistory() ([]checker.Operation, Resolved) {
	var r Resolved
	history := slices.Clone(c.history)
	quorum := c.settings.Nodes/2 + 1
	for _, ow := range c.openWrites {
		op := &history[ow.op]
		var took *appliedWrite
		anywhere := false
		for _, id := range ow.attempts {
			w, ok := c.appliedWrites[id]
			if !ok {
				continue
			}
			anywhere = true
			if len(w.members) >= quorum && (took == nil || w.first < took.first) {
				took = w
			}
		}
		switch {
		case took != nil && !tookEffect(took.resp):
			// Applied, and refused by the apply (a compacted revision, no
			// space): it definitely did nothing.
			op.Outcome = checker.Failed
			r.NeverApplied++
		case took != nil:
			op.Outcome, op.Return, op.Rev = checker.OK, max(took.first, op.Call), took.resp.Header.GetRevision()
			switch {
			case took.resp.DeleteRange != nil:
				op.Found = took.resp.DeleteRange.Deleted > 0
			case took.resp.Txn != nil:
				op.Found = took.resp.Txn.Succeeded
			}
			r.TookEffect++
		case !anywhere:
			op.Outcome = checker.Failed
			r.NeverApplied++
		default:
			r.Open++
		}
	}
	return history, r
}
