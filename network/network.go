// Package network is the simulated network that raft messages and client
// RPCs travel on. A link has a base latency, a random jitter, a loss
// probability and a bandwidth that turns a message's size into transfer
// time. Partitions block routes between addresses, symmetrically or one
// way, and can overlap.
//
// A link works in one of two modes:
//
//   - Stream, the default, is how etcd's own transports behave: rafthttp
//     streams between peers and gRPC for clients, both over TCP. Within one
//     direction of one route, messages arrive in the order sent, once each.
//     A lost packet is retransmitted after a timeout, so loss shows up as
//     delay, and that delay holds back every later message on the route
//     (head-of-line blocking). Messages are lost only when the stream
//     breaks: a blocked route, or an endpoint that is down or restarted.
//   - Datagram drops, duplicates and reorders each message independently.
//     etcd never sees that; it is there for stress experiments that want
//     raft's own tolerance of a hostile network, and says so in settings.
//
// The network carries bytes: the sender gives them up, and every delivery
// hands the receiver bytes of its own (a duplicate is a copy), the way a
// real wire would, so no two nodes ever share memory.
package network

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/etcdlab/etcdlab/sim"
)

// Addr names an endpoint: "n1" for a node, "c3" for a client.
type Addr string

// Mode is how a link treats the messages on it.
type Mode uint8

const (
	// Stream is TCP, as etcd's transports use: ordered, never duplicated,
	// loss repaired by retransmission. The zero value, so a Link written
	// without a Mode behaves like etcd.
	Stream Mode = iota
	// Datagram is per-message drop, duplicate and reorder by jitter.
	Datagram
)

func (m Mode) String() string {
	switch m {
	case Stream:
		return "stream"
	case Datagram:
		return "datagram"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode reads a Mode as String writes it: "stream" or "datagram".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "stream":
		return Stream, nil
	case "datagram":
		return Datagram, nil
	}
	return 0, fmt.Errorf("network: unknown mode %q (use stream or datagram)", s)
}

// StreamReadTimeout is how long the receiving end of a stream waits for
// data before it gives the connection up: rafthttp's ConnReadTimeout. A
// message that TCP's retransmission backoff would hold longer is lost with
// its connection, and the sender dials a new one (raft resends what
// matters). Without it, one message unlucky on a lossy link would hold
// everything behind it for up to TCP's two-minute backoff.
const StreamReadTimeout = 5 * time.Second

// TCPRTOMin is Linux's TCP_RTO_MIN (include/net/tcp.h, HZ/5): the floor of
// TCP's retransmission timeout. Inside a datacenter the round trip is far
// below it, so the timeout sits at the floor and each lost packet costs a
// stream at least this long. Linux doubles the timeout for each further
// loss of the same packet, and so does the stream mode.
const TCPRTOMin = 200 * time.Millisecond

const (
	// tcpRTOMax is Linux's TCP_RTO_MAX, the cap on the doubled timeout.
	tcpRTOMax = 120 * time.Second
	// maxRetransmits is Linux's default tcp_retries2: after 15 timeouts in
	// a row (about 15 minutes) TCP gives up on the connection. A run is far
	// shorter, so a message that reaches the bound is delivered then
	// instead; a route that loses that much is better modelled by Block.
	maxRetransmits = 15
)

// Link is how messages fare on one direction of a connection.
type Link struct {
	Mode        Mode          // Stream (TCP, the default) or Datagram
	Latency     time.Duration // base one-way delay
	Jitter      time.Duration // extra delay drawn uniformly from [0, Jitter); reorders only datagrams
	DropRate    float64       // probability a transmission is lost: a datagram is gone, a stream retransmits
	BytesPerSec int64         // bandwidth; 0 means size adds no delay
	// DuplicateRate is the probability a datagram arrives twice. It has no
	// effect on a stream: TCP discards duplicate segments by sequence
	// number, so the receiver never sees them.
	DuplicateRate float64
}

