package scenarios

import (
	"fmt"
	"slices"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/network"
	"github.com/etcdlab/etcdlab/node"
)

// The nemesis: the fault schedule as it runs, and what a scenario written
// in Go may do to the cluster and ask of it.

// FaultRecord is what became of one scheduled fault: whether it fired,
// when, whom it hit, and whether it caught the leader.
type FaultRecord struct {
	Index int   // its place in the schedule, from 1
	Fault Fault // as scheduled
	Label string
	Fired bool
	// Start and End are when it was in force; equal for a fault with no
	// duration, such as a crash that is never undone.
	Start, End time.Duration
	Targets    []uint64 // the members it hit
	Leader     uint64   // the leader it hit, if it hit one
	LeaderTerm uint64   // the term that leader led
	Note       string   // what else happened, or why it never fired
	// Done is when an operator's request (member-add, member-promote,
	// member-remove, move-leader) succeeded; zero if it did not.
	Done time.Duration
}

// Hit names the fault and whom it hit, as reports and charts print it:
// "crash n2", or "recover-space" for an operator's fault on the cluster.
func (f FaultRecord) Hit() string {
	if len(f.Targets) == 0 {
		return f.Fault.Kind
	}
	return f.Fault.Kind + " " + MemberList(f.Targets)
}

// schedule puts every fault of the experiment on the simulation.
func (c *Cluster) schedule(faults []Fault) {
	for i, f := range faults {
		// The experiment was validated: kind, selector and trigger parse.
		k, _ := lookupFaultKind(f.Kind)
		fi := &firing{Fault: f, c: c, kind: k}
		fi.who, _ = parseSelector(f.Who, c.settings.Nodes)
		if f.After != "" {
			fi.trigger, _ = parseTrigger(f.After)
		}
		fi.rec = &FaultRecord{Index: i + 1, Fault: f, Label: fmt.Sprintf("%d %s", i+1, f.Kind)}
		c.faults = append(c.faults, fi.rec)
		c.sim.At(f.At, func() {
			if f.After == "" {
				c.fire(fi, nil)
				return
			}
			c.sim.Logf("nemesis", "fault %d armed: %s on %s", fi.rec.Index, f.Kind, f.After)
			fi.rec.Note = "armed; its message never came"
			c.triggers = append(c.triggers, fi)
			c.sim.At(f.At+ArmedFor, func() {
				c.triggers = slices.DeleteFunc(c.triggers, func(t *firing) bool { return t == fi })
			})
		})
	}
}

// fire begins a fault on the members its selector picks now, or on
// target when a message triggered it.
func (c *Cluster) fire(f *firing, target *member) {
	switch {
	case target != nil:
		f.targets = []uint64{target.id}
	case f.kind.newMember, f.kind.cluster:
		c.sim.Logf("nemesis", "begin fault %d: %s", f.rec.Index, f.Fault)
		f.rec.Fired, f.rec.Start, f.rec.End = true, c.sim.Now(), c.sim.Now()+f.For
		f.kind.begin(f)
		c.scheduleEnd(f)
		return
	default:
		f.targets = c.pick(f.who, f.kind.process, nil)
	}
	if len(f.targets) == 0 && f.kind.waits && c.sim.Now()+adminRetry < f.At+f.For {
		// An operator waits for the member to act on, and tries again.
		c.sim.After(adminRetry, func() { c.fire(f, nil) })
		return
	}
	if len(f.targets) == 0 {
		f.rec.Note = fmt.Sprintf("nobody to pick for who=%s", f.Who)
		c.sim.Logf("nemesis", "fault %d (%s) did not fire: %s", f.rec.Index, f.Kind, f.rec.Note)
		return
	}
	now := c.sim.Now()
	if !f.kind.onHit {
		for _, id := range f.targets {
			c.noteHit(f.rec, id)
		}
		f.rec.Fired, f.rec.Start, f.rec.End = true, now, now+f.For
		f.rec.Label = fmt.Sprintf("%d %s", f.rec.Index, f.rec.Hit())
	}
	c.sim.Logf("nemesis", "begin fault %d: %s on %s", f.rec.Index, f.Fault, MemberList(f.targets))
	f.kind.begin(f)
	if f.kind.cuts && len(f.blocked) == 0 {
		// A partition with every member on one side cuts nothing.
		f.rec.Fired = false
		f.rec.Note = fmt.Sprintf("blocked no route: %s put every member on one side", MemberList(f.targets))
		c.sim.Logf("nemesis", "fault %d (%s) cut nothing", f.rec.Index, f.Kind)
		return
	}
	c.scheduleEnd(f)
}

// scheduleEnd undoes a fault after its for=, if its kind can be undone.
func (c *Cluster) scheduleEnd(f *firing) {
	if f.For > 0 && f.kind.end != nil {
		c.sim.After(f.For, func() {
			c.sim.Logf("nemesis", "end fault %d: %s", f.rec.Index, f.Kind)
			f.kind.end(f)
		})
	}
}

