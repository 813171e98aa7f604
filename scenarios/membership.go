package scenarios

import (
	"fmt"
	"slices"
	"time"

	"github.com/etcdlab/etcdlab/disk"
	"github.com/etcdlab/etcdlab/network"
	"github.com/etcdlab/etcdlab/node"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdlab/etcdlab/node/api"
)

// Membership in the simulation: an operator (the admin, etcdctl in
// effect) asks the cluster to add, promote or remove a member, or to move
// its leader; a member added is started on an empty disk and joins; a
// member that applied its own removal stops. Clients follow the voting
// members, as clientv3 does with its endpoint auto-sync.

// maxMembers bounds how many members a run may ever have.
const maxMembers = 7

// PeerActive: the member's streams to the peer are up both ways.
func (e memberEnv) PeerActive(id uint64) bool {
	c := e.m.c
	if id == 0 || int(id) > len(c.members) {
		return false
	}
	p := c.member(id)
	return c.net.Reachable(e.m.addr, p.addr) && c.net.Reachable(p.addr, e.m.addr)
}

// Removed: etcd stops a removed member a second later
// (stopWithDelay), so its answer to the removal can still go out.
func (e memberEnv) Removed() {
	m := e.m
	epoch := m.epoch
	m.c.sim.After(time.Second, func() {
		if m.epoch != epoch || m.removed {
			return
		}
		m.c.sim.Logf(string(m.addr), "stopped: the member has been permanently removed from the cluster")
		m.removed = true
		m.stop()
	})
}

// RejectRemoved: rafthttp answers a removed member's stream with 410
// Gone.
func (e memberEnv) RejectRemoved(from uint64) {
	e.m.c.net.Send(e.m.addr, nodeAddr(from), func() string { return "410 Gone: the member was removed" }, []byte{wireGone})
}

// gone is a peer saying this member was removed: etcd's transport reports
// errMemberRemoved and the server stops.
func (m *member) gone(from network.Addr) {
	if !m.up || m.removed {
		return
	}
	m.c.sim.Logf(string(m.addr), "stopped: %s says the member has been permanently removed from the cluster", from)
	m.removed = true
	m.stop()
}

// addMember makes the process for a member the cluster just added, with
// an empty disk, and starts it joining.
func (c *Cluster) addMember(id uint64) error {
	if int(id) <= len(c.members) {
		return nil // two operators' adds of one ID: the process exists
	}
	peers := []uint64{}
	for _, m := range c.members {
		if !m.removed {
			peers = append(peers, m.id)
		}
	}
	peers = append(peers, id)
	m := c.newMember(id, peers)
	c.members = append(c.members, m)
	return m.start(startJoin)
}

// learnEndpoint adds a member that now votes to every client's list:
// clientv3's endpoint sync leaves learners out.
func (c *Cluster) learnEndpoint(addr network.Addr) {
	for _, cl := range c.clients {
		if cl.endpoint(addr) == nil {
			cl.endpoints = append(cl.endpoints, &endpoint{addr: addr})
		}
	}
}

// newMember is a member's process and disk, before it starts. Its random
// streams are named after it, so adding a member draws nothing from the
// streams of the others.
func (c *Cluster) newMember(id uint64, peers []uint64) *member {
	s := c.sim
	m := &member{c: c, id: id, addr: nodeAddr(id), rate: 1}
	m.cfg = c.settings.Member
	m.cfg.ID, m.cfg.Peers = id, peers
	if int(id) > c.settings.Nodes {
		m.cfg.InitialClusterState = node.ClusterStateExisting
		// The initial cluster is members 1..Nodes; etcd's joining member
		// learns the cluster ID from them.
		initial := make([]uint64, c.settings.Nodes)
		for i := range initial {
			initial[i] = uint64(i + 1)
		}
		m.cfg.ClusterID = node.ClusterID(initial)
	}
	m.disk = disk.New(s, s.Rand(fmt.Sprintf("disk/%d", id)), c.settings.Disk)
	m.tickOffset = time.Duration(s.Rand(fmt.Sprintf("clock/%d", id)).Int64N(int64(m.cfg.HeartbeatInterval)))
	m.raftRand = s.Reader(fmt.Sprintf("raft/%d", id))
	return m
}

