package scenarios

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/disk"
	"github.com/etcdlab/etcdlab/internal/raftwire"
	"github.com/etcdlab/etcdlab/network"
	"github.com/etcdlab/etcdlab/node"
	"github.com/etcdlab/etcdlab/node/api"
	"github.com/etcdlab/etcdlab/node/backend"
	"github.com/etcdlab/etcdlab/node/snap"
	"github.com/etcdlab/etcdlab/sim"
)

// Cluster is a simulated etcd cluster: members, the network between them,
// clients and the nemesis, all on one simulation. A run builds one from
// an experiment; a scenario written in Go gets it to script more (see
// Scenario.Script and nemesis.go for what it may do).
type Cluster struct {
	sim      *sim.Sim
	net      *network.Network
	settings Settings
	members  []*member
	clients  []*client
	nemesis  *rand.Rand // picks members for faults

	history       []checker.Operation
	leaderChanges []LeaderChange
	faults        []*FaultRecord
	triggers      []*firing // faults waiting for a message (after=)
	raft          *checker.Raft
	restarts      int
	restartErrs   []string // members that could not restart from their own log
	memberPanics  []string // panics inside members that no fault injected
	firstPanicAt  time.Duration
	expectations  []func() checker.Verdict
	raftMessages  int
	crashed       []uint64 // members that went down at least once, in order
	snapshots     []*SnapshotRecord
	peakLog       PeakLog
	adm           *admin                   // the operator's etcdctl, once a membership fault needs it
	appliedWrites map[uint64]*appliedWrite // client write requests the members applied, by request ID, while unsettled
	proposals     map[uint64]uint64        // the client request ID of each raft entry's request ID
	// unsettled are the request IDs of client operations still waiting or
	// ended with an unknown outcome: the only ones the applied log may
	// yet settle (settledHistory). What the members apply of any other is
	// not kept, so this bookkeeping does not grow with the run.
	unsettled    map[uint64]bool
	truth        *checker.Truth // what the members applied, revision by revision, when a check needs it: see recordTruth
	watchers     []*watcher
	leaseHolders []*leaseHolder
	leaseRand    *rand.Rand // the lease holders' choices
	// leaderless are the intervals without a leader, one per change of
	// leader (lostLeaderAt: when the last one was lost, -1 while one leads).
	leaderless   []checker.Interval
	lostLeaderAt time.Duration
	spans        []Span // members' fsyncs and applies, for views of the run (recordSpans)
	states       []StateChange
	logSizes     []LogSize
	recordSpans  bool
	openWrites   []openWrite // writes that ended with an unknown outcome
}

// PeakLog is the longest raft log a member held in memory during a run.
type PeakLog struct {
	Entries uint64
	Member  uint64
	At      time.Duration
}

// StateChange is a member entering a raft role (raft's StateType
// names, "StateFollower" to "StateLeader") or a term, or its process
// going down ("down") or being paused ("paused"), for a timeline.
type StateChange struct {
	At     time.Duration
	Member uint64
	State  string
	Term   uint64
}

// LogSize is a member's in-memory raft log (entries, from its first
// index) when it changed, sampled at most every logSampleEvery per member,
// and at every drop, with the size it dropped from.
type LogSize struct {
	At      time.Duration
	Member  uint64
	Entries uint64
}

// logSampleEvery spaces the LogSize samples of a member: enough for a
// chart, few enough for a 30-minute run.
const logSampleEvery = 100 * time.Millisecond

// LeaderChange is a member becoming leader.
type LeaderChange struct {
	At     time.Duration
	Member uint64
	Term   uint64
}

// Wire kinds: the first byte of every payload on the network.
const (
	wireRaft     byte = 'R'
	wireRequest  byte = 'Q'
	wireResponse byte = 'A'
	wireSnapshot byte = 'S' // a merged snapshot: the raft message, then the backend db
	wireSnapDone byte = 'D' // the receiver saved a snapshot: the sender reports it to raft
	wireGone     byte = 'G' // rafthttp's 410 Gone to a removed member
)

