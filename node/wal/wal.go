// Package wal encodes the node's write-ahead log as etcd lays it out
// (server/storage/wal): a directory of segment files named
// "<seq>-<index>.wal", each a sequence of records framed with a length and
// a CRC, so that a node restarting after a crash can tell a torn last
// write from the records before it.
//
// A segment starts with the hard state (and the first one with an empty
// snapshot record), so any segment can begin a replay. Once a snapshot
// covers a segment's entries, the member may release and delete it: that
// is what keeps the log bounded. Reading back starts at the segment that
// holds the snapshot the member restarts from.
//
// etcd chains its CRCs across records and preallocates 64 MB segments;
// etcdlab gives every record its own CRC, which is enough to find the torn
// tail, and lets a run choose the segment size.
package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdlab/etcdlab/internal/raftwire"
)

// Dirname is where the segments live in a member's data directory.
const Dirname = "member/wal/"

// Record types, as in etcd's walpb.
const (
	EntryType     byte = 2
	StateType     byte = 3 // a raft HardState
	SnapshotType  byte = 5 // a snapshot's index, term and conf state
	headerSize         = 4 + 4 + 1
	maxRecordSize      = 64 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Errors, with etcd's messages where etcd has them.
var (
	// ErrCorrupt marks a record whose CRC does not match in the middle of
	// the log: unlike a torn tail, that is damage a restart must not paper
	// over.
	ErrCorrupt          = errors.New("wal: corrupt record")
	ErrFileNotFound     = errors.New("wal: file not found")
	ErrSnapshotNotFound = errors.New("wal: snapshot not found")
	ErrSnapshotMismatch = errors.New("wal: snapshot mismatch")
	ErrSliceOutOfRange  = errors.New("wal: slice bounds out of range")
)

// Dir is the member's data directory as the WAL reader sees it.
type Dir interface {
	List() []string
	// Read returns a file's bytes for the reader to keep: the entries
	// decoded from them alias them.
	Read(name string) ([]byte, bool)
}

// SegmentName is a segment's file name: its sequence number, and the
// first raft index it may hold (etcd's walName).
func SegmentName(seq, index uint64) string {
	return fmt.Sprintf("%s%016x-%016x.wal", Dirname, seq, index)
}

// Segment is a segment file of the log.
type Segment struct {
	Name       string
	Seq, Index uint64
}

// Segments lists the log's segments in order. Their sequence numbers must
// follow one another: a gap means a file is missing (etcd's isValidSeq).
func Segments(d Dir) ([]Segment, error) {
	var segs []Segment
	for _, name := range d.List() {
		base, ok := strings.CutPrefix(name, Dirname)
		if !ok || !strings.HasSuffix(base, ".wal") {
			continue
		}
		var s Segment
		if _, err := fmt.Sscanf(base, "%016x-%016x.wal", &s.Seq, &s.Index); err != nil {
			continue // etcd skips names it cannot parse, with a warning
		}
		s.Name = name
		segs = append(segs, s)
	}
	slices.SortFunc(segs, func(a, b Segment) int { return int(a.Seq) - int(b.Seq) })
	for i := 1; i < len(segs); i++ {
		if segs[i].Seq != segs[i-1].Seq+1 {
			return nil, fmt.Errorf("%w: segment %d missing between %s and %s", ErrFileNotFound, segs[i-1].Seq+1, segs[i-1].Name, segs[i].Name)
		}
	}
	return segs, nil
}

// AppendEntry frames an entry as a record onto b.
// An entry is encoded in place, after room for the header, by raftwire:
// the WAL writes one per entry raft appends, and protobuf-go's codec
// would encode it into a buffer of its own first.
func AppendEntry(b []byte, e *raftpb.Entry) []byte {
	start := len(b)
	b = raftwire.AppendEntry(append(b, make([]byte, headerSize)...), e)
	return frameRecord(b, start, EntryType)
}

// AppendState frames a HardState as a record onto b.
func AppendState(b []byte, st *raftpb.HardState) []byte {
	return appendRecord(b, StateType, mustMarshal(st))
}

// AppendSnapshot frames a snapshot record onto b: the index, term and
// conf state of a snapshot saved to the snap directory (etcd's
// walpb.Snapshot, kept here as a raftpb.SnapshotMetadata).
func AppendSnapshot(b []byte, index, term uint64, cs *raftpb.ConfState) []byte {
	return appendRecord(b, SnapshotType, mustMarshal(&raftpb.SnapshotMetadata{
		Index: proto.Uint64(index), Term: proto.Uint64(term), ConfState: cs}))
}

// typeCRC is the checksum of each record type's byte, where every
// record's checksum starts.
var typeCRC = func() (t [256]uint32) {
	for i := range t {
		t[i] = crc32.Checksum([]byte{byte(i)}, crcTable)
	}
	return t
}()

func appendRecord(b []byte, typ byte, data []byte) []byte {
	start := len(b)
	b = append(append(b, make([]byte, headerSize)...), data...)
	return frameRecord(b, start, typ)
}

// frameRecord fills in the header at b[start:] of the record whose data
// follows it to the end of b.
func frameRecord(b []byte, start int, typ byte) []byte {
	h, data := b[start:start+headerSize], b[start+headerSize:]
	binary.BigEndian.PutUint32(h[0:4], uint32(len(data)))
	binary.BigEndian.PutUint32(h[4:8], crc32.Update(typeCRC[typ], crcTable, data))
	h[8] = typ
	return b
}

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("wal: marshal %T: %v", m, err)) // raftpb messages always marshal
	}
	return b
}