// forgetEndpoint takes a removed member out of every client's list.
func (c *Cluster) forgetEndpoint(addr network.Addr) {
	for _, cl := range c.clients {
		i := slices.IndexFunc(cl.endpoints, func(e *endpoint) bool { return e.addr == addr })
		if i >= 0 && len(cl.endpoints) > 1 {
			cl.endpoints = slices.Delete(cl.endpoints, i, i+1)
			cl.next %= len(cl.endpoints)
		}
	}
}

// learners lists the members that are up and are learners.
func (c *Cluster) learners() []uint64 {
	var ids []uint64
	for _, m := range c.members {
		if m.up && m.node.Status().Learner {
			ids = append(ids, m.id)
		}
	}
	return ids
}

// The admin: one Cluster or Maintenance request at a time, sent to the
// members in turn, as etcdctl does. An attempt that is refused, gets no
// answer in etcdctl's --command-timeout, or is answered with an error
// that means "not here, not yet" (ErrNotLeader, ErrLearnerNotReady,
// ErrUnhealthy, a timeout) is tried again 500ms later on the next
// member, until the fault's window ends; the operator's script keeps
// trying like that.
type admin struct {
	c    *Cluster
	addr network.Addr
	seq  uint64
	ops  map[uint64]*adminOp // by request ID
	next int
}

type adminOp struct {
	f        *firing
	req      *api.Request
	member   uint64 // the member to ask, 0 for any
	step     bool   // one step of several: its success is not the fault's being done
	to       network.Addr
	attempts int
	done     func(*api.Response) // on success
}

const (
	adminRetry   = 500 * time.Millisecond
	adminTimeout = 5 * time.Second // etcdctl's --command-timeout
)

func (c *Cluster) admin() *admin {
	if c.adm == nil {
		c.adm = &admin{c: c, addr: "admin", ops: map[uint64]*adminOp{}}
		c.net.Attach(c.adm.addr, c.adm.receive)
		c.net.OnRefused(c.adm.addr, func(to network.Addr, payload []byte) {
			if req, err := api.UnmarshalRequest(payload[1:]); err == nil {
				c.adm.failed(req.ID, "connection refused")
			}
		})
	}
	return c.adm
}

// do sends req for fault f; done runs on success.
func (a *admin) do(f *firing, req *api.Request, done func(*api.Response)) {
	op := &adminOp{f: f, req: req, done: done}
	a.attempt(op)
}

func (a *admin) attempt(op *adminOp) {
	c := a.c
	deadline := op.f.At + op.f.For
	if op.attempts > 0 && c.sim.Now()+adminRetry > deadline {
		op.f.rec.Note += fmt.Sprintf("; gave up after %s", plural(op.attempts, "attempt"))
		op.f.rec.End = c.sim.Now()
		return
	}
	to := a.target(op)
	if to == "" {
		if c.sim.Now()+adminRetry > deadline {
			op.f.rec.Note += fmt.Sprintf("; %s: gave up, nobody to ask", describeAdmin(op.req))
			op.f.rec.End = c.sim.Now()
			return
		}
		c.sim.After(adminRetry, func() { a.attempt(op) })
		return
	}
	a.seq++
	req := *op.req
	req.ID = a.seq
	op.to, op.attempts = to, op.attempts+1
	a.ops[req.ID] = op
	c.net.Send(a.addr, to, func() string { return fmt.Sprintf("%s #%d", describeAdmin(&req), req.ID) }, append([]byte{wireRequest}, req.Marshal()...))
	id := req.ID
	c.sim.After(adminTimeout, func() { a.failed(id, "no answer in "+adminTimeout.String()) })
}

// target picks the member to ask: the leader for MoveLeader (etcdctl
// looks it up first), else the next live voting member in turn (a learner
// serves none of these).
func (a *admin) target(op *adminOp) network.Addr {
	c := a.c
	if op.req.MoveLeader != nil {
		if id := c.Leader(); id != 0 {
			return nodeAddr(id)
		}
		return ""
	}
	if op.member != 0 {
		if m := c.member(op.member); m != nil && m.up {
			return m.addr
		}
		return ""
	}
	for range c.members {
		m := c.members[a.next%len(c.members)]
		a.next++
		if m.up && !m.removed && !m.node.Status().Learner {
			return m.addr
		}
	}
	return ""
}