func newCluster(s *sim.Sim, st Settings) (*Cluster, error) {
	c := &Cluster{
		sim:           s,
		net:           network.New(s, st.Link),
		settings:      st,
		raft:          checker.NewRaft(),
		appliedWrites: map[uint64]*appliedWrite{},
		proposals:     map[uint64]uint64{},
		unsettled:     map[uint64]bool{},
		leaseRand:     s.Rand("leases"),
		lostLeaderAt:  -1,
		nemesis:       s.Rand("nemesis"),
	}
	for _, r := range st.Routes {
		c.net.SetRoute(nodeAddr(r.From), nodeAddr(r.To), c.routeLink(r.From, r.To))
	}
	peers := make([]uint64, st.Nodes)
	for i := range peers {
		peers[i] = uint64(i + 1)
	}
	for _, id := range peers {
		c.members = append(c.members, c.newMember(id, peers))
	}
	for _, m := range c.members {
		if err := m.start(startNew); err != nil {
			return nil, err
		}
	}
	if st.Watchers > 0 || st.LeaseHolders > 0 || st.Workload.SGet > 0 {
		// Only the watch, lease and serializable-read checks read it, and
		// every member reports every revision to it.
		c.truth = checker.NewTruth()
	}
	for i := range st.Clients {
		c.clients = append(c.clients, newClient(c, i+1))
	}
	for i := range st.Watchers {
		c.watchers = append(c.watchers, newWatcher(c, i+1))
	}
	for i := range st.LeaseHolders {
		c.leaseHolders = append(c.leaseHolders, newLeaseHolder(c, i+1))
	}
	return c, nil
}

func nodeAddr(id uint64) network.Addr {
	if id < uint64(len(nodeAddrs)) {
		return nodeAddrs[id] // every message is addressed: no formatting
	}
	return network.Addr(fmt.Sprintf("n%d", id))
}

var nodeAddrs = func() (a [16]network.Addr) {
	for i := range a {
		a[i] = network.Addr(fmt.Sprintf("n%d", i))
	}
	return a
}()

// member is one etcd process with its disk, as the harness drives it.
// Every input reaches the node through call, which runs it with the
// member's own random stream, holds it while the process is paused, and
// turns a panic inside the member into the member's death.
type member struct {
	c          *Cluster
	id         uint64
	addr       network.Addr
	cfg        node.Config
	node       *node.Node
	disk       *disk.Disk
	raftRand   io.Reader // what crypto/rand reads inside this member: its election timeouts
	up         bool
	epoch      int // bumped at every crash, so events of a dead life do nothing
	tickOffset time.Duration
	started    time.Duration // member clock when the current or last life began
	role       raft.StateType
	term       uint64
	learner    bool
	// The last LogSize sampled: its size and when; and the size last
	// seen, and when, to record the top of a log before it is compacted.
	logEntries uint64
	logSampled time.Duration
	logSeen    uint64
	logSeenAt  time.Duration
	removed    bool // removed from the cluster: stopped for good
	received   int  // snapshots received, for their temporary files' names

	// A paused process runs nothing until pausedUntil; its inputs wait in
	// queued, and the ticks it missed collapse into one, as a Go ticker's
	// do (see every).
	pausedUntil time.Duration
	queued      []func()

	// The member's clock: clockBase at virtual time clockAt, running at
	// rate. Its ticks come every heartbeat interval of this clock.
	rate               float64
	clockBase, clockAt time.Duration

	failpoints []*armedFailpoint
	// syncFailed is set while a failed fsync is handed to the node, whose
	// exit is then the fault working. syncRestartAfter is the fsync-error
	// fault's restart-after; like the failing disk, it outlives a crash.
	syncFailed       bool
	syncRestartAfter time.Duration
}

// How a member's process starts: as a member of the initial cluster, on
// an empty disk; again, from what its disk kept; or joining a running
// cluster that added it, on an empty disk.
type startMode int

const (
	startNew startMode = iota
	startRestart
	startJoin
)

