package node

import (
	"fmt"
	"slices"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3"

	"github.com/etcdlab/etcdlab/node/api"
	"github.com/etcdlab/etcdlab/node/backend"
)

// The Maintenance service (Status, HashKV, Defragment, Alarm) and the
// backend quota.
//
// The backend's size is what bbolt's file size would be: it grows with
// the store, and shrinks only when Defragment rewrites the file; freed
// pages (after a compaction) are reused but not given back. etcd's quota
// compares that size with --quota-backend-bytes; when a write would pass
// it, the member raises the cluster-wide NOSPACE alarm through raft and
// refuses the write. While NOSPACE is raised every member refuses writes
// that grow the store (puts, txns with puts, lease grants) but serves
// reads, deletes and compactions. An operator then compacts, defragments
// and disarms the alarm, as etcd's documentation says.

// Version is the etcd version the node's API and behaviour follow, the
// one Status reports.
const Version = "3.7.3"

// etcd's quota costs (server/storage/quota.go).
const (
	kvOverhead    = 256
	leaseOverhead = 64
	// DefaultQuotaBackendBytes is etcd's default quota, 2 GiB.
	DefaultQuotaBackendBytes = 2 << 30
)

// dbSize is the backend file's size: the high-water mark of its image
// since the last defragmentation.
func (n *Node) dbSize() int64 { return max(n.backend.size, n.backend.inUse) }

// quotaCost is what a request would add to the backend, 0 for requests
// the quota does not limit (etcd's BackendQuota.Cost).
func quotaCost(req *api.Request) int {
	switch {
	case req.Put != nil:
		return kvOverhead + len(req.Put.Key) + len(req.Put.Value)
	case req.Txn != nil:
		return txnCost(req.Txn)
	case req.LeaseGrant != nil:
		return leaseOverhead
	}
	return 0
}

func txnCost(t *pb.TxnRequest) int {
	branch := func(ops []*pb.RequestOp) int {
		c := 0
		for _, op := range ops {
			if p := op.GetRequestPut(); p != nil {
				c += kvOverhead + len(p.Key) + len(p.Value)
			} else if nt := op.GetRequestTxn(); nt != nil {
				c += txnCost(nt)
			}
		}
		return c
	}
	return max(branch(t.Success), branch(t.Failure))
}

// underQuota is etcd's BackendQuota.Available: the request's cost fits
// in what the backend may still grow.
func (n *Node) underQuota(req *api.Request) bool {
	cost := quotaCost(req)
	quota := n.cfg.QuotaBackendBytes
	if quota == 0 {
		quota = DefaultQuotaBackendBytes
	}
	return cost == 0 || n.dbSize()+int64(cost) < quota
}

// quotaAvailable is etcd's quota interceptor on arrival: a write that
// would pass the quota raises NOSPACE (through raft) and is refused.
func (n *Node) quotaAvailable(req *api.Request) bool {
	if n.underQuota(req) {
		return true
	}
	_, _ = n.proposeInternal(&pb.InternalRaftRequest{Alarm: &pb.AlarmRequest{
		Action: pb.AlarmRequest_ACTIVATE, MemberID: n.cfg.ID, Alarm: pb.AlarmType_NOSPACE}})
	return false
}

// capped is the capped applier's refusal while NOSPACE is raised.
func (n *Node) capped() error {
	if n.alarmed(pb.AlarmType_NOSPACE) {
		return api.ErrNoSpace
	}
	return nil
}

func (n *Node) alarmed(t pb.AlarmType) bool {
	return slices.ContainsFunc(n.alarms, func(a backend.Alarm) bool { return a.Alarm == int32(t) })
}

