package mvcc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// The backend file holds the key bucket and the two compaction meta keys
// as a log of records after a header:
//
//	'P' main sub key value create_revision version lease   a put (mod = main)
//	'T' main sub key                                        a tombstone
//	'S' rev                                                 scheduledCompact
//	'F' rev                                                 finishedCompact
//	'C' offset                                              the end of an image
//
// Marshal ends what it returns with a 'C' record holding its own offset,
// so a file cut short anywhere but at the end of an earlier image does not
// decode.
//
// Writes only append records, so Marshal costs what was written since the
// last call; a compaction step that removed revisions makes the next
// Marshal write the log afresh, in a new buffer, from what is left.
//
// The encoding is also where the store keeps its KVs: each bucket entry
// points at its record, and a read decodes the KV from there (etcd reads
// values from bbolt's mmapped file the same way). So a kept revision is
// held once, encoded, and not again as a protobuf message.
const (
	encodingHeader = "etcdlab-mvcc\x01"

	tagPut              byte = 'P'
	tagTombstone        byte = 'T'
	tagScheduledCompact byte = 'S'
	tagFinishedCompact  byte = 'F'
	tagEnd              byte = 'C'
)

// ErrCorrupt is a store encoding that does not decode.
var ErrCorrupt = errors.New("mvcc: corrupt store encoding")

// encoding is the store's image, kept up to date as it is written, and
// the only copy of the bucket's KVs.
//
// Bytes below len(b) are never written again: the KVs a read hands out
// alias them, and so does what Marshal returned. A rebuild writes a new
// array and leaves the old one to whoever still holds a slice of it.
type encoding struct {
	b []byte
	// stale: revisions were removed, so b holds records no entry points
	// at, and meta records out of place. Writes still append to b, where
	// their entries point; the next Marshal rebuilds the image from the
	// bucket (as it did before the entries pointed into it, so that the
	// image is the same byte for byte).
	stale    bool
	ended    int // len(b) after the last end record
	rewrites int // rebuilds since the store began
}

func (en *encoding) reset(size int) {
	en.b = append(make([]byte, 0, len(encodingHeader)+size), encodingHeader...)
	en.stale, en.ended = false, 0
}

// end closes an image with an end record, unless nothing was added since
// the last one.
func (en *encoding) end() []byte {
	if en.ended != len(en.b) {
		en.b = binary.AppendVarint(append(en.b, tagEnd), int64(len(en.b)))
		en.ended = len(en.b)
	}
	// Later appends go past len, or into a new array: never into this.
	return en.b[:len(en.b):len(en.b)]
}

func (en *encoding) invalidate() { en.stale = true }

func (en *encoding) appendMeta(tag byte, rev int64) {
	en.b = binary.AppendVarint(append(en.b, tag), rev)
}

