package node

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdlab/etcdlab/node/api"
	"github.com/etcdlab/etcdlab/node/backend"
	"github.com/etcdlab/etcdlab/node/snap"
	"github.com/etcdlab/etcdlab/node/wal"
)

// TestInteraction runs the scripts in testdata/, the way raft's own
// interaction tests run theirs: each directive drives the cluster of
// node_test.go and prints what a reader learns from it, which must match
// the expected output below the directive. After a deliberate change to
// the node, run
//
//	go test ./node -run TestInteraction -rewrite
//
// and read the diff of testdata/ before you keep it.
//
// The commands (member IDs are the first, bare arguments):
//
//	add-nodes 3 [snapshot-count=20 catchup=5 segment=1024 max-wals=1 max-snapshots=1 batch-limit=10000]
//	    start members 1..3 of a new cluster, with small files (smallFiles)
//	    unless the options say otherwise, and settle their bootstrap
//	campaign 1            member 1 campaigns (no messages move until settle)
//	tick 1 [n=10]         member 1's clock moves one heartbeat interval (n times)
//	settle                deliver messages, complete fsyncs, until nothing moves
//	put 1 k=v [n=30]      write k=v through member 1 and settle; with n, write
//	                      k1..k30 one after another, each settled
//	get 2 k               a linearizable read of k through member 2, settled
//	commit-backend [2]    the backend's batch interval passes on member 2 (or
//	                      all): it commits its pending writes (CommitTick)
//	partition 3 [2]       drop every raft message and snapshot to or from them
//	heal                  end the partition
//	crash 2               member 2 stops: its disk keeps only durable bytes
//	restart 2             member 2 starts again from what its disk kept
//	files 2               member 2's data directory, and what of it is durable
//	status                each member's raft, store and backend state; a
//	                      learner's role is "learner", a removed member
//	                      that stopped says so
//	deliver-snapshots [drop]
//	                      hand the queued merged snapshots to their followers
//	                      (or fail every transfer): snapshots wait in a queue
//	                      until this command, so a script can look at them
//	failpoint 3 applyBeforeOpenSnapshot
//	                      member 3's raft loop sleeps at that failpoint, each
//	                      time it gets there in this life (gofail's sleep)
//	resume 3              the sleep is over: member 3 carries on
//	bugs 3 skip-consistent-index
//	                      turn on deliberate bugs (bugs.go) in member 3, for
//	                      this life and the ones after a restart
//
// Membership, as an operator drives it with etcdctl (the requests go as
// client "admin", settled, and the answer is printed: an error, or the
// members, a learner marked "(learner)"):
//
//	member-add 1 id=4 [learner]
//	                      ask member 1 to add member 4 (as a learner)
//	join 4                start member 4 on an empty disk with Join, as etcd
//	                      --initial-cluster-state=existing, its peers the
//	                      members running and itself; settle
//	member-promote 1 id=4 ask member 1 to promote learner 4
//	member-remove 1 id=2  ask member 1 to remove member 2
//	member-list 2         ask member 2 who the members are
//	move-leader 1 to=3    ask member 1 to hand leadership to member 3; member
//	                      1's clock moves until the answer comes (at most 20
//	                      heartbeat intervals), then who leads is printed
//
// A member that applies its own removal stops, as etcd's does; so does a
// removed member whose messages a peer rejects (rafthttp answers them with
// 410 Gone). Either way the member is out of the script from then on.
//
// Under each command come the lines of the nodes' logs that tell what
// their storage did (interesting), the harness's notes (a member asleep
// at a failpoint, replies that arrive late), then the command's own
// output. To see every log line while you write a script, run with
// INTERACTION_ALL=1 (and without -rewrite, or the lines land in the file).
func TestInteraction(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		it := &interaction{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return it.handle(t, d)
		})
	})
}

// interaction is a script's state: the cluster, and what of it has been
// shown.
type interaction struct {
	c     *cluster
	out   strings.Builder
	lines []logLine // node log lines and notes, in order; not yet shown
	// seen is how many of each env's events were looked at for file
	// removals and renames; starting is the env of a member Restart is
	// bringing back, not yet in the cluster.
	seen     map[*testEnv]int
	starting *testEnv
	crashed  map[uint64]map[string][]byte // what a crashed member's disk kept
	asleep   map[uint64]string            // members asleep at a failpoint, by failpoint
	reqID    uint64
	pending  map[uint64]string // requests not yet answered, by ID: what they were
	replies  map[string]int    // replies to each client already taken
	// adjust is the cluster's config settings, for members that join;
	// stopped are the members that stopped because they were removed,
	// with why.
	adjust  func(*Config)
	stopped map[uint64]string
}

