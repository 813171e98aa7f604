package network

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etcdlab/etcdlab/sim"
)

type inbox struct{ got []string }

func (in *inbox) handler(from Addr, payload []byte) {
	in.got = append(in.got, string(from)+":"+string(payload))
}

func TestMessagesArriveAfterLatencyAsOwnCopies(t *testing.T) {
	s := sim.New(1)
	defer s.Close()
	n := New(s, Link{Latency: 5 * time.Millisecond})
	var b inbox
	n.Attach("b", b.handler)
	payload := []byte("hello")
	n.Send("a", "b", "greeting", payload)
	payload[0] = 'j' // the sender reusing its buffer must not change what is on the wire
	s.RunUntil(4 * time.Millisecond)
	require.Empty(t, b.got)
	s.RunUntil(5 * time.Millisecond)
	require.Equal(t, []string{"a:hello"}, b.got)
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
	n.Send("n1", "n2", "", []byte("x"))
	n.Send("n2", "n1", "", []byte("x"))
	n.Send("n2", "n3", "", []byte("same side"))
	n.Send("c1", "n1", "", []byte("clients are not partitioned"))
	s.RunUntil(time.Second)
	require.Empty(t, boxes["n2"].got)
	require.Equal(t, []string{"n2:same side"}, boxes["n3"].got)
	require.Equal(t, []string{"c1:clients are not partitioned"}, boxes["n1"].got)
	require.Equal(t, 2, n.Stats().Blocked)

	n.Heal()
	n.Send("n1", "n2", "", []byte("healed"))
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
	n.Send("a", "b", "", []byte("lost"))
	n.Send("b", "a", "", []byte("arrives"))
	s.RunUntil(time.Second)
	require.Empty(t, b.got)
	require.Equal(t, []string{"b:arrives"}, a.got)
}

// Drop and duplicate rates are probabilities: over many messages the counts
// land near them, and the same seed gives the same counts.
func TestDropsAndDuplicatesFollowTheirRatesAndTheSeed(t *testing.T) {
	run := func(seed uint64) Stats {
		s := sim.New(seed)
		defer s.Close()
		n := New(s, Link{Latency: time.Millisecond, Jitter: time.Millisecond, DropRate: 0.1, DuplicateRate: 0.05})
		n.Attach("b", func(Addr, []byte) {})
		for range 10000 {
			n.Send("a", "b", "", []byte("m"))
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
	n.Send("a", "b", "", []byte("in flight"))
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
	n.Send("a", "b", "", []byte("to the old b"))
	n.Detach("b")
	n.Send("a", "b", "", []byte("to nobody"))
	n.Attach("b", b.handler)
	n.Send("a", "b", "", []byte("to the new b"))
	s.RunUntil(time.Second)
	require.Equal(t, []string{"a:to the new b"}, b.got)
}

func TestLinkValidation(t *testing.T) {
	require.NoError(t, Link{DropRate: 0.1}.Validate())
	require.Error(t, Link{DropRate: 1.5}.Validate())
	require.Error(t, Link{Latency: -time.Millisecond}.Validate())
}
