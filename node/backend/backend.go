// Package backend encodes a member's backend database file, the part of
// etcd's bbolt file (member/snap/db) that etcdlab keeps: the key-value
// store and the meta bucket, where etcd writes the consistent index, its
// term and the conf state in the same transaction as the writes they
// cover (server/etcdserver/cindex, server/storage/schema).
//
// That shared transaction is the point: after a crash, the consistent
// index says exactly which raft entries the store already holds, so a
// restart replays from the WAL only the entries after it, and applies none
// twice.
//
// bbolt commits are atomic (copy-on-write pages, then one of two meta
// pages): a file either holds a whole commit or the one before. etcdlab
// rewrites the file at each commit and guards it with a checksum, so a
// damaged file is refused, never half read.
//
// A file comes in two layouts of the same bytes, behind the same header
// (magic, then the CRC of the meta bucket, the lease bucket and the key
// bucket, in that order):
//
//   - a snapshot's db (Encode), what a leader sends: meta bucket, lease
//     bucket, key bucket;
//   - the member's own file (File): key bucket first, then the meta and
//     lease buckets with their bytes in reverse order, read from the
//     file's end. The key bucket only grows between commits, and at the
//     front its offset never moves, so a commit copies only what was
//     appended (file.go).
//
// Decode reads both.
package backend

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Path is the backend file in a member's data directory, as etcd names it.
const Path = "member/snap/db"

// Meta is the meta bucket.
type Meta struct {
	// ConsistentIndex and Term are the raft index and term of the last
	// entry applied to the store in this file (etcd's consistent_index and
	// term keys).
	ConsistentIndex, Term uint64
	// ConfState is raft's membership as of ConsistentIndex (etcd's
	// confState key).
	ConfState *raftpb.ConfState
	// Removed are the members removed from the cluster (etcd's
	// members_removed bucket): their IDs may never come back.
	Removed []uint64
	// Alarms are the cluster's raised alarms (etcd's alarm bucket): a
	// NOSPACE raised before a crash still refuses writes after it.
	Alarms []Alarm
	// Digest is not etcd's: it is the lab's digest of the entries applied
	// up to ConsistentIndex (node.Status.Digest), kept with the store so a
	// member whose store came from this file still reports what its state
	// machine applied to the checkers.
	Digest uint64
}

// Alarm is one raised alarm: the member that raised it, and its type
// (etcdserverpb.AlarmType).
type Alarm struct {
	MemberID uint64
	Alarm    int32
}

// ErrCorrupt is a database file that fails its checksum or does not decode.
var ErrCorrupt = errors.New("backend: corrupt database file")

