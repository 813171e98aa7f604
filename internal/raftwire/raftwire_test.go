package raftwire_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/etcdlab/etcdlab/internal/raftwire"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The codec knows raftpb's fields as of raft v3.7: Message's 1 to 14 and
// Entry's 1 to 4. A raft upgrade that adds one must fail here, not have
// the field dropped on the fast path.
func TestTheCodecKnowsEveryField(t *testing.T) {
	for _, c := range []struct {
		m    proto.Message
		want int
	}{{&raftpb.Message{}, 14}, {&raftpb.Entry{}, 4}} {
		fields := c.m.ProtoReflect().Descriptor().Fields()
		if fields.Len() != c.want {
			t.Fatalf("%T has %d fields; the codec knows %d", c.m, fields.Len(), c.want)
		}
		for i := range fields.Len() {
			if n := int(fields.Get(i).Number()); n < 1 || n > c.want {
				t.Fatalf("%T field %s is number %d; the codec knows 1 to %d", c.m, fields.Get(i).Name(), n, c.want)
			}
		}
	}
}

// TestRandomMessages encodes many random messages, every field present or
// absent, and checks the bytes are protobuf-go's and decode to what
// protobuf-go decodes.
func TestRandomMessages(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		m := randomMessage(r)
		checkMessage(t, i, m)
	}
}

// TestRandomEntries does the same for entries alone, as the WAL writes them.
func TestRandomEntries(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 20000 {
		e := randomEntry(r)
		prefix := []byte{byte(i)}
		want, err := proto.MarshalOptions{}.MarshalAppend(bytes.Clone(prefix), e)
		if err != nil {
			t.Fatal(err)
		}
		got := raftwire.AppendEntry(bytes.Clone(prefix), e)
		if !bytes.Equal(got, want) {
			t.Fatalf("entry %d: %v\nencodes as %x\nproto says %x", i, e, got, want)
		}
		checkDecodeEntry(t, want[1:])
	}
}

// TestUnusualMessages are the messages the encoder leaves to protobuf-go:
// they must still come out byte for byte, and decode alike.
func TestUnusualMessages(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	snap := randomMessage(r)
	snap.Type = raftpb.MessageType_MsgSnap.Enum()
	snap.Snapshot = &raftpb.Snapshot{Data: []byte("db"), Metadata: &raftpb.SnapshotMetadata{
		Index: proto.Uint64(7), Term: proto.Uint64(2),
		ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}}}}
	responses := randomMessage(r)
	responses.Responses = []*raftpb.Message{randomMessage(r), randomMessage(r)}
	unknown := randomMessage(r)
	unknown.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 5))
	unknownInEntry := randomMessage(r)
	e := randomEntry(r)
	e.ProtoReflect().SetUnknown(protowire.AppendBytes(protowire.AppendTag(nil, 5, protowire.BytesType), []byte("x")))
	unknownInEntry.Entries = append(unknownInEntry.Entries, e)
	emptyEntry := &raftpb.Message{Entries: []*raftpb.Entry{{}}}
	for i, m := range []*raftpb.Message{snap, responses, unknown, unknownInEntry, emptyEntry, {}} {
		checkMessage(t, i, m)
	}
}

