package raftwire_test

import (
	"math/rand/v2"
	"testing"

	"github.com/etcdlab/etcdlab/internal/raftwire"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// FuzzUnmarshalMessage checks that any input decodes as proto.Unmarshal
// decodes it, or fails where it fails, and that a message decoded
// re-encodes as protobuf-go encodes it.
//
//	go test ./internal/raftwire -run '^$' -fuzz FuzzUnmarshalMessage -fuzztime 30s
func FuzzUnmarshalMessage(f *testing.F) {
	r := rand.New(rand.NewPCG(9, 10))
	f.Add(raftwire.AppendMessage(nil, msgApp()))
	for range 30 {
		m := randomMessage(r)
		if len(m.Entries) > 3 {
			m.Entries = m.Entries[:3] // the fuzzer mutates small inputs best
		}
		for _, e := range m.Entries {
			if len(e.Data) > 32 {
				e.Data = e.Data[:32]
			}
		}
		f.Add(raftwire.AppendMessage(nil, m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, b)
		m := &raftpb.Message{}
		if proto.Unmarshal(b, m) == nil {
			checkMessage(t, 0, m)
		}
	})
}
