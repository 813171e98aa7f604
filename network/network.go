// Package network is the simulated network that raft messages and client
// RPCs travel on. A link has a base latency, a random jitter (which is also
// what reorders messages), drop and duplicate probabilities and a bandwidth
// that turns a message's size into transfer time. Partitions block links
// between groups of addresses, symmetrically or one way.
//
// The network carries bytes: every delivery hands the receiver its own
// copy, the way a real wire would, so no two nodes ever share memory.
package network

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/etcdlab/etcdlab/sim"
)

// Addr names an endpoint: "n1" for a node, "c3" for a client.
type Addr string

// Link is how messages fare on one direction of a connection.
type Link struct {
	Latency       time.Duration // base one-way delay
	Jitter        time.Duration // extra delay drawn uniformly from [0, Jitter)
	DropRate      float64       // probability a message is lost
	DuplicateRate float64       // probability a message arrives twice
	BytesPerSec   int64         // bandwidth; 0 means size adds no delay
}

// Validate reports a link setting that cannot be simulated.
func (l Link) Validate() error {
	switch {
	case l.Latency < 0 || l.Jitter < 0:
		return fmt.Errorf("network: latency and jitter must not be negative (latency %v, jitter %v)", l.Latency, l.Jitter)
	case l.DropRate < 0 || l.DropRate > 1:
		return fmt.Errorf("network: drop rate %v is not a probability in [0, 1]", l.DropRate)
	case l.DuplicateRate < 0 || l.DuplicateRate > 1:
		return fmt.Errorf("network: duplicate rate %v is not a probability in [0, 1]", l.DuplicateRate)
	case l.BytesPerSec < 0:
		return fmt.Errorf("network: bandwidth %d B/s must not be negative", l.BytesPerSec)
	}
	return nil
}

// Handler receives a message addressed to an endpoint.
type Handler func(from Addr, payload []byte)

// Stats counts what the network did with the messages it was given.
type Stats struct {
	Sent, Delivered, Dropped, Duplicated, Blocked int
}

// Network is the simulated network of one run.
type Network struct {
	sim      *sim.Sim
	rng      *rand.Rand
	link     Link
	handlers map[Addr]Handler
	lives    map[Addr]int     // bumped at every attach and detach: a message reaches only the life it was sent to
	blocked  map[route]string // route -> reason (e.g. "partition")
	stats    Stats
}

type route struct{ from, to Addr }

// New returns a network on s where every link behaves like link.
func New(s *sim.Sim, link Link) *Network {
	return &Network{
		sim:      s,
		rng:      s.Rand("network"),
		link:     link,
		handlers: map[Addr]Handler{},
		lives:    map[Addr]int{},
		blocked:  map[route]string{},
	}
}

// SetLink changes how every link behaves from now on (a flaky-network fault
// is a SetLink with drops, and another SetLink to end it).
func (n *Network) SetLink(l Link) { n.link = l }

// Link is the link setting in force.
func (n *Network) Link() Link { return n.link }

// Stats is what the network has done so far.
func (n *Network) Stats() Stats { return n.stats }

// Attach makes a delivers messages for a to h. An endpoint that is not
// attached (a crashed node) loses what is sent to it, even if it is
// attached again before the message would arrive.
func (n *Network) Attach(a Addr, h Handler) {
	n.handlers[a] = h
	n.lives[a]++
}

// Detach takes a off the network, as a crash does. Messages in flight to
// it are lost, even if it is attached again before they arrive: they were
// sent on connections that died with it, as TCP's would.
func (n *Network) Detach(a Addr) {
	delete(n.handlers, a)
	n.lives[a]++
}

// Send puts payload on the wire from one endpoint to another. desc is how
// the trace describes the message. The payload is copied, so the caller
// may reuse it.
func (n *Network) Send(from, to Addr, desc string, payload []byte) {
	n.stats.Sent++
	if reason, ok := n.blocked[route{from, to}]; ok {
		n.stats.Blocked++
		n.sim.Logf("net", "%s->%s blocked (%s): %s", from, to, reason, desc)
		return
	}
	l := n.link
	// Draw every random number a message needs in a fixed order, whatever
	// its fate, so one message's fate never shifts another's draws.
	drop := n.rng.Float64() < l.DropRate
	dup := n.rng.Float64() < l.DuplicateRate
	d1, d2 := n.delay(l, len(payload)), n.delay(l, len(payload))
	if drop {
		n.stats.Dropped++
		n.sim.Logf("net", "%s->%s dropped: %s", from, to, desc)
		return
	}
	n.deliverAfter(d1, from, to, payload)
	if dup {
		n.stats.Duplicated++
		n.deliverAfter(d2, from, to, payload)
		n.sim.Logf("net", "%s->%s +%v and duplicate +%v: %s", from, to, d1.Round(time.Microsecond), d2.Round(time.Microsecond), desc)
		return
	}
	n.sim.Logf("net", "%s->%s +%v: %s", from, to, d1.Round(time.Microsecond), desc)
}

func (n *Network) delay(l Link, size int) time.Duration {
	d := l.Latency
	if l.Jitter > 0 {
		d += time.Duration(n.rng.Int64N(int64(l.Jitter)))
	}
	if l.BytesPerSec > 0 {
		d += time.Duration(int64(size) * int64(time.Second) / l.BytesPerSec)
	}
	return d
}

// deliverAfter copies payload onto the wire once per delivery, so each
// receiver (and each copy of a duplicate) owns its bytes.
func (n *Network) deliverAfter(d time.Duration, from, to Addr, payload []byte) {
	wire, life := slices.Clone(payload), n.lives[to]
	n.sim.After(d, func() {
		h, ok := n.handlers[to]
		if !ok || n.lives[to] != life {
			n.stats.Dropped++
			why := "is down"
			if ok {
				why = "was down or restarted since it was sent"
			}
			n.sim.Logf("net", "%s->%s lost: %s %s", from, to, to, why)
			return
		}
		n.stats.Delivered++
		h(from, wire)
	})
}

// Partition splits the named addresses into groups that cannot reach each
// other, in both directions. Addresses not named (clients, usually) keep
// reaching everyone. It replaces any earlier partition.
func (n *Network) Partition(groups ...[]Addr) {
	clear(n.blocked)
	for i, g := range groups {
		for j, h := range groups {
			if i == j {
				continue
			}
			for _, a := range g {
				for _, b := range h {
					n.blocked[route{a, b}] = "partition"
				}
			}
		}
	}
	n.sim.Logf("net", "partition %v", groups)
}

// BlockOneWay stops messages from one address to another, but not back.
func (n *Network) BlockOneWay(from, to Addr) {
	n.blocked[route{from, to}] = "one-way partition"
	n.sim.Logf("net", "block %s->%s", from, to)
}

// Heal removes every partition.
func (n *Network) Heal() {
	clear(n.blocked)
	n.sim.Logf("net", "heal")
}
