// Package node is an etcd-style member: a raft.RawNode, the Ready loop of
// etcd's server, a write-ahead log and a key-value state machine, behind
// etcd's client API.
//
// The node is sans-IO, like raft itself. Its inputs are the methods below
// (Tick, Step, Request, CommitTick, ReportSnapshot, Resume, AdjustTicks,
// and the completions of the syncs it asks for); its outputs go
// through Env (messages, client replies, files, failpoints). It has
// no goroutines and no clock of its own, so the simulation can drive it
// event by event, and a real process could drive it with timers, sockets
// and files without changing a line here.
package node

import (
	"cmp"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdlab/etcdlab/node/api"
	"github.com/etcdlab/etcdlab/node/backend"
	"github.com/etcdlab/etcdlab/node/compactor"
	"github.com/etcdlab/etcdlab/node/lease"
	"github.com/etcdlab/etcdlab/node/mvcc"
	"github.com/etcdlab/etcdlab/node/txn"
	"github.com/etcdlab/etcdlab/node/wal"
	"github.com/etcdlab/etcdlab/node/watch"
)

// Env is the node's world.
type Env interface {
	// Send hands a raft message to the transport for delivery to m.To.
	Send(m *raftpb.Message)
	// SendSnapshot sends a follower a snapshot with the backend db that
	// goes with it, as rafthttp's snapshot sender streams them. The
	// receiving side saves db as member/snap/<index>.snap.db (synced)
	// before it steps m into its node; the sending side reports how the
	// transfer ended with Node.ReportSnapshot.
	SendSnapshot(m *raftpb.Message, db []byte)
	// Reply answers the client request that arrived from `to`.
	Reply(to string, resp *api.Response)

	// The member's data directory, laid out as etcd's (storage.go). Writes
	// are visible at once but survive a crash only once a sync of the
	// file completes; Remove and Rename are durable at once.
	Append(name string, b []byte)
	WriteFile(name string, b []byte) // replaces the file's content; the node never changes b afterwards
	// Sync starts an fsync of the file; the environment calls done when
	// it completes, as an input to the node, with the error if it failed.
	// A crash first means done is never called.
	Sync(name string, done func(err error))
	Truncate(name string, size int)
	Remove(name string)
	Rename(from, to string)
	ReadFile(name string) ([]byte, bool)
	List() []string // every file's name, sorted

	// Applied reports that the entry at index was applied to the state
	// machine; digest is chained over entries 1..index (Status.Digest).
	// Logged reports an entry now in the member's durable raft log, with
	// the same digest chained over the log. SnapshotInstalled reports that
	// the state machine and the log now start from a snapshot (received,
	// or read back at a restart) at index, with that digest. Checkers use
	// all three; a real process may ignore them.
	Applied(index, digest uint64)
	// Proposed reports that the client's request reqID went into raft as
	// the entry whose InternalRaftRequest has the server's request ID id.
	Proposed(reqID, id uint64)
	// AppliedWrite reports that a raft entry's InternalRaftRequest was
	// applied here, with the response its client got or would have got
	// (its header's revision is the store's after it) and the events it
	// made. Checkers use it to settle writes whose clients never learnt
	// the outcome, and as the truth watchers and leases are held to; a
	// real process may ignore it.
	AppliedWrite(r *pb.InternalRaftRequest, resp *api.Response, events []*mvccpb.Event)
	Logged(index, term, digest uint64)
	SnapshotInstalled(index, term, digest uint64)
	// PeerActive reports whether the transport's streams to the peer are
	// up (rafthttp's ActiveSince): the health that --strict-reconfig-check
	// asks of a membership change.
	PeerActive(id uint64) bool
	// Removed says that this member applied its own removal from the
	// cluster: etcd stops the server a second later.
	Removed()
	// RejectRemoved answers a raft message from a member this one knows
	// was removed, as rafthttp answers its streams with 410 Gone: the
	// removed member stops then, even if it never applied its removal.
	RejectRemoved(from uint64)
	// Failpoint is called at each of etcd's gofail failpoints (the names
	// in Failpoints, in the places etcd has them). It returns 0 to go on,
	// or a sleep: the member's raft loop stops at that point for that
	// long, and the environment calls Node.Resume when the sleep is over.
	// A "panic" action is the environment panicking inside this call (the
	// member dies there, as gofail's panic does).
	Failpoint(name string) (sleep time.Duration)
	// Logf writes a line of the node's log; raft's own log comes here too.
	Logf(format string, args ...any)
	// Now is the time on the member's clock. Request IDs start from it,
	// so between two starts of one member it must move forward by at
	// least a millisecond (a real process takes longer than that to
	// start); the lessor measures leases' TTLs with it and the watch hub
	// its progress notifications, so a clock running fast or slow changes
	// when leases expire, as it does in etcd.
	Now() time.Duration
}

