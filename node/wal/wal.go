// Package wal encodes the node's write-ahead log: a flat sequence of
// records, each framed with its length and a CRC, so that a node restarting
// after a crash can tell a torn last write from the records before it.
//
// etcd's WAL (server/storage/wal) does the same with chained CRCs and
// 64 MiB segment files; etcdlab keeps one log per node and an independent
// CRC per record, which is enough to find the torn tail.
package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Record types, as in etcd's walpb.
const (
	EntryType     byte = 2
	StateType     byte = 3 // a raft HardState
	headerSize         = 4 + 4 + 1
	maxRecordSize      = 64 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt marks a record whose CRC does not match in the middle of the
// log: unlike a torn tail, that is damage a restart must not paper over.
var ErrCorrupt = errors.New("wal: corrupt record")

// AppendEntry frames an entry as a record onto b.
func AppendEntry(b []byte, e *raftpb.Entry) []byte {
	return appendRecord(b, EntryType, mustMarshal(e))
}

// AppendState frames a HardState as a record onto b.
func AppendState(b []byte, st *raftpb.HardState) []byte {
	return appendRecord(b, StateType, mustMarshal(st))
}

func appendRecord(b []byte, typ byte, data []byte) []byte {
	var h [headerSize]byte
	binary.BigEndian.PutUint32(h[0:4], uint32(len(data)))
	crc := crc32.Update(crc32.Checksum([]byte{typ}, crcTable), crcTable, data)
	binary.BigEndian.PutUint32(h[4:8], crc)
	h[8] = typ
	return append(append(b, h[:]...), data...)
}

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("wal: marshal %T: %v", m, err)) // raftpb messages always marshal
	}
	return b
}

// Contents is what a log holds, in the order it was written.
type Contents struct {
	State   *raftpb.HardState // the last HardState written, nil if none
	Entries []*raftpb.Entry   // entries as raft's log holds them: a later entry at an index replaces the earlier one and everything after it
	Valid   int               // bytes of whole records; anything after is a torn tail
}

// Read decodes a log. A short or mismatching last record is a torn write:
// Read stops before it and reports how far the log was valid, the way
// etcd's wal.Repair cuts a torn tail. A bad record followed by good ones
// is corruption and an error.
func Read(b []byte) (Contents, error) {
	var c Contents
	off := 0
	for off < len(b) {
		typ, data, n, ok := nextRecord(b[off:])
		if !ok {
			if anyRecordAfter(b[off+1:]) {
				return c, fmt.Errorf("%w at byte %d of %d", ErrCorrupt, off, len(b))
			}
			break
		}
		switch typ {
		case EntryType:
			e := &raftpb.Entry{}
			if err := proto.Unmarshal(data, e); err != nil {
				return c, fmt.Errorf("%w at byte %d: entry: %v", ErrCorrupt, off, err)
			}
			c.Entries = appendReplacing(c.Entries, e)
		case StateType:
			st := &raftpb.HardState{}
			if err := proto.Unmarshal(data, st); err != nil {
				return c, fmt.Errorf("%w at byte %d: hard state: %v", ErrCorrupt, off, err)
			}
			c.State = st
		default:
			return c, fmt.Errorf("%w at byte %d: unknown record type %d", ErrCorrupt, off, typ)
		}
		off += n
		c.Valid = off
	}
	return c, nil
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
	crc := crc32.Update(crc32.Checksum([]byte{typ}, crcTable), crcTable, data)
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

// appendReplacing adds e to a log, dropping any entries at or after its
// index first: a new leader may overwrite an uncommitted suffix.
func appendReplacing(ents []*raftpb.Entry, e *raftpb.Entry) []*raftpb.Entry {
	for len(ents) > 0 && ents[len(ents)-1].GetIndex() >= e.GetIndex() {
		ents = ents[:len(ents)-1]
	}
	return append(ents, e)
}
