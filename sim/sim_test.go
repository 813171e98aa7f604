package sim

import (
	cryptorand "crypto/rand"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEventsRunInTimeThenScheduleOrder(t *testing.T) {
	s := New(1)
	defer s.Close()
	var got []string
	s.At(2*time.Millisecond, func() { got = append(got, "b") })
	s.At(1*time.Millisecond, func() {
		got = append(got, "a")
		s.After(time.Millisecond, func() { got = append(got, "c, scheduled later for the same time as b") })
	})
	s.At(5*time.Millisecond, func() { got = append(got, "after the end") })
	s.RunUntil(3 * time.Millisecond)
	require.Equal(t, []string{"a", "b", "c, scheduled later for the same time as b"}, got)
	require.Equal(t, 3*time.Millisecond, s.Now())
}

// The queue is a hand-written heap: many events at few distinct times,
// scheduled in a shuffled order and from inside events, still run in
// (time, scheduling) order.
func TestManyEventsRunInOrder(t *testing.T) {
	s := New(1)
	defer s.Close()
	rng := s.Rand("test")
	type stamp struct {
		at  time.Duration
		seq int
	}
	var got []stamp
	seq := 0
	var schedule func(depth int)
	schedule = func(depth int) {
		at := s.Now() + time.Duration(rng.IntN(5))*time.Millisecond
		seq++
		me := seq
		s.At(at, func() {
			got = append(got, stamp{at, me})
			if depth < 3 {
				schedule(depth + 1)
				schedule(depth + 1)
			}
		})
	}
	for range 200 {
		schedule(0)
	}
	s.RunUntil(time.Minute)
	require.Len(t, got, 200*15)
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		require.True(t, a.at < b.at || a.at == b.at && a.seq < b.seq, "event %d (%v, #%d) ran after (%v, #%d)", i, b.at, b.seq, a.at, a.seq)
	}
}

func TestSchedulingInThePastPanics(t *testing.T) {
	s := New(1)
	defer s.Close()
	s.RunUntil(time.Second)
	require.Panics(t, func() { s.At(time.Millisecond, func() {}) })
}

func TestStreamsDependOnSeedAndNameOnly(t *testing.T) {
	draw := func(seed uint64, name string) uint64 {
		s := New(seed)
		defer s.Close()
		return s.Rand(name).Uint64()
	}
	require.Equal(t, draw(7, "network"), draw(7, "network"))
	require.NotEqual(t, draw(7, "network"), draw(8, "network"))
	require.NotEqual(t, draw(7, "network"), draw(7, "client/1"))
}

// raft calls crypto/rand.Int(crypto/rand.Reader, n) for election timeouts:
// inside a simulation that must repeat per seed, and outside it must be
// the real reader again.
func TestCryptoRandIsCapturedPerRun(t *testing.T) {
	electionDraws := func(seed uint64) []int64 {
		s := New(seed)
		defer s.Close()
		var out []int64
		for range 5 {
			v, err := cryptorand.Int(cryptorand.Reader, big.NewInt(1000))
			require.NoError(t, err)
			out = append(out, v.Int64())
		}
		return out
	}
	require.Equal(t, electionDraws(3), electionDraws(3))
	require.NotEqual(t, electionDraws(3), electionDraws(4))

	saved := cryptorand.Reader
	s := New(3)
	require.NotEqual(t, saved, cryptorand.Reader)
	s.Close()
	s.Close()
	require.Equal(t, saved, cryptorand.Reader)
}

func TestTraceFingerprint(t *testing.T) {
	trace := func(words ...string) *Trace {
		s := New(1)
		defer s.Close()
		s.Trace().Keep()
		for i, w := range words {
			s.At(time.Duration(i)*time.Millisecond, func() { s.Logf("n1", "%s", w) })
		}
		s.RunUntil(time.Second)
		return s.Trace()
	}
	a := trace("x", "y")
	require.Equal(t, "   0.000000s n1   x\n   0.001000s n1   y\n", a.String())
	require.Equal(t, a.Fingerprint(), trace("x", "y").Fingerprint())
	require.NotEqual(t, a.Fingerprint(), trace("x", "z").Fingerprint())
	require.NotEqual(t, a.Fingerprint(), trace("xy").Fingerprint())
}

// The fingerprint is the records', whether or not the text was kept or
// streamed: a replay must print the run whose fingerprint a sweep saw.
func TestFingerprintDoesNotDependOnTheText(t *testing.T) {
	run := func(text string) string {
		s := New(1)
		defer s.Close()
		switch text {
		case "keep":
			s.Trace().Keep()
		case "sink":
			s.OnTrace(func(string) {})
		}
		s.At(time.Millisecond, func() {
			s.Logf("n1", "%s %d %v", "a", 7, 3*time.Second)
			s.Record("net").String("n1").Bytes([]byte{1, 2}).Done()
		})
		s.RunUntil(time.Second)
		return s.Trace().Fingerprint()
	}
	require.Equal(t, run(""), run("keep"))
	require.Equal(t, run(""), run("sink"))
}

// A member's election timeouts come from its own stream: what another
// member draws in between does not change them.
func TestWithReaderGivesEachCallerItsOwnStream(t *testing.T) {
	draws := func(interleave bool) []int64 {
		s := New(3)
		defer s.Close()
		mine := s.Reader("raft/n1")
		var out []int64
		for range 3 {
			if interleave {
				_, err := cryptorand.Int(cryptorand.Reader, big.NewInt(1000))
				require.NoError(t, err)
			}
			s.WithReader(mine, func() {
				v, err := cryptorand.Int(cryptorand.Reader, big.NewInt(1000))
				require.NoError(t, err)
				out = append(out, v.Int64())
			})
		}
		return out
	}
	require.Equal(t, draws(false), draws(true))
}

// A record started inside another would lose the bytes of the first: it
// is refused.
func TestNestedRecordsPanic(t *testing.T) {
	s := New(1)
	defer s.Close()
	r := s.Record("n1")
	require.Panics(t, func() { s.Record("n2") })
	r.Done()
	s.Record("n3").Done() // one after another is fine
}
