package sim

import (
	cryptorand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"sync"
)

// Rand returns the random stream called name. Each stream is seeded from
// (seed, name) alone, so a new consumer of one stream never reshuffles what
// another stream draws. Asking twice for one name restarts the stream, so
// each consumer should ask once.
func (s *Sim) Rand(name string) *rand.Rand { return Stream(s.seed, name) }

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
func (s *Sim) Reader(name string) io.Reader { return newStream(s.seed, name) }