// Node is one member.
type Node struct {
	cfg     Config
	env     Env
	rn      *raft.RawNode
	storage *raft.MemoryStorage
	store   *mvcc.Store
	lessor  *lease.Lessor
	watch   *watch.Hub
	// watchStreams are the clients' watch streams open on this member.
	watchStreams map[watch.StreamID]bool
	// alarms are the raised alarms (the backend's alarm bucket).
	alarms []backend.Alarm
	// blockedRenews are keep-alives waiting on an expired lease: see renew.
	blockedRenews []uint64
	// compactions are the compactions scheduled, the first one running
	// (etcd's FIFO scheduler): see compactBatch.
	compactions []*mvcc.Compaction
	// compactor is the auto-compactor (nil when off); autoCompact the
	// compaction it asked for, in flight until applied or timed out.
	compactor   compactor.Compactor
	autoCompact struct {
		id, deadline uint64
		rev          int64
	}

	role    raft.StateType
	leader  uint64
	applied uint64
	digest  uint64 // chained over every applied entry: see chainDigest
	ticks   uint64

	wal     walWriter
	backend backendState
	snap    snapState
	// The log's chained digests (for Env.Logged): logChain[i] is the
	// digest of the log up to index logBase+i. It starts at an index whose
	// digest is known (applied, or the snapshot the log starts from) and
	// is trimmed as entries are applied.
	logBase  uint64
	logChain []uint64
	logged   uint64 // the last index reported to Logged
	// confReplies are answers to applied membership changes, sent once
	// raft is told the Ready is done (advance).
	confReplies []reply
	// removed are the members removed from the cluster; transfers the
	// MoveLeader requests waiting for their target to lead.
	removed   map[uint64]bool
	transfers []uint64
	// toApply are committed entries held back by a failpoint's sleep
	// before a membership change (confFailpointPassed: the first of them
	// has passed it).
	toApply             []*raftpb.Entry
	confFailpointPassed bool

	// ready is the Ready being worked through (nil between Readys), next
	// the index of its next step in readySteps, and stalled what it waits
	// for before that step: see process.
	ready   *raft.Ready
	next    int
	stalled stall
	// tickMissed is a raft tick that came while the Ready was stalled: in
	// etcd the ticker and the Ready share one loop, so a loop blocked in
	// an fsync or a failpoint's sleep does not tick raft, and the ticker's
	// one-slot channel keeps a single tick for when it is free again.
	tickMissed bool

	nextID uint64 // request IDs: see firstRequestID
	// clusterID is etcd's cluster ID, in every response header.
	clusterID uint64
	requests  map[uint64]*request // by proposal ID: waiting to be applied or read
	queue     []uint64            // proposal IDs in arrival order, for timeouts
	held      []uint64            // writes not yet proposed, in arrival order: see proposeHeld
	reads     []uint64            // linearizable reads not yet served, in arrival order
	// The ReadIndex round in flight: its context (0 if none) and the tick
	// it was last asked at.
	readRound, readAsked uint64
}

type reply struct {
	to   string
	resp *api.Response
}

// request is a client request in flight inside the server.
type request struct {
	from      string
	req       *api.Request
	deadline  uint64 // tick by which it must be answered
	batch     uint64 // for reads: the ReadIndex round it waits on, 0 until one is asked
	readIndex uint64 // for reads: the index that round returned, 0 until then
}