// TestUnusualInput decodes encodings no raft sends but protobuf-go
// accepts, or rejects: fields out of order or repeated, unknown fields,
// other wire types, overlong tags and varints, a Snapshot.
func TestUnusualInput(t *testing.T) {
	tag := func(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }
	varint := func(num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(tag(num, protowire.VarintType), v)
	}
	bytesField := func(num protowire.Number, v []byte) []byte {
		return protowire.AppendBytes(tag(num, protowire.BytesType), v)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	entry := cat(varint(3, 9), varint(1, 1), varint(2, 4), bytesField(4, nil))
	inputs := map[string][]byte{
		"reversed":            cat(varint(13, 1), bytesField(12, []byte("c")), varint(2, 3), varint(1, 4)),
		"repeated scalar":     cat(varint(4, 1), varint(4, 2), varint(10, 1), varint(10, 0)),
		"repeated context":    cat(bytesField(12, []byte("a")), bytesField(12, []byte("bc"))),
		"entries interleaved": cat(bytesField(7, entry), varint(2, 1), bytesField(7, nil), varint(3, 2), bytesField(7, entry)),
		"entry field twice":   bytesField(7, cat(varint(2, 1), varint(2, 5), bytesField(4, []byte("a")), bytesField(4, nil))),
		"empty entry":         bytesField(7, nil),
		"unknown field":       cat(varint(2, 1), varint(20, 7)),
		"unknown in entry":    bytesField(7, cat(entry, varint(9, 1))),
		"field zero":          varint(0, 1),
		"wrong wire type":     cat(bytesField(2, []byte{1})),
		"wrong in entry":      bytesField(7, bytesField(2, []byte{1})),
		"fixed64":             protowire.AppendFixed64(tag(4, protowire.Fixed64Type), 1),
		"group":               cat(tag(4, protowire.StartGroupType), tag(4, protowire.EndGroupType)),
		"overlong tag":        cat([]byte{0x90, 0x00}, []byte{1}),
		"overlong varint":     cat(tag(4, protowire.VarintType), []byte{0x81, 0x80, 0x80, 0x00}),
		"varint overflow":     cat(tag(4, protowire.VarintType), bytes.Repeat([]byte{0xff}, 9), []byte{0x02}),
		"eleven-byte varint":  cat(tag(4, protowire.VarintType), bytes.Repeat([]byte{0x80}, 10), []byte{0x00}),
		"big enum":            varint(1, math.MaxUint64),
		"enum over int32":     cat(varint(1, 1<<33+5), bytesField(7, varint(1, 1<<40+2))),
		"bool of 2":           varint(10, 2),
		"snapshot":            bytesField(9, cat(bytesField(1, []byte("db")), bytesField(2, varint(2, 3)))),
		"snapshot twice":      cat(bytesField(9, bytesField(1, []byte("a"))), bytesField(9, bytesField(2, varint(3, 1)))),
		"responses":           bytesField(14, varint(2, 1)),
		"length past end":     cat(varint(2, 1), tag(12, protowire.BytesType), []byte{5, 'a'}),
		"entry length past":   cat(tag(7, protowire.BytesType), []byte{3}, varint(2, 1)),
		"truncated tag":       []byte{0x80},
		"nil":                 nil,
		"empty":               {},
	}
	for name, b := range inputs {
		t.Run(name, func(t *testing.T) { checkDecode(t, b) })
	}
}

// TestCorruptInput decodes every truncation of real-looking messages, and
// random changes to them: an error or protobuf-go's result, never a panic.
func TestCorruptInput(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 300 {
		b := raftwire.AppendMessage(nil, randomMessage(r))
		for n := range len(b) {
			// Every cut of a short message, a sample of a long one's.
			if n < 512 || r.IntN(len(b)) < 256 {
				checkDecode(t, b[:n])
			}
		}
		for range 20 {
			c := bytes.Clone(b)
			if len(c) == 0 {
				break
			}
			for range 1 + r.IntN(3) {
				c[r.IntN(len(c))] = byte(r.Uint32())
			}
			checkDecode(t, c)
		}
	}
}

func checkMessage(t *testing.T, i int, m *raftpb.Message) {
	t.Helper()
	prefix := []byte{byte(i), 0xff}
	want, err := proto.MarshalOptions{}.MarshalAppend(bytes.Clone(prefix), m)
	if err != nil {
		t.Fatal(err)
	}
	got := raftwire.AppendMessage(bytes.Clone(prefix), m)
	if !bytes.Equal(got, want) {
		t.Fatalf("message %d: %v\nencodes as %x\nproto says %x", i, m, got, want)
	}
	checkDecode(t, want[len(prefix):])
}

// checkDecode says whether UnmarshalMessage(b) is proto.Unmarshal's result,
// or fails when proto.Unmarshal does.
func checkDecode(t *testing.T, b []byte) {
	t.Helper()
	want := &raftpb.Message{}
	wantErr := proto.Unmarshal(b, want)
	got, err := raftwire.UnmarshalMessage(bytes.Clone(b))
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decoding %x: error %v, proto.Unmarshal's %v", b, err, wantErr)
	}
	if err == nil && !proto.Equal(got, want) {
		t.Fatalf("decoding %x:\ngot   %v\nproto %v", b, got, want)
	}
}

func checkDecodeEntry(t *testing.T, b []byte) {
	t.Helper()
	want := &raftpb.Entry{}
	wantErr := proto.Unmarshal(b, want)
	got, err := raftwire.UnmarshalEntry(bytes.Clone(b))
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decoding entry %x: error %v, proto.Unmarshal's %v", b, err, wantErr)
	}
	if err == nil && !proto.Equal(got, want) {
		t.Fatalf("decoding entry %x:\ngot   %v\nproto %v", b, got, want)
	}
}

// randomMessage has each field present or absent, 0, 1 or many entries,
// and values from small to the largest varints.
func randomMessage(r *rand.Rand) *raftpb.Message {
	m := &raftpb.Message{}
	if r.IntN(8) > 0 {
		m.Type = raftpb.MessageType(randomEnum(r, 23)).Enum()
	}
	m.To = maybeUint64(r)
	m.From = maybeUint64(r)
	m.Term = maybeUint64(r)
	m.LogTerm = maybeUint64(r)
	m.Index = maybeUint64(r)
	switch r.IntN(4) {
	case 0:
	case 1:
		m.Entries = []*raftpb.Entry{randomEntry(r)}
	default:
		for range r.IntN(40) {
			m.Entries = append(m.Entries, randomEntry(r))
		}
	}
	m.Commit = maybeUint64(r)
	if r.IntN(2) == 0 {
		m.Reject = proto.Bool(r.IntN(2) == 0)
	}
	m.RejectHint = maybeUint64(r)
	m.Context = maybeBytes(r)
	m.Vote = maybeUint64(r)
	return m
}

func randomEntry(r *rand.Rand) *raftpb.Entry {
	e := &raftpb.Entry{Term: maybeUint64(r), Index: maybeUint64(r), Data: maybeBytes(r)}
	if r.IntN(4) > 0 {
		e.Type = raftpb.EntryType(randomEnum(r, 3)).Enum()
	}
	return e
}

// randomEnum is mostly a known value, sometimes any int32, negative ones
// (ten bytes on the wire) included.
func randomEnum(r *rand.Rand, known int32) int32 {
	if r.IntN(10) > 0 {
		return r.Int32N(known)
	}
	return int32(r.Uint32())
}

func maybeUint64(r *rand.Rand) *uint64 {
	switch r.IntN(6) {
	case 0:
		return nil
	case 1:
		return proto.Uint64(0)
	case 2:
		return proto.Uint64(r.Uint64()) // mostly ten bytes
	case 3:
		return proto.Uint64(math.MaxUint64)
	default:
		return proto.Uint64(r.Uint64N(1 << (7 * r.IntN(5))))
	}
}

// maybeBytes is nil, empty (present on the wire), short or long (a
// length of two bytes or more).
func maybeBytes(r *rand.Rand) []byte {
	switch r.IntN(5) {
	case 0:
		return nil
	case 1:
		return []byte{}
	case 2:
		b := make([]byte, 200+r.IntN(20000))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	default:
		b := make([]byte, r.IntN(100))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
}
