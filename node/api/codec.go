package api

import (
	"encoding/binary"
	"errors"

	"github.com/etcdlab/etcdlab/node/internal/wire"
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
		b = wire.AppendString(b, r.Range.Key)
		b = wire.AppendBool(b, r.Range.Serializable)
	case r.Put != nil:
		b = append(b, opPut)
		b = wire.AppendString(b, r.Put.Key)
		b = wire.AppendString(b, r.Put.Value)
	case r.DeleteRange != nil:
		b = append(b, opDeleteRange)
		b = wire.AppendString(b, r.DeleteRange.Key)
	case r.MemberAdd != nil:
		b = append(b, opMemberAdd)
		b = binary.AppendUvarint(b, r.MemberAdd.ID)
		b = wire.AppendBool(b, r.MemberAdd.IsLearner)
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
	d := wire.NewDecoder(b, ErrCorrupt)
	r := &Request{ID: d.Uvarint()}
	switch d.Byte() {
	case opRange:
		r.Range = &RangeRequest{Key: d.String(), Serializable: d.Bool()}
	case opPut:
		r.Put = &PutRequest{Key: d.String(), Value: d.String()}
	case opDeleteRange:
		r.DeleteRange = &DeleteRangeRequest{Key: d.String()}
	case opMemberAdd:
		r.MemberAdd = &MemberAddRequest{ID: d.Uvarint(), IsLearner: d.Bool()}
	case opMemberRemove:
		r.MemberRemove = &MemberRemoveRequest{ID: d.Uvarint()}
	case opMemberPromote:
		r.MemberPromote = &MemberPromoteRequest{ID: d.Uvarint()}
	case opMemberList:
		r.MemberList = &MemberListRequest{}
	case opMoveLeader:
		r.MoveLeader = &MoveLeaderRequest{TargetID: d.Uvarint()}
	case 0:
	default:
		d.Fail()
	}
	return r, d.Done()
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
	b = wire.AppendString(b, errMsg)
	switch {
	case r.Range != nil:
		b = append(b, opRange)
		b = binary.AppendVarint(b, r.Range.Count)
		b = binary.AppendUvarint(b, uint64(len(r.Range.KVs)))
		for _, kv := range r.Range.KVs {
			b = wire.AppendString(b, kv.Key)
			b = wire.AppendString(b, kv.Value)
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
		b = wire.AppendBool(b, r.Members.Member != nil)
		if m := r.Members.Member; m != nil {
			b = wire.AppendBool(binary.AppendUvarint(b, m.ID), m.IsLearner)
		}
		b = binary.AppendUvarint(b, uint64(len(r.Members.Members)))
		for _, m := range r.Members.Members {
			b = wire.AppendBool(binary.AppendUvarint(b, m.ID), m.IsLearner)
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
	d := wire.NewDecoder(b, ErrCorrupt)
	r := &Response{ID: d.Uvarint()}
	r.Header = ResponseHeader{MemberID: d.Uvarint(), Revision: d.Varint(), RaftTerm: d.Uvarint()}
	if msg := d.String(); msg != "" {
		r.Err = errorFromMessage(msg)
	}
	switch d.Byte() {
	case opRange:
		rr := &RangeResponse{Count: d.Varint()}
		n := d.Uvarint()
		for i := uint64(0); i < n && d.Err() == nil; i++ {
			rr.KVs = append(rr.KVs, KeyValue{Key: d.String(), Value: d.String(),
				CreateRevision: d.Varint(), ModRevision: d.Varint(), Version: d.Varint()})
		}
		r.Range = rr
	case opPut:
		r.Put = &PutResponse{}
	case opDeleteRange:
		r.DeleteRange = &DeleteRangeResponse{Deleted: d.Varint()}
	case opMembers:
		mr := &MemberResponse{}
		if d.Bool() {
			mr.Member = &Member{ID: d.Uvarint(), IsLearner: d.Bool()}
		}
		n := d.Uvarint()
		for i := uint64(0); i < n && d.Err() == nil; i++ {
			mr.Members = append(mr.Members, Member{ID: d.Uvarint(), IsLearner: d.Bool()})
		}
		r.Members = mr
	case 0:
	default:
		d.Fail()
	}
	return r, d.Done()
}

func errorFromMessage(msg string) error {
	for _, e := range knownErrors {
		if e.Error() == msg {
			return e
		}
	}
	return errors.New(msg)
}