// New starts a member of a new cluster on an empty data directory. Like
// etcd's first start, it bootstraps the log with one configuration entry
// per peer.
func New(cfg Config, env Env) (*Node, error) {
	n, err := newNode(cfg, env, raft.NewMemoryStorage(), database{})
	if err != nil {
		return nil, err
	}
	n.bootstrap()
	peers := make([]raft.Peer, len(cfg.Peers))
	for i, id := range cfg.Peers {
		peers[i] = raft.Peer{ID: id}
	}
	if err := n.rn.Bootstrap(peers); err != nil {
		return nil, fmt.Errorf("member %d: bootstrap: %w", cfg.ID, err)
	}
	n.process()
	return n, nil
}

// Restart brings a member back from its data directory after a crash, as
// etcd v3.7 does (recoverDir): the newest snapshot its WAL records, the
// backend with the store, then the WAL after the snapshot. The entries the
// backend's consistent index says it holds are not applied again. A torn
// last WAL record is cut off; corruption anywhere else, or a backend that
// does not match the snapshot, is an error, since the node would otherwise
// forget writes it had acknowledged.
func Restart(cfg Config, env Env) (*Node, error) {
	if neverStarted(env) {
		// No WAL, or only the start of one that a crash tore before its
		// first record was synced (etcd creates it in a temporary
		// directory and renames it into place, so there it would not be
		// there at all): the member never voted nor acknowledged anything,
		// and starts as it would have the first time.
		for _, name := range env.List() {
			env.Remove(name)
		}
		if cfg.InitialClusterState == ClusterStateExisting {
			return Join(cfg, env)
		}
		return New(cfg, env)
	}
	r, err := recoverDir(env, envDir{env})
	if err != nil {
		return nil, fmt.Errorf("member %d: restart: %w", cfg.ID, err)
	}
	c := r.log
	if c.Valid < c.Size {
		env.Truncate(c.Last().Name, c.Valid)
	}
	snapIndex, snapTerm := r.snapshot.GetIndex(), r.snapshot.GetTerm()
	last := snapIndex
	if len(c.Entries) > 0 {
		last = c.Entries[len(c.Entries)-1].GetIndex()
	}
	if c.State.GetCommit() > last {
		// raft would panic; etcd refuses to start from such a WAL too.
		return nil, fmt.Errorf("member %d: restart: the log's hard state commits index %d but its entries end at %d: committed entries were lost",
			cfg.ID, c.State.GetCommit(), last)
	}
	storage := raft.NewMemoryStorage()
	if r.snapshot != nil && snapIndex > 0 {
		if err := storage.ApplySnapshot(&raftpb.Snapshot{Metadata: r.snapshot}); err != nil {
			return nil, fmt.Errorf("member %d: restart: %w", cfg.ID, err)
		}
	}
	if err := storage.Append(c.Entries); err != nil {
		return nil, fmt.Errorf("member %d: restart: %w", cfg.ID, err)
	}
	if c.State != nil {
		if err := storage.SetHardState(c.State); err != nil {
			return nil, fmt.Errorf("member %d: restart: %w", cfg.ID, err)
		}
	}
	n, err := newNode(cfg, env, storage, r.database)
	if err != nil {
		return nil, err
	}
	n.wal = walWriter{segments: c.Segments, released: c.First, size: c.Valid, lastIdx: last, state: c.State}
	n.applied, n.snap.appliedTerm, n.snap.confState = snapIndex, snapTerm, r.snapshot.GetConfState()
	n.snap.diskIndex, n.snap.memoryIndex = snapIndex, snapIndex
	// The store is as of the backend's consistent index: entries up to it
	// are skipped when raft hands them over again (SkipConsistentIndex
	// applies them a second time).
	n.backend.consistentIndex, n.backend.disk = r.meta.ConsistentIndex, r.meta
	n.digest = r.meta.Digest
	for _, id := range r.meta.Removed {
		n.removed[id] = true
	}
	if r.meta.ConsistentIndex < snapIndex {
		n.digest = 0 // "consistent index was never saved": nothing to chain from
	}
	n.logBase, n.logChain = max(snapIndex, r.meta.ConsistentIndex), []uint64{n.digest}
	n.logged = n.logBase
	if ci := r.meta.ConsistentIndex; ci >= snapIndex && ci <= last {
		// The log holds the backend's consistent index, whose digest the
		// backend kept: the checkers' view of this log starts there.
		// (Otherwise it starts with the next entry logged.)
		env.SnapshotInstalled(ci, r.meta.Term, n.digest)
	}
	n.logEntries(c.Entries)
	n.resumeCompaction()
	env.Logf("restarted: snapshot %d, backend consistent index %d, %d WAL entries after the snapshot, %s, %d torn bytes cut",
		snapIndex, r.meta.ConsistentIndex, len(c.Entries), raft.DescribeHardState(c.State), c.Size-c.Valid)
	n.process()
	return n, nil
}

