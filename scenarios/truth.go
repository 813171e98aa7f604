package scenarios

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/node/api"
)

// recordTruth hands the watch and lease checkers what the member applied:
// every revision's events, which lease a revoke removed, and compactions.
// Every member reports; the checker keeps the first report of each
// revision and says if a later one differs.
func (c *Cluster) recordTruth(member uint64, r *pb.InternalRaftRequest, resp *api.Response, evs []*mvccpb.Event) {
	if c.truth == nil || resp.Err != nil {
		return
	}
	if r.Compaction != nil {
		c.truth.Compacted(r.Compaction.Revision)
	}
	if len(evs) == 0 {
		return
	}
	// One revision per apply, except under the txn-split bug.
	for i := 0; i < len(evs); {
		j := i
		for j < len(evs) && evs[j].Kv.ModRevision == evs[i].Kv.ModRevision {
			j++
		}
		c.truth.Add(checker.Applied{Member: member, At: c.sim.Now(), Rev: evs[i].Kv.ModRevision,
			Events: evs[i:j], Lease: r.GetLeaseRevoke().GetID()})
		i = j
	}
}
