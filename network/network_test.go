package network

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcdlab/etcdlab/sim"
)

type inbox struct{ got []string }

func (in *inbox) handler(from Addr, payload []byte) {
	in.got = append(in.got, string(from)+":"+string(payload))
}

func TestMessagesArriveAfterLatency(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{Latency: 5 * time.Millisecond})
	var b inbox
	n.Attach("b", b.handler)
	n.Send("a", "b", text("greeting"), []byte("hello"))
	s.RunUntil(4 * time.Millisecond)
	require.Empty(t, b.got)
	s.RunUntil(5 * time.Millisecond)
	require.Equal(t, []string{"a:hello"}, b.got)
}

// A duplicated datagram arrives as two copies: a receiver that changes
// the first does not change the second.
func TestDuplicatesAreOwnCopies(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{Mode: Datagram, Latency: time.Millisecond, DuplicateRate: 1})
	var got []string
	n.Attach("b", func(_ Addr, p []byte) {
		got = append(got, string(p))
		p[0] = 'j'
	})
	n.Send("a", "b", text("greeting"), []byte("hello"))
	s.RunUntil(time.Second)
	require.Equal(t, []string{"hello", "hello"}, got)
}

func TestPartitionsBlockBetweenGroupsOnlyUntilHealed(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{Latency: time.Millisecond})
	boxes := map[Addr]*inbox{}
	for _, a := range []Addr{"n1", "n2", "n3", "c1"} {
		boxes[a] = &inbox{}
		n.Attach(a, boxes[a].handler)
	}
	n.Partition([]Addr{"n1"}, []Addr{"n2", "n3"})
	n.Send("n1", "n2", text(""), []byte("x"))
	n.Send("n2", "n1", text(""), []byte("x"))
	n.Send("n2", "n3", text(""), []byte("same side"))
	n.Send("c1", "n1", text(""), []byte("clients are not partitioned"))
	s.RunUntil(time.Second)
	require.Empty(t, boxes["n2"].got)
	require.Equal(t, []string{"n2:same side"}, boxes["n3"].got)
	require.Equal(t, []string{"c1:clients are not partitioned"}, boxes["n1"].got)
	require.Equal(t, 2, n.Stats().Blocked)

	n.Heal()
	n.Send("n1", "n2", text(""), []byte("healed"))
	s.RunUntil(2 * time.Second)
	require.Equal(t, []string{"n1:healed"}, boxes["n2"].got)
}

func TestOneWayBlock(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{})
	a, b := &inbox{}, &inbox{}
	n.Attach("a", a.handler)
	n.Attach("b", b.handler)
	n.BlockOneWay("a", "b")
	n.Send("a", "b", text(""), []byte("lost"))
	n.Send("b", "a", text(""), []byte("arrives"))
	s.RunUntil(time.Second)
	require.Empty(t, b.got)
	require.Equal(t, []string{"b:arrives"}, a.got)
}

// On datagrams, drop and duplicate rates are probabilities: over many
// messages the counts land near them, and the same seed gives the same
// counts.
func TestDropsAndDuplicatesFollowTheirRatesAndTheSeed(t *testing.T) {
	run := func(seed uint64) Stats {
		s := sim.New(seed)
		defer s.Close()
		n := New(s, Link{Mode: Datagram, Latency: time.Millisecond, Jitter: time.Millisecond, DropRate: 0.1, DuplicateRate: 0.05})
		n.Attach("b", func(Addr, []byte) {})
		for range 10000 {
			n.Send("a", "b", text(""), []byte("m"))
		}
		s.RunUntil(time.Second)
		return n.Stats()
	}
	st := run(1)
	require.InDelta(t, 1000, st.Dropped, 150)
	require.InDelta(t, 450, st.Duplicated, 100)
	require.Equal(t, 10000-st.Dropped+st.Duplicated, st.Delivered)
	require.Equal(t, st, run(1))
	require.NotEqual(t, st, run(2))
}

func TestDetachedEndpointsLoseWhatArrives(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{Latency: time.Millisecond})
	b := &inbox{}
	n.Attach("b", b.handler)
	n.Send("a", "b", text(""), []byte("in flight"))
	n.Detach("b")
	s.RunUntil(time.Second)
	require.Empty(t, b.got)
	require.Equal(t, 1, n.Stats().Dropped)
}

