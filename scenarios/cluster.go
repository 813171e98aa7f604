package scenarios

import (
	"fmt"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/disk"
	"github.com/etcdlab/etcdlab/network"
	"github.com/etcdlab/etcdlab/node"
	"github.com/etcdlab/etcdlab/node/api"
	"github.com/etcdlab/etcdlab/sim"
)

// Cluster is a simulated etcd cluster: members, the network between them,
// clients and the nemesis, all on one simulation. It is what scenarios
// script; Run builds one per run.
type Cluster struct {
	sim      *sim.Sim
	net      *network.Network
	settings Settings
	members  []*member
	clients  []*client

	history       []checker.Operation
	leaderChanges []LeaderChange
	faults        []FaultWindow
	raft          *checker.Raft // raft's safety properties, checked as the run goes
	restarts      int
	restartErrs   []string // members that could not restart from their own log
	expectations  []func() checker.Verdict
	raftMessages  int
}

// LeaderChange is a member becoming leader.
type LeaderChange struct {
	At     time.Duration
	Member uint64
	Term   uint64
}

// FaultWindow is a span of virtual time in which a fault was in force.
type FaultWindow struct {
	Start, End time.Duration
	Label      string
}

// Wire kinds: the first byte of every payload on the network.
const (
	wireRaft     byte = 'R'
	wireRequest  byte = 'Q'
	wireResponse byte = 'A'
)

func newCluster(s *sim.Sim, st Settings) (*Cluster, error) {
	c := &Cluster{
		sim:      s,
		net:      network.New(s, st.Link),
		settings: st,
		raft:     checker.NewRaft(),
	}
	peers := make([]uint64, st.Nodes)
	for i := range peers {
		peers[i] = uint64(i + 1)
	}
	for _, id := range peers {
		m := &member{c: c, id: id, addr: nodeAddr(id), seen: map[clientReq]bool{}}
		m.cfg = st.Member
		m.cfg.ID, m.cfg.Peers = id, peers
		m.disk = disk.New(s, s.Rand(fmt.Sprintf("disk/%d", id)), st.Disk)
		m.tickOffset = time.Duration(s.Rand(fmt.Sprintf("clock/%d", id)).Int64N(int64(m.cfg.HeartbeatInterval)))
		c.members = append(c.members, m)
	}
	for _, m := range c.members {
		if err := m.start(nil); err != nil {
			return nil, err
		}
	}
	for i := range st.Clients {
		c.clients = append(c.clients, newClient(c, i+1))
	}
	return c, nil
}

func nodeAddr(id uint64) network.Addr { return network.Addr(fmt.Sprintf("n%d", id)) }

// member is one node with its disk, as the harness sees it.
type member struct {
	c          *Cluster
	id         uint64
	addr       network.Addr
	cfg        node.Config
	node       *node.Node
	disk       *disk.Disk
	up         bool
	epoch      int // bumped at every crash, so events of a dead incarnation do nothing
	tickOffset time.Duration
	started    time.Duration // when the current or last life began
	seen       map[clientReq]bool
	role       raft.StateType
	term       uint64
}

type clientReq struct {
	from network.Addr
	id   uint64
}

// start boots the member: fresh if log is nil, else restarting from it.
func (m *member) start(log []byte) error {
	var err error
	now := m.c.sim.Now()
	if log == nil {
		m.node, err = node.New(m.cfg, memberEnv{m})
	} else {
		if now/time.Millisecond <= m.started/time.Millisecond {
			// The node's request IDs begin at its start time in ms; a
			// second start in the same ms would reuse its past life's.
			return fmt.Errorf("restarted at %v, in the same millisecond as its last start at %v; a restart must come at least 1ms later", now, m.started)
		}
		m.node, err = node.Restart(m.cfg, memberEnv{m}, log)
	}
	if err != nil {
		return err
	}
	m.started = now
	m.up = true
	m.role, m.term = raft.StateFollower, 0
	m.c.net.Attach(m.addr, m.receive)
	epoch := m.epoch
	// A member ticks every heartbeat interval of its own clock, from a
	// phase of its own: real members do not tick in step.
	first := m.c.sim.Now() + m.tickOffset
	var tick func()
	tick = func() {
		if m.epoch != epoch {
			return
		}
		m.node.Tick()
		m.observe()
		m.c.sim.After(m.cfg.HeartbeatInterval, tick)
	}
	m.c.sim.At(first, tick)
	m.observe()
	return nil
}