// harnessEnv is the env a member of a script sees: the testEnv, with a
// transport that knows which peers are down and tells the script when a
// peer rejects a removed member.
type harnessEnv struct {
	*testEnv
	it *interaction
}

// PeerActive: as the testEnv's, and a peer that crashed or stopped has
// no stream up either.
func (e harnessEnv) PeerActive(id uint64) bool {
	if pe, ok := e.c.envs[id]; ok && pe.down {
		return false
	}
	return e.testEnv.PeerActive(id)
}

// RejectRemoved: rafthttp answers a removed member's streams with 410
// Gone, and the removed member stops when it hears it.
func (e harnessEnv) RejectRemoved(from uint64) {
	e.testEnv.RejectRemoved(from)
	if _, ok := e.it.stopped[from]; ok {
		return
	}
	e.it.notef("n%d rejects a message from n%d: n%d was removed from the cluster", e.id, from, from)
	e.it.stop(from, "a peer told it that it was removed")
}

func (it *interaction) env(e *testEnv) Env { return harnessEnv{testEnv: e, it: it} }

// stop takes member id out of the script: it was removed, and its process
// exits, its files as they are.
func (it *interaction) stop(id uint64, why string) {
	e := it.c.envs[id]
	e.down, e.sleeping = true, false
	delete(it.asleep, id)
	it.stopped[id] = why
	it.notef("n%d stops: %s", id, why)
}

// catchRemoved stops the members that applied their own removal.
func (it *interaction) catchRemoved() {
	for _, id := range it.c.ids() {
		if _, ok := it.stopped[id]; !ok && it.c.envs[id].removed {
			it.stop(id, "it applied its own removal")
		}
	}
}

type logLine struct {
	text string
	note bool // the harness's own: always shown
}

// logTB takes the nodes' log lines (testEnv.Logf writes each to the
// cluster's testing.TB as "n<id>: <line>") and keeps them in order.
type logTB struct {
	testing.TB
	it *interaction
}

func (l logTB) Logf(format string, args ...any) {
	l.it.scanEvents() // what the env did before this line, first
	l.it.lines = append(l.it.lines, logLine{text: fmt.Sprintf(format, args...)})
	l.TB.Logf(format, args...)
}

// scanEvents notes the files the members removed, renamed or truncated
// since the last look: etcd logs its purges, and the rest is what a
// reader of a script should not miss.
func (it *interaction) scanEvents() {
	if it.c == nil {
		return
	}
	envs := make([]*testEnv, 0, len(it.c.envs)+1)
	for _, id := range it.c.ids() {
		envs = append(envs, it.c.envs[id])
	}
	if it.starting != nil {
		envs = append(envs, it.starting)
	}
	for _, e := range envs {
		for _, ev := range e.events[min(it.seen[e], len(e.events)):] {
			op, args, _ := strings.Cut(ev, " ")
			switch op {
			case "remove":
				it.notef("n%d: removed %s", e.id, args)
			case "truncate":
				it.notef("n%d: truncated %s", e.id, args)
			case "rename":
				from, to, _ := strings.Cut(args, " ")
				it.notef("n%d: renamed %s to %s", e.id, from, to)
			}
		}
		it.seen[e] = len(e.events)
	}
}

func (it *interaction) notef(format string, args ...any) {
	it.lines = append(it.lines, logLine{text: fmt.Sprintf(format, args...), note: true})
}