// A crash breaks the connections to a node: what was in flight to its
// old life never reaches its new one, however quickly it comes back.
func TestARestartedEndpointGetsNothingSentToItsPastLife(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{Latency: time.Millisecond})
	b := &inbox{}
	n.Attach("b", b.handler)
	n.Send("a", "b", text(""), []byte("to the old b"))
	n.Detach("b")
	n.Send("a", "b", text(""), []byte("to nobody"))
	n.Attach("b", b.handler)
	n.Send("a", "b", text(""), []byte("to the new b"))
	s.RunUntil(time.Second)
	require.Equal(t, []string{"a:to the new b"}, b.got)
}

func TestLinkValidation(t *testing.T) {
	require.NoError(t, Link{DropRate: 0.1}.Validate())
	require.Error(t, Link{DropRate: 1.5}.Validate())
	require.Error(t, Link{Latency: -time.Millisecond}.Validate())
	require.Error(t, Link{Mode: Datagram + 1}.Validate())
}

func TestModesPrintAndParseAsWords(t *testing.T) {
	for _, m := range []Mode{Stream, Datagram} {
		got, err := ParseMode(m.String())
		require.NoError(t, err)
		require.Equal(t, m, got)
	}
	require.Equal(t, "stream", Mode(0).String(), "the zero value is etcd's TCP")
	_, err := ParseMode("udp")
	require.ErrorContains(t, err, "use stream or datagram")
}

// A stream never reorders: a large message holds back a small one sent
// after it, and jitter cannot swap two messages either.
func TestStreamsDeliverInOrderDespiteSizeAndJitter(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{Latency: time.Millisecond, Jitter: 10 * time.Millisecond, BytesPerSec: 1 << 20})
	var got []string
	var at []time.Duration
	n.Attach("b", func(_ Addr, p []byte) {
		got = append(got, string(p[:min(len(p), 8)]))
		at = append(at, s.Now())
	})
	big := make([]byte, 1<<20) // a snapshot: one second on the wire
	copy(big, "snapshot")
	n.Send("a", "b", text(""), big)
	var want []string
	want = append(want, "snapshot")
	for i := range 100 {
		m := fmt.Sprintf("m%d", i)
		n.Send("a", "b", text(""), []byte(m))
		want = append(want, m)
	}
	s.RunUntil(3 * time.Second)
	require.Equal(t, want, got)
	require.GreaterOrEqual(t, at[1], time.Second+time.Millisecond, "head-of-line: the first small message waits for the snapshot")
	require.True(t, slices.IsSorted(at))
}

// Loss on a stream is repaired by TCP: every message arrives, once, in
// order, and each lost transmission costs a retransmission timeout, which
// doubles when the same packet is lost again.
func TestStreamsRepairLossWithRetransmissionTimeouts(t *testing.T) {
	run := func(seed uint64) (Stats, string) {
		s := sim.New(seed)
		s.Trace().Keep()
		defer s.Close()
		n := New(s, Link{Latency: time.Millisecond, DropRate: 0.1, DuplicateRate: 0.5})
		var got []int
		n.Attach("b", func(_ Addr, p []byte) { got = append(got, int(p[0])<<8|int(p[1])) })
		for i := range 10000 {
			n.Send("a", "b", text(""), []byte{byte(i >> 8), byte(i)})
		}
		s.RunUntil(time.Minute)
		require.Len(t, got, 10000, "nothing lost, nothing duplicated")
		require.True(t, slices.IsSorted(got))
		return n.Stats(), s.Trace().String()
	}
	st, trace := run(1)
	require.Equal(t, 10000, st.Delivered)
	require.Zero(t, st.Dropped)
	require.Zero(t, st.Duplicated, "TCP discards duplicates")
	// p/(1-p) retransmits per message on average.
	require.InDelta(t, 1111, st.Retransmitted, 150)
	require.Contains(t, trace, "+201ms (1 retransmit)")
	require.Contains(t, trace, "+601ms (2 retransmits)")
	require.Contains(t, trace, "behind earlier messages)")
	st2, trace2 := run(1)
	require.Equal(t, st, st2)
	require.Equal(t, trace, trace2)
	st3, _ := run(2)
	require.NotEqual(t, st, st3)
}