// connectionLost is a member's process ending while the admin waits on
// it: the gRPC connection closes, and the attempt fails at once.
func (a *admin) connectionLost(addr network.Addr) {
	var ids []uint64
	for id, op := range a.ops { //lint:allow maprange sorted below
		if op.to == addr {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		a.failed(id, "connection closed by "+string(addr))
	}
}

func (a *admin) failed(id uint64, why string) {
	op, ok := a.ops[id]
	if !ok {
		return
	}
	delete(a.ops, id)
	a.c.sim.Logf("admin", "%s #%d: %s; retrying", describeAdmin(op.req), id, why)
	a.c.sim.After(adminRetry, func() { a.attempt(op) })
}

func (a *admin) receive(from network.Addr, payload []byte) {
	if len(payload) == 0 || payload[0] != wireResponse {
		return
	}
	resp, err := api.UnmarshalResponse(payload[1:])
	if err != nil {
		return
	}
	op, ok := a.ops[resp.ID]
	if !ok {
		return
	}
	if resp.Err != nil && op.attempts > 1 && alreadyDone(op.req, resp.Err) {
		// An earlier attempt timed out here but went through there: an
		// operator's script reads "not found" after a remove, or "exists"
		// after an add, as done.
		a.c.sim.Logf("admin", "%s #%d: %s answered %v: an earlier attempt did it", describeAdmin(op.req), resp.ID, from, resp.Err)
		resp.Err = nil
	}
	if resp.Err != nil {
		switch resp.Err {
		case api.ErrNotLeader, api.ErrLearnerNotReady, api.ErrUnhealthy, api.ErrNotEnoughStartedMembers,
			api.ErrTimeout, api.ErrProposalDropped, api.ErrTimeoutLeaderTransfer, api.ErrStopped, api.ErrNotSupportedForLearner:
			a.failed(resp.ID, fmt.Sprintf("%s answered %v", from, resp.Err))
			return
		}
		delete(a.ops, resp.ID)
		a.c.sim.Logf("admin", "%s #%d: %s answered %v; giving up", describeAdmin(op.req), resp.ID, from, resp.Err)
		op.f.rec.Note += fmt.Sprintf("; refused: %v", resp.Err)
		op.f.rec.End = a.c.sim.Now()
		return
	}
	delete(a.ops, resp.ID)
	a.c.sim.Logf("admin", "%s #%d: done by %s", describeAdmin(op.req), resp.ID, from)
	op.f.rec.End = a.c.sim.Now()
	if !op.step {
		op.f.rec.Done = a.c.sim.Now()
	}
	if op.step {
		op.f.rec.Note += fmt.Sprintf("; %s done by %s", describeAdmin(op.req), from)
	} else {
		op.f.rec.Note += fmt.Sprintf("; done by %s after %s", from, plural(op.attempts, "attempt"))
	}
	if op.done != nil {
		op.done(resp)
	}
}

// alreadyDone: the error says what the request asked for is so already.
func alreadyDone(r *api.Request, err error) bool {
	switch {
	case r.MemberAdd != nil:
		return err == api.ErrIDExists
	case r.MemberRemove != nil:
		return err == api.ErrIDNotFound || err == api.ErrIDRemoved
	case r.MemberPromote != nil:
		return err == api.ErrMemberNotLearner
	}
	return false
}

func describeAdmin(r *api.Request) string {
	switch {
	case r.MemberAdd != nil && r.MemberAdd.IsLearner:
		return fmt.Sprintf("member add n%d --learner", r.MemberAdd.ID)
	case r.MemberAdd != nil:
		return fmt.Sprintf("member add n%d", r.MemberAdd.ID)
	case r.MemberPromote != nil:
		return fmt.Sprintf("member promote n%d", r.MemberPromote.ID)
	case r.MemberRemove != nil:
		return fmt.Sprintf("member remove n%d", r.MemberRemove.ID)
	case r.MoveLeader != nil:
		return fmt.Sprintf("move-leader n%d", r.MoveLeader.TargetID)
	case r.Status != nil:
		return "endpoint status"
	case r.Compact != nil:
		return fmt.Sprintf("compaction %d", r.Compact.Revision)
	case r.Defragment != nil:
		return "defrag"
	case r.Alarm != nil && r.Alarm.Action == pb.AlarmRequest_GET:
		return "alarm list"
	case r.Alarm != nil:
		return fmt.Sprintf("alarm disarm %s of n%d", r.Alarm.Alarm, r.Alarm.MemberID)
	}
	return r.Op()
}

// beginRecoverSpace is etcd's documented way out of NOSPACE
// (op-guide/maintenance): compact away the history, defragment each
// member so its file shrinks, then disarm the alarm. The fault is done
// once the last alarm is disarmed.
func beginRecoverSpace(f *firing) {
	a := f.c.admin()
	f.rec.Note = "etcdctl endpoint status, compaction, defrag --cluster, alarm disarm"
	a.step(f, &api.Request{Status: &pb.StatusRequest{}}, 0, func(st *api.Response) {
		a.step(f, &api.Request{Compact: &pb.CompactionRequest{Revision: st.Header.GetRevision(), Physical: true}}, 0, func(*api.Response) {
			var members []uint64
			for _, m := range f.c.members {
				if !m.removed {
					members = append(members, m.id)
				}
			}
			defrag(f, members, func() { disarm(f) })
		})
	})
}

// step sends one step of an operator's runbook (to member, or any if 0).
func (a *admin) step(f *firing, req *api.Request, member uint64, done func(*api.Response)) {
	a.attempt(&adminOp{f: f, req: req, member: member, step: true, done: done})
}

// disarm is clientv3's AlarmDisarm of every alarm: list them, then
// deactivate each, one after another; the last is the runbook's end.
func disarm(f *firing) {
	a := f.c.admin()
	a.step(f, &api.Request{Alarm: &pb.AlarmRequest{Action: pb.AlarmRequest_GET}}, 0, func(resp *api.Response) {
		alarms := resp.Alarm.GetAlarms()
		var next func(i int)
		next = func(i int) {
			if i == len(alarms) {
				f.rec.Done = f.c.sim.Now()
				return
			}
			m := alarms[i]
			a.step(f, &api.Request{Alarm: &pb.AlarmRequest{Action: pb.AlarmRequest_DEACTIVATE, MemberID: m.MemberID, Alarm: m.Alarm}}, 0,
				func(*api.Response) { next(i + 1) })
		}
		next(0)
	})
}

// defrag defragments members one after another, as etcdctl defrag
// --cluster does, then calls done.
func defrag(f *firing, members []uint64, done func()) {
	if len(members) == 0 {
		done()
		return
	}
	f.c.admin().step(f, &api.Request{Defragment: &pb.DefragmentRequest{}}, members[0],
		func(*api.Response) { defrag(f, members[1:], done) })
}

// The membership fault kinds' begins.

func beginMemberAdd(f *firing) {
	c := f.c
	id := uint64(len(c.members) + 1)
	if id > maxMembers {
		f.rec.Fired = false
		f.rec.Note = fmt.Sprintf("a run has at most %d members", maxMembers)
		return
	}
	learner := f.Arg("learner") != "false"
	f.rec.Targets = []uint64{id}
	f.rec.Label = fmt.Sprintf("%d member-add n%d", f.rec.Index, id)
	f.rec.Note = describeAdmin(&api.Request{MemberAdd: &api.MemberAddRequest{ID: id, IsLearner: learner}})
	c.admin().do(f, &api.Request{MemberAdd: &api.MemberAddRequest{ID: id, IsLearner: learner}}, func(*api.Response) {
		if err := c.addMember(id); err != nil {
			c.restartErrs = append(c.restartErrs, fmt.Sprintf("at %v: n%d cannot start: %v", c.sim.Now(), id, err))
			return
		}
		if !learner {
			c.learnEndpoint(nodeAddr(id))
		}
	})
}

func beginMemberPromote(f *firing) {
	for _, id := range f.targets {
		f.rec.Note = describeAdmin(&api.Request{MemberPromote: &api.MemberPromoteRequest{ID: id}})
		addr := nodeAddr(id)
		f.c.admin().do(f, &api.Request{MemberPromote: &api.MemberPromoteRequest{ID: id}}, func(*api.Response) {
			f.c.learnEndpoint(addr)
		})
	}
}

func beginMemberRemove(f *firing) {
	c := f.c
	for _, id := range f.targets {
		f.rec.Note = describeAdmin(&api.Request{MemberRemove: &api.MemberRemoveRequest{ID: id}})
		addr := nodeAddr(id)
		c.admin().do(f, &api.Request{MemberRemove: &api.MemberRemoveRequest{ID: id}}, func(*api.Response) {
			c.forgetEndpoint(addr)
		})
	}
}

func beginMoveLeader(f *firing) {
	for _, id := range f.targets {
		f.rec.Note = describeAdmin(&api.Request{MoveLeader: &api.MoveLeaderRequest{TargetID: id}})
		f.c.admin().do(f, &api.Request{MoveLeader: &api.MoveLeaderRequest{TargetID: id}}, nil)
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
