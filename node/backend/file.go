package backend

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// File writes a member's own backend file, commit after commit, at a cost
// that follows what changed rather than the whole store: the key bucket
// is at the front, where what a commit appended goes at the end of what
// the file held, and the meta and lease buckets (small, rewritten at
// every commit) come after it.
//
// Like bbolt's two meta pages, a File keeps two images and alternates:
// a commit fills the image not written last, which still holds the
// key bucket of the commit before last, so only what was appended since
// then is copied. The CRC of the key bucket is kept as it grows, so the
// header's CRC costs only the buckets after it.
//
// The disk keeps the image it is given as the file's content and its
// last synced image as what a crash leaves: so Commit may be called again
// only once the previous image is durable. Then the disk holds that image
// alone, and the other is free to fill.
//
// The image is Encode's bytes reordered behind Encode's header (the CRC
// of Encode's body, combined from the CRCs of its parts). Both matter to
// a run: its length is the member's db size, and a crash counts the
// bytes it lost from where the new image first differs from the durable
// one, which is inside that CRC, as it was when the file was Encode's.
type File struct {
	images [2][]byte
	kvLen  [2]int // how much of the key bucket each image holds
	last   int    // the image written last

	kvSum    uint32 // the CRC of the key bucket's first kvSummed bytes
	kvSummed int

	rest []byte // the meta and lease buckets, in reading order
}

// Commit returns the file's image holding m and bk. extends says that
// bk.KV is the key bucket of the previous Commit with bytes appended; if
// not (a compaction rewrote it, or the store is another one), both images
// copy it whole at their next commit.
func (f *File) Commit(m Meta, bk Buckets, extends bool) []byte {
	if !extends {
		f.kvLen = [2]int{}
		f.kvSum, f.kvSummed = 0, 0
	}
	i := 1 - f.last
	have := f.kvLen[i]
	if have > len(bk.KV) || f.kvSummed > len(bk.KV) {
		panic(fmt.Sprintf("backend: a key bucket of %d bytes said to extend one of %d", len(bk.KV), max(have, f.kvSummed)))
	}
	f.kvSum = crc32.Update(f.kvSum, crcTable, bk.KV[f.kvSummed:])
	f.kvSummed = len(bk.KV)

	cs := marshalConfState(m.ConfState)
	f.rest = append(appendMeta(f.rest[:0], m, cs, len(bk.Lease)), bk.Lease...)

	b := f.images[i]
	if b == nil {
		// Room to grow, as append would leave: the store grows between
		// commits.
		need := headerLen + len(bk.KV) + len(f.rest)
		b = make([]byte, headerLen, need+need/4+1024)
	}
	b = append(b[:headerLen+have], bk.KV[have:]...)
	for j := len(f.rest) - 1; j >= 0; j-- {
		b = append(b, f.rest[j])
	}
	copy(b, magic)
	sum := crc32Combine(crc32.Checksum(f.rest, crcTable), f.kvSum, len(bk.KV))
	binary.BigEndian.PutUint32(b[len(magic):], sum)
	f.images[i], f.kvLen[i], f.last = b, len(bk.KV), i
	return b
}

// crc32Combine is the CRC of a+b from crcA, crcB and len(b), as zlib's
// crc32_combine computes it: crcA is carried past len(b) zero bytes by
// multiplying it by x^(8*len(b)) modulo the polynomial, in O(log len(b)).
func crc32Combine(crcA, crcB uint32, lenB int) uint32 {
	return multModP(xPow8N(uint64(lenB)), crcA) ^ crcB
}

// The CRC's polynomial, in the reflected bit order crc32 works in:
// the bit for x^0 is the top one.
const (
	castagnoli = crc32.Castagnoli
	xPow0      = uint32(1) << 31
)

// multModP is a*b modulo the polynomial.
func multModP(a, b uint32) uint32 {
	var p uint32
	for m := xPow0; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		if b&1 != 0 {
			b = b>>1 ^ castagnoli
		} else {
			b >>= 1
		}
	}
	return p
}

// xPow8N is x^(8n) modulo the polynomial: the product of x^(2^k) over
// the bits k set in 8n.
func xPow8N(n uint64) uint32 {
	p := xPow0
	for k := 3; n != 0; n, k = n>>1, k+1 {
		if n&1 != 0 {
			p = multModP(xPow2K[k], p)
		}
	}
	return p
}

// xPow2K[k] is x^(2^k) modulo the polynomial, for the bits of 8n.
var xPow2K = func() (t [3 + 64]uint32) {
	p := xPow0 >> 1 // x^1
	for k := range t {
		t[k] = p
		p = multModP(p, p)
	}
	return t
}()
