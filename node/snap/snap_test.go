package snap

import (
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// mapDir is a snap directory held in memory.
type mapDir map[string][]byte

func (d mapDir) List() []string {
	var names []string
	for name := range d {
		names = append(names, name)
	}
	return names
}

func (d mapDir) Read(name string) ([]byte, bool) {
	b, ok := d[name]
	return b, ok
}

func snapshot(term, index uint64) *raftpb.Snapshot {
	return &raftpb.Snapshot{
		Data: []byte("state machine"),
		Metadata: &raftpb.SnapshotMetadata{
			Term:      proto.Uint64(term),
			Index:     proto.Uint64(index),
			ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}},
		},
	}
}

func encode(t *testing.T, term, index uint64) []byte {
	t.Helper()
	b, err := Encode(snapshot(term, index))
	require.NoError(t, err)
	return b
}

func TestNames(t *testing.T) {
	require.Equal(t, "0000000000000002-00000000000000a0.snap", Name(2, 160))
	require.Equal(t, "00000000000000a0.snap.db", DBName(160))
}

func TestRoundTrip(t *testing.T) {
	want := snapshot(3, 42)
	b, err := Encode(want)
	require.NoError(t, err)
	got, err := Decode(b)
	require.NoError(t, err)
	require.True(t, proto.Equal(want, got), "got %v, want %v", got, want)
}

// TestEncodeIsEtcdsFormat checks the hand-written encoding against
// protobuf-go marshaling etcd's snappb.Snapshot, built from its .proto.
func TestEncodeIsEtcdsFormat(t *testing.T) {
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name:    proto.String("snap.proto"),
		Package: proto.String("snappb"),
		Syntax:  proto.String("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("snapshot"),
			Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("crc"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_UINT32.Enum()},
				{Name: proto.String("data"), Number: proto.Int32(2), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_BYTES.Enum()},
			},
		}},
	}, nil)
	require.NoError(t, err)
	md := fd.Messages().Get(0)

	data, err := proto.Marshal(snapshot(3, 42))
	require.NoError(t, err)
	m := dynamicpb.NewMessage(md)
	m.Set(md.Fields().ByNumber(1), protoreflect.ValueOfUint32(crc32.Checksum(data, crcTable)))
	m.Set(md.Fields().ByNumber(2), protoreflect.ValueOfBytes(data))
	// Deterministic, or a dynamic message may write its fields in any
	// order; etcd's generated snappb code writes them in number order.
	want, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	require.NoError(t, err)
	require.Equal(t, want, encode(t, 3, 42))

	// And a field Decode does not know, as a newer etcd might add, is skipped.
	withUnknown := append(append([]byte{}, want...), 0x18, 0x07) // field 3, varint 7
	got, err := Decode(withUnknown)
	require.NoError(t, err)
	require.Equal(t, uint64(42), got.GetMetadata().GetIndex())
}

func TestEncodeRefusesEmptySnapshot(t *testing.T) {
	_, err := Encode(&raftpb.Snapshot{})
	require.ErrorIs(t, err, ErrEmptySnapshot)
}

func TestDecodeEmptyFile(t *testing.T) {
	_, err := Decode(nil)
	require.ErrorIs(t, err, ErrEmptySnapshot)
	require.EqualError(t, err, "snap: empty snapshot")
}

// layout returns where a good file's data field starts, and where the
// data itself starts after that field's tag and length.
func layout(t *testing.T, b []byte) (field, data int) {
	t.Helper()
	_, _, n := protowire.ConsumeTag(b)
	_, m := protowire.ConsumeVarint(b[n:])
	field = n + m
	_, _, n = protowire.ConsumeTag(b[field:])
	_, m = protowire.ConsumeVarint(b[field+n:])
	require.Positive(t, n)
	require.Positive(t, m)
	return field, field + n + m
}

// TestDecodeTornWrite cuts a good file at every length: no prefix decodes.
// A cut inside a field is corrupt encoding; a cut between fields leaves a
// well-formed file with no data, which etcd calls an empty snapshot.
func TestDecodeTornWrite(t *testing.T) {
	b := encode(t, 3, 42)
	field, _ := layout(t, b)
	for cut := range len(b) {
		_, err := Decode(b[:cut])
		if cut == 0 || cut == field {
			require.ErrorIs(t, err, ErrEmptySnapshot, "cut at %d", cut)
		} else {
			require.ErrorIs(t, err, ErrCorrupt, "cut at %d", cut)
		}
	}
}

// TestDecodeFlippedByte flips each byte of the data: CRC-32C catches every
// single-byte error.
func TestDecodeFlippedByte(t *testing.T) {
	good := encode(t, 3, 42)
	_, data := layout(t, good)
	for i := data; i < len(good); i++ {
		b := append([]byte{}, good...)
		b[i] ^= 0x01
		_, err := Decode(b)
		require.ErrorIs(t, err, ErrCRCMismatch, "flip at %d", i)
		require.EqualError(t, err, "snap: crc mismatch")
	}
}

