package scenarios

import (
	"fmt"
	"slices"
	"time"

	"go.etcd.io/raft/v3"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/network"
)

// The nemesis: what a scenario script may do to the cluster, and when.

// At runs fn at virtual time t.
func (c *Cluster) At(t time.Duration, fn func()) { c.sim.At(t, fn) }

// Fault puts a fault in force from start to end: begin runs at start, end
// at end, and the window is recorded for reports and charts.
func (c *Cluster) Fault(label string, start, end time.Duration, begin, finish func()) {
	c.sim.At(start, func() {
		c.sim.Logf("nemesis", "begin %s", label)
		begin()
	})
	c.sim.At(end, func() {
		c.sim.Logf("nemesis", "end %s", label)
		finish()
	})
	c.faults = append(c.faults, FaultWindow{Start: start, End: end, Label: label})
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

// LeaderSince is the first member to become leader at or after t, and
// when; ok is false if none did.
func (c *Cluster) LeaderSince(t time.Duration) (lc LeaderChange, ok bool) {
	for _, lc := range c.leaderChanges {
		if lc.At >= t {
			return lc, true
		}
	}
	return LeaderChange{}, false
}

// Members lists the member IDs.
func (c *Cluster) Members() []uint64 {
	ids := make([]uint64, len(c.members))
	for i, m := range c.members {
		ids[i] = m.id
	}
	return ids
}

// Crash stops a member, losing its unsynced writes.
func (c *Cluster) Crash(id uint64) { c.member(id).crash() }

// Restart brings a crashed member back from what its disk kept.
func (c *Cluster) Restart(id uint64) {
	m := c.member(id)
	if m.up {
		return
	}
	c.sim.Logf("nemesis", "restart n%d", id)
	c.restarts++
	c.raft.Restarted(id)
	if err := m.start(m.disk.Contents()); err != nil {
		// A member that cannot restart from its own log is a durability
		// bug: surface it in a verdict, not as a silent skip.
		e := fmt.Sprintf("at %v: n%d cannot restart: %v", c.sim.Now(), id, err)
		c.restartErrs = append(c.restartErrs, e)
		c.logViolations([]string{e})
	}
}

// Partition splits the members into groups that cannot reach each other.
// Clients still reach every member.
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

// SetLink changes how every link behaves.
func (c *Cluster) SetLink(l network.Link) { c.net.SetLink(l) }

// Status is a member's raft state as last seen (role and term).
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
	v := checker.Verdict{Name: "members restart from their logs", OK: len(c.restartErrs) == 0}
	switch {
	case !v.OK:
		v.Detail = c.restartErrs[0]
	case c.restarts == 1:
		v.Detail = "1 restart, from the member's own WAL"
	default:
		v.Detail = fmt.Sprintf("%d restarts, each from the member's own WAL", c.restarts)
	}
	return v
}

// converged checks, at the end of the quiet tail, that every live member
// applied the same entries and holds the same store.
func (c *Cluster) converged() checker.Verdict {
	ends := make([]checker.MemberEnd, len(c.members))
	for i, m := range c.members {
		ends[i] = checker.MemberEnd{ID: m.id}
		if m.up {
			st := m.node.Status()
			ends[i] = checker.MemberEnd{ID: m.id, Up: true, Applied: st.Applied, Digest: st.Digest, Rev: st.Rev, Store: m.node.Hash()}
		}
	}
	return checker.Converged(ends)
}
