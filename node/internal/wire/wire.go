// Package wire holds the small varint encoding the node's own formats
// share: client requests and responses (node/api), which are also the data
// of raft entries, and the store's image in the backend (node/mvcc).
package wire

import (
	"encoding/binary"
	"fmt"
)

// AppendString appends s with its length in front.
func AppendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// AppendBool appends v as one byte.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// Decoder reads fields in order and remembers the first error, so a
// decode function reads straight through and checks once, at Done.
type Decoder struct {
	b       []byte
	err     error
	corrupt error // what a short or malformed field fails with
}

// NewDecoder reads b; a bad field is reported as corrupt.
func NewDecoder(b []byte, corrupt error) *Decoder { return &Decoder{b: b, corrupt: corrupt} }

// Err is the first error so far.
func (d *Decoder) Err() error { return d.err }

// Fail marks the input as corrupt and stops reading it.
func (d *Decoder) Fail() {
	if d.err == nil {
		d.err = d.corrupt
	}
	d.b = nil
}

func (d *Decoder) Uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.Fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *Decoder) Varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.Fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *Decoder) Byte() byte {
	if len(d.b) == 0 {
		d.Fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *Decoder) Bool() bool { return d.Byte() == 1 }

func (d *Decoder) String() string {
	n := d.Uvarint()
	if n > uint64(len(d.b)) {
		d.Fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// Done is the first error, or one for bytes left over.
func (d *Decoder) Done() error {
	if d.err == nil && len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", d.corrupt, len(d.b))
	}
	return d.err
}