func TestLoadNewestAvailable(t *testing.T) {
	all := []Ref{{0, 0}, {1, 1}, {5, 1}, {9, 2}} // a WAL starts with an empty snapshot record
	bad := func(b []byte) []byte {
		b = append([]byte{}, b...)
		b[len(b)-1] ^= 0xff
		return b
	}
	n1, n5, n9 := Name(1, 1), Name(1, 5), Name(2, 9)
	tests := []struct {
		name       string
		dir        mapDir
		walSnaps   []Ref
		want       Ref // zero: ErrNoSnapshot
		wantBroken []string
	}{
		{
			name:     "newest",
			dir:      mapDir{n1: encode(t, 1, 1), n5: encode(t, 1, 5), n9: encode(t, 2, 9)},
			walSnaps: all,
			want:     Ref{9, 2},
		},
		{
			name:     "WAL order does not matter",
			dir:      mapDir{n1: encode(t, 1, 1), n5: encode(t, 1, 5), n9: encode(t, 2, 9)},
			walSnaps: []Ref{{9, 2}, {0, 0}, {5, 1}},
			want:     Ref{9, 2},
		},
		{
			name:       "newest corrupt falls back and is reported",
			dir:        mapDir{n1: encode(t, 1, 1), n5: encode(t, 1, 5), n9: bad(encode(t, 2, 9))},
			walSnaps:   all,
			want:       Ref{5, 1},
			wantBroken: []string{n9},
		},
		{
			name:       "newest empty (torn before any byte) is broken",
			dir:        mapDir{n5: encode(t, 1, 5), n9: {}},
			walSnaps:   all,
			want:       Ref{5, 1},
			wantBroken: []string{n9},
		},
		{
			// A crash after the file was written and before its WAL record.
			name:     "skips a newer good snapshot the WAL does not list",
			dir:      mapDir{n1: encode(t, 1, 1), n5: encode(t, 1, 5), n9: encode(t, 2, 9)},
			walSnaps: []Ref{{0, 0}, {1, 1}, {5, 1}},
			want:     Ref{5, 1},
		},
		{
			// etcd decodes before it matches, so it finds this one broken.
			name:       "a corrupt file the WAL does not list is still broken",
			dir:        mapDir{n5: encode(t, 1, 5), n9: bad(encode(t, 2, 9))},
			walSnaps:   []Ref{{0, 0}, {5, 1}},
			want:       Ref{5, 1},
			wantBroken: []string{n9},
		},
		{
			name:     "files older than the one loaded are not read",
			dir:      mapDir{n1: bad(encode(t, 1, 1)), n5: encode(t, 1, 5)},
			walSnaps: all,
			want:     Ref{5, 1},
		},
		{
			name:     "matches the term and index in the file, not its name",
			dir:      mapDir{Name(3, 20): encode(t, 1, 5)},
			walSnaps: all,
			want:     Ref{5, 1},
		},
		{
			name: "ignores non-.snap names",
			dir: mapDir{
				n1:                 encode(t, 1, 1),
				n9 + ".broken":     encode(t, 2, 9),
				DBName(9):          []byte("bolt"),
				"db":               []byte("bolt"),
				"tmp123456":        encode(t, 2, 9),
				"db.tmp.42.snap":   encode(t, 2, 9),
				"0000000000000002": encode(t, 2, 9),
			},
			walSnaps: all,
			want:     Ref{1, 1},
		},
		{
			name:     "empty dir",
			dir:      mapDir{},
			walSnaps: all,
		},
		{
			name:       "all broken",
			dir:        mapDir{n1: []byte("bad"), n5: bad(encode(t, 1, 5)), n9: encode(t, 2, 9)[:10]},
			walSnaps:   all,
			wantBroken: []string{n9, n5, n1},
		},
		{
			name:     "none matches",
			dir:      mapDir{n1: encode(t, 1, 1), n5: encode(t, 1, 5)},
			walSnaps: []Ref{{0, 0}, {9, 2}},
		},
		{
			name: "no WAL snapshots",
			dir:  mapDir{n1: encode(t, 1, 1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, broken, err := LoadNewestAvailable(tt.dir, tt.walSnaps)
			require.Equal(t, tt.wantBroken, broken)
			if tt.want == (Ref{}) {
				require.ErrorIs(t, err, ErrNoSnapshot)
				require.EqualError(t, err, "snap: no available snapshot")
				require.Nil(t, s)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, Ref{s.GetMetadata().GetIndex(), s.GetMetadata().GetTerm()})
		})
	}
}

func TestNamesParseBack(t *testing.T) {
	term, index, ok := ParseName("member/snap/" + Name(3, 0x2a))
	require.True(t, ok)
	require.Equal(t, [2]uint64{3, 0x2a}, [2]uint64{term, index})
	_, _, ok = ParseName(DBName(7))
	require.False(t, ok, "a received backend is not a snapshot file")
	db, ok := ParseDBName("member/snap/" + DBName(0x22))
	require.True(t, ok)
	require.Equal(t, uint64(0x22), db)
	_, ok = ParseDBName(Name(1, 2))
	require.False(t, ok)
	_, ok = ParseDBName(DBName(5) + ".tmp-1")
	require.False(t, ok, "a temporary file is not a received backend")
}
