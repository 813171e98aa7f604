package api

import (
	"encoding/binary"
	"errors"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/etcdlab/etcdlab/node/internal/wire"
)

// The wire form of a request or response is a small envelope — the ID,
// the header, the error, an operation code — around the operation's
// protobuf message, as gRPC would carry it. Membership requests, which
// use the lab's own types, have a hand-written encoding.

// ErrCorrupt is returned for bytes that are not a request or response.
var ErrCorrupt = errors.New("api: corrupt encoding")

// op is one operation of etcd's services, with its request and response
// fields.
type op struct {
	code             byte
	name             string
	req              func(*Request) bool
	getReq, newReq   func(*Request) proto.Message
	resp             func(*Response) bool
	getResp, newResp func(*Response) proto.Message
}

var ops = []op{
	{code: 1, name: "range",
		req:     func(r *Request) bool { return r.Range != nil },
		getReq:  func(r *Request) proto.Message { return r.Range },
		newReq:  func(r *Request) proto.Message { r.Range = &pb.RangeRequest{}; return r.Range },
		resp:    func(r *Response) bool { return r.Range != nil },
		getResp: func(r *Response) proto.Message { return r.Range },
		newResp: func(r *Response) proto.Message { r.Range = &pb.RangeResponse{}; return r.Range }},
	{code: 2, name: "put",
		req:     func(r *Request) bool { return r.Put != nil },
		getReq:  func(r *Request) proto.Message { return r.Put },
		newReq:  func(r *Request) proto.Message { r.Put = &pb.PutRequest{}; return r.Put },
		resp:    func(r *Response) bool { return r.Put != nil },
		getResp: func(r *Response) proto.Message { return r.Put },
		newResp: func(r *Response) proto.Message { r.Put = &pb.PutResponse{}; return r.Put }},
	{code: 3, name: "delete",
		req:     func(r *Request) bool { return r.DeleteRange != nil },
		getReq:  func(r *Request) proto.Message { return r.DeleteRange },
		newReq:  func(r *Request) proto.Message { r.DeleteRange = &pb.DeleteRangeRequest{}; return r.DeleteRange },
		resp:    func(r *Response) bool { return r.DeleteRange != nil },
		getResp: func(r *Response) proto.Message { return r.DeleteRange },
		newResp: func(r *Response) proto.Message { r.DeleteRange = &pb.DeleteRangeResponse{}; return r.DeleteRange }},
	{code: 4, name: "txn",
		req:     func(r *Request) bool { return r.Txn != nil },
		getReq:  func(r *Request) proto.Message { return r.Txn },
		newReq:  func(r *Request) proto.Message { r.Txn = &pb.TxnRequest{}; return r.Txn },
		resp:    func(r *Response) bool { return r.Txn != nil },
		getResp: func(r *Response) proto.Message { return r.Txn },
		newResp: func(r *Response) proto.Message { r.Txn = &pb.TxnResponse{}; return r.Txn }},
	{code: 5, name: "compact",
		req:     func(r *Request) bool { return r.Compact != nil },
		getReq:  func(r *Request) proto.Message { return r.Compact },
		newReq:  func(r *Request) proto.Message { r.Compact = &pb.CompactionRequest{}; return r.Compact },
		resp:    func(r *Response) bool { return r.Compact != nil },
		getResp: func(r *Response) proto.Message { return r.Compact },
		newResp: func(r *Response) proto.Message { r.Compact = &pb.CompactionResponse{}; return r.Compact }},
	{code: 6, name: "lease-grant",
		req:     func(r *Request) bool { return r.LeaseGrant != nil },
		getReq:  func(r *Request) proto.Message { return r.LeaseGrant },
		newReq:  func(r *Request) proto.Message { r.LeaseGrant = &pb.LeaseGrantRequest{}; return r.LeaseGrant },
		resp:    func(r *Response) bool { return r.LeaseGrant != nil },
		getResp: func(r *Response) proto.Message { return r.LeaseGrant },
		newResp: func(r *Response) proto.Message { r.LeaseGrant = &pb.LeaseGrantResponse{}; return r.LeaseGrant }},
	{code: 7, name: "lease-revoke",
		req:     func(r *Request) bool { return r.LeaseRevoke != nil },
		getReq:  func(r *Request) proto.Message { return r.LeaseRevoke },
		newReq:  func(r *Request) proto.Message { r.LeaseRevoke = &pb.LeaseRevokeRequest{}; return r.LeaseRevoke },
		resp:    func(r *Response) bool { return r.LeaseRevoke != nil },
		getResp: func(r *Response) proto.Message { return r.LeaseRevoke },
		newResp: func(r *Response) proto.Message { r.LeaseRevoke = &pb.LeaseRevokeResponse{}; return r.LeaseRevoke }},
	{code: 8, name: "lease-keepalive",
		req:    func(r *Request) bool { return r.LeaseKeepAlive != nil },
		getReq: func(r *Request) proto.Message { return r.LeaseKeepAlive },
		newReq: func(r *Request) proto.Message {
			r.LeaseKeepAlive = &pb.LeaseKeepAliveRequest{}
			return r.LeaseKeepAlive
		},
		resp:    func(r *Response) bool { return r.LeaseKeepAlive != nil },
		getResp: func(r *Response) proto.Message { return r.LeaseKeepAlive },
		newResp: func(r *Response) proto.Message {
			r.LeaseKeepAlive = &pb.LeaseKeepAliveResponse{}
			return r.LeaseKeepAlive
		}},
	{code: 9, name: "lease-timetolive",
		req:    func(r *Request) bool { return r.LeaseTimeToLive != nil },
		getReq: func(r *Request) proto.Message { return r.LeaseTimeToLive },
		newReq: func(r *Request) proto.Message {
			r.LeaseTimeToLive = &pb.LeaseTimeToLiveRequest{}
			return r.LeaseTimeToLive
		},
		resp:    func(r *Response) bool { return r.LeaseTimeToLive != nil },
		getResp: func(r *Response) proto.Message { return r.LeaseTimeToLive },
		newResp: func(r *Response) proto.Message {
			r.LeaseTimeToLive = &pb.LeaseTimeToLiveResponse{}
			return r.LeaseTimeToLive
		}},
	{code: 10, name: "lease-leases",
		req:     func(r *Request) bool { return r.LeaseLeases != nil },
		getReq:  func(r *Request) proto.Message { return r.LeaseLeases },
		newReq:  func(r *Request) proto.Message { r.LeaseLeases = &pb.LeaseLeasesRequest{}; return r.LeaseLeases },
		resp:    func(r *Response) bool { return r.LeaseLeases != nil },
		getResp: func(r *Response) proto.Message { return r.LeaseLeases },
		newResp: func(r *Response) proto.Message { r.LeaseLeases = &pb.LeaseLeasesResponse{}; return r.LeaseLeases }},
	{code: 11, name: "watch",
		req:     func(r *Request) bool { return r.Watch != nil },
		getReq:  func(r *Request) proto.Message { return r.Watch },
		newReq:  func(r *Request) proto.Message { r.Watch = &pb.WatchRequest{}; return r.Watch },
		resp:    func(r *Response) bool { return r.Watch != nil },
		getResp: func(r *Response) proto.Message { return r.Watch },
		newResp: func(r *Response) proto.Message { r.Watch = &pb.WatchResponse{}; return r.Watch }},
	{code: 12, name: "status",
		req:     func(r *Request) bool { return r.Status != nil },
		getReq:  func(r *Request) proto.Message { return r.Status },
		newReq:  func(r *Request) proto.Message { r.Status = &pb.StatusRequest{}; return r.Status },
		resp:    func(r *Response) bool { return r.Status != nil },
		getResp: func(r *Response) proto.Message { return r.Status },
		newResp: func(r *Response) proto.Message { r.Status = &pb.StatusResponse{}; return r.Status }},
	{code: 13, name: "hashkv",
		req:     func(r *Request) bool { return r.HashKV != nil },
		getReq:  func(r *Request) proto.Message { return r.HashKV },
		newReq:  func(r *Request) proto.Message { r.HashKV = &pb.HashKVRequest{}; return r.HashKV },
		resp:    func(r *Response) bool { return r.HashKV != nil },
		getResp: func(r *Response) proto.Message { return r.HashKV },
		newResp: func(r *Response) proto.Message { r.HashKV = &pb.HashKVResponse{}; return r.HashKV }},
	{code: 14, name: "defragment",
		req:     func(r *Request) bool { return r.Defragment != nil },
		getReq:  func(r *Request) proto.Message { return r.Defragment },
		newReq:  func(r *Request) proto.Message { r.Defragment = &pb.DefragmentRequest{}; return r.Defragment },
		resp:    func(r *Response) bool { return r.Defragment != nil },
		getResp: func(r *Response) proto.Message { return r.Defragment },
		newResp: func(r *Response) proto.Message { r.Defragment = &pb.DefragmentResponse{}; return r.Defragment }},
	{code: 15, name: "alarm",
		req:     func(r *Request) bool { return r.Alarm != nil },
		getReq:  func(r *Request) proto.Message { return r.Alarm },
		newReq:  func(r *Request) proto.Message { r.Alarm = &pb.AlarmRequest{}; return r.Alarm },
		resp:    func(r *Response) bool { return r.Alarm != nil },
		getResp: func(r *Response) proto.Message { return r.Alarm },
		newResp: func(r *Response) proto.Message { r.Alarm = &pb.AlarmResponse{}; return r.Alarm }},
}