// noteHit records that a fault hit member id, and the leader if it was.
func (c *Cluster) noteHit(rec *FaultRecord, id uint64) {
	if !slices.Contains(rec.Targets, id) {
		rec.Targets = append(rec.Targets, id)
	}
	if m := c.member(id); rec.Leader == 0 && m.up && m.role == raft.StateLeader {
		rec.Leader, rec.LeaderTerm = id, m.term
	}
}

// fireTriggers fires the armed faults that wait for this message, right
// after the member is done with it.
func (c *Cluster) fireTriggers(m *member, msg *raftpb.Message, sent bool) {
	for _, f := range c.triggers {
		if !f.trigger.matches(msg, sent) || !c.matches(f.who, m) {
			continue
		}
		c.triggers = slices.DeleteFunc(c.triggers, func(t *firing) bool { return t == f })
		verb := "received"
		if sent {
			verb = "sent"
		}
		f.rec.Note = fmt.Sprintf("after n%d %s %s", m.id, verb, raft.DescribeMessage(msg, node.EntryFormatter(msg.GetType())))
		epoch := m.epoch
		c.sim.After(0, func() {
			if !m.up || m.epoch != epoch {
				f.rec.Note += fmt.Sprintf("; n%d went down before the fault could hit it", m.id)
				return
			}
			c.fire(f, m)
		})
		return
	}
}

// matches reports whether member m is one the selector could pick.
func (c *Cluster) matches(sel selector, m *member) bool {
	// The member may be in the middle of a Ready: ask raft, not the role
	// observed after its last input.
	if !m.up {
		return false
	}
	leads := m.node.Status().Role == raft.StateLeader
	for _, it := range sel {
		switch it.role {
		case "":
			if it.id == m.id {
				return true
			}
		case "leader":
			if leads {
				return true
			}
		case "follower":
			if !leads {
				return true
			}
		default:
			return true
		}
	}
	return false
}

// pick resolves a selector now. Roles (leader, follower, any, all) pick
// only members that are up: a fault aimed at "a follower" means a live
// one. A member named by id is picked even when down, except by a process
// fault, which has no process to hit. Random picks draw from the nemesis
// stream.
func (c *Cluster) pick(sel selector, process bool, exclude []uint64) []uint64 {
	var out []uint64
	free := func(m *member) bool { return !slices.Contains(out, m.id) && !slices.Contains(exclude, m.id) }
	live := func(m *member) bool { return m.up && free(m) }
	for _, it := range sel {
		switch it.role {
		case "":
			if m := c.member(it.id); free(m) && (m.up || !process) {
				out = append(out, m.id)
			}
		case "leader":
			if id := c.Leader(); id != 0 && live(c.member(id)) {
				out = append(out, id)
			}
		case "learner":
			var cands []uint64
			for _, id := range c.learners() {
				if live(c.member(id)) {
					cands = append(cands, id)
				}
			}
			if len(cands) > 0 {
				out = append(out, cands[c.nemesis.IntN(len(cands))])
			}
		case "all":
			for _, m := range c.members {
				if live(m) {
					out = append(out, m.id)
				}
			}
		default: // follower, any
			for range it.count {
				var cands []uint64
				for _, m := range c.members {
					if live(m) && (it.role == "any" || m.role != raft.StateLeader) {
						cands = append(cands, m.id)
					}
				}
				if len(cands) == 0 {
					break
				}
				out = append(out, cands[c.nemesis.IntN(len(cands))])
			}
		}
	}
	slices.Sort(out)
	return out
}

// others lists the members not in ids.
func (c *Cluster) others(ids []uint64) []uint64 {
	var out []uint64
	for _, m := range c.members {
		if !slices.Contains(ids, m.id) {
			out = append(out, m.id)
		}
	}
	return out
}

// routeLink is the link the settings give a route: its own latency and
// loss if it has a route line, and always the cluster's transport and
// bandwidth.
func (c *Cluster) routeLink(from, to uint64) network.Link {
	l := c.settings.Link
	if r := c.route(from, to); r != nil {
		l.Latency, l.Jitter, l.DropRate, l.DuplicateRate = r.Link.Latency, r.Link.Jitter, r.Link.DropRate, r.Link.DuplicateRate
	}
	return l
}

// route is the settings' own override for a route, or nil.
func (c *Cluster) route(from, to uint64) *Route {
	for i, r := range c.settings.Routes {
		if r.From == from && r.To == to {
			return &c.settings.Routes[i]
		}
	}
	return nil
}

// What a scenario written in Go may do. Everything here is also reachable
// from an experiment's fault lines; these are for scripts that need to
// react to the run as it goes.

// Now is the virtual time.
func (c *Cluster) Now() time.Duration { return c.sim.Now() }

// At runs fn at virtual time t.
func (c *Cluster) At(t time.Duration, fn func()) { c.sim.At(t, fn) }

