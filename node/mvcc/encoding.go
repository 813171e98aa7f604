package mvcc

import (
	"encoding/binary"
	"errors"
	"fmt"

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

// encoding is the store's image, kept up to date as it is written.
type encoding struct {
	b        []byte
	stale    bool // revisions were removed: rebuild at the next Marshal
	ended    int  // len(b) after the last end record
	rewrites int  // rebuilds since the store began
}

func (en *encoding) reset() { en.b, en.stale, en.ended = []byte(encodingHeader), false, 0 }

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

func (en *encoding) appendEntry(e entry) {
	if en.stale {
		return
	}
	en.b = appendEntry(en.b, e)
}

func (en *encoding) appendMeta(tag byte, rev int64) {
	if en.stale {
		return
	}
	en.b = binary.AppendVarint(append(en.b, tag), rev)
}

func appendEntry(b []byte, e entry) []byte {
	if e.tombstone {
		b = append(b, tagTombstone)
	} else {
		b = append(b, tagPut)
	}
	b = binary.AppendVarint(b, e.rev.main)
	b = binary.AppendVarint(b, e.rev.sub)
	b = appendBytes(b, e.kv.Key)
	if e.tombstone {
		return b
	}
	b = appendBytes(b, e.kv.Value)
	b = binary.AppendVarint(b, e.kv.CreateRevision)
	b = binary.AppendVarint(b, e.kv.Version)
	return binary.AppendVarint(b, e.kv.Lease)
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// Marshal encodes the store for the backend file. The slice is never
// written again by the store: callers may keep it.
func (s *Store) Marshal() []byte {
	if s.enc.stale {
		s.enc.reset()
		s.enc.rewrites++
		for _, e := range s.bucket {
			s.enc.appendEntry(e)
		}
		if s.scheduledFound {
			s.enc.appendMeta(tagScheduledCompact, s.scheduledCompact)
		}
		if s.finishedFound {
			s.enc.appendMeta(tagFinishedCompact, s.finishedCompact)
		}
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
func Unmarshal(b []byte) (*Store, error) {
	if len(b) < len(encodingHeader) || string(b[:len(encodingHeader)]) != encodingHeader {
		return nil, fmt.Errorf("%w: no header", ErrCorrupt)
	}
	d := &decoder{b: b[len(encodingHeader):]}
	s := NewStore()
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
	s.enc.b = append(s.enc.b[:0], b...)
	s.enc.ended = len(s.enc.b)
	return s, nil
}

func decodeEntry(d *decoder, tombstone bool) (entry, error) {
	e := entry{tombstone: tombstone, rev: revision{main: d.varint(), sub: d.varint()}}
	e.kv = &mvccpb.KeyValue{Key: d.bytes()}
	if !tombstone {
		e.kv.Value = d.bytes()
		if len(e.kv.Value) == 0 {
			e.kv.Value = nil
		}
		e.kv.CreateRevision, e.kv.Version, e.kv.Lease = d.varint(), d.varint(), d.varint()
		e.kv.ModRevision = e.rev.main
	}
	if d.err != nil {
		return entry{}, d.err
	}
	if e.rev.main < 1 || e.rev.sub < 0 {
		return entry{}, fmt.Errorf("%w: revision %v", ErrCorrupt, e.rev)
	}
	if !tombstone && (e.kv.CreateRevision < 1 || e.kv.CreateRevision > e.rev.main || e.kv.Version < 1) {
		return entry{}, fmt.Errorf("%w: put at %v created at %d, version %d", ErrCorrupt, e.rev, e.kv.CreateRevision, e.kv.Version)
	}
	return e, nil
}

// restore is etcd's restore after the bucket is read: the index from the
// bucket in revision order, then the revisions.
func (s *Store) restore() {
	if s.finishedFound {
		s.compactMainRev = s.finishedCompact
	}
	for _, e := range s.bucket {
		ki := s.kvindex.keyIndex(e.kv.Key)
		s.currentRev = e.rev.main
		switch {
		case ki != nil && e.tombstone:
			// etcd only warns: a tombstone on a deleted key changes nothing.
			_ = ki.tombstone(e.rev.main, e.rev.sub)
		case ki != nil:
			ki.put(e.rev.main, e.rev.sub)
		case e.tombstone:
			ki = &keyIndex{key: e.kv.Key}
			ki.restoreTombstone(e.rev.main, e.rev.sub)
			s.kvindex.Insert(ki)
		default:
			ki = &keyIndex{key: e.kv.Key}
			ki.restore(revision{main: e.kv.CreateRevision}, e.rev, e.kv.Version)
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

// bytes is a copy of a length-prefixed field: the store keeps it.
func (d *decoder) bytes() []byte {
	n, m := binary.Uvarint(d.b)
	if m <= 0 || n > uint64(len(d.b)-m) {
		d.fail("length")
		return nil
	}
	v := append([]byte(nil), d.b[m:m+int(n)]...)
	d.b = d.b[m+int(n):]
	return v
}