// Ref names a snapshot by index and term.
type Ref struct{ Index, Term uint64 }

// Contents is what the log holds after a snapshot, in the order it was
// written.
type Contents struct {
	State    *raftpb.HardState // the last HardState written, nil if none
	Entries  []*raftpb.Entry   // entries after the snapshot, as raft's log holds them: a later entry at an index replaces the earlier one and everything after it
	Segments []Segment         // every segment, oldest first; the last is the one new records go to
	First    int               // Segments[First] is the one the snapshot is in: the ones before it are released
	Valid    int               // bytes of whole records in the last segment; anything after is a torn tail
	Size     int               // bytes in the last segment
}

// Last is the segment new records go to.
func (c Contents) Last() Segment { return c.Segments[len(c.Segments)-1] }

// ReadAll reads the log from the segment that holds the snapshot `start`
// on, as etcd's WAL.Open and ReadAll do: entries after the snapshot, the
// last hard state, and how much of the last segment is whole. The
// snapshot's own record must be among the records read
// (ErrSnapshotNotFound otherwise), and the entries must follow on from it
// (ErrSliceOutOfRange). A torn tail is allowed only at the end of the last
// segment; a bad record anywhere else is corruption.
func ReadAll(d Dir, start Ref) (Contents, error) {
	var c Contents
	segs, err := Segments(d)
	if err != nil {
		return c, err
	}
	first := -1
	for i, s := range segs {
		if s.Index <= start.Index {
			first = i
		}
	}
	if first < 0 {
		return c, fmt.Errorf("%w: no segment holds index %d (segments: %s)", ErrFileNotFound, start.Index, names(segs))
	}
	c.Segments, c.First = segs, first
	match := false
	for i, s := range segs[first:] {
		last := first+i == len(segs)-1
		b, _ := d.Read(s.Name)
		valid, err := readSegment(b, last, func(typ byte, data []byte) error {
			switch typ {
			case EntryType:
				// b is Read's copy, so the entry's Data may alias it.
				e, err := raftwire.UnmarshalEntry(data)
				if err != nil {
					return fmt.Errorf("%w: entry: %v", ErrCorrupt, err)
				}
				if e.GetIndex() <= start.Index {
					return nil
				}
				offset := e.GetIndex() - start.Index - 1
				if offset > uint64(len(c.Entries)) {
					return fmt.Errorf("%w, snapshot[Index: %d, Term: %d], current entry[Index: %d, Term: %d], len(ents): %d",
						ErrSliceOutOfRange, start.Index, start.Term, e.GetIndex(), e.GetTerm(), len(c.Entries))
				}
				c.Entries = append(c.Entries[:offset], e)
			case StateType:
				st := &raftpb.HardState{}
				if err := proto.Unmarshal(data, st); err != nil {
					return fmt.Errorf("%w: hard state: %v", ErrCorrupt, err)
				}
				c.State = st
			case SnapshotType:
				md := &raftpb.SnapshotMetadata{}
				if err := proto.Unmarshal(data, md); err != nil {
					return fmt.Errorf("%w: snapshot: %v", ErrCorrupt, err)
				}
				if md.GetIndex() == start.Index {
					if md.GetTerm() != start.Term {
						return ErrSnapshotMismatch
					}
					match = true
				}
			default:
				return fmt.Errorf("%w: unknown record type %d", ErrCorrupt, typ)
			}
			return nil
		})
		if err != nil {
			return c, fmt.Errorf("%s: %w", s.Name, err)
		}
		if last {
			c.Valid, c.Size = valid, len(b)
		}
	}
	if !match {
		return c, fmt.Errorf("%w: no record of snapshot %d (term %d) in %s", ErrSnapshotNotFound, start.Index, start.Term, names(segs[first:]))
	}
	return c, nil
}