// appendEntry appends the record of a revision and returns the entry
// that points at it. A tombstone's kv holds only the key.
func (en *encoding) appendEntry(rev revision, tombstone bool, kv *mvccpb.KeyValue) entry {
	off := len(en.b)
	if tombstone {
		en.b = append(en.b, tagTombstone)
	} else {
		en.b = append(en.b, tagPut)
	}
	en.b = binary.AppendVarint(en.b, rev.main)
	en.b = binary.AppendVarint(en.b, rev.sub)
	en.b = appendBytes(en.b, kv.Key)
	if !tombstone {
		en.b = appendBytes(en.b, kv.Value)
		en.b = binary.AppendVarint(en.b, kv.CreateRevision)
		en.b = binary.AppendVarint(en.b, kv.Version)
		en.b = binary.AppendVarint(en.b, kv.Lease)
	}
	return entry{rev: rev, off: off, n: recordLen(len(en.b) - off), tombstone: tombstone}
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// recordLen is a record's length as an entry holds it: 32 bits, which
// keeps an entry at 32 bytes. A record that long could not have been
// proposed (raft entries are limited far below).
func recordLen(n int) uint32 {
	if n > math.MaxUint32 {
		panic(fmt.Sprintf("mvcc: a %d-byte record", n))
	}
	return uint32(n)
}

// kv decodes the KV of the entry's record (a tombstone's holds only the
// key). Key and Value alias the encoding, capped so that an append to
// them cannot write into it; like the KVs the store kept before, they
// are shared, and nothing may write into them.
func (en *encoding) kv(e entry) *mvccpb.KeyValue {
	d := decoder{b: en.b[e.off : e.off+int(e.n)]}
	d.byte()
	d.varint()
	d.varint()
	kv := &mvccpb.KeyValue{Key: d.bytes()}
	if !e.tombstone {
		kv.Value = d.bytes()
		if len(kv.Value) == 0 {
			kv.Value = nil // as a proto round trip through the backend gives it back
		}
		kv.CreateRevision, kv.Version, kv.Lease = d.varint(), d.varint(), d.varint()
		kv.ModRevision = e.rev.main
	}
	if d.err != nil || len(d.b) != 0 {
		panic(fmt.Sprintf("mvcc: the record of revision %v does not decode: %v", e.rev, d.err))
	}
	return kv
}

// rebuild writes the image afresh from the bucket, copying each kept
// record as it is, then the meta records, and points the entries at the
// new array. A copied record is the one encoding its KV again would give:
// the store wrote it, or read it from a file this store's Marshal wrote
// (the backend's checksum refuses any other).
func (s *Store) rebuild() {
	old := s.enc.b
	size := 0
	for _, e := range s.bucket {
		size += int(e.n)
	}
	s.enc.reset(size + 2*(1+binary.MaxVarintLen64) + 1 + binary.MaxVarintLen64)
	s.enc.rewrites++
	for i := range s.bucket {
		e := &s.bucket[i]
		off := len(s.enc.b)
		s.enc.b = append(s.enc.b, old[e.off:e.off+int(e.n)]...)
		e.off = off
	}
	if s.scheduledFound {
		s.enc.appendMeta(tagScheduledCompact, s.scheduledCompact)
	}
	if s.finishedFound {
		s.enc.appendMeta(tagFinishedCompact, s.finishedCompact)
	}
}

// Marshal encodes the store for the backend file. The slice is never
// written again by the store: callers may keep it.
func (s *Store) Marshal() []byte {
	if s.enc.stale {
		s.rebuild()
	}
	return s.enc.end()
}

// Rewrites counts the Marshal calls that wrote the encoding afresh. While
// it stays the same, each Marshal of this store returns the one before
// with bytes appended, so a caller keeping a copy (the backend file) need
// copy only those.
func (s *Store) Rewrites() int { return s.enc.rewrites }

// Unmarshal decodes what Marshal encoded and rebuilds the index from the
// key bucket as etcd's restore does: the compacted revision is the
// finished compaction's, the current revision the newest in the bucket (or
// a compaction's, if higher). An unfinished compaction is left for the
// node to resume (Unfinished).
//
// The store keeps a copy of b (its encoding, which its entries point
// into): b may be a disk's bytes that a later write changes.
func Unmarshal(b []byte) (*Store, error) {
	if len(b) < len(encodingHeader) || string(b[:len(encodingHeader)]) != encodingHeader {
		return nil, fmt.Errorf("%w: no header", ErrCorrupt)
	}
	s := NewStore()
	s.enc.b = slices.Clone(b)
	d := &decoder{b: s.enc.b[len(encodingHeader):]}
	ended := false
	for d.err == nil && len(d.b) > 0 {
		offset := len(b) - len(d.b)
		ended = false
		switch tag := d.byte(); tag {
		case tagEnd:
			if d.varint() != int64(offset) {
				d.fail("end record")
			}
			ended = true
		case tagPut, tagTombstone:
			e, err := decodeEntry(d, tag == tagTombstone)
			if err != nil {
				return nil, err
			}
			if n := len(s.bucket); n > 0 && !e.rev.GreaterThan(s.bucket[n-1].rev) {
				return nil, fmt.Errorf("%w: revision %v after %v", ErrCorrupt, e.rev, s.bucket[n-1].rev)
			}
			e.off = offset
			e.n = recordLen(len(b) - len(d.b) - offset)
			s.bucket = append(s.bucket, e)
		case tagScheduledCompact:
			s.scheduledCompact, s.scheduledFound = d.varint(), true
		case tagFinishedCompact:
			s.finishedCompact, s.finishedFound = d.varint(), true
		default:
			return nil, fmt.Errorf("%w: unknown record %q", ErrCorrupt, tag)
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if !ended {
		return nil, fmt.Errorf("%w: no end record", ErrCorrupt)
	}
	s.restore()
	s.enc.ended = len(s.enc.b)
	return s, nil
}

// decodeEntry checks the record after its tag, up to its end, and
// returns its entry (without the record's place, which the caller knows).
func decodeEntry(d *decoder, tombstone bool) (entry, error) {
	e := entry{tombstone: tombstone, rev: revision{main: d.varint(), sub: d.varint()}}
	d.bytes()
	var created, version int64
	if !tombstone {
		d.bytes()
		created, version, _ = d.varint(), d.varint(), d.varint()
	}
	if d.err != nil {
		return entry{}, d.err
	}
	if e.rev.main < 1 || e.rev.sub < 0 {
		return entry{}, fmt.Errorf("%w: revision %v", ErrCorrupt, e.rev)
	}
	if !tombstone && (created < 1 || created > e.rev.main || version < 1) {
		return entry{}, fmt.Errorf("%w: put at %v created at %d, version %d", ErrCorrupt, e.rev, created, version)
	}
	return e, nil
}

// restore is etcd's restore after the bucket is read: the index from the
// bucket in revision order, then the revisions. The index keeps its own
// copy of each key, not a slice of the encoding, so that a rebuild of the
// encoding frees the old array.
func (s *Store) restore() {
	if s.finishedFound {
		s.compactMainRev = s.finishedCompact
	}
	for _, e := range s.bucket {
		kv := s.enc.kv(e)
		ki := s.kvindex.keyIndex(kv.Key)
		s.currentRev = e.rev.main
		switch {
		case ki != nil && e.tombstone:
			// etcd only warns: a tombstone on a deleted key changes nothing.
			_ = ki.tombstone(e.rev.main, e.rev.sub)
		case ki != nil:
			ki.put(e.rev.main, e.rev.sub)
		case e.tombstone:
			ki = &keyIndex{key: bytes.Clone(kv.Key)}
			ki.restoreTombstone(e.rev.main, e.rev.sub)
			s.kvindex.Insert(ki)
		default:
			ki = &keyIndex{key: bytes.Clone(kv.Key)}
			ki.restore(revision{main: kv.CreateRevision}, e.rev, kv.Version)
			s.kvindex.Insert(ki)
		}
	}
	// keys in the range [compacted revision -N, compaction] might all be
	// deleted due to compaction. the correct revision should be set to
	// compaction revision in the case, not the largest revision we have
	// seen.
	s.currentRev = max(s.currentRev, s.compactMainRev, s.scheduledCompact)
}

// decoder reads records and remembers the first error, so a record is
// read straight through and checked once.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", ErrCorrupt, what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("record tag")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes is a length-prefixed field, a slice of what is decoded: capped
// at its length, so that an append to it copies instead of writing over
// the next field.
func (d *decoder) bytes() []byte {
	n, m := binary.Uvarint(d.b)
	if m <= 0 || n > uint64(len(d.b)-m) {
		d.fail("length")
		return nil
	}
	end := m + int(n)
	v := d.b[m:end:end]
	d.b = d.b[end:]
	return v
}