// applyAlarm raises or clears an alarm on every member, as etcd's
// applier does (applierV3backend.Alarm), and answers with the alarm it
// raised or cleared; the alarm bucket goes to the backend with the next
// commit. A clear names one member's alarm: etcd's server has no
// wildcard, clientv3's AlarmDisarm of an empty member lists the alarms
// and clears each.
func (n *Node) applyAlarm(r *pb.AlarmRequest) *pb.AlarmResponse {
	a := backend.Alarm{MemberID: r.MemberID, Alarm: int32(r.Alarm)}
	resp := &pb.AlarmResponse{}
	switch r.Action {
	case pb.AlarmRequest_ACTIVATE:
		if r.Alarm == pb.AlarmType_NONE {
			break
		}
		if !slices.Contains(n.alarms, a) {
			n.alarms = append(n.alarms, a)
			n.env.Logf("alarm raised: member %x %s", r.MemberID, r.Alarm)
		}
		resp.Alarms = []*pb.AlarmMember{{MemberID: r.MemberID, Alarm: r.Alarm}}
	case pb.AlarmRequest_DEACTIVATE:
		if i := slices.Index(n.alarms, a); i >= 0 {
			n.alarms = slices.Delete(n.alarms, i, i+1)
			n.env.Logf("alarm cleared: member %x %s", r.MemberID, r.Alarm)
			resp.Alarms = []*pb.AlarmMember{{MemberID: r.MemberID, Alarm: r.Alarm}}
		}
	default:
		return n.alarmList(r.Alarm)
	}
	return resp
}

// alarmList lists the raised alarms of type t, all of them for NONE (etcd's
// AlarmStore.Get).
func (n *Node) alarmList(t pb.AlarmType) *pb.AlarmResponse {
	resp := &pb.AlarmResponse{}
	for _, a := range n.alarms {
		if t == pb.AlarmType_NONE || pb.AlarmType(a.Alarm) == t {
			resp.Alarms = append(resp.Alarms, &pb.AlarmMember{MemberID: a.MemberID, Alarm: pb.AlarmType(a.Alarm)})
		}
	}
	return resp
}

// handleMaintenance serves Status, HashKV, Defragment and the alarm list
// from this member alone; raising or clearing an alarm goes through raft.
func (n *Node) handleMaintenance(from string, req *api.Request) {
	resp := &api.Response{ID: req.ID}
	switch {
	case req.Status != nil:
		resp.Status = n.status()
	case req.HashKV != nil:
		h, rev, err := n.store.HashByRev(req.HashKV.Revision)
		resp.Err = applyError(err)
		if err == nil {
			resp.HashKV = &pb.HashKVResponse{Hash: h.Hash, CompactRevision: h.CompactRevision, HashRevision: h.Revision}
			_ = rev // the header carries the current revision
		}
	case req.Defragment != nil:
		n.defragment(func() {
			resp.Defragment = &pb.DefragmentResponse{}
			n.reply(from, resp)
		})
		return
	case req.Alarm.Action == pb.AlarmRequest_GET:
		resp.Alarm = n.alarmList(req.Alarm.Alarm)
	default:
		n.handleWrite(from, req)
		return
	}
	n.reply(from, resp)
}

// status is etcd's maintenanceServer.Status: RaftIndex is the committed
// index, the quota the one in force, and Errors names a missing leader
// and every raised alarm.
func (n *Node) status() *pb.StatusResponse {
	st := n.rn.BasicStatus()
	quota := n.cfg.QuotaBackendBytes
	if quota == 0 {
		quota = DefaultQuotaBackendBytes
	}
	resp := &pb.StatusResponse{Version: Version, DbSize: n.dbSize(), DbSizeInUse: n.backend.inUse,
		Leader: st.Lead, RaftIndex: st.GetCommit(), RaftTerm: st.GetTerm(), RaftAppliedIndex: n.applied,
		IsLearner: n.isLearner(), DbSizeQuota: quota, StorageVersion: "3.6.0",
		DowngradeInfo: &pb.DowngradeInfo{}}
	if st.Lead == raft.None {
		resp.Errors = append(resp.Errors, api.ErrNoLeader.Error())
	}
	for _, a := range n.alarmList(pb.AlarmType_NONE).Alarms {
		// etcd appends a.String(), protobuf's text format; protobuf-go
		// varies its spacing from build to build, so the text is written
		// out here the way it prints it.
		resp.Errors = append(resp.Errors, fmt.Sprintf("memberID:%d alarm:%s", a.MemberID, a.Alarm))
	}
	return resp
}

// defragment rewrites the backend file compactly: its size falls to what
// is in use. etcd's defrag copies every bucket into a new file and renames
// it over the old one, with failpoints before each step.
func (n *Node) defragment(done func()) {
	// etcd's defrag commits the batch first, so the copy holds every
	// write (and a compaction's removals) up to now.
	n.forceCommit(func() {
		n.failpointPanicOnly(DefragBeforeCopy)
		n.failpointPanicOnly(DefragBeforeRename)
		n.backend.size = n.backend.inUse
		n.env.Logf("finished defragmenting: db size %d bytes", n.backend.size)
		done()
	})
}