// WaitFor runs then as soon as cond holds, checking every poll; it gives
// up at the end of the run.
func (c *Cluster) WaitFor(cond func() bool, poll time.Duration, then func()) {
	var check func()
	check = func() {
		if cond() {
			then()
			return
		}
		c.sim.After(poll, check)
	}
	check()
}

// Expect adds a verdict computed when the run ends.
func (c *Cluster) Expect(check func() checker.Verdict) {
	c.expectations = append(c.expectations, check)
}

// Leader is the live member that leads the highest term, or 0 if no live
// member thinks it leads.
func (c *Cluster) Leader() uint64 {
	var id, term uint64
	for _, m := range c.members {
		if m.up && m.role == raft.StateLeader && m.term > term {
			id, term = m.id, m.term
		}
	}
	return id
}

// Members lists the member IDs.
func (c *Cluster) Members() []uint64 {
	ids := make([]uint64, len(c.members))
	for i, m := range c.members {
		ids[i] = m.id
	}
	return ids
}

// History is the client operations completed so far.
func (c *Cluster) History() []checker.Operation { return c.history }

// LeaderChanges is every member becoming leader so far.
func (c *Cluster) LeaderChanges() []LeaderChange { return c.leaderChanges }

// Crash stops a member, losing its unsynced writes.
func (c *Cluster) Crash(id uint64) { c.member(id).crash() }

// Restart brings a crashed member back from what its disk kept.
func (c *Cluster) Restart(id uint64) {
	m := c.member(id)
	if m.up || m.removed {
		return
	}
	c.sim.Logf("nemesis", "restart n%d", id)
	c.restarts++
	c.raft.Restarted(id)
	if err := m.start(startRestart); err != nil {
		// A member that cannot restart from its own disk is a durability
		// bug: surface it in a verdict, not as a silent skip.
		e := fmt.Sprintf("at %v: n%d cannot restart: %v", c.sim.Now(), id, err)
		c.restartErrs = append(c.restartErrs, e)
		c.logViolations([]string{e})
	}
}

// Partition splits the members into groups that cannot reach each other,
// on top of any partition in force. Clients still reach every member.
func (c *Cluster) Partition(groups ...[]uint64) {
	addrs := make([][]network.Addr, len(groups))
	for i, g := range groups {
		for _, id := range g {
			addrs[i] = append(addrs[i], nodeAddr(id))
		}
	}
	c.net.Partition(addrs...)
}

// Heal ends every partition.
func (c *Cluster) Heal() { c.net.Heal() }

// Pause stops a member's process for d.
func (c *Cluster) Pause(id uint64, d time.Duration) { c.member(id).pause(c.sim.Now() + d) }

// Status is a member's raft state: whether it is up, its role, term and
// commit index.
func (c *Cluster) Status(id uint64) (up bool, role raft.StateType, term, commit uint64) {
	m := c.member(id)
	if !m.up {
		return false, raft.StateFollower, 0, 0
	}
	st := m.node.Status()
	return true, st.Role, st.Term, st.Commit
}

func (c *Cluster) member(id uint64) *member {
	i := slices.IndexFunc(c.members, func(m *member) bool { return m.id == id })
	if i < 0 {
		panic(fmt.Sprintf("no member %d", id))
	}
	return c.members[i]
}

// restarted reports whether every restarted member came back from its log.
func (c *Cluster) restarted() checker.Verdict {
	v := checker.Verdict{Name: "members restart from their disks", OK: len(c.restartErrs) == 0}
	switch {
	case !v.OK:
		v.Detail = c.restartErrs[0]
	case c.restarts == 1:
		v.Detail = "1 restart, from the member's own disk (backend, snapshot, WAL)"
	default:
		v.Detail = fmt.Sprintf("%d restarts, each from the member's own disk (backend, snapshot, WAL)", c.restarts)
	}
	return v
}

// panicked reports the panics inside members that no fault injected.
func (c *Cluster) panicked() checker.Verdict {
	v := checker.Verdict{Name: "no member panicked", OK: len(c.memberPanics) == 0, Detail: "no member panicked unless a fault made it"}
	if !v.OK {
		v.At, v.Timed = c.firstPanicAt, true
		v.Detail = c.memberPanics[0]
		if n := len(c.memberPanics); n > 1 {
			v.Detail += fmt.Sprintf(" (and %d more)", n-1)
		}
	}
	return v
}

// converged checks, at the end of the quiet tail, that every live member
// applied the same entries and holds the same store.
func (c *Cluster) converged() checker.Verdict {
	ends := make([]checker.MemberEnd, len(c.members))
	for i, m := range c.members {
		ends[i] = checker.MemberEnd{ID: m.id}
		if m.up && !m.removed {
			st := m.node.Status()
			ends[i] = checker.MemberEnd{ID: m.id, Up: true, Applied: st.Applied, Digest: st.Digest, Rev: st.Rev, Store: m.node.Hash()}
		}
	}
	return checker.Converged(ends)
}