// start boots the member's process.
func (m *member) start(mode startMode) error {
	var err error
	now := m.clock()
	m.c.sim.WithReader(m.raftRand, func() {
		switch mode {
		case startNew:
			m.node, err = node.New(m.cfg, memberEnv{m})
			return
		case startJoin:
			m.node, err = node.Join(m.cfg, memberEnv{m})
			return
		}
		if now/time.Millisecond <= m.started/time.Millisecond {
			// The node's request IDs begin at its start time in ms; a
			// second start in the same ms would reuse its past life's.
			err = fmt.Errorf("restarted at %v, in the same millisecond as its last start at %v; a restart must come at least 1ms later", now, m.started)
			return
		}
		m.node, err = node.Restart(m.cfg, memberEnv{m})
	})
	if err != nil {
		return err
	}
	m.started = now
	m.up = true
	m.role, m.term, m.learner = raft.StateFollower, 0, false
	m.c.states = append(m.c.states, StateChange{At: now, Member: m.id, State: raft.StateFollower.String()})
	m.c.net.Attach(m.addr, m.receive)
	epoch := m.epoch
	m.every(m.cfg.HeartbeatInterval, m.tickOffset, epoch, func() { m.node.Tick() })
	// The backend's commit loop has a timer of its own.
	m.every(m.cfg.BackendBatchInterval, m.tickOffset, epoch, func() { m.node.CommitTick() })
	m.adjustTicks(epoch)
	m.observe()
	return nil
}

// every runs fn inside the member every interval of its own clock,
// starting after offset, for as long as this life lasts. Like a Go
// ticker's, the runs a paused process misses collapse into one.
func (m *member) every(interval, offset time.Duration, epoch int, fn func()) {
	missed := false
	var tick func()
	tick = func() {
		if m.epoch != epoch {
			return
		}
		m.c.sim.After(m.onClock(interval), tick)
		if m.paused() {
			if !missed {
				missed = true
				m.queued = append(m.queued, func() { missed = false; fn() })
			}
			return
		}
		m.run(fn)
	}
	// Members do not tick in step: each starts at a phase of its own.
	m.c.sim.After(offset, tick)
}

// adjustTicks is etcd's start-up poll (EtcdServer.adjustTicks): every
// 50 ms, for up to rafthttp's 5 s connection timeout, the member asks how
// many peers its streams reach, and the node decides whether to
// fast-forward its election ticks.
func (m *member) adjustTicks(epoch int) {
	if len(m.cfg.Peers) == 1 {
		m.run(func() { m.node.AdjustTicks(0) })
		return
	}
	polls := int(node.ConnReadTimeout / node.AdjustTicksInterval)
	var poll func(i int)
	poll = func(i int) {
		if m.epoch != epoch || m.paused() {
			return
		}
		done := false
		m.run(func() { done = m.node.AdjustTicks(m.activePeers()) })
		if !done && i+1 < polls {
			m.c.sim.After(node.AdjustTicksInterval, func() { poll(i + 1) })
		}
	}
	m.c.sim.After(node.AdjustTicksInterval, func() { poll(0) })
}

// activePeers counts the peers this member's streams reach both ways, as
// rafthttp's Transport.ActivePeers does.
func (m *member) activePeers() int {
	n := 0
	for _, p := range m.c.members {
		if p != m && m.c.net.Reachable(m.addr, p.addr) && m.c.net.Reachable(p.addr, m.addr) {
			n++
		}
	}
	return n
}

// call hands the member an input, or queues it while the process is paused.
func (m *member) call(fn func()) {
	if !m.up {
		return
	}
	if m.paused() {
		m.queued = append(m.queued, fn)
		return
	}
	m.run(fn)
}

// run runs fn inside the member: crypto/rand reads the member's own
// stream, and a panic kills the member instead of the run.
func (m *member) run(fn func()) {
	if !m.up {
		return
	}
	var died any
	m.c.sim.WithReader(m.raftRand, func() {
		defer func() { died = recover() }()
		fn()
	})
	if died != nil {
		m.die(died)
		return
	}
	m.observe()
}