// The lab's own membership operations, after the protobuf ones.
const (
	opMemberAdd byte = iota + 100
	opMemberRemove
	opMemberPromote
	opMemberList
	opMoveLeader
	opMembers // a MemberResponse
)

var memberOps = []struct {
	name string
	req  func(*Request) bool
}{
	{"member-add", func(r *Request) bool { return r.MemberAdd != nil }},
	{"member-remove", func(r *Request) bool { return r.MemberRemove != nil }},
	{"member-promote", func(r *Request) bool { return r.MemberPromote != nil }},
	{"member-list", func(r *Request) bool { return r.MemberList != nil }},
	{"move-leader", func(r *Request) bool { return r.MoveLeader != nil }},
}

// Marshal encodes the request.
func (r *Request) Marshal() []byte {
	b := make([]byte, 0, 32)
	b = binary.AppendUvarint(b, r.ID)
	for _, o := range ops {
		if o.req(r) {
			return appendMessage(append(b, o.code), o.getReq(r))
		}
	}
	switch {
	case r.MemberAdd != nil:
		b = binary.AppendUvarint(append(b, opMemberAdd), r.MemberAdd.ID)
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
	code := d.Byte()
	if o := opByCode(code); o != nil {
		readMessage(d, o.newReq(r))
		return r, d.Done()
	}
	switch code {
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
	b = appendMessage(b, r.Header)
	errMsg := ""
	if r.Err != nil {
		errMsg = r.Err.Error()
	}
	b = wire.AppendString(b, errMsg)
	for _, o := range ops {
		if o.resp(r) {
			return appendMessage(append(b, o.code), o.getResp(r))
		}
	}
	if r.Members == nil {
		return append(b, 0)
	}
	b = append(b, opMembers)
	b = wire.AppendBool(b, r.Members.Member != nil)
	if m := r.Members.Member; m != nil {
		b = wire.AppendBool(binary.AppendUvarint(b, m.ID), m.IsLearner)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Members.Members)))
	for _, m := range r.Members.Members {
		b = wire.AppendBool(binary.AppendUvarint(b, m.ID), m.IsLearner)
	}
	return b
}