// Head-of-line blocking stays within one direction of one route: a
// retransmission from a to b does not hold back a to c, nor b to a. And
// it lasts no longer than the receiver's read timeout: a message TCP's
// backoff would hold longer is lost with its connection, and the next
// message goes on a new one.
func TestAStalledStreamHoldsBackOnlyItsOwnRoute(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{Latency: time.Millisecond})
	n.SetRoute("a", "b", Link{Latency: time.Millisecond, DropRate: 1})
	at := map[string]time.Duration{}
	record := func(p []byte) { at[string(p)] = s.Now() }
	for _, a := range []Addr{"a", "b", "c"} {
		n.Attach(a, func(_ Addr, p []byte) { record(p) })
	}
	n.Send("a", "b", text(""), []byte("stalled"))
	n.Send("a", "c", text(""), []byte("a to c"))
	n.Send("b", "a", text(""), []byte("b to a"))
	n.ClearRoute("a", "b")
	n.Send("a", "b", text(""), []byte("behind"))
	s.RunUntil(time.Hour)
	require.Equal(t, time.Millisecond, at["a to c"])
	require.Equal(t, time.Millisecond, at["b to a"])
	_, arrived := at["stalled"]
	require.False(t, arrived, "15 doubling timeouts, as Linux's tcp_retries2, outlast the read timeout")
	require.Equal(t, time.Millisecond, at["behind"], "a new connection")
	require.Equal(t, 1, n.Stats().Dropped)
}

// A restart breaks the connection: the new one does not queue behind the
// old one's messages.
func TestARestartStartsAFreshStream(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{Latency: time.Millisecond, BytesPerSec: 1 << 20})
	b := &inbox{}
	n.Attach("b", b.handler)
	n.Send("a", "b", text(""), make([]byte, 1<<20))
	n.Detach("b")
	n.Attach("b", b.handler)
	n.Send("a", "b", text(""), []byte("new connection"))
	s.RunUntil(2 * time.Millisecond)
	require.Equal(t, []string{"a:new connection"}, b.got)
}

// A route override degrades one direction of one link; the default link
// carries the rest, and clearing the override restores it.
func TestRouteOverridesApplyToOneDirection(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{Latency: time.Millisecond})
	n.SetRoute("a", "b", Link{Latency: 50 * time.Millisecond})
	at := map[string]time.Duration{}
	for _, a := range []Addr{"a", "b"} {
		n.Attach(a, func(_ Addr, p []byte) { at[string(p)] = s.Now() })
	}
	n.Send("a", "b", text(""), []byte("slow"))
	n.Send("b", "a", text(""), []byte("back is fast"))
	s.RunUntil(time.Second)
	n.ClearRoute("a", "b")
	n.Send("a", "b", text(""), []byte("cleared"))
	s.RunUntil(2 * time.Second)
	require.Equal(t, 50*time.Millisecond, at["slow"])
	require.Equal(t, time.Millisecond, at["back is fast"])
	require.Equal(t, time.Second+time.Millisecond, at["cleared"])
}

// Overlapping faults each undo only their own block: the route opens when
// the last one ends. Heal ends them all.
func TestBlocksCountSoFaultsCanOverlap(t *testing.T) {
	s := sim.New(1)
	s.Trace().Keep()
	defer s.Close()
	n := New(s, Link{})
	n.Block("a", "b", "fault 1")
	n.Partition([]Addr{"a"}, []Addr{"b"})
	require.True(t, n.Blocked("a", "b"))
	require.True(t, n.Blocked("b", "a"))
	n.Send("a", "b", text("m"), nil)
	require.Contains(t, s.Trace().String(), "a->b blocked (partition): m", "the most recent reason")
	n.Unblock("a", "b")
	n.Unblock("b", "a")
	require.True(t, n.Blocked("a", "b"), "fault 1 still holds it")
	require.False(t, n.Blocked("b", "a"))
	n.Unblock("a", "b")
	require.False(t, n.Blocked("a", "b"))
	n.Unblock("a", "b") // a fault ending after a Heal finds nothing to undo
	require.False(t, n.Blocked("a", "b"))

	n.BlockOneWay("a", "b")
	n.Block("a", "b", "again")
	n.Heal()
	require.False(t, n.Blocked("a", "b"))
}

// A process that is down on a host that is up refuses at once: the sender
// hears of it after a round trip, on the reverse route's latency.
func TestADownEndpointRefusesAfterARoundTrip(t *testing.T) {
	s := sim.New(1)
	s.Trace().Keep()
	defer s.Close()
	n := New(s, Link{Latency: time.Millisecond, Jitter: time.Millisecond})
	n.SetRoute("n1", "c1", Link{Latency: 3 * time.Millisecond})
	var refusedAt time.Duration
	var refused []string
	n.OnRefused("c1", func(to Addr, p []byte) {
		refusedAt = s.Now()
		refused = append(refused, string(to)+":"+string(p))
	})
	n.Attach("c1", func(Addr, []byte) {})
	n.Send("c1", "n1", text("put"), []byte("put x"))
	s.RunUntil(time.Second)
	require.Equal(t, []string{"n1:put x"}, refused)
	require.GreaterOrEqual(t, refusedAt, 4*time.Millisecond)
	require.Less(t, refusedAt, 5*time.Millisecond)
	require.Equal(t, 1, n.Stats().Refused)
	require.Contains(t, s.Trace().String(), "c1->n1 refused: n1 is down, reset back +3ms")
}

