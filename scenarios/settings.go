package scenarios

import (
	"fmt"
	"strings"
	"time"

	"github.com/etcdlab/etcdlab/disk"
	"github.com/etcdlab/etcdlab/network"
	"github.com/etcdlab/etcdlab/node"
)

// Settings are a run's concrete parameters: what a scenario and a seed
// expand into. They are printed at the top of every run, so a reader sees
// exactly what was simulated.
type Settings struct {
	Nodes    int           // cluster size
	Duration time.Duration // virtual time the run lasts
	// Settle is the quiet end of the run: no faults, no new client
	// operations, so members can catch up and be compared.
	Settle time.Duration

	Clients       int           // closed-loop clients, one operation at a time each
	Keys          int           // size of the key space, k0..k{Keys-1}
	ThinkTime     time.Duration // a client waits up to this long between operations
	ClientTimeout time.Duration // a client gives up on a reply after this long

	Link   network.Link // every link, outside fault windows
	Disk   disk.Config  // every member's disk
	Member node.Config  // every member's config; ID and Peers are filled in per member

	// FaultAt and FaultFor place the scenario's fault window; each scenario
	// draws them from the seed.
	FaultAt, FaultFor time.Duration
}

// defaultSettings is a healthy LAN cluster with etcd's default flags.
func defaultSettings(nodes int) Settings {
	return Settings{
		Nodes:         nodes,
		Duration:      10 * time.Second,
		Settle:        3 * time.Second,
		Clients:       5,
		Keys:          5,
		ThinkTime:     20 * time.Millisecond,
		ClientTimeout: 1 * time.Second,
		Link:          network.Link{Latency: 1 * time.Millisecond, Jitter: 1 * time.Millisecond, BytesPerSec: 125 << 20},
		Disk:          disk.Config{FsyncLatency: 2 * time.Millisecond, FsyncJitter: 2 * time.Millisecond, TornWrites: true},
		Member:        node.DefaultConfig(0, nil),
	}
}

// MaxDuration bounds a run's virtual time: everything a run records stays
// in memory until it ends.
const MaxDuration = 10 * time.Minute

// Validate rejects settings that cannot run, with the reason.
func (s Settings) Validate() error {
	switch {
	case s.Nodes < 1 || s.Nodes > 7:
		return fmt.Errorf("nodes: %d is not between 1 and 7", s.Nodes)
	case s.Duration <= 0:
		return fmt.Errorf("duration: %v must be positive", s.Duration)
	case s.Duration > MaxDuration:
		return fmt.Errorf("duration: %v is longer than the %v a run may last: a run keeps its whole trace and raft log in memory, about 2 MB a simulated second", s.Duration, MaxDuration)
	case s.Settle < 0 || s.Settle >= s.Duration:
		return fmt.Errorf("settle: %v must be shorter than the duration %v", s.Settle, s.Duration)
	case s.Clients < 0 || s.Keys < 1:
		return fmt.Errorf("clients %d and keys %d: need clients >= 0 and keys >= 1", s.Clients, s.Keys)
	case s.ThinkTime < 0 || s.ClientTimeout <= 0:
		return fmt.Errorf("think time %v must be >= 0 and client timeout %v > 0", s.ThinkTime, s.ClientTimeout)
	case s.FaultAt < 0 || s.FaultFor < 0:
		return fmt.Errorf("fault window at %v for %v must not be negative", s.FaultAt, s.FaultFor)
	}
	if err := s.Link.Validate(); err != nil {
		return err
	}
	m := s.Member
	m.ID, m.Peers = 1, []uint64{1}
	return m.Validate()
}

// String prints the settings one per line, the way the CLI shows them.
func (s Settings) String() string {
	var b strings.Builder
	f := func(name, format string, args ...any) {
		fmt.Fprintf(&b, "  %-18s "+format+"\n", append([]any{name}, args...)...)
	}
	f("nodes", "%d", s.Nodes)
	f("duration", "%v (last %v quiet)", s.Duration, s.Settle)
	f("clients", "%d on %d keys, think <%v, timeout %v", s.Clients, s.Keys, s.ThinkTime, s.ClientTimeout)
	f("link", "latency %v + jitter <%v, drop %.0f%%, duplicate %.0f%%, %d MiB/s",
		s.Link.Latency, s.Link.Jitter, 100*s.Link.DropRate, 100*s.Link.DuplicateRate, s.Link.BytesPerSec>>20)
	f("disk", "fsync %v + jitter <%v, torn writes %v", s.Disk.FsyncLatency, s.Disk.FsyncJitter, s.Disk.TornWrites)
	m := s.Member
	f("member", "--heartbeat-interval=%v --election-timeout=%v --pre-vote=%v check-quorum=%v",
		m.HeartbeatInterval, m.ElectionTimeout, m.PreVote, m.CheckQuorum)
	if s.FaultFor > 0 {
		f("fault window", "%v to %v", s.FaultAt, s.FaultAt+s.FaultFor)
	}
	for _, bug := range m.Bugs.On() {
		f("BUG", "%s: %s", bug, node.Effect(bug))
	}
	return b.String()
}