// UnmarshalResponse decodes what Marshal encoded. A known error comes back
// as the same value (ErrTimeout == ErrTimeout); another as a new error with
// its message.
func UnmarshalResponse(b []byte) (*Response, error) {
	d := wire.NewDecoder(b, ErrCorrupt)
	r := &Response{ID: d.Uvarint(), Header: &pb.ResponseHeader{}}
	readMessage(d, r.Header)
	if msg := d.String(); msg != "" {
		r.Err = errorFromMessage(msg)
	}
	code := d.Byte()
	if o := opByCode(code); o != nil {
		readMessage(d, o.newResp(r))
		return r, d.Done()
	}
	switch code {
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

// SetHeader sets the response's header, and the header of the etcd
// response inside it, as etcd's servers fill each response's header.
func (r *Response) SetHeader(h *pb.ResponseHeader) {
	r.Header = h
	for _, o := range ops {
		if o.resp(r) {
			m := o.getResp(r).ProtoReflect()
			if fd := m.Descriptor().Fields().ByName("header"); fd != nil {
				m.Set(fd, protoreflect.ValueOfMessage(h.ProtoReflect()))
			}
			return
		}
	}
}

func opByCode(code byte) *op {
	for i := range ops {
		if ops[i].code == code {
			return &ops[i]
		}
	}
	return nil
}

// appendMessage appends a protobuf message with its length.
func appendMessage(b []byte, m proto.Message) []byte {
	mb, err := proto.Marshal(m)
	if err != nil {
		// Marshal fails only on invalid UTF-8 in a string field, and
		// etcd's messages hold keys and values as bytes.
		panic("api: " + err.Error())
	}
	return wire.AppendString(b, string(mb))
}

// readMessage reads what appendMessage appended.
func readMessage(d *wire.Decoder, m proto.Message) {
	b := d.String()
	if d.Err() == nil && proto.Unmarshal([]byte(b), m) != nil {
		d.Fail()
	}
}

func errorFromMessage(msg string) error {
	for _, e := range knownErrors {
		if e.Error() == msg {
			return e
		}
	}
	return errors.New(msg)
}
