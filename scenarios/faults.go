package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdlab/etcdlab/network"
	"github.com/etcdlab/etcdlab/node"
)

// The fault model: every kind of fault a schedule may hold. Each kind says
// which parameters it takes, whom it hits by default, and what it does
// when it begins and when it ends.

// faultKind is one kind of fault.
type faultKind struct {
	name, doc string
	who       string    // the selector when the line gives none
	process   bool      // it hits processes, so only members that are up can be picked
	needFor   bool      // it needs for=: it is a window
	after     bool      // it may wait for a message (after=)
	cuts      bool      // it cuts routes between members, so cutting none is doing nothing
	takesOut  bool      // it takes the members it hits out of service (downtime counts it)
	onHit     bool      // it fires, and hits its member, only when the member reaches it (a failpoint)
	waits     bool      // with nobody to pick, it tries again every 500ms for its window (an operator waiting for the learner)
	newMember bool      // it picks nobody: its member is one it adds (who= is not taken)
	cluster   bool      // it picks nobody: an operator acts on the cluster (who= is not taken)
	one       bool      // it acts on one member: who= must pick one
	args      []argSpec // kind-specific parameters
	begin     func(*firing)
	end       func(*firing) // nil: nothing to undo
	check     func(Fault, Settings) error
	// outlast is how long the fault's effect can run past its window (a
	// failpoint's sleep, an fsync begun just before a slow disk heals).
	outlast func(Fault) time.Duration
}

type argSpec struct {
	key   string
	check argCheck
}

// FaultKinds lists the fault kinds, with what each does, for help texts.
func FaultKinds() [][2]string {
	out := make([][2]string, len(faultKinds))
	for i, k := range faultKinds {
		out[i] = [2]string{k.name, k.doc}
	}
	return out
}