// neverStarted reports whether the data directory holds no WAL: no
// segment, or only a first one without its whole first record.
func neverStarted(env Env) bool {
	segs, err := wal.Segments(envDir{env})
	switch {
	case err != nil:
		return false // let recoverDir report it
	case len(segs) == 0:
		return true
	case len(segs) > 1 || segs[0].Seq != 0:
		return false
	}
	_, err = wal.ReadAll(envDir{env}, wal.Ref{})
	return errors.Is(err, wal.ErrSnapshotNotFound)
}

func newNode(cfg Config, env Env, storage *raft.MemoryStorage, db database) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if db.store == nil {
		db.store = mvcc.NewStore()
	}
	rn, err := raft.NewRawNode(&raft.Config{
		ID:              cfg.ID,
		ElectionTick:    cfg.electionTicks(),
		HeartbeatTick:   1,
		Storage:         storage,
		MaxSizePerMsg:   cfg.MaxSizePerMsg,
		MaxInflightMsgs: cfg.MaxInflightMsgs,
		CheckQuorum:     cfg.CheckQuorum,
		PreVote:         cfg.PreVote,
		ReadOnlyOption:  raft.ReadOnlySafe,
		Logger:          raftLogger{env},
	})
	if err != nil {
		return nil, fmt.Errorf("member %d: %w", cfg.ID, err)
	}
	n := &Node{
		cfg:          cfg,
		env:          env,
		rn:           rn,
		storage:      storage,
		requests:     map[uint64]*request{},
		removed:      map[uint64]bool{},
		watchStreams: map[watch.StreamID]bool{},
		nextID:       firstRequestID(cfg.ID, env.Now()),
		clusterID:    cmp.Or(cfg.ClusterID, ClusterID(cfg.Peers)),
	}
	n.watch = newWatchHub(n)
	n.compactor, _ = compactor.New(cfg.AutoCompactionMode, cfg.AutoCompactionRetention) // Validate checked it
	if err := n.install(db); err != nil {
		return nil, fmt.Errorf("member %d: lease bucket: %w", cfg.ID, err)
	}
	return n, nil
}

// Tick advances the node's logical clock by one heartbeat interval. Request
// deadlines and ReadIndex retries live outside etcd's raft loop and go on
// while it is stalled; raft's own tick waits for the loop (tickMissed).
func (n *Node) Tick() {
	n.ticks++
	if n.stalled == notStalled {
		n.rn.Tick()
	} else {
		n.tickMissed = true
	}
	n.expireRequests()
	n.leaseLoop()
	n.watchLoop()
	n.autoCompaction()
	n.retryReadIndex()
	n.checkLeaderTransfers()
	n.releaseSnapshots()
	n.process()
}

// The driver of a starting member calls AdjustTicks every
// AdjustTicksInterval until it returns true, for up to ConnReadTimeout, as
// etcd's adjustTicks polls its transport (server/etcdserver/server.go;
// ConnReadTimeout is rafthttp's).
const (
	AdjustTicksInterval = 50 * time.Millisecond
	ConnReadTimeout     = 5 * time.Second
)

// AdjustTicks is etcd's initial election tick advance
// (EtcdServer.adjustTicks), given the number of peers the transport has
// active connections to. A member alone in its cluster fast-forwards all
// but one election tick: nobody else can lead. Otherwise, with the flag
// on, it waits until more than one peer is connected (etcd's test,
// peerN > 1) and fast-forwards all but two, leaving a leader's first
// heartbeat time to arrive before the member campaigns. It returns
// whether it is done: false means poll again.
func (n *Node) AdjustTicks(activePeers int) (done bool) {
	election := n.cfg.electionTicks()
	switch {
	case n.memberCount() == 1:
		n.env.Logf("started as single-node; fast-forwarding election ticks: forward-ticks=%d election-ticks=%d",
			election-1, election)
		n.advanceTicks(election - 1)
		return true
	case !n.cfg.InitialElectionTickAdvance:
		n.env.Logf("skipping initial election tick advance: election-ticks=%d", election)
		return true
	case activePeers > 1:
		n.env.Logf("initialized peer connections; fast-forwarding election ticks: forward-ticks=%d election-ticks=%d active-remote-members=%d",
			election-2, election, activePeers)
		n.advanceTicks(election - 2)
		return true
	}
	return false
}