// crash stops the member at once: it loses what its disk had not synced,
// every message in flight to it (even if it restarts before they would
// arrive), and every request it was serving.
func (m *member) crash() {
	if !m.up {
		return
	}
	m.up = false
	m.epoch++
	m.c.net.Detach(m.addr)
	lost := m.disk.Crash()
	m.c.sim.Logf(string(m.addr), "crashed: %d unsynced log bytes lost", lost)
	m.node = nil
	// m.seen survives: a duplicate of a request the dead incarnation took
	// must not reach the new one, as TCP would never deliver it.
}

func (m *member) receive(from network.Addr, payload []byte) {
	if len(payload) == 0 {
		return
	}
	body := payload[1:]
	switch payload[0] {
	case wireRaft:
		msg := &raftpb.Message{}
		if err := proto.Unmarshal(body, msg); err != nil {
			m.c.sim.Logf(string(m.addr), "dropping undecodable raft message from %s: %v", from, err)
			return
		}
		m.node.Step(msg)
	case wireRequest:
		req, err := api.UnmarshalRequest(body)
		if err != nil {
			m.c.sim.Logf(string(m.addr), "dropping undecodable request from %s: %v", from, err)
			return
		}
		// Client RPCs ride on gRPC over TCP, which never delivers a
		// request twice; the simulated wire may, so drop the copy here.
		key := clientReq{from, req.ID}
		if m.seen[key] {
			return
		}
		m.seen[key] = true
		m.node.Request(string(from), req)
	}
	m.observe()
}

// observe runs after every input to the member: it hands the member's
// state to the raft safety checker, which says at once if an invariant
// broke, and notes new leaders for reports and charts.
func (m *member) observe() {
	if !m.up {
		return
	}
	c, st := m.c, m.node.Status()
	c.logViolations(c.raft.Observe(c.sim.Now(), checker.MemberState{
		ID: m.id, Leader: st.Role == raft.StateLeader, Term: st.Term, Commit: st.Commit,
	}))
	if st.Role == m.role && st.Term == m.term {
		return
	}
	m.role, m.term = st.Role, st.Term
	if st.Role == raft.StateLeader {
		c.leaderChanges = append(c.leaderChanges, LeaderChange{At: c.sim.Now(), Member: m.id, Term: st.Term})
	}
}

// logViolations puts broken invariants in the trace, where a replay
// shows them among the events that led there.
func (c *Cluster) logViolations(vs []string) {
	for _, v := range vs {
		c.sim.Logf("safety", "VIOLATION %s", v)
	}
}

// memberEnv is the node's Env in the simulation.
type memberEnv struct{ m *member }

func (e memberEnv) Send(msg *raftpb.Message) {
	b, err := proto.MarshalOptions{}.MarshalAppend([]byte{wireRaft}, msg)
	if err != nil {
		panic(fmt.Sprintf("marshal raft message: %v", err))
	}
	e.m.c.raftMessages++
	desc := raft.DescribeMessage(msg, node.EntryFormatter(msg.GetType()))
	e.m.c.net.Send(e.m.addr, nodeAddr(msg.GetTo()), desc, b)
}

func (e memberEnv) Reply(to string, resp *api.Response) {
	desc := fmt.Sprintf("reply #%x", resp.ID)
	if resp.Err != nil {
		desc += ": " + resp.Err.Error()
	}
	e.m.c.net.Send(e.m.addr, network.Addr(to), desc, append([]byte{wireResponse}, resp.Marshal()...))
}

func (e memberEnv) AppendWAL(b []byte) { e.m.disk.Append(b) }

func (e memberEnv) TruncateWAL(size int) { e.m.disk.Truncate(size) }

func (e memberEnv) SyncWAL() {
	m, epoch := e.m, e.m.epoch
	m.disk.Sync(func() {
		if m.epoch == epoch {
			m.node.Synced()
			m.observe()
		}
	})
}

func (e memberEnv) Applied(index, digest uint64) {
	c := e.m.c
	c.logViolations(c.raft.Applied(c.sim.Now(), e.m.id, index, digest))
}

// Now is the virtual time: members' clocks do not drift yet.
func (e memberEnv) Now() time.Duration { return e.m.c.sim.Now() }

func (e memberEnv) Logf(format string, args ...any) {
	e.m.c.sim.Logf(string(e.m.addr), format, args...)
}