var faultKinds = []faultKind{
	{name: "crash", who: "leader", process: true, after: true, takesOut: true,
		doc: "crash members (kill -9: unsynced writes lost, maybe a torn tail); for= restarts them after that long, else they stay down",
		begin: func(f *firing) {
			f.each(func(id uint64) {
				f.c.Crash(id)
				if f.For > 0 {
					f.c.restartAfter(id, f.For)
				}
			})
		}},
	{name: "churn", who: "follower", process: true, needFor: true, takesOut: true,
		doc:   "every every= crash one member picked anew, and restart it after down=",
		args:  []argSpec{{"every", isDuration}, {"down", isDuration}},
		begin: beginChurn,
		check: func(f Fault, _ Settings) error {
			every, down := argDuration(f.Args, "every", 0), argDuration(f.Args, "down", 0)
			// A member restarts at least 1ms after it started (its request
			// IDs begin at its start's millisecond), and each crash and
			// restart costs a log replay: churn is a matter of seconds.
			if down < time.Millisecond || every < 10*time.Millisecond || down >= every {
				return fmt.Errorf("churn needs every= of at least 10ms and down= of at least 1ms, shorter than every=; got every=%v down=%v", every, down)
			}
			return nil
		}},
	{name: "failpoint", who: "any", process: true, takesOut: true, onHit: true,
		doc:   "arm one of etcd's gofail failpoints (name=) on members: action=panic kills the member there, action=sleep(D) stalls its raft loop; on the hit=N-th pass; for= disarms it if not hit; restart-after= brings a panicked member back",
		args:  []argSpec{{"name", isFailpoint}, {"action", isFailpointAction}, {"hit", isPositiveInt}, {"restart-after", isDuration}},
		begin: beginFailpoint, end: endFailpoint,
		check: func(f Fault, _ Settings) error {
			if f.Arg("name") == "" || f.Arg("action") == "" {
				return fmt.Errorf("failpoint needs name= and action=")
			}
			if node.PanicOnly(f.Arg("name")) && f.Arg("action") != "panic" {
				return fmt.Errorf("failpoint %s is in the backend's commit, outside the raft loop: only action=panic is supported there, as etcd's robustness tests use it", f.Arg("name"))
			}
			return nil
		},
		outlast: func(f Fault) time.Duration {
			_, sleep, _ := failpointAction(f.Arg("action"))
			return sleep
		}},
	// isolate and partition do the same; the names say what is meant.
	{name: "isolate", who: "leader", needFor: true, after: true, cuts: true, takesOut: true,
		doc:   "cut members off from every other member (clients still reach them), as etcd's robustness tests blackhole peer traffic",
		begin: cutFromTheRest, end: (*firing).unblock},
	{name: "blackhole", who: "follower", needFor: true, cuts: true, takesOut: true,
		doc:   "isolate members until the rest of the cluster is more than snapshot-count + snapshot-catchup-entries revisions ahead of them, so the leader can only catch them up by snapshot, or for= at most: etcd's robustness blackholeUntilSnapshot",
		begin: beginBlackhole, end: (*firing).unblock},
	{name: "partition", who: "any", needFor: true, cuts: true, takesOut: true,
		doc:   "split members in two: those picked, and the rest",
		begin: cutFromTheRest, end: (*firing).unblock},
	{name: "one-way", who: "leader", needFor: true, cuts: true,
		doc:   "drop messages from the members picked to those to= picks, but not back",
		args:  []argSpec{{"to", nil}},
		begin: beginOneWay, end: (*firing).unblock,
		check: func(f Fault, s Settings) error {
			if f.Arg("to") == "" {
				return fmt.Errorf("one-way needs to=SELECTOR")
			}
			_, err := parseSelector(f.Arg("to"), s.Nodes)
			return err
		}},
	{name: "bridge", who: "any", needFor: true, cuts: true, takesOut: true,
		doc:   "split the other members in two halves that cannot reach each other, while the one member picked reaches both",
		begin: beginBridge, end: (*firing).unblock},
	{name: "link", who: "all", needFor: true,
		doc:   "degrade every link to and from the members picked: latency=, jitter=, drop=, duplicate=",
		args:  []argSpec{{"latency", isLinkDelay}, {"jitter", isLinkDelay}, {"drop", isRatio}, {"duplicate", isRatio}},
		begin: beginLink, end: endLink},
	{name: "pause", who: "leader", process: true, needFor: true, after: true, takesOut: true,
		doc:   "stop members' processes (a long GC, a stopped VM): ticks and inputs wait, messages queue",
		begin: func(f *firing) { f.each(func(id uint64) { f.c.member(id).pause(f.rec.End) }) }},
	{name: "member-add", needFor: true, newMember: true,
		doc:   "an operator adds a member (learner=true by default, as etcd advises; learner=false adds a voter) and starts it on an empty disk; for= is how long the operator keeps retrying",
		args:  []argSpec{{"learner", isBool}},
		begin: beginMemberAdd},
	{name: "member-promote", who: "learner", needFor: true, waits: true, one: true,
		doc:   "an operator promotes a learner to a voter (waiting for one to be up), retrying while the leader answers it is not ready (ErrLearnerNotReady)",
		begin: beginMemberPromote},
	{name: "member-remove", who: "follower", needFor: true, one: true,
		doc:   "an operator removes members (the leader too); a removed member stops",
		begin: beginMemberRemove},
	{name: "move-leader", who: "follower", needFor: true, one: true,
		doc:   "an operator moves leadership to the member picked (etcdctl move-leader)",
		begin: beginMoveLeader},
	{name: "recover-space", cluster: true, needFor: true,
		doc:   "an operator follows etcd's NOSPACE runbook: read the revision (Status), compact to it, defragment every member, disarm the alarm; for= is how long the operator keeps retrying each step",
		begin: beginRecoverSpace},
	{name: "cut-client", cluster: true, needFor: true,
		doc:   "cut one client off from every member, both ways (client=c2, w1 for a watcher, l1 for a lease holder): its requests get no answer, its leases stop being kept alive",
		args:  []argSpec{{"client", isClientAddr}},
		check: checkCutClient,
		// Members added while the cut lasts are not cut off from it.
		begin: func(f *firing) {
			client := network.Addr(argValue(f.Args, "client"))
			f.rec.Note = "cut " + string(client) + " off"
			for _, m := range f.c.members {
				f.c.net.Block(client, m.addr, f.Kind)
				f.c.net.Block(m.addr, client, f.Kind)
				f.cut = append(f.cut, m.addr)
			}
		},
		end: func(f *firing) {
			client := network.Addr(argValue(f.Args, "client"))
			for _, addr := range f.cut {
				f.c.net.Unblock(client, addr)
				f.c.net.Unblock(addr, client)
			}
			f.cut = nil
		}},
	{name: "clock", who: "any", process: true,
		doc:  "set members' clocks: rate= (1.5 ticks 50% fast) and a jump of offset=; for= puts the rate back",
		args: []argSpec{{"rate", isRate}, {"offset", isClockJump}},
		begin: func(f *firing) {
			rate, offset := argFloat(f.Args, "rate", 1), argDuration(f.Args, "offset", 0)
			f.each(func(id uint64) { f.c.member(id).setClock(rate, offset) })
		},
		end: func(f *firing) { f.each(func(id uint64) { f.c.member(id).setClock(1, 0) }) }},
	{name: "slow-fsync", who: "leader", process: true, needFor: true,
		doc:     "every fsync the members start takes delay= longer (past an election timeout, a slow disk causes elections)",
		args:    []argSpec{{"delay", isDiskDelay}},
		begin:   func(f *firing) { f.eachDisk(argDuration(f.Args, "delay", 0)) },
		end:     func(f *firing) { f.eachDisk(0) },
		outlast: func(f Fault) time.Duration { return argDuration(f.Args, "delay", 0) }},
	{name: "fsync-error", who: "any", process: true, takesOut: true,
		doc:  "the members' next count= fsyncs fail; etcd then exits (lg.Fatal), and restart-after= brings the member back",
		args: []argSpec{{"count", isPositiveInt}, {"restart-after", isDuration}},
		begin: func(f *firing) {
			n, restart := argInt(f.Args, "count", 1), argDuration(f.Args, "restart-after", 0)
			f.each(func(id uint64) { f.c.member(id).failSyncs(n, restart) })
		}},
}