// interesting reports whether a node's log line is worth a place in a
// script: what the member did with its snapshots, WAL segments and
// backend, its restarts, and anything that went wrong. Of raft's own
// lines only its warnings, a new leader and a restored snapshot are kept:
// its chatter about votes and probes would drown the story.
func interesting(line string) bool {
	_, text, _ := strings.Cut(line, ": ")
	if raftLine, ok := strings.CutPrefix(text, "raft: "); ok {
		return strings.Contains(raftLine, "became leader") ||
			strings.Contains(raftLine, "lastindex") && strings.Contains(raftLine, "restored snapshot")
	}
	for _, s := range []string{
		"snapshot", "restarted", "WAL segment", "recovered", "fatal", "warning", "panic", "error",
	} {
		if strings.Contains(text, s) {
			return true
		}
	}
	for _, s := range interestingMembership {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// interestingMembership are the node's lines about membership changes.
var interestingMembership = []string{
	"joining the existing cluster", "permanently removed", "rejecting", "leadership transfer",
}

const (
	client = "client"
	admin  = "admin" // membership requests come from the operator's etcdctl
)

var showAll = os.Getenv("INTERACTION_ALL") != ""

func (it *interaction) handle(t *testing.T, d *datadriven.TestData) (output string) {
	it.out.Reset()
	defer func() {
		if r := recover(); r != nil {
			it.flush()
			fmt.Fprintf(&it.out, "panic: %v\n", r)
			output = it.out.String()
		}
	}()
	var cmdOut strings.Builder
	if d.Cmd != "add-nodes" && it.c == nil {
		d.Fatalf(t, "add-nodes first")
	}
	switch d.Cmd {
	case "add-nodes":
		it.addNodes(t, d)
	case "campaign":
		for _, id := range it.ids(t, d) {
			n := it.node(t, d, id)
			if err := n.rn.Campaign(); err != nil {
				fmt.Fprintf(&cmdOut, "n%d: %v\n", id, err)
			}
			n.process()
		}
	case "tick":
		times := it.intArg(t, d, "n", 1)
		for _, id := range it.ids(t, d) {
			for range times {
				it.node(t, d, id).Tick()
			}
		}
	case "settle":
		it.settle()
	case "put":
		it.put(t, d, &cmdOut)
	case "get":
		it.get(t, d, &cmdOut)
	case "commit-backend":
		ids := it.ids(t, d)
		if len(ids) == 0 {
			ids = it.up()
		}
		for _, id := range ids {
			it.node(t, d, id).CommitTick()
		}
	case "partition":
		cut := it.ids(t, d)
		it.c.drop = func(m *raftpb.Message) bool {
			return slices.Contains(cut, m.GetFrom()) || slices.Contains(cut, m.GetTo())
		}
	case "heal":
		it.c.drop = nil
	case "crash":
		for _, id := range it.ids(t, d) {
			it.node(t, d, id)
			it.crashed[id] = it.c.crash(id)
			delete(it.asleep, id)
			it.describeCrash(&cmdOut, id)
		}
	case "restart":
		for _, id := range it.ids(t, d) {
			files, ok := it.crashed[id]
			if !ok {
				d.Fatalf(t, "n%d has not crashed", id)
			}
			delete(it.crashed, id)
			it.c.clock += time.Second // a restart takes a while
			if err := it.restart(id, files); err != nil {
				fmt.Fprintf(&cmdOut, "n%d: %v\n", id, err)
				it.crashed[id] = files
			}
		}
	case "files":
		for _, id := range it.ids(t, d) {
			it.files(&cmdOut, id)
		}
	case "status":
		it.status(&cmdOut)
	case "deliver-snapshots":
		it.deliverSnapshots(d, &cmdOut)
	case "failpoint":
		ids := it.ids(t, d)
		var names []string
		for _, a := range d.CmdArgs[len(ids):] {
			if !slices.Contains(Failpoints, a.Key) || PanicOnly(a.Key) {
				d.Fatalf(t, "%s is not a failpoint that can sleep", a.Key)
			}
			names = append(names, a.Key)
		}
		for _, id := range ids {
			it.node(t, d, id)
			e := it.c.envs[id]
			if e.sleeps == nil {
				e.sleeps = map[string]time.Duration{}
			}
			for _, name := range names {
				e.sleeps[name] = time.Second
			}
		}
	case "bugs":
		ids := it.ids(t, d)
		var names []string
		for _, a := range d.CmdArgs[len(ids):] {
			names = append(names, a.Key)
		}
		for _, id := range ids {
			if err := it.c.nodes[id].cfg.Bugs.Set(strings.Join(names, ",")); err != nil {
				d.Fatalf(t, "%v", err)
			}
		}
	case "member-add":
		var add api.MemberAddRequest
		add.ID, add.IsLearner = it.uintArg(t, d, "id"), d.HasArg("learner")
		what := fmt.Sprintf("member-add %d", add.ID)
		if add.IsLearner {
			what += " (learner)"
		}
		it.admin(t, d, &cmdOut, what, &api.Request{MemberAdd: &add})
	case "member-promote":
		id := it.uintArg(t, d, "id")
		it.admin(t, d, &cmdOut, fmt.Sprintf("member-promote %d", id), &api.Request{MemberPromote: &api.MemberPromoteRequest{ID: id}})
	case "member-remove":
		id := it.uintArg(t, d, "id")
		it.admin(t, d, &cmdOut, fmt.Sprintf("member-remove %d", id), &api.Request{MemberRemove: &api.MemberRemoveRequest{ID: id}})
	case "member-list":
		it.admin(t, d, &cmdOut, "member-list", &api.Request{MemberList: &api.MemberListRequest{}})
	case "move-leader":
		it.moveLeader(t, d, &cmdOut)
	case "join":
		it.join(t, d, &cmdOut)
	case "resume":
		for _, id := range it.ids(t, d) {
			if _, ok := it.asleep[id]; !ok {
				d.Fatalf(t, "n%d is not asleep", id)
			}
			delete(it.asleep, id)
			it.node(t, d, id).Resume()
		}
	default:
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	it.catchSleepers()
	it.catchRemoved()
	it.scanEvents()
	it.lateReplies()
	it.flush()
	it.out.WriteString(cmdOut.String())
	if it.out.Len() == 0 {
		return "ok"
	}
	return it.out.String()
}

// flush shows the log lines and notes gathered since the last command.
func (it *interaction) flush() {
	for _, l := range it.lines {
		if l.note || interesting(l.text) || showAll {
			it.out.WriteString(l.text + "\n")
		}
	}
	it.lines = nil
}

func (it *interaction) addNodes(t *testing.T, d *datadriven.TestData) {
	if it.c != nil {
		d.Fatalf(t, "the cluster is already there")
	}
	count, err := strconv.Atoi(d.CmdArgs[0].Key)
	if err != nil || count < 1 {
		d.Fatalf(t, "add-nodes <count>: %s", d.CmdArgs[0].Key)
	}
	var ids []uint64
	for id := range uint64(count) {
		ids = append(ids, id+1)
	}
	adjust := func(cfg *Config) {
		smallFiles(cfg)
		cfg.SnapshotCount = uint64(it.intArg(t, d, "snapshot-count", int(cfg.SnapshotCount)))
		cfg.SnapshotCatchUpEntries = uint64(it.intArg(t, d, "catchup", int(cfg.SnapshotCatchUpEntries)))
		cfg.WALSegmentSize = it.intArg(t, d, "segment", cfg.WALSegmentSize)
		cfg.MaxWALs = it.intArg(t, d, "max-wals", cfg.MaxWALs)
		cfg.MaxSnapshots = it.intArg(t, d, "max-snapshots", cfg.MaxSnapshots)
		cfg.BackendBatchLimit = it.intArg(t, d, "batch-limit", cfg.BackendBatchLimit)
	}
	it.crashed, it.asleep, it.pending = map[uint64]map[string][]byte{}, map[uint64]string{}, map[uint64]string{}
	it.seen, it.replies, it.stopped = map[*testEnv]int{}, map[string]int{}, map[uint64]string{}
	it.adjust = adjust
	// newClusterWith's cluster, its members on harness envs.
	c := &cluster{t: logTB{TB: t, it: it}, nodes: map[uint64]*Node{}, envs: map[uint64]*testEnv{}, replies: map[string][]*api.Response{}}
	for _, id := range ids {
		cfg := DefaultConfig(id, ids)
		adjust(&cfg)
		c.envs[id] = newTestEnv(c, id, nil)
		n, err := New(cfg, it.env(c.envs[id]))
		if err != nil {
			d.Fatalf(t, "%v", err)
		}
		c.nodes[id] = n
	}
	it.c = c
	// Snapshots wait for deliver-snapshots, so a script sees them go.
	it.c.holdSnaps = true
	it.settle() // the bootstrap's first fsyncs
}

// restart is the cluster's tryRestart, with the new env in sight of
// scanEvents while Restart reads the data directory.
func (it *interaction) restart(id uint64, files map[string][]byte) error {
	env := newTestEnv(it.c, id, files)
	it.starting = env
	defer func() { it.starting = nil }()
	n, err := Restart(it.c.nodes[id].cfg, it.env(env))
	if err != nil {
		return err
	}
	it.c.nodes[id], it.c.envs[id] = n, env
	return nil
}

// ids are the command's bare numeric arguments: the members it acts on.
func (it *interaction) ids(t *testing.T, d *datadriven.TestData) []uint64 {
	var ids []uint64
	for _, a := range d.CmdArgs {
		if len(a.Vals) > 0 {
			continue
		}
		id, err := strconv.ParseUint(a.Key, 10, 64)
		if err != nil {
			break // the member IDs come first
		}
		if it.c != nil {
			if _, ok := it.c.nodes[id]; !ok {
				d.Fatalf(t, "no member %d", id)
			}
		}
		ids = append(ids, id)
	}
	return ids
}

// node is member id, which must be up.
func (it *interaction) node(t *testing.T, d *datadriven.TestData, id uint64) *Node {
	if why, ok := it.stopped[id]; ok {
		d.Fatalf(t, "n%d has stopped: %s", id, why)
	}
	if it.c.envs[id].down {
		d.Fatalf(t, "n%d is down", id)
	}
	return it.c.nodes[id]
}

// uintArg is the value of key=<n>, which the command must have.
func (it *interaction) uintArg(t *testing.T, d *datadriven.TestData, key string) uint64 {
	if !d.HasArg(key) {
		d.Fatalf(t, "%s needs %s=<member>", d.Cmd, key)
	}
	var v uint64
	d.ScanArgs(t, key, &v)
	return v
}

func (it *interaction) intArg(t *testing.T, d *datadriven.TestData, key string, def int) int {
	if !d.HasArg(key) {
		return def
	}
	var v int
	d.ScanArgs(t, key, &v)
	return v
}

// up lists the members that are up.
func (it *interaction) up() []uint64 {
	var ids []uint64
	for _, id := range it.c.ids() {
		if !it.c.envs[id].down {
			ids = append(ids, id)
		}
	}
	return ids
}

// settle is the cluster's settle, except that a member whose raft loop
// falls asleep at a failpoint stays asleep until resume.
func (it *interaction) settle() {
	it.c.settleUntil(func() bool {
		it.catchSleepers()
		it.catchRemoved()
		it.scanEvents()
		return false
	})
}

// catchSleepers takes the members that just fell asleep at a failpoint
// out of the harness's hands (it would wake them at once).
func (it *interaction) catchSleepers() {
	for _, id := range it.c.ids() {
		e := it.c.envs[id]
		if !e.sleeping {
			continue
		}
		e.sleeping = false
		fp := ""
		for _, ev := range slices.Backward(e.events) {
			if name, ok := strings.CutPrefix(ev, "failpoint "); ok {
				fp = name
				break
			}
		}
		it.asleep[id] = fp
		it.notef("n%d: asleep at failpoint %s", id, fp)
	}
}

// request sends a client request to member via and returns its ID.
func (it *interaction) request(via uint64, what string, r *api.Request) uint64 {
	return it.requestAs(client, via, what, r)
}

func (it *interaction) requestAs(from string, via uint64, what string, r *api.Request) uint64 {
	it.reqID++
	r.ID = it.reqID
	it.pending[r.ID] = what
	it.c.nodes[via].Request(from, r)
	return r.ID
}

// takeReplies returns the replies to "client" that arrived since the last
// call.
func (it *interaction) takeReplies() []*api.Response { return it.takeRepliesOf(client) }

func (it *interaction) takeRepliesOf(to string) []*api.Response {
	all := it.c.replies[to]
	got := all[it.replies[to]:]
	it.replies[to] = len(all)
	for _, r := range got {
		delete(it.pending, r.ID)
	}
	return got
}

// lateReplies notes replies to requests of earlier commands.
func (it *interaction) lateReplies() {
	for _, to := range []string{client, admin} {
		for _, r := range it.c.replies[to][it.replies[to]:] {
			it.notef("reply to %s: %s", it.pending[r.ID], it.describe(r))
		}
		it.takeRepliesOf(to)
	}
}

func describeReply(r *api.Response) string {
	switch {
	case r.Err != nil:
		return "error: " + r.Err.Error()
	case r.Range != nil:
		if len(r.Range.Kvs) == 0 {
			return fmt.Sprintf("not found, at revision %d", r.Header.Revision)
		}
		kv := r.Range.Kvs[0]
		return fmt.Sprintf("%s=%s (modified at revision %d, version %d), at revision %d",
			kv.Key, kv.Value, kv.ModRevision, kv.Version, r.Header.Revision)
	case r.Members != nil:
		return describeMembers(r.Members.Members)
	default:
		return fmt.Sprintf("ok, revision %d", r.Header.Revision)
	}
}

func (it *interaction) put(t *testing.T, d *datadriven.TestData, out *strings.Builder) {
	ids := it.ids(t, d)
	if len(ids) != 1 {
		d.Fatalf(t, "put <member> k=v [n=...]")
	}
	via := it.node(t, d, ids[0])
	var key, value string
	for _, a := range d.CmdArgs[1:] {
		if a.Key != "n" && len(a.Vals) == 1 {
			key, value = a.Key, a.Vals[0]
		}
	}
	if key == "" {
		d.Fatalf(t, "put <member> k=v [n=...]")
	}
	if !d.HasArg("n") {
		it.request(via.cfg.ID, fmt.Sprintf("put %s=%s", key, value), &api.Request{Put: putReq(key, value)})
		it.settleAndPrintReplies(out)
		return
	}
	count := it.intArg(t, d, "n", 1)
	var ok, failed int
	var revs []int64
	for i := range count {
		k := fmt.Sprintf("%s%d", key, i+1)
		it.request(via.cfg.ID, fmt.Sprintf("put %s=%s", k, value), &api.Request{Put: putReq(k, value)})
		it.settle()
		for _, r := range it.takeReplies() {
			if r.Err != nil {
				failed++
				continue
			}
			ok++
			revs = append(revs, r.Header.Revision)
		}
	}
	fmt.Fprintf(out, "%s1..%s%d: %d ok", key, key, count, ok)
	if len(revs) > 0 {
		fmt.Fprintf(out, ", revisions %d..%d", slices.Min(revs), slices.Max(revs))
	}
	if failed > 0 {
		fmt.Fprintf(out, ", %d failed", failed)
	}
	if unanswered := count - ok - failed; unanswered > 0 {
		fmt.Fprintf(out, ", %d not answered yet", unanswered)
	}
	fmt.Fprintln(out)
}

func (it *interaction) get(t *testing.T, d *datadriven.TestData, out *strings.Builder) {
	ids := it.ids(t, d)
	if len(ids) != 1 || len(d.CmdArgs) != 2 {
		d.Fatalf(t, "get <member> <key>")
	}
	key := d.CmdArgs[1].Key
	it.request(it.node(t, d, ids[0]).cfg.ID, "get "+key, &api.Request{Range: rangeReq(key)})
	it.settleAndPrintReplies(out)
}

// settleAndPrintReplies settles and prints the clients' replies, or that
// none came.
func (it *interaction) settleAndPrintReplies(out *strings.Builder) {
	it.settle()
	replies := it.takeReplies()
	if len(replies) == 0 {
		fmt.Fprintln(out, "no reply yet")
	}
	for _, r := range replies {
		fmt.Fprintln(out, describeReply(r))
	}
}

// describeCrash tells what a crash lost: the bytes of each file that were
// not durable.
func (it *interaction) describeCrash(out *strings.Builder, id uint64) {
	e := it.c.envs[id]
	lost := false
	for _, name := range e.List() {
		f := e.files[name]
		switch {
		case f.durable == nil:
			fmt.Fprintf(out, "n%d lost %s: never synced\n", id, name)
		case len(f.durable) != len(f.data) || string(f.durable) != string(f.data):
			fmt.Fprintf(out, "n%d lost %s: %d bytes durable of %d\n", id, name, len(f.durable), len(f.data))
		default:
			continue
		}
		lost = true
	}
	if !lost {
		fmt.Fprintf(out, "n%d: everything was durable\n", id)
	}
}

// files lists a member's data directory: each file's size, how much of
// it is durable, what a backend file says it holds; then the snapshots
// its WAL records.
func (it *interaction) files(out *strings.Builder, id uint64) {
	e := it.c.envs[id]
	width := 0
	for _, name := range e.List() {
		width = max(width, len(name))
	}
	for _, name := range e.List() {
		f := e.files[name]
		var notes []string
		switch {
		case f.durable == nil:
			notes = append(notes, "never synced")
		case string(f.durable) == string(f.data):
			notes = append(notes, "durable")
		default:
			notes = append(notes, fmt.Sprintf("%d durable", len(f.durable)))
		}
		if name == backend.Path || strings.HasSuffix(name, ".snap.db") {
			notes = append(notes, "consistent index "+consistentIndex(f.data))
			if f.durable != nil && string(f.durable) != string(f.data) {
				notes = append(notes, "durable: "+consistentIndex(f.durable))
			}
		}
		fmt.Fprintf(out, "%-*s %6d bytes, %s\n", width, name, len(f.data), strings.Join(notes, ", "))
	}
	snaps, err := wal.ValidSnapshotEntries(envDir{e})
	if err != nil {
		fmt.Fprintf(out, "WAL: %v\n", err)
		return
	}
	var idx []string
	for _, s := range snaps {
		idx = append(idx, strconv.FormatUint(s.GetIndex(), 10))
	}
	fmt.Fprintf(out, "WAL snapshot records: %s\n", strings.Join(idx, ", "))
}

func consistentIndex(b []byte) string {
	m, _, err := backend.Decode(b)
	if err != nil {
		return err.Error()
	}
	return strconv.FormatUint(m.ConsistentIndex, 10)
}

// status prints each member's state: its raft role, term and indexes, its
// store's revision, the span of raft's in-memory log, and the consistent
// index of its backend (what a restart would skip to). A learner shows as
// such once raft's configuration says it is one; under the leader, raft's
// progress marks it "learner" too.
func (it *interaction) status(out *strings.Builder) {
	for _, id := range it.c.ids() {
		if why, ok := it.stopped[id]; ok {
			fmt.Fprintf(out, "n%d: removed, stopped (%s)\n", id, why)
			continue
		}
		if it.c.envs[id].down {
			fmt.Fprintf(out, "n%d: down\n", id)
			continue
		}
		n := it.c.nodes[id]
		st := n.Status()
		first, _ := n.storage.FirstIndex()
		last, _ := n.storage.LastIndex()
		role := strings.ToLower(strings.TrimPrefix(st.Role.String(), "State"))
		if st.Learner {
			role = "learner" // raft's follower that does not vote
		}
		fmt.Fprintf(out, "n%d: %-9s term=%d commit=%d applied=%d rev=%d log=%d..%d backend=%d",
			id, role, st.Term, st.Commit, st.Applied, st.Rev, first, last, n.backend.consistentIndex)
		if fp, ok := it.asleep[id]; ok {
			fmt.Fprintf(out, " (asleep at %s)", fp)
		}
		fmt.Fprintln(out)
		if st.Role == raft.StateLeader {
			// How the leader replicates to each follower: raft's progress.
			pr := n.rn.Status().Progress
			for _, peer := range slices.Sorted(maps.Keys(pr)) {
				if peer != id {
					p := pr[peer]
					fmt.Fprintf(out, "    n%d: %s\n", peer, p.String())
				}
			}
		}
	}
}

// deliverSnapshots ends every queued snapshot transfer: delivered (the
// follower saves the db as <index>.snap.db and steps the message), or
// failed, with drop, a partition or a follower that is down. The leader
// hears how each ended.
func (it *interaction) deliverSnapshots(d *datadriven.TestData, out *strings.Builder) {
	drop := d.HasArg("drop")
	snaps := it.c.snaps
	it.c.snaps = nil
	if len(snaps) == 0 {
		fmt.Fprintln(out, "no snapshot queued")
	}
	for _, s := range snaps {
		from, to := s.m.GetFrom(), s.m.GetTo()
		md := s.m.GetSnapshot().GetMetadata()
		e := it.c.envs[to]
		// The note comes first: what the follower does with it follows.
		switch {
		case drop:
			it.notef("n%d -> n%d: snapshot at index %d: the transfer fails", from, to, md.GetIndex())
		case e.down || it.c.drop != nil && it.c.drop(s.m):
			it.notef("n%d -> n%d: snapshot at index %d: n%d cannot be reached, the transfer fails", from, to, md.GetIndex(), to)
		default:
			it.notef("n%d -> n%d: snapshot at index %d with %d bytes of db, saved as %s",
				from, to, md.GetIndex(), len(s.db), snapDir+snap.DBName(md.GetIndex()))
		}
		it.c.deliverSnap(s, !drop)
		it.catchSleepers()
		it.scanEvents()
	}
}

// describe is describeReply, knowing what the request was: MoveLeader is
// answered with an empty member response.
func (it *interaction) describe(r *api.Response) string {
	if r.Err == nil && strings.HasPrefix(it.pending[r.ID], "move-leader") {
		return "ok"
	}
	return describeReply(r)
}

func describeMembers(ms []api.Member) string {
	if len(ms) == 0 {
		return "no members known"
	}
	var out []string
	for _, m := range ms {
		if m.IsLearner {
			out = append(out, fmt.Sprintf("n%d(learner)", m.ID))
		} else {
			out = append(out, fmt.Sprintf("n%d", m.ID))
		}
	}
	return strings.Join(out, " ")
}

// admin sends the command's member a membership request as client
// "admin", settles, and prints the answer; answers to earlier requests
// that arrive meanwhile are noted as late.
func (it *interaction) admin(t *testing.T, d *datadriven.TestData, out *strings.Builder, what string, req *api.Request) uint64 {
	ids := it.ids(t, d)
	if len(ids) != 1 {
		d.Fatalf(t, "%s <member> ...", d.Cmd)
	}
	id := it.requestAs(admin, it.node(t, d, ids[0]).cfg.ID, what, req)
	it.settle()
	it.printAnswer(out, id)
	return id
}

// printAnswer prints the answer to admin request id, if it came, and notes
// the other admin replies that came.
func (it *interaction) printAnswer(out *strings.Builder, id uint64) (answered bool) {
	for _, r := range it.c.replies[admin][it.replies[admin]:] {
		if r.ID == id {
			answered = true
			fmt.Fprintln(out, it.describe(r))
			continue
		}
		it.notef("reply to %s: %s", it.pending[r.ID], it.describe(r))
	}
	it.takeRepliesOf(admin)
	if !answered {
		fmt.Fprintln(out, "no reply yet")
	}
	return answered
}

// moveLeader asks a member to hand leadership over. The answer comes on
// the asked member's tick once the target leads (etcd's MoveLeader polls
// every tick), so its clock moves until then.
func (it *interaction) moveLeader(t *testing.T, d *datadriven.TestData, out *strings.Builder) {
	ids := it.ids(t, d)
	if len(ids) != 1 {
		d.Fatalf(t, "move-leader <member> to=<member>")
	}
	via := it.node(t, d, ids[0])
	target := it.uintArg(t, d, "to")
	id := it.requestAs(admin, via.cfg.ID, fmt.Sprintf("move-leader to %d", target), &api.Request{MoveLeader: &api.MoveLeaderRequest{TargetID: target}})
	it.settle()
	answered := func() bool {
		return slices.ContainsFunc(it.c.replies[admin][it.replies[admin]:], func(r *api.Response) bool { return r.ID == id })
	}
	ticks := 0
	for ; ticks < 20 && !answered() && !it.c.envs[via.cfg.ID].down; ticks++ {
		via.Tick()
		it.settle()
	}
	switch {
	case ticks == 1:
		fmt.Fprintf(out, "after 1 tick of n%d: ", via.cfg.ID)
	case ticks > 1:
		fmt.Fprintf(out, "after %d ticks of n%d: ", ticks, via.cfg.ID)
	}
	it.printAnswer(out, id)
	var leaders []string
	for _, m := range it.up() {
		if st := it.c.nodes[m].Status(); st.Role == raft.StateLeader {
			leaders = append(leaders, fmt.Sprintf("n%d leads term %d", m, st.Term))
		}
	}
	if len(leaders) == 0 {
		leaders = append(leaders, "no leader")
	}
	fmt.Fprintln(out, strings.Join(leaders, ", "))
}

// join starts a member that member-add added, on an empty disk: its peers
// are the members running and itself, as etcdctl member add prints them
// for its --initial-cluster.
func (it *interaction) join(t *testing.T, d *datadriven.TestData, out *strings.Builder) {
	if len(d.CmdArgs) != 1 {
		d.Fatalf(t, "join <member>")
	}
	id, err := strconv.ParseUint(d.CmdArgs[0].Key, 10, 64)
	if err != nil {
		d.Fatalf(t, "join <member>: %s", d.CmdArgs[0].Key)
	}
	if _, ok := it.c.nodes[id]; ok {
		d.Fatalf(t, "n%d exists already", id)
	}
	peers := []uint64{id}
	for _, m := range it.c.ids() {
		if _, ok := it.stopped[m]; !ok {
			peers = append(peers, m)
		}
	}
	slices.Sort(peers)
	cfg := DefaultConfig(id, peers)
	it.adjust(&cfg)
	env := newTestEnv(it.c, id, nil)
	it.starting = env
	n, err := Join(cfg, it.env(env))
	it.starting = nil
	if err != nil {
		fmt.Fprintf(out, "n%d: %v\n", id, err)
		return
	}
	it.c.nodes[id], it.c.envs[id] = n, env
	it.settle()
}
