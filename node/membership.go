package node

import (
	"cmp"
	"slices"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdlab/etcdlab/node/api"
)

// Membership, as etcd's server changes it (server/etcdserver/server.go:
// AddMember, PromoteMember, RemoveMember, MoveLeader): a change is checked
// against the cluster's health first (--strict-reconfig-check), then
// proposed as a raft ConfChange (etcd still uses raft's v1 ConfChange,
// which raft turns into a ConfChangeV2), and answered once applied. A new
// member joins as a learner and is promoted once it has caught up; a
// member that applies its own removal stops.

// maxLearners is how many learners etcd allows at once.
const maxLearners = 1

// readyPercent is how close a learner's log must be to the leader's
// before it may be promoted (etcd's readyPercentThreshold).
const readyPercent = 0.9

// Join starts a member that MemberAdd has added to a running cluster, on
// an empty data directory (etcd's --initial-cluster-state existing): it
// bootstraps nothing and waits for the leader to send it the log, or a
// snapshot of it.
func Join(cfg Config, env Env) (*Node, error) {
	n, err := newNode(cfg, env, raft.NewMemoryStorage(), database{})
	if err != nil {
		return nil, err
	}
	n.bootstrap()
	env.Logf("joining the existing cluster %v", cfg.Peers)
	n.process()
	return n, nil
}