func lookupFaultKind(name string) (faultKind, bool) {
	i := slices.IndexFunc(faultKinds, func(k faultKind) bool { return k.name == name })
	if i < 0 {
		return faultKind{}, false
	}
	return faultKinds[i], true
}

func faultKindNames() []string {
	names := make([]string, len(faultKinds))
	for i, k := range faultKinds {
		names[i] = k.name
	}
	return names
}

func (f Fault) validate(s Settings) error {
	k, ok := lookupFaultKind(f.Kind)
	switch {
	case !ok:
		return fmt.Errorf("unknown fault kind %q (known: %s)", f.Kind, strings.Join(faultKindNames(), ", "))
	case f.At < 0 || f.For < 0:
		return fmt.Errorf("at=%v and for=%v must not be negative", f.At, f.For)
	case f.At > s.Duration || f.For > s.Duration:
		return fmt.Errorf("at=%v for=%v: a fault must start and last within the run's duration %v", f.At, f.For, s.Duration)
	case k.needFor && f.For <= 0:
		return fmt.Errorf("%s needs for=DURATION: it is a window", f.Kind)
	case f.After != "" && !k.after:
		return fmt.Errorf("%s cannot wait for a message (after= is for crash, isolate and pause)", f.Kind)
	}
	if k.newMember && f.Who != "" {
		return fmt.Errorf("%s takes no who=: the member is a new one", f.Kind)
	}
	if k.cluster && f.Who != "" {
		return fmt.Errorf("%s takes no who=: it acts on the whole cluster", f.Kind)
	}
	sel, err := parseSelector(f.Who, s.Nodes)
	if err != nil && !k.newMember && !k.cluster {
		return fmt.Errorf("who=%s: %w", f.Who, err)
	}
	if k.one && (len(sel) != 1 || sel[0].role == "all" || sel[0].count != 1) {
		return fmt.Errorf("%s acts on one member: who=%s picks more (use leader, follower, learner, any or nN)", f.Kind, f.Who)
	}
	if f.After != "" {
		if _, err := parseTrigger(f.After); err != nil {
			return err
		}
	}
	for _, a := range f.Args {
		i := slices.IndexFunc(k.args, func(s argSpec) bool { return s.key == a.Key })
		if i < 0 {
			return fmt.Errorf("unknown parameter %q", a.Key)
		}
		if check := k.args[i].check; check != nil {
			if err := check(a.Value); err != nil {
				return fmt.Errorf("%s=: %w", a.Key, err)
			}
		}
	}
	if f.Kind == "link" && s.Link.Mode == network.Stream && argFloat(f.Args, "drop", 0) > 0.5 {
		return fmt.Errorf("drop=%s on the stream transport: TCP repairs loss by retransmitting, and a link losing more than half its packets is as good as cut; use a partition or isolate fault, or transport datagram", f.Arg("drop"))
	}
	if k.check != nil {
		return k.check(f, s)
	}
	return nil
}