// die ends a member whose code panicked. A panic a fault injected (a
// failpoint's panic action, etcd's exit on a failed fsync) is the fault
// working; any other is a failed check that quotes it.
func (m *member) die(p any) {
	c := m.c
	var restartAfter time.Duration
	injected, isInjected := p.(injectedPanic)
	switch {
	case isInjected:
		c.sim.Logf(string(m.addr), "died: %s", injected.msg)
		restartAfter = injected.restartAfter
	case m.syncFailed:
		c.sim.Logf(string(m.addr), "exited: %v (an injected fsync error)", p)
		restartAfter = m.syncRestartAfter
	default:
		e := fmt.Sprintf("at %v: n%d panicked: %v", c.sim.Now(), m.id, p)
		if len(c.memberPanics) == 0 {
			c.firstPanicAt = c.sim.Now()
		}
		c.memberPanics = append(c.memberPanics, e)
		c.logViolations([]string{e})
	}
	m.crash()
	if restartAfter > 0 {
		c.restartAfter(m.id, restartAfter)
	}
}

// restartAfter restarts a member d from now, if it is still down from the
// same death: a timer must not revive a later life that died for another
// reason.
func (c *Cluster) restartAfter(id uint64, d time.Duration) {
	m := c.member(id)
	epoch := m.epoch
	c.sim.After(d, func() {
		if m.epoch == epoch {
			c.Restart(id)
		}
	})
}

func (m *member) paused() bool { return m.c.sim.Now() < m.pausedUntil }

// pause stops the process until `until`; then it runs what waited.
func (m *member) pause(until time.Duration) {
	if !m.up {
		return
	}
	m.pausedUntil = max(m.pausedUntil, until)
	epoch := m.epoch
	m.c.sim.Logf(string(m.addr), "paused until %v", until)
	m.c.states = append(m.c.states, StateChange{At: m.c.sim.Now(), Member: m.id, State: "paused", Term: m.term})
	m.c.sim.At(until, func() {
		if m.epoch != epoch || m.paused() {
			return
		}
		queued := m.queued
		m.queued = nil
		m.c.sim.Logf(string(m.addr), "resumed: %d inputs waited", len(queued))
		m.c.states = append(m.c.states, StateChange{At: m.c.sim.Now(), Member: m.id, State: stateName(m.role, m.learner), Term: m.term})
		for _, fn := range queued {
			m.run(fn)
		}
	})
}

// clock is the time on the member's own clock.
func (m *member) clock() time.Duration {
	return m.clockBase + time.Duration(float64(m.c.sim.Now()-m.clockAt)*m.rate)
}

// setClock makes the member's clock jump by offset and run at rate.
func (m *member) setClock(rate float64, offset time.Duration) {
	m.clockBase, m.clockAt, m.rate = m.clock()+offset, m.c.sim.Now(), rate
	m.c.sim.Logf(string(m.addr), "clock now %v, rate %v", m.clock(), rate)
}

// onClock is how long an interval d of the member's clock lasts in
// virtual time: a fast clock ticks more often.
func (m *member) onClock(d time.Duration) time.Duration {
	return max(time.Duration(float64(d)/m.rate), time.Microsecond)
}

// failSyncs makes the member's next n fsyncs fail; each failure is fatal,
// and restartAfter brings the member back.
func (m *member) failSyncs(n int, restartAfter time.Duration) {
	m.disk.FailSyncs(n)
	m.syncRestartAfter = restartAfter
}

// crash stops the member at once: it loses what its disk had not synced,
// every message in flight to it (even if it restarts before they would
// arrive), and every request it was serving. Clients waiting on it see
// their connection reset.
func (m *member) crash() {
	if !m.up {
		return
	}
	m.stop()
	if !slices.Contains(m.c.crashed, m.id) {
		m.c.crashed = append(m.c.crashed, m.id)
	}
}

