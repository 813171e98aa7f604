package raftwire_test

import (
	"bytes"
	"testing"

	"github.com/etcdlab/etcdlab/internal/raftwire"
	"github.com/etcdlab/etcdlab/scenarios"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// TestRunMessages checks every message two real runs send, both ways:
// the bytes are protobuf-go's, and decode to what protobuf-go decodes.
// Random messages may miss a combination raft uses; these cannot.
func TestRunMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two scenarios")
	}
	for _, name := range []string{"partition", "flaky-network"} {
		t.Run(name, func(t *testing.T) {
			type sent struct {
				m *raftpb.Message
				b []byte
			}
			var msgs []sent
			stop := raftwire.RecordAppends(func(m *raftpb.Message, b []byte) {
				// Copies: raft and the network keep what they were given.
				msgs = append(msgs, sent{proto.Clone(m).(*raftpb.Message), bytes.Clone(b)})
			})
			_, err := scenarios.Run(name, 1, scenarios.Options{})
			stop()
			if err != nil {
				t.Fatal(err)
			}
			types := map[raftpb.MessageType]int{}
			for i, s := range msgs {
				want, err := proto.Marshal(s.m)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(s.b, want) {
					t.Fatalf("message %d: %v\nwas sent as %x\nproto says  %x", i, s.m, s.b, want)
				}
				got, err := raftwire.UnmarshalMessage(s.b)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if !proto.Equal(got, s.m) {
					t.Fatalf("message %d: sent %v\ndecoded as %v", i, s.m, got)
				}
				types[s.m.GetType()]++
			}
			t.Logf("%d messages: %v", len(msgs), types)
			if len(msgs) < 1000 || len(types) < 6 {
				t.Fatalf("only %d messages of %d types: is the recorder on Send's path?", len(msgs), len(types))
			}
		})
	}
}
