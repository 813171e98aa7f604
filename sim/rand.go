package sim

import (
	cryptorand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
)

// Rand returns the random stream called name. Each stream is seeded from
// (seed, name) alone, so a new consumer of one stream never reshuffles what
// another stream draws. Asking twice for one name restarts the stream, so
// each consumer should ask once.
func (s *Sim) Rand(name string) *rand.Rand { return rand.New(s.stream(name)) }

// stream makes the named stream and remembers it, so Fork can re-key it.
func (s *Sim) stream(name string) *rand.ChaCha8 {
	c := newStream(s.seed, s.forkName(name))
	s.streams = append(s.streams, namedStream{name, c})
	return c
}

type namedStream struct {
	name string
	c    *rand.ChaCha8
}

// forkName is the name a stream is keyed by: its own, or after a fork its
// own with the fork's number, so a forked run draws fresh luck.
func (s *Sim) forkName(name string) string {
	if s.fork == 0 {
		return name
	}
	return fmt.Sprintf("%s/fork-%d", name, s.fork)
}

// Fork gives every stream, from now on, fresh randomness numbered k (not
// 0): what the run draws after this moment differs, what it drew before
// is unchanged. Replaying a failing run up to a moment and forking it
// many ways says whether the failure was settled by then.
func (s *Sim) Fork(k uint64) {
	s.fork = k
	for _, ns := range s.streams {
		*ns.c = *newStream(s.seed, s.forkName(ns.name))
	}
}

// Stream is the stream a Sim of seed would return for name, for work done
// before a simulation starts, such as expanding a scenario's settings.
func Stream(seed uint64, name string) *rand.Rand {
	return rand.New(newStream(seed, name))
}

func newStream(seed uint64, name string) *rand.ChaCha8 {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], seed)
	h := sha256.New()
	h.Write(buf[:])
	h.Write([]byte(name))
	var key [32]byte
	copy(key[:], h.Sum(nil))
	return rand.NewChaCha8(key)
}

// simLock lets one simulation at a time own crypto/rand.Reader.
var simLock sync.Mutex

// captureCryptoRand points crypto/rand.Reader at a seeded stream and returns
// the function that restores it.
//
// raft draws every randomized election timeout from crypto/rand.Reader
// (raft.go, lockedRand.Intn calls the package's Int on it).
// Left alone, two runs of one seed elect different leaders. Reader is
// process-wide, hence the lock: simulation tests must not run in parallel.
func captureCryptoRand(r io.Reader) (restore func()) {
	simLock.Lock()
	saved := cryptorand.Reader
	cryptorand.Reader = r
	return func() {
		cryptorand.Reader = saved
		simLock.Unlock()
	}
}

// Reader is the stream called name as bytes, for WithReader.
func (s *Sim) Reader(name string) io.Reader { return s.stream(name) }
