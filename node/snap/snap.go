// Package snap is etcd's snapshotter (server/etcdserver/api/snap) without
// the file system: it encodes a raft snapshot into the bytes of a .snap
// file, decodes them back, and picks the snapshot a restarting member
// recovers from, given its snap directory as a Dir. Renaming broken files
// and writing new ones is left to the caller, so a simulated disk can
// supply the directory as easily as a real one.
//
// The file format is etcd's, byte for byte: a snappb.Snapshot{Crc, Data}
// where Data is the marshaled raftpb.Snapshot and Crc is its CRC-32C.
package snap

import (
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

const snapSuffix = ".snap"

var (
	ErrNoSnapshot    = errors.New("snap: no available snapshot")
	ErrEmptySnapshot = errors.New("snap: empty snapshot")
	ErrCRCMismatch   = errors.New("snap: crc mismatch")
	// ErrCorrupt wraps a file whose protobuf encoding does not parse, such
	// as a torn write. etcd has no name for this case: it returns the
	// protobuf decoder's error as is, which stays wrapped in ours.
	ErrCorrupt = errors.New("snap: corrupt snapshot")

	crcTable = crc32.MakeTable(crc32.Castagnoli)
)

// Dir is the member's snap directory as the snapshotter sees it.
type Dir interface {
	List() []string // file names in the directory, any order
	Read(name string) ([]byte, bool)
}

// Ref is a snapshot record found in the WAL: etcd's walpb.Snapshot
// without the conf state.
type Ref struct {
	Index, Term uint64
}

// Name is the file name etcd gives the snapshot at term and index. The
// fixed-width hex makes name order the same as (term, index) order.
func Name(term, index uint64) string {
	return fmt.Sprintf("%016x-%016x%s", term, index, snapSuffix)
}

// DBName is the file name etcd gives a backend received from a leader for
// the snapshot at index (db.go's dbFilePath).
func DBName(index uint64) string {
	return fmt.Sprintf("%016x.snap.db", index)
}

// ParseName reads back what Name wrote; ok is false for any other name.
// A directory in front of the name is ignored.
func ParseName(name string) (term, index uint64, ok bool) {
	if !strings.HasSuffix(name, snapSuffix) {
		return 0, 0, false // most files a member writes; Sscanf is slow
	}
	var rest string
	n, _ := fmt.Sscanf(baseName(name), "%016x-%016x%s", &term, &index, &rest)
	return term, index, n == 3 && rest == snapSuffix
}

// ParseDBName reads back what DBName wrote.
func ParseDBName(name string) (index uint64, ok bool) {
	var rest string
	n, _ := fmt.Sscanf(baseName(name), "%016x%s", &index, &rest)
	return index, n == 2 && rest == ".snap.db"
}

func baseName(name string) string { return name[strings.LastIndex(name, "/")+1:] }

// snappb.Snapshot field numbers (snappb/snap.proto).
const (
	crcField  protowire.Number = 1 // optional uint32
	dataField protowire.Number = 2 // optional bytes
)

// Encode returns the bytes of the .snap file for s, as etcd's
// Snapshotter.save writes them. etcd's SaveSnap silently skips an empty
// snapshot (index 0); Encode refuses it, so a caller cannot write a file
// that Decode would not read back.
func Encode(s *raftpb.Snapshot) ([]byte, error) {
	if raft.IsEmptySnap(s) {
		return nil, ErrEmptySnapshot
	}
	data, err := proto.Marshal(s)
	if err != nil {
		return nil, err
	}
	// Fields in number order, crc always present, as both etcd's old gogo
	// marshaler and protobuf-go write snappb.Snapshot.
	b := protowire.AppendTag(nil, crcField, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(crc32.Checksum(data, crcTable)))
	b = protowire.AppendTag(b, dataField, protowire.BytesType)
	b = protowire.AppendBytes(b, data)
	return b, nil
}

// Decode reads the snapshot in the bytes of a .snap file, with the checks
// of etcd's snap.Read in its order.
func Decode(b []byte) (*raftpb.Snapshot, error) {
	if len(b) == 0 {
		return nil, ErrEmptySnapshot
	}
	crc, data, err := unmarshalSnappb(b)
	if err != nil {
		return nil, err
	}
	// As in etcd, a zero crc means "no snapshot" too, so a good snapshot
	// whose CRC happens to be 0 (one in 2^32) would not load.
	if len(data) == 0 || crc == 0 {
		return nil, ErrEmptySnapshot
	}
	if crc32.Checksum(data, crcTable) != crc {
		return nil, ErrCRCMismatch
	}
	s := &raftpb.Snapshot{}
	if err := proto.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return s, nil
}

// unmarshalSnappb parses a snappb.Snapshot the way proto.Unmarshal does:
// unknown fields, and known ones with the wrong wire type, are skipped; a
// repeated field's last value wins. A prefix of a good file either fails
// here (cut inside a field) or parses with no data (cut between fields),
// which Decode reports as an empty snapshot, as etcd does.
func unmarshalSnappb(b []byte) (crc uint32, data []byte, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, nil, fmt.Errorf("%w: %w", ErrCorrupt, protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == crcField && typ == protowire.VarintType:
			var v uint64
			v, n = protowire.ConsumeVarint(b)
			crc = uint32(v)
		case num == dataField && typ == protowire.BytesType:
			data, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return 0, nil, fmt.Errorf("%w: %w", ErrCorrupt, protowire.ParseError(n))
		}
		b = b[n:]
	}
	return crc, data, nil
}

// LoadNewestAvailable is etcd's Snapshotter.LoadNewestAvailable: the
// newest snapshot in d that decodes and that the WAL records in walSnaps.
// walSnaps should be what etcd's wal.ValidSnapshotEntries returns: the
// WAL's snapshot records no newer than its committed HardState.
//
// A snapshot file is written before its WAL record, so a crash between the
// two leaves a file the WAL does not know; etcd skips such a file rather
// than recover from a snapshot the WAL cannot replay from.
//
// Files are tried newest name first, and each is decoded before it is
// matched against walSnaps, so a broken file is found even when the WAL
// would not have used it. etcd renames every file that fails to decode to
// <name>.broken; here their names come back in broken for the caller to
// rename. Files older than the one returned are never read, so they are
// not reported. The match is on the (term, index) inside the file, not
// the one in its name.
func LoadNewestAvailable(d Dir, walSnaps []Ref) (snap *raftpb.Snapshot, broken []string, err error) {
	for _, name := range snapNames(d) {
		b, ok := d.Read(name)
		if !ok {
			// Gone since List. etcd would fail to read it and try, in vain,
			// to rename it to .broken; there is nothing to rename.
			continue
		}
		s, err := Decode(b)
		if err != nil {
			broken = append(broken, name)
			continue
		}
		if inWAL(s, walSnaps) {
			return s, broken, nil
		}
	}
	return nil, broken, ErrNoSnapshot
}

// snapNames is etcd's snapNames: the .snap files in d, newest first. Other
// names (db, *.snap.db, *.broken, temporary files) are not snapshots. etcd
// also deletes db.tmp* files left by an interrupted defragmentation; they
// are only skipped here.
func snapNames(d Dir) []string {
	var names []string
	for _, name := range d.List() {
		if strings.HasSuffix(name, snapSuffix) && !strings.HasPrefix(name, "db.tmp") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	slices.Reverse(names)
	return names
}

func inWAL(s *raftpb.Snapshot, walSnaps []Ref) bool {
	m := s.GetMetadata()
	for _, r := range walSnaps {
		if m.GetTerm() == r.Term && m.GetIndex() == r.Index {
			return true
		}
	}
	return false
}