func isFailpoint(v string) error {
	if !slices.Contains(node.Failpoints, v) {
		return fmt.Errorf("unknown failpoint %q (etcd's: %s)", v, strings.Join(node.Failpoints, ", "))
	}
	return nil
}

// failpointAction reads gofail's terms: "panic", or "sleep(D)".
func failpointAction(v string) (panics bool, sleep time.Duration, err error) {
	if v == "panic" {
		return true, 0, nil
	}
	if d, ok := strings.CutPrefix(v, "sleep("); ok && strings.HasSuffix(d, ")") {
		sleep, err := parseDuration(strings.TrimSuffix(d, ")"))
		if err == nil && sleep > 0 {
			return false, sleep, nil
		}
	}
	return false, 0, fmt.Errorf("%q is not a failpoint action: panic, or sleep(D) such as sleep(300ms)", v)
}

func isFailpointAction(v string) error { _, _, err := failpointAction(v); return err }

// A selector picks members when a fault fires: a comma-separated list of
// leader, follower, any, all and nN, where follower and any may take a
// count (follower:2). Picks never repeat a member.
type selector []selectorItem

type selectorItem struct {
	role  string // leader, follower, any, all, or "" for a member by id
	id    uint64
	count int
}

func parseSelector(s string, nodes int) (selector, error) {
	var sel selector
	for _, part := range strings.Split(s, ",") {
		name, count, hasCount := strings.Cut(part, ":")
		it := selectorItem{role: name, count: 1}
		if hasCount {
			n, err := strconv.Atoi(count)
			if name != "follower" && name != "any" {
				return nil, fmt.Errorf("%q: only follower and any take a count, such as follower:2", part)
			}
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%q: the count must be a whole number of at least 1", part)
			}
			it.count = n
		}
		switch {
		case name == "leader", name == "follower", name == "any", name == "all", name == "learner":
		case strings.HasPrefix(name, "n"):
			id, err := strconv.ParseUint(name[1:], 10, 64)
			if err != nil || id < 1 || id > uint64(nodes) {
				return nil, fmt.Errorf("%q: members are n1..n%d", name, nodes)
			}
			it.role, it.id = "", id
		default:
			return nil, fmt.Errorf("%q is not leader, follower, learner, any, all or a member such as n2", part)
		}
		sel = append(sel, it)
	}
	return sel, nil
}

// trigger is an after= condition: a message a member sends or receives.
type trigger struct {
	sent    bool
	msgType raftpb.MessageType
	granted bool // only a vote that grants (a MsgVoteResp without Reject)
}

func parseTrigger(s string) (trigger, error) {
	if s == "granted-vote" {
		return trigger{sent: true, msgType: raftpb.MessageType_MsgVoteResp, granted: true}, nil
	}
	dir, typ, ok := strings.Cut(s, ":")
	if t, known := raftpb.MessageType_value[typ]; ok && known && (dir == "sent" || dir == "received") {
		return trigger{sent: dir == "sent", msgType: raftpb.MessageType(t)}, nil
	}
	return trigger{}, fmt.Errorf("after=%s: use sent:TYPE or received:TYPE with a raft message type (MsgApp, MsgVote, MsgVoteResp, MsgHeartbeat, ...), or granted-vote", s)
}

