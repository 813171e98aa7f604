package api

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The wire form is a small hand-written binary encoding: requests are also
// the data of raft entries, so it must be compact and stable across builds.

const (
	opRange byte = iota + 1
	opPut
	opDeleteRange
	opMemberAdd
	opMemberRemove
	opMemberPromote
	opMemberList
	opMoveLeader
	opMembers // a MemberResponse
)

// ErrCorrupt is returned for bytes that are not a request or response.
var ErrCorrupt = errors.New("api: corrupt encoding")

// Marshal encodes the request.
func (r *Request) Marshal() []byte {
	b := make([]byte, 0, 32)
	b = binary.AppendUvarint(b, r.ID)
	switch {
	case r.Range != nil:
		b = append(b, opRange)
		b = appendString(b, r.Range.Key)
		b = appendBool(b, r.Range.Serializable)
	case r.Put != nil:
		b = append(b, opPut)
		b = appendString(b, r.Put.Key)
		b = appendString(b, r.Put.Value)
	case r.DeleteRange != nil:
		b = append(b, opDeleteRange)
		b = appendString(b, r.DeleteRange.Key)
	case r.MemberAdd != nil:
		b = append(b, opMemberAdd)
		b = binary.AppendUvarint(b, r.MemberAdd.ID)
		b = appendBool(b, r.MemberAdd.IsLearner)
	case r.MemberRemove != nil:
		b = binary.AppendUvarint(append(b, opMemberRemove), r.MemberRemove.ID)
	case r.MemberPromote != nil:
		b = binary.AppendUvarint(append(b, opMemberPromote), r.MemberPromote.ID)
	case r.MemberList != nil:
		b = append(b, opMemberList)
	case r.MoveLeader != nil:
		b = binary.AppendUvarint(append(b, opMoveLeader), r.MoveLeader.TargetID)
	default:
		b = append(b, 0)
	}
	return b
}

// UnmarshalRequest decodes what Marshal encoded.
func UnmarshalRequest(b []byte) (*Request, error) {
	d := decoder{b: b}
	r := &Request{ID: d.uvarint()}
	switch d.byte() {
	case opRange:
		r.Range = &RangeRequest{Key: d.string(), Serializable: d.bool()}
	case opPut:
		r.Put = &PutRequest{Key: d.string(), Value: d.string()}
	case opDeleteRange:
		r.DeleteRange = &DeleteRangeRequest{Key: d.string()}
	case opMemberAdd:
		r.MemberAdd = &MemberAddRequest{ID: d.uvarint(), IsLearner: d.bool()}
	case opMemberRemove:
		r.MemberRemove = &MemberRemoveRequest{ID: d.uvarint()}
	case opMemberPromote:
		r.MemberPromote = &MemberPromoteRequest{ID: d.uvarint()}
	case opMemberList:
		r.MemberList = &MemberListRequest{}
	case opMoveLeader:
		r.MoveLeader = &MoveLeaderRequest{TargetID: d.uvarint()}
	case 0:
	default:
		d.fail()
	}
	return r, d.done()
}

// Marshal encodes the response.
func (r *Response) Marshal() []byte {
	b := make([]byte, 0, 32)
	b = binary.AppendUvarint(b, r.ID)
	b = binary.AppendUvarint(b, r.Header.MemberID)
	b = binary.AppendVarint(b, r.Header.Revision)
	b = binary.AppendUvarint(b, r.Header.RaftTerm)
	errMsg := ""
	if r.Err != nil {
		errMsg = r.Err.Error()
	}
	b = appendString(b, errMsg)
	switch {
	case r.Range != nil:
		b = append(b, opRange)
		b = binary.AppendVarint(b, r.Range.Count)
		b = binary.AppendUvarint(b, uint64(len(r.Range.KVs)))
		for _, kv := range r.Range.KVs {
			b = appendString(b, kv.Key)
			b = appendString(b, kv.Value)
			b = binary.AppendVarint(b, kv.CreateRevision)
			b = binary.AppendVarint(b, kv.ModRevision)
			b = binary.AppendVarint(b, kv.Version)
		}
	case r.Put != nil:
		b = append(b, opPut)
	case r.DeleteRange != nil:
		b = append(b, opDeleteRange)
		b = binary.AppendVarint(b, r.DeleteRange.Deleted)
	case r.Members != nil:
		b = append(b, opMembers)
		b = appendBool(b, r.Members.Member != nil)
		if m := r.Members.Member; m != nil {
			b = appendBool(binary.AppendUvarint(b, m.ID), m.IsLearner)
		}
		b = binary.AppendUvarint(b, uint64(len(r.Members.Members)))
		for _, m := range r.Members.Members {
			b = appendBool(binary.AppendUvarint(b, m.ID), m.IsLearner)
		}
	default:
		b = append(b, 0)
	}
	return b
}

// UnmarshalResponse decodes what Marshal encoded. A known error comes back
// as the same value (ErrTimeout == ErrTimeout); another as a new error with
// its message.
func UnmarshalResponse(b []byte) (*Response, error) {
	d := decoder{b: b}
	r := &Response{ID: d.uvarint()}
	r.Header = ResponseHeader{MemberID: d.uvarint(), Revision: d.varint(), RaftTerm: d.uvarint()}
	if msg := d.string(); msg != "" {
		r.Err = errorFromMessage(msg)
	}
	switch d.byte() {
	case opRange:
		rr := &RangeResponse{Count: d.varint()}
		n := d.uvarint()
		for i := uint64(0); i < n && d.err == nil; i++ {
			rr.KVs = append(rr.KVs, KeyValue{Key: d.string(), Value: d.string(),
				CreateRevision: d.varint(), ModRevision: d.varint(), Version: d.varint()})
		}
		r.Range = rr
	case opPut:
		r.Put = &PutResponse{}
	case opDeleteRange:
		r.DeleteRange = &DeleteRangeResponse{Deleted: d.varint()}
	case opMembers:
		mr := &MemberResponse{}
		if d.bool() {
			mr.Member = &Member{ID: d.uvarint(), IsLearner: d.bool()}
		}
		n := d.uvarint()
		for i := uint64(0); i < n && d.err == nil; i++ {
			mr.Members = append(mr.Members, Member{ID: d.uvarint(), IsLearner: d.bool()})
		}
		r.Members = mr
	case 0:
	default:
		d.fail()
	}
	return r, d.done()
}

func errorFromMessage(msg string) error {
	for _, e := range knownErrors {
		if e.Error() == msg {
			return e
		}
	}
	return errors.New(msg)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// decoder reads fields in order and remembers the first error, so a decode
// function reads straight through and checks once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = ErrCorrupt
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) bool() bool { return d.byte() == 1 }

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.b))
	}
	return d.err
}