// advanceTicks ticks raft, and only raft, as etcd's raftNode.advanceTicks
// does: the request timeouts run on the member's own clock.
func (n *Node) advanceTicks(ticks int) {
	for range ticks {
		n.rn.Tick()
	}
	n.process()
}

// memberCount counts the cluster's members as raft knows them (etcd counts
// its cluster's members, learners included); before raft knows any, the
// initial cluster.
func (n *Node) memberCount() int {
	cfg := n.rn.Status().Config
	if m := len(cfg.Voters.IDs()) + len(cfg.Learners); m > 0 {
		return m
	}
	return len(n.cfg.Peers)
}

// Step hands the node a raft message from a peer.
func (n *Node) Step(m *raftpb.Message) {
	if n.removed[m.GetFrom()] {
		n.env.RejectRemoved(m.GetFrom())
		return
	}
	// Errors here are messages raft ignores by design (a response from an
	// unknown peer, a local message type from the wire): nothing to do.
	_ = n.rn.Step(m)
	n.process()
}

// Request hands the node a client request that arrived from `from`.
func (n *Node) Request(from string, req *api.Request) {
	if err := n.refuse(req); err != nil {
		n.reply(from, &api.Response{ID: req.ID, Err: err})
		n.process()
		return
	}
	switch {
	case req.Range != nil, req.Txn != nil && txn.IsTxnReadonly(req.Txn):
		n.handleRead(from, req)
	case req.Put != nil, req.DeleteRange != nil, req.Txn != nil, req.Compact != nil:
		n.handleWrite(from, req)
	case req.LeaseGrant != nil, req.LeaseRevoke != nil, req.LeaseKeepAlive != nil,
		req.LeaseTimeToLive != nil, req.LeaseLeases != nil:
		n.handleLease(from, req)
	case req.Watch != nil:
		n.handleWatch(from, req)
	case req.Status != nil, req.HashKV != nil, req.Defragment != nil, req.Alarm != nil:
		n.handleMaintenance(from, req)
	case req.MemberAdd != nil, req.MemberRemove != nil, req.MemberPromote != nil, req.MemberList != nil, req.MoveLeader != nil:
		n.handleMembership(from, req)
	default:
		n.reply(from, &api.Response{ID: req.ID, Err: api.ErrBadRequest})
	}
	n.process()
}

// refuse is what etcd's gRPC layer refuses before the server sees a
// request, in etcd's order: the interceptor's RPCs a learner does not
// serve, then the quota (quotaKVServer wraps the KV server, so a write
// past the quota is refused before it is validated), then malformed KV
// requests (v3rpc/key.go).
func (n *Node) refuse(req *api.Request) error {
	// etcd's isRPCSupportedForLearner: Status and serializable Range.
	learnerOK := req.Range.GetSerializable() || req.Status != nil
	switch {
	case n.isLearner() && !learnerOK:
		return api.ErrNotSupportedForLearner
	case !n.quotaAvailable(req):
		return api.ErrNoSpace
	case req.Range != nil:
		return txn.CheckRangeRequest(req.Range)
	case req.Put != nil:
		return txn.CheckPutRequest(req.Put)
	case req.DeleteRange != nil:
		return txn.CheckDeleteRequest(req.DeleteRange)
	case req.Txn != nil:
		return txn.CheckTxnRequest(req.Txn, n.cfg.MaxTxnOps)
	}
	return nil
}