// matches reports whether a message a member sent (or received) is the
// one the trigger waits for.
func (t trigger) matches(msg *raftpb.Message, sent bool) bool {
	return t.sent == sent && msg.GetType() == t.msgType && !(t.granted && msg.GetReject())
}

// firing is a fault as it runs: its record, whom it hit, and what it must
// undo. Its selector and trigger are read once, when it is scheduled:
// a trigger is checked against every message an armed fault sees.
type firing struct {
	Fault
	c       *Cluster
	kind    faultKind
	who     selector
	trigger trigger
	rec     *FaultRecord
	targets []uint64
	blocked [][2]uint64        // routes it blocked
	cut     []network.Addr     // members a cut-client fault cut its client off from
	routes  map[[2]uint64]bool // routes a link fault degraded
}

func (f *firing) each(fn func(id uint64)) {
	for _, id := range f.targets {
		fn(id)
	}
}

func (f *firing) eachDisk(extra time.Duration) {
	f.each(func(id uint64) { f.c.member(id).disk.SetExtraFsyncLatency(extra) })
}

func (f *firing) blockPeers(from, to []uint64) {
	for _, a := range from {
		for _, b := range to {
			f.blockRoute(a, b)
			f.blockRoute(b, a)
		}
	}
}

func (f *firing) blockRoute(a, b uint64) {
	f.c.net.Block(nodeAddr(a), nodeAddr(b), f.Kind)
	f.blocked = append(f.blocked, [2]uint64{a, b})
}

func (f *firing) unblock() {
	for _, r := range f.blocked {
		f.c.net.Unblock(nodeAddr(r[0]), nodeAddr(r[1]))
	}
	f.blocked = nil
}

func cutFromTheRest(f *firing) { f.blockPeers(f.targets, f.c.others(f.targets)) }

// beginBlackhole cuts the members off, then checks every 100ms, as etcd's
// waitTillSnapshot does, whether the others are far enough ahead that
// the leader has compacted what the cut-off members lack; then it ends.
func beginBlackhole(f *firing) {
	cutFromTheRest(f)
	c := f.c
	// Saturating: a sum past int64 means "never", not a wrapped small
	// number.
	ahead := int64(math.MaxInt64)
	if sum := c.settings.Member.SnapshotCount + c.settings.Member.SnapshotCatchUpEntries; sum >= c.settings.Member.SnapshotCount && sum <= math.MaxInt64 {
		ahead = int64(sum)
	}
	var poll func()
	poll = func() {
		if len(f.blocked) == 0 {
			return // ended at for=
		}
		behind, rest := c.maxRev(f.targets), c.maxRev(c.others(f.targets))
		if rest-behind > ahead {
			c.sim.Logf("nemesis", "end fault %d: blackhole: the others are at revision %d, %s at %d, more than %d behind",
				f.rec.Index, rest, MemberList(f.targets), behind, ahead)
			f.unblock()
			f.rec.End = c.sim.Now()
			f.rec.Note = fmt.Sprintf("ended when the others were %d revisions ahead", rest-behind)
			return
		}
		c.sim.After(100*time.Millisecond, poll)
	}
	c.sim.After(100*time.Millisecond, poll)
}

// maxRev is the highest store revision among the members that are up.
func (c *Cluster) maxRev(ids []uint64) int64 {
	var rev int64
	for _, id := range ids {
		if m := c.member(id); m.up {
			rev = max(rev, m.node.Status().Rev)
		}
	}
	return rev
}

func beginOneWay(f *firing) {
	sel, _ := parseSelector(f.Arg("to"), f.c.settings.Nodes)
	to := f.c.pick(sel, false, f.targets)
	for _, a := range f.targets {
		for _, b := range to {
			f.blockRoute(a, b)
		}
	}
	f.rec.Note = "to " + MemberList(to)
}

func beginBridge(f *firing) {
	rest := f.c.others(f.targets)
	left, right := rest[:len(rest)/2], rest[len(rest)/2:]
	f.blockPeers(left, right)
	f.rec.Note = fmt.Sprintf("%s | %s", MemberList(left), MemberList(right))
}