// stop ends the member's process: a crash, or a removed member stopping.
func (m *member) stop() {
	if !m.up {
		return
	}
	m.up = false
	m.epoch++
	if m.logSeen != m.logEntries {
		// The log's last size before the process went, if no sample
		// has it yet; the next life starts its samples afresh.
		m.c.logSizes = append(m.c.logSizes, LogSize{At: m.logSeenAt, Member: m.id, Entries: m.logSeen})
	}
	m.logSeen, m.logEntries = 0, 0
	m.c.states = append(m.c.states, StateChange{At: m.c.sim.Now(), Member: m.id, State: "down", Term: m.term})
	m.c.net.Detach(m.addr)
	lost := m.disk.Crash()
	m.c.sim.Logf(string(m.addr), "process gone: %d unsynced bytes lost", lost)
	m.node = nil
	m.queued, m.pausedUntil = nil, 0
	m.failpoints, m.syncFailed = nil, false
	for _, cl := range m.c.clients {
		cl.connectionLost(m.addr)
	}
	for _, w := range m.c.watchers {
		w.lost(m.addr)
	}
	for _, h := range m.c.leaseHolders {
		h.lost(m.addr)
	}
	if m.role == raft.StateLeader {
		m.c.leaderLost(m.id)
	}
	if m.c.adm != nil {
		m.c.adm.connectionLost(m.addr)
	}
}

func (m *member) receive(from network.Addr, payload []byte) {
	if len(payload) == 0 {
		return
	}
	body := payload[1:]
	switch payload[0] {
	case wireRaft:
		// The member owns body, so msg's entries may alias it.
		msg, err := raftwire.UnmarshalMessage(body)
		if err != nil {
			m.c.sim.Logf(string(m.addr), "dropping undecodable raft message from %s: %v", from, err)
			return
		}
		if msg.GetType() == raftpb.MessageType_MsgProp && m.c.net.Repeat() {
			// rafthttp runs on TCP, which never delivers a message twice.
			// Raft's own messages are safe to repeat, which is why the
			// datagram network may duplicate them, but a forwarded MsgProp
			// is a client's write in raft's clothing: a second copy would
			// be appended, and applied, a second time.
			return
		}
		if m.paused() {
			m.call(func() { m.step(msg) })
			return
		}
		// Not through call: its closure is kept while paused, so it would
		// be allocated for every message.
		m.run(func() { m.step(msg) })
	case wireSnapshot:
		m.receiveSnapshot(from, body)
	case wireSnapDone:
		m.snapshotDone(from, body)
	case wireGone:
		m.gone(from)
	case wireRequest:
		req, err := api.UnmarshalRequest(body)
		if err != nil {
			m.c.sim.Logf(string(m.addr), "dropping undecodable request from %s: %v", from, err)
			return
		}
		if m.c.net.Repeat() {
			// Client RPCs ride on gRPC over TCP, which never delivers a
			// request twice; a datagram network may, so drop the copy.
			return
		}
		if m.paused() {
			m.call(func() { m.node.Request(string(from), req) })
			return
		}
		m.run(func() { m.node.Request(string(from), req) })
	}
}

// step hands the member a raft message.
func (m *member) step(msg *raftpb.Message) {
	m.node.Step(msg)
	m.c.fireTriggers(m, msg, false) // once it has taken the message in
}

// observe runs after every input to the member: it hands the member's
// state to the raft safety checker, which says at once if an invariant
// broke, and notes new leaders for reports and charts.
func (m *member) observe() {
	if !m.up {
		return
	}
	c, st := m.c, m.node.Status()
	if st.LogEntries > c.peakLog.Entries {
		c.peakLog = PeakLog{Entries: st.LogEntries, Member: m.id, At: c.sim.Now()}
	}
	c.logViolations(c.raft.Observe(c.sim.Now(), checker.MemberState{
		ID: m.id, Leader: st.Role == raft.StateLeader, Term: st.Term, Commit: st.Commit,
	}))
	if now := c.sim.Now(); st.LogEntries != m.logEntries && (now >= m.logSampled+logSampleEvery || st.LogEntries < m.logSeen) {
		if st.LogEntries < m.logSeen && m.logSeen != m.logEntries {
			// A compaction: the top it fell from, so a chart's peaks are
			// the log's own, not a sample's.
			c.logSizes = append(c.logSizes, LogSize{At: m.logSeenAt, Member: m.id, Entries: m.logSeen})
		}
		c.logSizes = append(c.logSizes, LogSize{At: now, Member: m.id, Entries: st.LogEntries})
		m.logEntries, m.logSampled = st.LogEntries, now
	}
	m.logSeen, m.logSeenAt = st.LogEntries, c.sim.Now()
	if st.Role == m.role && st.Term == m.term {
		if st.Learner != m.learner { // promoted: a voter now
			m.learner = st.Learner
			c.states = append(c.states, StateChange{At: c.sim.Now(), Member: m.id, State: stateName(st.Role, st.Learner), Term: st.Term})
		}
		return
	}
	m.learner = st.Learner
	c.states = append(c.states, StateChange{At: c.sim.Now(), Member: m.id, State: stateName(st.Role, st.Learner), Term: st.Term})
	if m.role == raft.StateLeader && st.Role != raft.StateLeader {
		c.leaderLost(m.id)
	}
	m.role, m.term = st.Role, st.Term
	if st.Role == raft.StateLeader {
		now := c.sim.Now()
		c.leaderChanges = append(c.leaderChanges, LeaderChange{At: now, Member: m.id, Term: st.Term})
		from := c.lostLeaderAt
		if from < 0 {
			from = now
		}
		c.leaderless = append(c.leaderless, checker.Interval{From: from, To: now})
		c.lostLeaderAt = -1
	}
}