// synced is the Ready loop's fsync completing. A failed fsync is fatal,
// as in etcd's raft loop (server/etcdserver/raft.go, raftNode.start, where
// storage.Save's error goes to lg.Fatal): the WAL can no longer promise
// what the member acknowledges, so it dies.
func (n *Node) synced(err error) {
	if n.stalled != stalledOnSync {
		panic(fmt.Sprintf("member %d: a sync completed that the raft loop was not waiting for", n.cfg.ID))
	}
	if err != nil {
		n.env.Logf("fatal: failed to save Raft hard state and entries: %v", err)
		panic(fmt.Sprintf("member %d: failed to save Raft hard state and entries: %v", n.cfg.ID, err))
	}
	n.unstall()
}

// Resume tells the node that a failpoint's sleep is over: its raft loop
// carries on from where it stopped.
func (n *Node) Resume() {
	if n.stalled != stalledAtFailpoint {
		panic(fmt.Sprintf("member %d: Resume without a failpoint sleep", n.cfg.ID))
	}
	n.unstall()
}

// unstall carries on with the stalled Ready, then gives raft the tick it
// missed, as etcd's loop takes the tick waiting in its ticker's channel.
func (n *Node) unstall() {
	n.stalled = notStalled
	n.process()
	if n.tickMissed && n.stalled == notStalled {
		n.tickMissed = false
		n.rn.Tick()
		n.process()
	}
}

// Status is what a member reports about itself.
type Status struct {
	ID      uint64
	Role    raft.StateType
	Term    uint64
	Leader  uint64
	Commit  uint64
	Applied uint64
	Digest  uint64 // of the entries applied, 1..Applied: equal on members that applied the same
	Rev     int64
	// LogEntries is how many entries raft's in-memory log holds: what
	// compaction keeps bounded.
	LogEntries uint64
	Learner    bool // raft's configuration has this member as a learner
}

// Status reports the member's raft and store state.
func (n *Node) Status() Status {
	st := n.rn.BasicStatus()
	first, _ := n.storage.FirstIndex()
	last, _ := n.storage.LastIndex()
	return Status{ID: n.cfg.ID, Role: st.RaftState, Term: st.GetTerm(), Leader: st.Lead,
		Commit: st.GetCommit(), Applied: n.applied, Digest: n.digest, Rev: n.store.Rev(),
		LogEntries: last + 1 - first, Learner: n.isLearner()}
}

// isLearner reads the conf state the member last applied, which is
// raft's configuration: raft.RawNode.Status would copy every progress,
// and this runs for every request and every Status.
func (n *Node) isLearner() bool {
	return slices.Contains(n.snap.confState.GetLearners(), n.cfg.ID)
}

// Hash is a digest of the applied state, equal on members that applied
// the same entries.
func (n *Node) Hash() string { return n.store.Hash() }

func (n *Node) header() *pb.ResponseHeader {
	return &pb.ResponseHeader{ClusterId: n.clusterID, MemberId: n.cfg.ID, Revision: n.store.Rev(), RaftTerm: n.rn.BasicStatus().GetTerm()}
}

// ClusterID is etcd's cluster ID (membership.RaftCluster.genID): the
// first 8 bytes of the SHA-1 of the initial members' IDs, sorted.
func ClusterID(peers []uint64) uint64 {
	ids := slices.Sorted(slices.Values(peers))
	b := make([]byte, 0, 8*len(ids))
	for _, id := range ids {
		b = binary.BigEndian.AppendUint64(b, id)
	}
	sum := sha1.Sum(b)
	return binary.BigEndian.Uint64(sum[:8])
}

// firstRequestID is where a member's request IDs start, as in etcd's
// idutil.Generator: the member ID in the top 16 bits, the clock in
// milliseconds in the next 40, a counter in the low 8 that carries into
// the time bits. A restarted member starts at a later millisecond, so it
// does not reuse the ID of a request its past life proposed, which may
// still be applied and would answer the wrong client. Like etcd's, this
// holds while a life uses fewer than 256 IDs per millisecond it lived.
func firstRequestID(member uint64, now time.Duration) uint64 {
	const timeBits, counterBits = 40, 8
	ms := uint64(now/time.Millisecond) & (1<<timeBits - 1)
	return (member&0xffff)<<(timeBits+counterBits) | ms<<counterBits
}

func (n *Node) newProposalID() uint64 {
	n.nextID++
	return n.nextID
}