// Validate reports a link setting that cannot be simulated.
func (l Link) Validate() error {
	switch {
	case l.Mode != Stream && l.Mode != Datagram:
		return fmt.Errorf("network: unknown mode %v (use stream or datagram)", l.Mode)
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
// Dropped counts messages lost: datagrams dropped on the way, and messages
// of either mode that reached an endpoint which was down or restarted.
type Stats struct {
	Sent, Delivered, Dropped, Duplicated, Blocked int
	Retransmitted                                 int // stream transmissions lost and sent again (not messages lost)
	Refused                                       int // messages answered by a connection reset (see OnRefused)
}

// Network is the simulated network of one run.
type Network struct {
	sim      *sim.Sim
	rng      *rand.Rand
	link     Link
	routes   map[route]Link // per-route overrides of link
	handlers map[Addr]Handler
	lives    map[Addr]int     // bumped at every attach and detach: a message reaches only the life it was sent to
	streams  map[route]stream // the connection on each route in stream mode
	blocks   map[route]block  // routes blocked by one fault or more
	refused  map[Addr]func(to Addr, payload []byte)
	stats    Stats
	repeat   bool // the delivery under way is a repeat: see Repeat
}

type route struct{ from, to Addr }

// block counts the faults that block a route, so that overlapping faults
// each undo only their own part: the route opens when the last one ends.
type block struct {
	count  int
	reason string // the most recent fault's, for the trace
}

// stream is what a route remembers of its TCP connection: when its last
// message arrives, and which lives of the two ends it joins. A crash of
// either end breaks the connection, and the next one does not wait behind
// the old one's messages.
type stream struct {
	lastAt           time.Duration
	fromLife, toLife int
}

// New returns a network on s where every link behaves like link.
func New(s *sim.Sim, link Link) *Network {
	return &Network{
		sim:      s,
		rng:      s.Rand("network"),
		link:     link,
		routes:   map[route]Link{},
		handlers: map[Addr]Handler{},
		lives:    map[Addr]int{},
		streams:  map[route]stream{},
		blocks:   map[route]block{},
		refused:  map[Addr]func(to Addr, payload []byte){},
	}
}

// SetLink changes how every route without an override behaves from now on
// (a flaky-network fault is a SetLink with drops, and another SetLink to
// end it). Messages already sent keep the fate they were given.
func (n *Network) SetLink(l Link) { n.link = l }

// Link is the default link setting in force.
func (n *Network) Link() Link { return n.link }

// SetRoute makes messages from one address to another (one direction only)
// fare on l instead of the default link, so a fault can degrade a single
// link over a window.
func (n *Network) SetRoute(from, to Addr, l Link) { n.routes[route{from, to}] = l }

// RouteLink is the link messages from one address to another fare on now.
func (n *Network) RouteLink(from, to Addr) Link { return n.linkFor(route{from, to}) }

// ClearRoute puts a route back on the default link.
func (n *Network) ClearRoute(from, to Addr) { delete(n.routes, route{from, to}) }

func (n *Network) linkFor(r route) Link {
	if l, ok := n.routes[r]; ok {
		return l
	}
	return n.link
}

// Stats is what the network has done so far.
func (n *Network) Stats() Stats { return n.stats }

// Attach makes a delivers messages for a to h. What reaches an endpoint
// that is not attached (a crashed node) is refused (see OnRefused) or
// lost; what was sent to an earlier life is lost even if a is attached
// again before it arrives.
func (n *Network) Attach(a Addr, h Handler) {
	n.handlers[a] = h
	n.lives[a]++
}

// Detach takes a off the network, as a crash does. Messages in flight to
// it never reach it, even if it is attached again before they arrive: they
// were sent on connections that died with it, as TCP's would. (If it is
// still down when they arrive, they are refused or lost as Attach says.)
func (n *Network) Detach(a Addr) {
	delete(n.handlers, a)
	n.lives[a]++
}

// Send puts payload on the wire from one endpoint to another. desc
// describes the message for the trace's text; it is called only if the
// text is wanted (the fingerprint hashes the payload itself). Send takes
// payload over: the caller must not touch it again (every caller marshals
// a fresh one), so a message is not copied on its way.
func (n *Network) Send(from, to Addr, desc func() string, payload []byte) {
	n.stats.Sent++
	r := route{from, to}
	if b, ok := n.blocks[r]; ok {
		n.stats.Blocked++
		n.record("blocked", b.reason, r, 0, 0, payload)
		if n.sim.Tracing() {
			n.sim.Line("net", fmt.Sprintf("%s->%s blocked (%s): %s", from, to, b.reason, desc()))
		}
		return
	}
	if l := n.linkFor(r); l.Mode == Datagram {
		n.sendDatagram(r, l, desc, payload)
	} else {
		n.sendStream(r, l, desc, payload)
	}
}

// sendStream delivers in order: a message arrives no earlier than the one
// sent before it on the route, however their jitter, size and losses fell.
func (n *Network) sendStream(r route, l Link, desc func() string, payload []byte) {
	// Draw every random number a message needs in a fixed order, whatever
	// its fate: one draw for its losses, then its jitter.
	retransmits := n.retransmits(l.DropRate)
	at := n.sim.Now() + n.delay(l, len(payload)) + retransmitWait(retransmits)
	conn := stream{fromLife: n.lives[r.from], toLife: n.lives[r.to]}
	var queued time.Duration
	heard := n.sim.Now() // when the receiver last heard this connection, as far as this message knows
	if prev, ok := n.streams[r]; ok && prev.fromLife == conn.fromLife && prev.toLife == conn.toLife {
		heard = max(heard, prev.lastAt)
		if prev.lastAt > at {
			queued, at = prev.lastAt-at, prev.lastAt
		}
	}
	var transfer time.Duration // bytes flowing: the receiver hears them
	if l.BytesPerSec > 0 {
		transfer = time.Duration(int64(len(payload)) * int64(time.Second) / l.BytesPerSec)
	}
	if at-transfer-heard > StreamReadTimeout {
		// The receiver's read times out before this message gets
		// through: the connection is torn down, this message with it,
		// and the next one goes on a new connection.
		delete(n.streams, r)
		n.stats.Dropped++
		n.stats.Retransmitted += retransmits
		n.record("reset", "", r, int64(retransmits), at-transfer-heard, payload)
		if n.sim.Tracing() {
			n.sim.Line("net", fmt.Sprintf("%s->%s lost: %d retransmits would hold it %v, past the receiver's %v read timeout; the connection is reset: %s",
				r.from, r.to, retransmits, (at-transfer-heard).Round(time.Millisecond), StreamReadTimeout, desc()))
		}
		return
	}
	conn.lastAt = at
	n.streams[r] = conn
	n.stats.Retransmitted += retransmits
	n.deliverAt(at, r.from, r.to, payload, nil)
	n.record("sent", "", r, int64(retransmits), at-n.sim.Now(), payload)
	if !n.sim.Tracing() {
		return
	}
	var notes []string
	switch {
	case retransmits == 1:
		notes = append(notes, "1 retransmit")
	case retransmits > 1:
		notes = append(notes, fmt.Sprintf("%d retransmits", retransmits))
	}
	if queued > 0 {
		notes = append(notes, fmt.Sprintf("%v behind earlier messages", queued.Round(time.Microsecond)))
	}
	note := ""
	if len(notes) > 0 {
		note = " (" + strings.Join(notes, ", ") + ")"
	}
	n.sim.Line("net", fmt.Sprintf("%s->%s +%v%s: %s", r.from, r.to, (at-n.sim.Now()).Round(time.Microsecond), note, desc()))
}

// record adds a message's fate to the fingerprint: the event, a detail,
// the route, two numbers and the message's bytes.
func (n *Network) record(event, detail string, r route, a int64, b time.Duration, payload []byte) {
	n.sim.Record("net").String(event).String(detail).String(string(r.from)).String(string(r.to)).
		Int(a).Int(int64(b)).Bytes(payload).Done()
}

// retransmits is how many times in a row a stream's packet is lost: a
// geometric draw, taken from one uniform number by inverting its
// distribution (P(k or more) = p^k), so every message draws exactly once
// whatever its losses, and the count is bounded like TCP's.
func (n *Network) retransmits(p float64) int {
	u := 1 - n.rng.Float64() // in (0, 1], so the log is finite
	switch {
	case p <= 0:
		return 0
	case p >= 1:
		return maxRetransmits
	}
	return int(min(math.Floor(math.Log(u)/math.Log(p)), maxRetransmits))
}

// retransmitWait is the time k timeouts in a row cost: TCP's timeout
// starts at TCPRTOMin and doubles at each loss, up to tcpRTOMax.
func retransmitWait(k int) time.Duration {
	var wait time.Duration
	rto := TCPRTOMin
	for range k {
		wait += rto
		rto = min(2*rto, tcpRTOMax)
	}
	return wait
}

// sendDatagram gives each message its own fate: dropped, duplicated, or
// overtaken by a later one whose jitter was smaller.
func (n *Network) sendDatagram(r route, l Link, desc func() string, payload []byte) {
	from, to := r.from, r.to
	// Draw every random number a message needs in a fixed order, whatever
	// its fate, so one message's fate never shifts another's draws.
	drop := n.rng.Float64() < l.DropRate
	dup := n.rng.Float64() < l.DuplicateRate
	d1, d2 := n.delay(l, len(payload)), n.delay(l, len(payload))
	if drop {
		n.stats.Dropped++
		n.record("dropped", "", r, 0, 0, payload)
		if n.sim.Tracing() {
			n.sim.Line("net", fmt.Sprintf("%s->%s dropped: %s", from, to, desc()))
		}
		return
	}
	now := n.sim.Now()
	var tw *twins
	if dup {
		tw = &twins{}
	}
	n.deliverAt(now+d1, from, to, payload, tw)
	if dup {
		n.stats.Duplicated++
		n.deliverAt(now+d2, from, to, slices.Clone(payload), tw)
		n.record("duplicated", "", r, int64(d1), d2, payload)
		if n.sim.Tracing() {
			n.sim.Line("net", fmt.Sprintf("%s->%s +%v and duplicate +%v: %s", from, to, d1.Round(time.Microsecond), d2.Round(time.Microsecond), desc()))
		}
		return
	}
	n.record("sent", "", r, 0, d1, payload)
	if n.sim.Tracing() {
		n.sim.Line("net", fmt.Sprintf("%s->%s +%v: %s", from, to, d1.Round(time.Microsecond), desc()))
	}
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

// deliverAt hands payload to the receiver at at. The receiver owns the
// bytes: a duplicate's second delivery gets its own copy. tw links the
// two deliveries of a duplicated datagram (nil for any other message).
func (n *Network) deliverAt(at time.Duration, from, to Addr, wire []byte, tw *twins) {
	life, fromLife := n.lives[to], n.lives[from]
	_, upWhenSent := n.handlers[to]
	n.sim.At(at, func() {
		h, ok := n.handlers[to]
		switch {
		case !ok && !upWhenSent && n.lives[to] == life:
			// Sent to a process already down: a new connection, refused.
			n.refuse(from, to, fromLife, wire)
		case !ok || n.lives[to] != life:
			// The connection it travelled on died with the old life; the
			// new one never hears of it, and the sender learns by timeout.
			n.stats.Dropped++
			n.sim.Logf("net", "%s->%s lost: %s was down or restarted since it was sent", from, to, to)
		default:
			n.stats.Delivered++
			n.repeat = tw != nil && tw.delivered
			defer func() { n.repeat = false }() // a handler that panics leaves no repeat behind
			if tw != nil {
				tw.delivered = true
			}
			h(from, wire)
		}
	})
}

// twins are the two deliveries of a duplicated datagram: whichever
// arrives second is a repeat, if the first reached its receiver.
type twins struct{ delivered bool }

// Repeat says, inside a Handler, whether the message being delivered is a
// repeat: the second copy of a duplicated datagram whose first copy
// reached the receiver. Raft's messages are safe to take twice; a
// receiver that models a transport which never duplicates (gRPC and
// rafthttp are TCP) drops it.
func (n *Network) Repeat() bool { return n.repeat }

// OnRefused makes a's messages that reach an endpoint which is down come
// back to h, after the return trip: a process that is down on a host that
// is up answers a connection with a reset at once, so a client such as
// clientv3 moves on to its next endpoint instead of waiting for a timeout.
// h gets the address that refused and the message's bytes. A nil h
// removes the callback; without one, such messages are simply lost.
//
// A blocked route is silence, not a refusal: what a partition stops never
// comes back, and neither does a reset whose way back is blocked.
func (n *Network) OnRefused(a Addr, h func(to Addr, payload []byte)) {
	if h == nil {
		delete(n.refused, a)
		return
	}
	n.refused[a] = h
}

// refuse sends a reset back for a message that reached an endpoint which
// is down. The reset takes one more one-way trip on the reverse route's
// base latency; it is a bare packet, so jitter, size and loss are left out.
func (n *Network) refuse(from, to Addr, fromLife int, wire []byte) {
	h, ok := n.refused[from]
	if !ok {
		n.stats.Dropped++
		n.sim.Logf("net", "%s->%s lost: %s is down", from, to, to)
		return
	}
	back := route{to, from}
	if b, blocked := n.blocks[back]; blocked {
		n.stats.Dropped++
		n.sim.Logf("net", "%s->%s lost: %s is down, and the reset back is blocked (%s)", from, to, to, b.reason)
		return
	}
	n.stats.Refused++
	rtt := n.linkFor(back).Latency
	n.sim.Logf("net", "%s->%s refused: %s is down, reset back +%v", from, to, to, rtt.Round(time.Microsecond))
	n.sim.After(rtt, func() {
		if n.lives[from] != fromLife {
			return // the sender crashed since: the reset finds no connection
		}
		h(to, wire)
	})
}

// Reachable reports whether a message sent now from one address to the
// other could arrive: both ends are attached and the route is not blocked.
// etcd counts its active peers this way (a peer whose stream is up).
func (n *Network) Reachable(from, to Addr) bool {
	_, fromUp := n.handlers[from]
	_, toUp := n.handlers[to]
	return fromUp && toUp && !n.Blocked(from, to)
}

// Block stops messages from one address to another (not back) until a
// matching Unblock. Blocks count, so overlapping faults can each block and
// unblock a route without ending the other's: the route stays blocked
// while any fault holds it. reason names the fault in the trace; the most
// recent one is shown. Messages already on the wire still arrive.
func (n *Network) Block(from, to Addr, reason string) {
	n.block(from, to, reason)
	n.sim.Logf("net", "block %s->%s (%s)", from, to, reason)
}

func (n *Network) block(from, to Addr, reason string) {
	r := route{from, to}
	b := n.blocks[r]
	b.count++
	b.reason = reason
	n.blocks[r] = b
}

// Unblock ends one Block of the route. A route that is not blocked (Heal
// cleared it, say) is left alone, so a fault that ends after a Heal is
// harmless.
func (n *Network) Unblock(from, to Addr) {
	r := route{from, to}
	b, ok := n.blocks[r]
	n.sim.Logf("net", "unblock %s->%s", from, to)
	switch {
	case !ok:
	case b.count == 1:
		delete(n.blocks, r)
	default:
		b.count--
		n.blocks[r] = b
	}
}

// Blocked reports whether the route from one address to the other is
// blocked by some fault.
func (n *Network) Blocked(from, to Addr) bool {
	_, ok := n.blocks[route{from, to}]
	return ok
}

// Partition splits the named addresses into groups that cannot reach each
// other, in both directions, by blocking every route between groups with
// reason "partition". Addresses not named (clients, usually) keep reaching
// everyone. It adds to any blocks already in force; Heal ends them all,
// or Unblock ends this partition's routes one by one.
func (n *Network) Partition(groups ...[]Addr) {
	for i, g := range groups {
		for j, h := range groups {
			if i == j {
				continue
			}
			for _, a := range g {
				for _, b := range h {
					n.block(a, b, "partition")
				}
			}
		}
	}
	n.sim.Logf("net", "partition %v", groups)
}

// BlockOneWay stops messages from one address to another, but not back;
// Unblock ends it.
func (n *Network) BlockOneWay(from, to Addr) { n.Block(from, to, "one-way partition") }

// Heal ends every block, whatever fault set it.
func (n *Network) Heal() {
	clear(n.blocks)
	n.sim.Logf("net", "heal")
}