// lastLogSizes records each live member's raft log at the end of the
// run, where the last sample may be up to logSampleEvery old.
func (c *Cluster) lastLogSizes() {
	for _, m := range c.members {
		if m.up && !m.removed {
			if n := m.node.Status().LogEntries; n != m.logEntries {
				c.logSizes = append(c.logSizes, LogSize{At: c.sim.Now(), Member: m.id, Entries: n})
			}
		}
	}
}

// stateName is a member's state as a timeline shows it: raft's role, or
// "learner" for a follower that has no vote.
func stateName(role raft.StateType, learner bool) string {
	if learner && role == raft.StateFollower {
		return "learner"
	}
	return role.String()
}

// leaderLost notes when the cluster lost its leader: member id, if it
// is the newest leader (a deposed one stepping down later loses nothing).
func (c *Cluster) leaderLost(id uint64) {
	if n := len(c.leaderChanges); n > 0 && c.leaderChanges[n-1].Member == id && c.lostLeaderAt < 0 {
		c.lostLeaderAt = c.sim.Now()
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
	b := raftwire.AppendMessage([]byte{wireRaft}, msg)
	e.m.c.raftMessages++
	desc := func() string { return raft.DescribeMessage(msg, node.EntryFormatter(msg.GetType())) }
	e.m.c.net.Send(e.m.addr, nodeAddr(msg.GetTo()), desc, b)
	e.m.c.fireTriggers(e.m, msg, true)
}

func (e memberEnv) Reply(to string, resp *api.Response) {
	desc := func() string {
		if resp.Err != nil {
			return fmt.Sprintf("reply #%x: %v", resp.ID, resp.Err)
		}
		return fmt.Sprintf("reply #%x", resp.ID)
	}
	e.m.c.net.Send(e.m.addr, network.Addr(to), desc, append([]byte{wireResponse}, resp.Marshal()...))
}

func (e memberEnv) Append(name string, b []byte) { e.m.disk.Append(name, b) }

// WriteFile writes a file; a member's own snapshot file is noted for the
// summary, with the size of the backend it goes with.
func (e memberEnv) WriteFile(name string, b []byte) {
	e.m.disk.WriteFile(name, b)
	_, idx, ok := snap.ParseName(name)
	if !ok {
		return
	}
	if _, received := e.m.disk.FileSize(node.SnapDir + snap.DBName(idx)); received {
		return
	}
	size, _ := e.m.disk.FileSize(backend.Path)
	e.m.c.noteSnapshot(SnapshotRecord{Kind: SnapshotSaved, Member: e.m.id, Index: idx, Size: size})
}
func (e memberEnv) Truncate(name string, size int) { e.m.disk.Truncate(name, size) }
func (e memberEnv) Remove(name string)             { e.m.disk.Remove(name) }
func (e memberEnv) ReadFile(name string) ([]byte, bool) {
	return e.m.disk.Read(name)
}
func (e memberEnv) List() []string { return e.m.disk.List() }

func (e memberEnv) Rename(from, to string) {
	e.m.disk.Rename(from, to)
	if idx, ok := snap.ParseDBName(from); ok && to == backend.Path {
		e.m.c.noteSnapshot(SnapshotRecord{Kind: SnapshotRestored, Member: e.m.id, Index: idx})
	}
}

// Sync runs the fsync on the member's disk; its completion is an input to
// the member, lost with the life that asked for it.
func (e memberEnv) Sync(name string, done func(error)) {
	m, epoch := e.m, e.m.epoch
	start := m.c.sim.Now()
	m.disk.Sync(name, func(err error) {
		if m.epoch != epoch {
			return
		}
		if m.c.recordSpans {
			m.c.spans = append(m.c.spans, Span{Member: m.id, Kind: "fsync " + name, Start: start, End: m.c.sim.Now()})
		}
		if err != nil {
			m.c.sim.Logf(string(m.addr), "fsync %s failed: %v", name, err)
		}
		m.call(func() {
			m.syncFailed = err != nil
			done(err)
		})
	})
}

// Failpoint is gofail in the simulation: a failpoint armed on this member
// by a fault counts its passes, and on its hit panics (the member dies
// there) or stalls the member's raft loop for its sleep.
func (e memberEnv) Failpoint(name string) time.Duration {
	m := e.m
	for i, fp := range m.failpoints {
		if fp.name != name {
			continue
		}
		if fp.passes++; fp.passes < fp.hit {
			continue
		}
		m.failpoints = append(m.failpoints[:i:i], m.failpoints[i+1:]...)
		c, rec := m.c, fp.firing.rec
		c.noteHit(rec, m.id)
		rec.Fired, rec.Start, rec.End = true, c.sim.Now(), c.sim.Now()+fp.sleep
		rec.Label = fmt.Sprintf("%d failpoint %s n%d", rec.Index, name, m.id)
		rec.Note = fmt.Sprintf("hit on pass %d", fp.passes)
		if fp.panics {
			c.sim.Logf("nemesis", "failpoint %s panics n%d", name, m.id)
			panic(injectedPanic{fmt.Sprintf("failpoint %s: panic (fault %d)", name, rec.Index), fp.restartAfter})
		}
		c.sim.Logf("nemesis", "failpoint %s stalls n%d's raft loop for %v", name, m.id, fp.sleep)
		epoch := m.epoch
		c.sim.After(fp.sleep, func() {
			if m.epoch == epoch {
				m.call(func() { m.node.Resume() })
			}
		})
		return fp.sleep
	}
	return 0
}

func (e memberEnv) Applied(index, digest uint64) {
	c := e.m.c
	if c.recordSpans {
		c.recordApply(e.m.id, index)
	}
	c.logViolations(c.raft.Applied(c.sim.Now(), e.m.id, index, digest))
}

// recordApply notes an entry applied, in one span with the entries the
// member applied at the same moment.
func (c *Cluster) recordApply(member, index uint64) {
	if n := len(c.spans); n > 0 && c.spans[n-1].Member == member && c.spans[n-1].Kind == "apply" && c.spans[n-1].End == c.sim.Now() {
		c.spans[n-1].Entries++
		return
	}
	c.spans = append(c.spans, Span{Member: member, Kind: "apply", Start: c.sim.Now(), End: c.sim.Now(), Entries: 1, Index: index})
}

func (e memberEnv) Logged(index, term, digest uint64) {
	c := e.m.c
	c.logViolations(c.raft.Logged(c.sim.Now(), e.m.id, index, term, digest))
}

func (e memberEnv) SnapshotInstalled(index, term, digest uint64) {
	c := e.m.c
	c.logViolations(c.raft.SnapshotInstalled(c.sim.Now(), e.m.id, index, term, digest))
}

// Now is the member's own clock.
func (e memberEnv) Now() time.Duration { return e.m.clock() }

func (e memberEnv) Logf(format string, args ...any) {
	e.m.c.sim.Logf(string(e.m.addr), format, args...)
}