// membership lists the members as raft's configuration has them now.
func (n *Node) membership() []api.Member {
	cfg := n.rn.Status().Config
	var out []api.Member
	for id := range cfg.Voters.IDs() { //lint:allow maprange sorted below
		out = append(out, api.Member{ID: id})
	}
	for id := range cfg.Learners { //lint:allow maprange sorted below
		out = append(out, api.Member{ID: id, IsLearner: true})
	}
	slices.SortFunc(out, func(a, b api.Member) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func (n *Node) memberOf(id uint64) (api.Member, bool) {
	for _, m := range n.membership() {
		if m.ID == id {
			return m, true
		}
	}
	return api.Member{}, false
}

// activeVoters counts the voters this member reaches now, itself
// included, as etcd counts the peers its transport has been connected to
// (numConnectedSince; etcd also asks that they have been for 5s).
func (n *Node) activeVoters(except uint64) int {
	active := 0
	for _, m := range n.membership() {
		if !m.IsLearner && m.ID != except && (m.ID == n.cfg.ID || n.env.PeerActive(m.ID)) {
			active++
		}
	}
	return active
}

func (n *Node) voters() int {
	v := 0
	for _, m := range n.membership() {
		if !m.IsLearner {
			v++
		}
	}
	return v
}

func (n *Node) learners() int {
	l := 0
	for _, m := range n.membership() {
		if m.IsLearner {
			l++
		}
	}
	return l
}

func quorum(voters int) int { return voters/2 + 1 }

// handleMembership serves the Cluster service and MoveLeader.
func (n *Node) handleMembership(from string, req *api.Request) {
	var err error
	switch {
	case req.MemberList != nil:
		n.reply(from, &api.Response{ID: req.ID, Members: &api.MemberResponse{Members: n.membership()}})
		return
	case req.MemberAdd != nil:
		err = n.mayAddMember(req.MemberAdd)
	case req.MemberPromote != nil:
		err = n.mayPromoteMember(req.MemberPromote.ID)
	case req.MemberRemove != nil:
		err = n.mayRemoveMember(req.MemberRemove.ID)
	case req.MoveLeader != nil:
		err = n.moveLeader(from, req)
		if err == nil {
			return // answered once the target leads
		}
	}
	if err != nil {
		n.reply(from, &api.Response{ID: req.ID, Err: err})
		return
	}
	n.handleWrite(from, req) // proposed as a ConfChange: see proposeHeld
}

// mayAddMember is AddMember's checks: the ID must be new, one learner at
// most, and with --strict-reconfig-check a member may be added only if the
// voters this one reaches would still be a quorum with the new member
// counted as down. (The checks that matter are made again where the
// change is applied: see validateConfChange.)
func (n *Node) mayAddMember(r *api.MemberAddRequest) error {
	if _, ok := n.memberOf(r.ID); ok {
		return api.ErrIDExists
	}
	if n.removed[r.ID] {
		return api.ErrIDRemoved
	}
	if r.IsLearner && n.learners() >= maxLearners {
		return api.ErrTooManyLearners
	}
	// isConnectedToQuorumAfterAddingNewMemberSince, for learners too: the
	// new member counts as down.
	if n.cfg.StrictReconfigCheck && n.voters() > 1 && n.activeVoters(0) < quorum(n.voters()+1) {
		n.env.Logf("rejecting member add request; local member has not been connected to majority peers, reconfigure breaks active quorum")
		return api.ErrUnhealthy
	}
	return nil
}

// mayPromoteMember is PromoteMember's checks, which only the leader can
// make: it alone knows how far the learner's log is. (etcd forwards the
// request to the leader; here the member answers ErrNotLeader and the
// client tries the next endpoint.)
func (n *Node) mayPromoteMember(id uint64) error {
	st := n.rn.Status()
	if st.RaftState != raft.StateLeader {
		return api.ErrNotLeader
	}
	m, ok := n.memberOf(id)
	switch {
	case !ok:
		return api.ErrIDNotFound
	case !m.IsLearner:
		return api.ErrMemberNotLearner
	}
	if leader := st.Progress[n.cfg.ID].Match; float64(st.Progress[id].Match) < readyPercent*float64(leader) {
		n.env.Logf("rejecting promote learner: learner is not ready: learner-match=%d leader-match=%d", st.Progress[id].Match, leader)
		return api.ErrLearnerNotReady
	}
	if n.cfg.StrictReconfigCheck {
		// IsReadyToPromoteMember counts the learner as started.
		if n.activeVoters(0)+1 < quorum(n.voters()+1) {
			return api.ErrNotEnoughStartedMembers
		}
	}
	return nil
}

// mayRemoveMember is RemoveMember's checks: with --strict-reconfig-check,
// removing a voter that is up must leave a quorum of the voters left up.
func (n *Node) mayRemoveMember(id uint64) error {
	m, ok := n.memberOf(id)
	if !ok {
		return api.ErrIDNotFound
	}
	if !n.cfg.StrictReconfigCheck || m.IsLearner {
		return nil
	}
	if id != n.cfg.ID && !n.env.PeerActive(id) {
		return nil // a member that is down is safe to remove
	}
	if n.activeVoters(id) < quorum(n.voters()-1) {
		n.env.Logf("rejecting member remove request; local member has not been connected to all peers, reconfigure breaks active quorum")
		return api.ErrUnhealthy
	}
	return nil
}

// confChange is the raft ConfChange a membership request proposes, with
// the server's proposal ID, by which the apply finds the waiting request.
func confChange(id uint64, req *api.Request) *raftpb.ConfChange {
	cc := &raftpb.ConfChange{Id: proto.Uint64(id)}
	switch {
	case req.MemberAdd != nil && req.MemberAdd.IsLearner:
		cc.Type, cc.NodeId = raftpb.ConfChangeType_ConfChangeAddLearnerNode.Enum(), proto.Uint64(req.MemberAdd.ID)
	case req.MemberAdd != nil:
		cc.Type, cc.NodeId = raftpb.ConfChangeType_ConfChangeAddNode.Enum(), proto.Uint64(req.MemberAdd.ID)
	case req.MemberPromote != nil:
		cc.Type, cc.NodeId = raftpb.ConfChangeType_ConfChangeAddNode.Enum(), proto.Uint64(req.MemberPromote.ID)
		cc.Context = []byte(promoteContext)
	case req.MemberRemove != nil:
		cc.Type, cc.NodeId = raftpb.ConfChangeType_ConfChangeRemoveNode.Enum(), proto.Uint64(req.MemberRemove.ID)
	default:
		return nil
	}
	return cc
}

// promoteContext marks a ConfChange that promotes a learner, as etcd's
// ConfigChangeContext.IsPromote does: raft sees an AddNode either way.
const promoteContext = "promote"

// validateConfChange is etcd's RaftCluster.ValidateConfigurationChange,
// run by every member as it applies a change, against the membership and
// the removed members as of that point in the log: so two requests that
// each passed their member's checks cannot both add a learner, nor can a
// removed ID come back.
func (n *Node) validateConfChange(cc *raftpb.ConfChange) error {
	id := cc.GetNodeId()
	if n.removed[id] {
		return api.ErrIDRemoved
	}
	cs := n.snap.confState
	learner := slices.Contains(cs.GetLearners(), id)
	exists := learner || slices.Contains(cs.GetVoters(), id)
	switch cc.GetType() {
	case raftpb.ConfChangeType_ConfChangeAddNode, raftpb.ConfChangeType_ConfChangeAddLearnerNode:
		learners := len(cs.GetLearners())
		switch {
		case string(cc.GetContext()) == promoteContext && !exists:
			return api.ErrIDNotFound
		case string(cc.GetContext()) == promoteContext && !learner:
			return api.ErrMemberNotLearner
		case string(cc.GetContext()) != promoteContext && exists:
			return api.ErrIDExists
		case cc.GetType() == raftpb.ConfChangeType_ConfChangeAddLearnerNode && learners >= maxLearners:
			return api.ErrTooManyLearners
		}
	case raftpb.ConfChangeType_ConfChangeRemoveNode:
		if !exists {
			return api.ErrIDNotFound
		}
	}
	return nil
}

// confChanged answers the request that proposed a membership change once
// it is applied (err: it was refused there, and applied as a no-op), and
// stops this member if the change removed it: etcd stops the server a
// second later, so the answer can still go out.
func (n *Node) confChanged(cc *raftpb.ConfChange, err error) {
	if err == nil && cc.GetType() == raftpb.ConfChangeType_ConfChangeRemoveNode {
		n.removed[cc.GetNodeId()] = true
		if cc.GetNodeId() == n.cfg.ID {
			n.env.Logf("the member has been permanently removed from the cluster")
			n.env.Removed()
		}
	}
	r, ok := n.requests[cc.GetId()]
	if !ok {
		return
	}
	delete(n.requests, cc.GetId())
	if err != nil {
		n.reply(r.from, &api.Response{ID: r.req.ID, Err: err})
		return
	}
	mr := &api.MemberResponse{Members: n.membership()}
	if r.req.MemberAdd != nil {
		mr.Member = &api.Member{ID: r.req.MemberAdd.ID, IsLearner: r.req.MemberAdd.IsLearner}
	}
	n.confReplies = append(n.confReplies, reply{r.from, &api.Response{ID: r.req.ID, Header: n.header(), Members: mr}})
}

// removedIDs lists the removed members, for the backend's meta bucket.
func (n *Node) removedIDs() []uint64 {
	var ids []uint64
	for id := range n.removed { //lint:allow maprange sorted below
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// moveLeader hands leadership to the target (EtcdServer.MoveLeader): only
// the leader may, and only to a voter. The request is answered when the
// target leads (checkLeaderTransfer), or with ErrTimeoutLeaderTransfer.
func (n *Node) moveLeader(from string, req *api.Request) error {
	if n.rn.Status().RaftState != raft.StateLeader {
		return api.ErrNotLeader
	}
	m, ok := n.memberOf(req.MoveLeader.TargetID)
	if !ok || m.IsLearner {
		return api.ErrBadLeaderTransferee
	}
	n.env.Logf("leadership transfer starting: transferee-member-id=%x", m.ID)
	n.rn.TransferLeader(m.ID)
	id := n.newProposalID()
	n.track(id, from, req)
	n.transfers = append(n.transfers, id)
	return nil
}

// checkLeaderTransfers answers the MoveLeader requests whose target now
// leads, as etcd's MoveLeader polls every tick.
func (n *Node) checkLeaderTransfers() {
	if len(n.transfers) == 0 {
		return
	}
	lead := n.rn.BasicStatus().Lead
	waiting := n.transfers[:0]
	for _, id := range n.transfers {
		r, ok := n.requests[id]
		switch {
		case !ok:
		case lead == r.req.MoveLeader.TargetID:
			delete(n.requests, id)
			n.env.Logf("leadership transfer finished: new-leader-member-id=%x", lead)
			n.reply(r.from, &api.Response{ID: r.req.ID, Members: &api.MemberResponse{}})
		default:
			waiting = append(waiting, id)
		}
	}
	n.transfers = waiting
}
