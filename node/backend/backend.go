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
// writes the whole image at each commit and guards it with a checksum, so
// a damaged file is refused, never half read.
package backend

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
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

const magic = "etcdlab-db1"

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Buckets are the file's buckets beyond meta, each as its package
// encodes it: the key bucket (node/mvcc) and the lease bucket
// (node/lease).
type Buckets struct {
	KV, Lease []byte
}

// Encode returns the file's bytes: the meta bucket, then the others.
func Encode(m Meta, bk Buckets) []byte {
	cs, err := proto.Marshal(m.ConfState)
	if err != nil {
		panic(fmt.Sprintf("backend: marshal conf state: %v", err)) // raftpb messages always marshal
	}
	// One allocation: the image is the whole store, written every batch
	// interval.
	head := len(magic) + 4
	b := make([]byte, head, head+64+len(cs)+10*(len(m.Removed)+2*len(m.Alarms))+len(bk.Lease)+len(bk.KV))
	copy(b, magic)
	body := binary.AppendUvarint(b, m.ConsistentIndex)
	body = binary.AppendUvarint(body, m.Term)
	body = binary.AppendUvarint(body, m.Digest)
	body = binary.AppendUvarint(body, uint64(len(cs)))
	body = append(body, cs...)
	body = binary.AppendUvarint(body, uint64(len(m.Removed)))
	for _, id := range m.Removed {
		body = binary.AppendUvarint(body, id)
	}
	body = binary.AppendUvarint(body, uint64(len(m.Alarms)))
	for _, a := range m.Alarms {
		body = binary.AppendUvarint(binary.AppendUvarint(body, a.MemberID), uint64(a.Alarm))
	}
	body = binary.AppendUvarint(body, uint64(len(bk.Lease)))
	body = append(body, bk.Lease...)
	body = append(body, bk.KV...)
	binary.BigEndian.PutUint32(body[len(magic):], crc32.Checksum(body[head:], crcTable))
	return body
}

// Decode reads a file Encode wrote.
func Decode(b []byte) (Meta, Buckets, error) {
	m, bk, err := decode(b)
	if err != nil {
		return Meta{}, Buckets{}, err
	}
	return m, bk, nil
}

func decode(b []byte) (m Meta, _ Buckets, _ error) {
	if len(b) < len(magic)+4 || string(b[:len(magic)]) != magic {
		return m, Buckets{}, fmt.Errorf("%w: not a database file (%d bytes)", ErrCorrupt, len(b))
	}
	body := b[len(magic)+4:]
	if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(b[len(magic):]) {
		return m, Buckets{}, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	var vals [4]uint64
	for i := range vals {
		v, n := binary.Uvarint(body)
		if n <= 0 {
			return m, Buckets{}, fmt.Errorf("%w: truncated meta bucket", ErrCorrupt)
		}
		vals[i], body = v, body[n:]
	}
	m.ConsistentIndex, m.Term, m.Digest = vals[0], vals[1], vals[2]
	if vals[3] > uint64(len(body)) {
		return m, Buckets{}, fmt.Errorf("%w: truncated conf state", ErrCorrupt)
	}
	m.ConfState = &raftpb.ConfState{}
	if err := proto.Unmarshal(body[:vals[3]], m.ConfState); err != nil {
		return m, Buckets{}, fmt.Errorf("%w: conf state: %v", ErrCorrupt, err)
	}
	body = body[vals[3]:]
	n, k := binary.Uvarint(body)
	if k <= 0 || n > uint64(len(body)) {
		return m, Buckets{}, fmt.Errorf("%w: truncated removed members", ErrCorrupt)
	}
	body = body[k:]
	for range n {
		id, k := binary.Uvarint(body)
		if k <= 0 {
			return m, Buckets{}, fmt.Errorf("%w: truncated removed members", ErrCorrupt)
		}
		m.Removed, body = append(m.Removed, id), body[k:]
	}
	n, k = binary.Uvarint(body)
	if k <= 0 || n > uint64(len(body)) {
		return m, Buckets{}, fmt.Errorf("%w: truncated alarms", ErrCorrupt)
	}
	body = body[k:]
	for range n {
		id, k := binary.Uvarint(body)
		if k <= 0 {
			return m, Buckets{}, fmt.Errorf("%w: truncated alarms", ErrCorrupt)
		}
		t, k2 := binary.Uvarint(body[k:])
		if k2 <= 0 || t > math.MaxInt32 {
			return m, Buckets{}, fmt.Errorf("%w: truncated alarms", ErrCorrupt)
		}
		m.Alarms, body = append(m.Alarms, Alarm{MemberID: id, Alarm: int32(t)}), body[k+k2:]
	}
	n, k = binary.Uvarint(body)
	if k <= 0 || n > uint64(len(body)-k) {
		return m, Buckets{}, fmt.Errorf("%w: truncated lease bucket", ErrCorrupt)
	}
	body = body[k:]
	return m, Buckets{Lease: body[:n], KV: body[n:]}, nil
}