func beginLink(f *firing) {
	f.routes = map[[2]uint64]bool{}
	set := func(a, b uint64) {
		if f.routes[[2]uint64{a, b}] {
			return
		}
		f.routes[[2]uint64{a, b}] = true
		l := f.c.routeLink(a, b)
		l.Latency = argDuration(f.Args, "latency", l.Latency)
		l.Jitter = argDuration(f.Args, "jitter", l.Jitter)
		l.DropRate = argFloat(f.Args, "drop", l.DropRate)
		l.DuplicateRate = argFloat(f.Args, "duplicate", l.DuplicateRate)
		f.c.net.SetRoute(nodeAddr(a), nodeAddr(b), l)
	}
	for _, a := range f.targets {
		for _, m := range f.c.members {
			if m.id != a {
				set(a, m.id)
				set(m.id, a)
			}
		}
	}
}

// endLink puts back the links the settings give the routes it degraded.
// Two link faults on one route overlap badly: the first to end restores
// the settings' link under the second.
func endLink(f *firing) {
	for _, m := range f.c.members {
		for _, o := range f.c.members {
			if !f.routes[[2]uint64{m.id, o.id}] {
				continue
			}
			if f.c.route(m.id, o.id) != nil {
				f.c.net.SetRoute(nodeAddr(m.id), nodeAddr(o.id), f.c.routeLink(m.id, o.id))
			} else {
				f.c.net.ClearRoute(nodeAddr(m.id), nodeAddr(o.id))
			}
		}
	}
}

func beginChurn(f *firing) {
	every, down := argDuration(f.Args, "every", 0), argDuration(f.Args, "down", 0)
	var step func()
	step = func() {
		if f.c.sim.Now()+down > f.End() {
			return
		}
		for _, id := range f.c.pick(f.who, true, nil) {
			f.c.noteHit(f.rec, id)
			f.c.Crash(id)
			f.c.restartAfter(id, down)
		}
		f.c.sim.After(every, step)
	}
	step()
}

func beginFailpoint(f *firing) {
	panics, sleep, _ := failpointAction(f.Arg("action"))
	for _, id := range f.targets {
		f.c.member(id).failpoints = append(f.c.member(id).failpoints, &armedFailpoint{
			firing: f, name: f.Arg("name"), panics: panics, sleep: sleep,
			hit: argInt(f.Args, "hit", 1), restartAfter: argDuration(f.Args, "restart-after", 0),
		})
	}
	f.rec.Note = fmt.Sprintf("armed on %s, never hit", MemberList(f.targets))
}

func endFailpoint(f *firing) {
	for _, m := range f.c.members {
		m.failpoints = slices.DeleteFunc(m.failpoints, func(a *armedFailpoint) bool { return a.firing == f })
	}
}

// armedFailpoint is a failpoint waiting on one member for its hit.
type armedFailpoint struct {
	firing       *firing
	name         string
	panics       bool
	sleep        time.Duration
	hit, passes  int
	restartAfter time.Duration
}

// checkCutClient: the client named must exist in the run.
func checkCutClient(f Fault, s Settings) error {
	v := argValue(f.Args, "client")
	if v == "" {
		return fmt.Errorf("cut-client needs client= (c1..c%d, w1..w%d, l1..l%d)", s.Clients, s.Watchers, s.LeaseHolders)
	}
	n, _ := strconv.Atoi(v[1:])
	max := map[byte]int{'c': s.Clients, 'w': s.Watchers, 'l': s.LeaseHolders}[v[0]]
	if n < 1 || n > max {
		return fmt.Errorf("cut-client client=%s: the run has clients c1..c%d, watchers w1..w%d and lease holders l1..l%d", v, s.Clients, s.Watchers, s.LeaseHolders)
	}
	return nil
}

// injectedPanic is a panic a fault caused on purpose: the member dies,
// which is what the fault is for, not a failure of the run.
type injectedPanic struct {
	msg          string
	restartAfter time.Duration // when to bring the member back; 0 never
}

func (p injectedPanic) String() string { return p.msg }

// MemberList names members as reports do: n1,n3, or nobody.
func MemberList(ids []uint64) string {
	if len(ids) == 0 {
		return "nobody"
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("n%d", id)
	}
	return strings.Join(parts, ",")
}
