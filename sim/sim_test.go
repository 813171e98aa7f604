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