// ValidSnapshotEntries lists the snapshot records in the whole log that a
// restart may start from: those at or below the last hard state's commit
// (etcd's wal.ValidSnapshotEntries). A snapshot above it was recorded by
// a member whose hard state did not reach the disk, and entries it covers
// may be missing.
func ValidSnapshotEntries(d Dir) ([]*raftpb.SnapshotMetadata, error) {
	segs, err := Segments(d)
	if err != nil {
		return nil, err
	}
	var snaps []*raftpb.SnapshotMetadata
	var state *raftpb.HardState
	for i, s := range segs {
		b, _ := d.Read(s.Name)
		_, err := readSegment(b, i == len(segs)-1, func(typ byte, data []byte) error {
			switch typ {
			case SnapshotType:
				md := &raftpb.SnapshotMetadata{}
				if err := proto.Unmarshal(data, md); err != nil {
					return fmt.Errorf("%w: snapshot: %v", ErrCorrupt, err)
				}
				snaps = append(snaps, md)
			case StateType:
				state = &raftpb.HardState{}
				if err := proto.Unmarshal(data, state); err != nil {
					return fmt.Errorf("%w: hard state: %v", ErrCorrupt, err)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	valid := snaps[:0]
	for _, s := range snaps {
		if s.GetIndex() <= state.GetCommit() {
			valid = append(valid, s)
		}
	}
	return valid, nil
}

// readSegment hands each whole record of a segment to fn and returns how
// many bytes were whole. A short or mismatching last record is a torn
// write and allowed only in the last segment, as etcd's repair cuts only
// the tail; a bad record followed by good ones is corruption.
func readSegment(b []byte, last bool, fn func(typ byte, data []byte) error) (valid int, err error) {
	off := 0
	for off < len(b) {
		typ, data, n, ok := nextRecord(b[off:])
		if !ok {
			if !last || anyRecordAfter(b[off+1:]) {
				return off, fmt.Errorf("%w at byte %d of %d", ErrCorrupt, off, len(b))
			}
			break
		}
		if err := fn(typ, data); err != nil {
			return off, fmt.Errorf("record at byte %d: %w", off, err)
		}
		off += n
	}
	return off, nil
}

func nextRecord(b []byte) (typ byte, data []byte, n int, ok bool) {
	if len(b) < headerSize {
		return 0, nil, 0, false
	}
	size := int(binary.BigEndian.Uint32(b[0:4]))
	if size > maxRecordSize || len(b) < headerSize+size {
		return 0, nil, 0, false
	}
	typ, data = b[8], b[headerSize:headerSize+size]
	crc := crc32.Update(typeCRC[typ], crcTable, data)
	if crc != binary.BigEndian.Uint32(b[4:8]) {
		return 0, nil, 0, false
	}
	return typ, data, headerSize + size, true
}

// anyRecordAfter reports whether a whole valid record starts anywhere in b:
// if one does, the bad bytes before it were not the last write.
func anyRecordAfter(b []byte) bool {
	for i := range b {
		if _, _, _, ok := nextRecord(b[i:]); ok {
			return true
		}
	}
	return false
}

func names(segs []Segment) string {
	var s []string
	for _, seg := range segs {
		s = append(s, strings.TrimPrefix(seg.Name, Dirname))
	}
	if len(s) == 0 {
		return "no segments"
	}
	return strings.Join(s, ", ")
}
