package raftwire_test

import (
	"bytes"
	"testing"

	"github.com/etcdlab/etcdlab/internal/raftwire"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// msgApp is a leader's append of three small entries, the commonest
// message of a loaded run.
func msgApp() *raftpb.Message {
	entry := func(index uint64) *raftpb.Entry {
		return &raftpb.Entry{Type: raftpb.EntryType_EntryNormal.Enum(), Term: proto.Uint64(5),
			Index: proto.Uint64(index), Data: bytes.Repeat([]byte{'x'}, 60)}
	}
	return &raftpb.Message{
		Type: raftpb.MessageType_MsgApp.Enum(), To: proto.Uint64(2), From: proto.Uint64(1),
		Term: proto.Uint64(5), LogTerm: proto.Uint64(5), Index: proto.Uint64(1041),
		Entries: []*raftpb.Entry{entry(1042), entry(1043), entry(1044)}, Commit: proto.Uint64(1040),
	}
}

// TestDecodeAllocations holds the decoder to its promise: a message with
// entries in three allocations, one without in one. More would mean the
// fast path was left for protobuf-go's.
func TestDecodeAllocations(t *testing.T) {
	app := raftwire.AppendMessage(nil, msgApp())
	heartbeat := raftwire.AppendMessage(nil, &raftpb.Message{Type: raftpb.MessageType_MsgHeartbeat.Enum(),
		To: proto.Uint64(2), From: proto.Uint64(1), Term: proto.Uint64(5), Commit: proto.Uint64(1040)})
	for _, c := range []struct {
		name   string
		b      []byte
		allocs float64
	}{{"MsgApp", app, 3}, {"MsgHeartbeat", heartbeat, 1}} {
		got := testing.AllocsPerRun(100, func() {
			if _, err := raftwire.UnmarshalMessage(c.b); err != nil {
				t.Fatal(err)
			}
		})
		if got != c.allocs {
			t.Errorf("%s: %v allocations, want %v", c.name, got, c.allocs)
		}
	}
}

func BenchmarkMsgApp(b *testing.B) {
	m := msgApp()
	wire := raftwire.AppendMessage(nil, m)
	buf := make([]byte, 0, 1024)
	b.Run("marshal/raftwire", func(b *testing.B) {
		for b.Loop() {
			buf = raftwire.AppendMessage(buf[:0], m)
		}
	})
	b.Run("marshal/proto", func(b *testing.B) {
		for b.Loop() {
			buf, _ = proto.MarshalOptions{}.MarshalAppend(buf[:0], m)
		}
	})
	b.Run("unmarshal/raftwire", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := raftwire.UnmarshalMessage(wire); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unmarshal/proto", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := proto.Unmarshal(wire, &raftpb.Message{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