// Only a live process refuses. A message to a past life that arrives while
// the endpoint is back is lost with its connection; a partition is
// silence; a sender without a callback loses the message as before.
func TestLostAndBlockedMessagesAreNotRefused(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{Latency: time.Millisecond})
	var refused []string
	n.OnRefused("c1", func(to Addr, p []byte) { refused = append(refused, string(p)) })
	b := &inbox{}
	n.Attach("b", b.handler)
	n.Send("c1", "b", text(""), []byte("to the old b"))
	n.Detach("b")
	n.Attach("b", b.handler)
	n.Send("c1", "b", text(""), []byte("to the new b"))

	n.Detach("d")
	n.Partition([]Addr{"c1"}, []Addr{"d"})
	n.Send("c1", "d", text(""), []byte("partitioned"))
	n.Heal()
	n.BlockOneWay("d", "c1")
	n.Send("c1", "d", text(""), []byte("the reset back is blocked"))
	n.Send("c2", "d", text(""), []byte("no callback"))
	s.RunUntil(time.Second)
	require.Equal(t, []string{"c1:to the new b"}, b.got)
	require.Empty(t, refused)
	st := n.Stats()
	require.Equal(t, 0, st.Refused)
	require.Equal(t, 3, st.Dropped)
	require.Equal(t, 1, st.Blocked)
}

// A sender that crashes before the reset arrives never hears it: the
// connection died with it.
func TestAResetFindsNoSenderThatRestarted(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{Latency: time.Millisecond})
	called := false
	n.OnRefused("c1", func(Addr, []byte) { called = true })
	n.Attach("c1", func(Addr, []byte) {})
	n.Send("c1", "n1", text(""), []byte("x"))
	s.RunUntil(time.Millisecond) // refused now; the reset is on its way back
	n.Detach("c1")
	n.Attach("c1", func(Addr, []byte) {})
	s.RunUntil(time.Second)
	require.False(t, called)
}

func TestReachableNeedsBothEndsUpAndTheRouteOpen(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{})
	n.Attach("n1", func(Addr, []byte) {})
	require.False(t, n.Reachable("n1", "n2"), "n2 is not attached")
	n.Attach("n2", func(Addr, []byte) {})
	require.True(t, n.Reachable("n1", "n2"))
	n.BlockOneWay("n1", "n2")
	require.False(t, n.Reachable("n1", "n2"))
	require.True(t, n.Reachable("n2", "n1"))
	n.Heal()
	n.Detach("n1")
	require.False(t, n.Reachable("n1", "n2"))
}

// A message sent while its endpoint was up travelled on a connection that
// died with the process: if the process is down when it arrives, the
// sender learns nothing (its request may have been read), so it is lost,
// not refused. Only a message sent to a process already down is refused.
func TestAMessageSentBeforeACrashIsLostNotRefused(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{Latency: time.Millisecond})
	var refused []string
	n.OnRefused("c1", func(to Addr, p []byte) { refused = append(refused, string(p)) })
	n.Attach("b", (&inbox{}).handler)
	n.Send("c1", "b", text(""), []byte("sent while up"))
	n.Detach("b")
	n.Send("c1", "b", text(""), []byte("sent while down"))
	s.RunUntil(time.Second)
	require.Equal(t, []string{"sent while down"}, refused)
}

// text is a message description for Send.
func text(s string) func() string { return func() string { return s } }

// Of a duplicated datagram's two copies, whichever arrives second is the
// repeat, and only while a handler runs.
func TestTheSecondCopyOfADuplicateIsARepeat(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{Mode: Datagram, Latency: time.Millisecond, Jitter: 10 * time.Millisecond, DuplicateRate: 1})
	seen := map[byte][]bool{}
	n.Attach("b", func(_ Addr, p []byte) { seen[p[0]] = append(seen[p[0]], n.Repeat()) })
	for i := range 50 {
		n.Send("a", "b", text(""), []byte{byte(i)})
	}
	s.RunUntil(time.Second)
	require.Len(t, seen, 50)
	for i, r := range seen {
		require.Equal(t, []bool{false, true}, r, "message %d", i)
	}
	require.False(t, n.Repeat(), "outside a handler")
}