const (
	magic     = "etcdlab-db1"
	headerLen = len(magic) + 4 // the magic, then the CRC
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Buckets are the file's buckets beyond meta, each as its package
// encodes it: the key bucket (node/mvcc) and the lease bucket
// (node/lease).
type Buckets struct {
	KV, Lease []byte
}

// Encode returns a snapshot db's bytes: the meta bucket, then the others.
func Encode(m Meta, bk Buckets) []byte {
	cs := marshalConfState(m.ConfState)
	// One allocation: the image is the whole store.
	b := make([]byte, headerLen, headerLen+metaLenMax(m, cs)+len(bk.Lease)+len(bk.KV))
	copy(b, magic)
	b = appendMeta(b, m, cs, len(bk.Lease))
	b = append(b, bk.Lease...)
	b = append(b, bk.KV...)
	binary.BigEndian.PutUint32(b[len(magic):], crc32.Checksum(b[headerLen:], crcTable))
	return b
}

func marshalConfState(cs *raftpb.ConfState) []byte {
	b, err := proto.Marshal(cs)
	if err != nil {
		panic(fmt.Sprintf("backend: marshal conf state: %v", err)) // raftpb messages always marshal
	}
	return b
}

// metaLenMax bounds what appendMeta adds.
func metaLenMax(m Meta, cs []byte) int {
	return 64 + len(cs) + binary.MaxVarintLen64*(len(m.Removed)+2*len(m.Alarms))
}

// appendMeta appends the meta bucket, ending with the lease bucket's
// length.
func appendMeta(b []byte, m Meta, cs []byte, leaseLen int) []byte {
	b = binary.AppendUvarint(b, m.ConsistentIndex)
	b = binary.AppendUvarint(b, m.Term)
	b = binary.AppendUvarint(b, m.Digest)
	b = binary.AppendUvarint(b, uint64(len(cs)))
	b = append(b, cs...)
	b = binary.AppendUvarint(b, uint64(len(m.Removed)))
	for _, id := range m.Removed {
		b = binary.AppendUvarint(b, id)
	}
	b = binary.AppendUvarint(b, uint64(len(m.Alarms)))
	for _, a := range m.Alarms {
		b = binary.AppendUvarint(binary.AppendUvarint(b, a.MemberID), uint64(a.Alarm))
	}
	return binary.AppendUvarint(b, uint64(leaseLen))
}

// Decode reads a file of either layout. The buckets may share b's array.
func Decode(b []byte) (Meta, Buckets, error) {
	if len(b) < headerLen || string(b[:len(magic)]) != magic {
		return Meta{}, Buckets{}, fmt.Errorf("%w: not a database file (%d bytes)", ErrCorrupt, len(b))
	}
	sum, body := binary.BigEndian.Uint32(b[len(magic):]), b[headerLen:]
	if crc32.Checksum(body, crcTable) == sum {
		// A snapshot's db: the key bucket is what follows the others.
		r := &reader{b: body}
		m, lease, err := decodeMeta(r)
		if err != nil {
			return Meta{}, Buckets{}, err
		}
		return m, Buckets{KV: r.b, Lease: lease}, nil
	}
	// A member's own file: the key bucket is what precedes the others.
	r := &reader{b: body, back: true}
	m, lease, err := decodeMeta(r)
	if err != nil || checksumOwn(r.b, body[len(r.b):]) != sum {
		// Neither layout's checksum holds: which layout the file was is
		// unknowable, so the error names the checksum.
		return Meta{}, Buckets{}, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return m, Buckets{KV: r.b, Lease: lease}, nil
}

// checksumOwn is the header's CRC of a member's own file, whose key
// bucket kv is followed by the other buckets' bytes reversed: the CRC of
// those buckets in order, then of the key bucket.
func checksumOwn(kv, reversedRest []byte) uint32 {
	return crc32.Update(crc32.Checksum(reversed(reversedRest), crcTable), crcTable, kv)
}

// reversed is a reversed copy of b.
func reversed(b []byte) []byte {
	r := make([]byte, len(b))
	for i, c := range b {
		r[len(b)-1-i] = c
	}
	return r
}

// decodeMeta reads the meta bucket and the lease bucket after it.
func decodeMeta(r *reader) (m Meta, lease []byte, _ error) {
	var vals [4]uint64
	for i := range vals {
		v, ok := r.uvarint()
		if !ok {
			return m, nil, fmt.Errorf("%w: truncated meta bucket", ErrCorrupt)
		}
		vals[i] = v
	}
	m.ConsistentIndex, m.Term, m.Digest = vals[0], vals[1], vals[2]
	cs, ok := r.take(vals[3])
	if !ok {
		return m, nil, fmt.Errorf("%w: truncated conf state", ErrCorrupt)
	}
	m.ConfState = &raftpb.ConfState{}
	if err := proto.Unmarshal(cs, m.ConfState); err != nil {
		return m, nil, fmt.Errorf("%w: conf state: %v", ErrCorrupt, err)
	}
	n, ok := r.uvarint()
	if !ok || n > uint64(len(r.b)) {
		return m, nil, fmt.Errorf("%w: truncated removed members", ErrCorrupt)
	}
	for range n {
		id, ok := r.uvarint()
		if !ok {
			return m, nil, fmt.Errorf("%w: truncated removed members", ErrCorrupt)
		}
		m.Removed = append(m.Removed, id)
	}
	n, ok = r.uvarint()
	if !ok || n > uint64(len(r.b)) {
		return m, nil, fmt.Errorf("%w: truncated alarms", ErrCorrupt)
	}
	for range n {
		id, ok := r.uvarint()
		t, ok2 := r.uvarint()
		if !ok || !ok2 || t > math.MaxInt32 {
			return m, nil, fmt.Errorf("%w: truncated alarms", ErrCorrupt)
		}
		m.Alarms = append(m.Alarms, Alarm{MemberID: id, Alarm: int32(t)})
	}
	n, ok = r.uvarint()
	if ok {
		lease, ok = r.take(n)
	}
	if !ok {
		return m, nil, fmt.Errorf("%w: truncated lease bucket", ErrCorrupt)
	}
	return m, lease, nil
}

// reader reads a file's buckets in order: forwards from the start of b,
// or, in a member's own file, backwards from its end (the bytes are
// stored reversed there).
type reader struct {
	b    []byte // what is not read yet
	back bool
}

// ReadByte makes a reader an io.ByteReader, for binary.ReadUvarint.
func (r *reader) ReadByte() (byte, error) {
	if len(r.b) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if r.back {
		c := r.b[len(r.b)-1]
		r.b = r.b[:len(r.b)-1]
		return c, nil
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

func (r *reader) uvarint() (uint64, bool) {
	v, err := binary.ReadUvarint(r)
	return v, err == nil
}

// take reads n bytes, in order: a slice of b forwards, a copy backwards.
func (r *reader) take(n uint64) ([]byte, bool) {
	if n > uint64(len(r.b)) {
		return nil, false
	}
	if r.back {
		rest := len(r.b) - int(n)
		v := reversed(r.b[rest:])
		r.b = r.b[:rest]
		return v, true
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v, true
}
