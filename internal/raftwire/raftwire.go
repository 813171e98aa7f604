// Package raftwire encodes and decodes raft messages and entries by hand,
// as gogoproto's generated Marshal and Unmarshal did for etcd before v3.6.
//
// raft v3.7's raftpb types are google.golang.org/protobuf messages whose
// proto2 optional fields are pointers. protobuf-go's reflective codec was
// about a sixth of a loaded run's CPU, and its decoder allocates every
// optional field on its own. This codec writes the same bytes and decodes
// into one allocation per message (plus two for its entries).
//
// The bytes must be exactly protobuf-go's: a run's fingerprint hashes every
// message on the wire. So the encoder writes what protobuf-go writes (set
// fields only, in field-number order, nested messages length-prefixed), and
// both directions hand anything unusual to protobuf-go itself rather than
// risk a difference: a Snapshot, Responses, unknown fields, and on decoding
// any field, wire type or encoding this package does not expect.
package raftwire

import (
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// AppendMessage appends m's wire encoding to b: byte for byte what
// proto.MarshalOptions{}.MarshalAppend(b, m) appends.
func AppendMessage(b []byte, m *raftpb.Message) []byte {
	start := len(b)
	if plainMessage(m) {
		b = appendMessage(growBy(b, messageSize(m)), m)
	} else {
		b = protoAppend(b, m)
	}
	if onAppend != nil {
		onAppend(m, b[start:])
	}
	return b
}

// AppendEntry appends e's wire encoding to b: byte for byte what
// proto.MarshalOptions{}.MarshalAppend(b, e) appends.
func AppendEntry(b []byte, e *raftpb.Entry) []byte {
	if !plainEntry(e) {
		return protoAppend(b, e)
	}
	return appendEntry(growBy(b, entrySize(e)), e)
}

// onAppend, set only by this package's tests, sees every message
// AppendMessage encodes and its bytes, so a test can check the messages of
// a real run.
var onAppend func(m *raftpb.Message, b []byte)

// plainMessage says whether m holds only what this encoder writes: no
// Snapshot, no Responses, no unknown fields, in it or in its entries.
func plainMessage(m *raftpb.Message) bool {
	if m == nil || m.Snapshot != nil || len(m.Responses) > 0 || len(m.ProtoReflect().GetUnknown()) > 0 {
		return false
	}
	for _, e := range m.Entries {
		if !plainEntry(e) {
			return false
		}
	}
	return true
}

func plainEntry(e *raftpb.Entry) bool {
	return e != nil && len(e.ProtoReflect().GetUnknown()) == 0
}

func protoAppend(b []byte, m proto.Message) []byte {
	b, err := proto.MarshalOptions{}.MarshalAppend(b, m)
	if err != nil {
		// raftpb has no required fields, so only a message changed while
		// it was being encoded gets here.
		panic(fmt.Sprintf("raftwire: marshal %T: %v", m, err))
	}
	return b
}

// growBy makes room for n more bytes, so a message is appended with at
// most one allocation.
func growBy(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+n)
	copy(nb, b)
	return nb
}

// Tags: a field's number and wire type, each one byte since every field
// number is below 16.
const (
	tagMessageType       = 1<<3 | byte(protowire.VarintType)
	tagMessageTo         = 2<<3 | byte(protowire.VarintType)
	tagMessageFrom       = 3<<3 | byte(protowire.VarintType)
	tagMessageTerm       = 4<<3 | byte(protowire.VarintType)
	tagMessageLogTerm    = 5<<3 | byte(protowire.VarintType)
	tagMessageIndex      = 6<<3 | byte(protowire.VarintType)
	tagMessageEntries    = 7<<3 | byte(protowire.BytesType)
	tagMessageCommit     = 8<<3 | byte(protowire.VarintType)
	tagMessageReject     = 10<<3 | byte(protowire.VarintType)
	tagMessageRejectHint = 11<<3 | byte(protowire.VarintType)
	tagMessageContext    = 12<<3 | byte(protowire.BytesType)
	tagMessageVote       = 13<<3 | byte(protowire.VarintType)

	tagEntryType  = 1<<3 | byte(protowire.VarintType)
	tagEntryTerm  = 2<<3 | byte(protowire.VarintType)
	tagEntryIndex = 3<<3 | byte(protowire.VarintType)
	tagEntryData  = 4<<3 | byte(protowire.BytesType)
)

// messageSize is the length of a plain m's encoding.
func messageSize(m *raftpb.Message) int {
	n := 0
	if m.Type != nil {
		n += 1 + enumSize(int32(*m.Type))
	}
	n += uint64FieldSize(m.To) + uint64FieldSize(m.From) + uint64FieldSize(m.Term) +
		uint64FieldSize(m.LogTerm) + uint64FieldSize(m.Index)
	for _, e := range m.Entries {
		n += 1 + protowire.SizeBytes(entrySize(e))
	}
	n += uint64FieldSize(m.Commit)
	if m.Reject != nil {
		n += 2
	}
	n += uint64FieldSize(m.RejectHint)
	if m.Context != nil {
		n += 1 + protowire.SizeBytes(len(m.Context))
	}
	return n + uint64FieldSize(m.Vote)
}

// appendMessage writes the fields protobuf-go would, in its order: by
// field number, so Vote (13) comes after Context (12).
func appendMessage(b []byte, m *raftpb.Message) []byte {
	if m.Type != nil {
		b = append(b, tagMessageType)
		b = appendEnum(b, int32(*m.Type))
	}
	b = appendUint64Field(b, tagMessageTo, m.To)
	b = appendUint64Field(b, tagMessageFrom, m.From)
	b = appendUint64Field(b, tagMessageTerm, m.Term)
	b = appendUint64Field(b, tagMessageLogTerm, m.LogTerm)
	b = appendUint64Field(b, tagMessageIndex, m.Index)
	for _, e := range m.Entries {
		b = append(b, tagMessageEntries)
		b = protowire.AppendVarint(b, uint64(entrySize(e)))
		b = appendEntry(b, e)
	}
	b = appendUint64Field(b, tagMessageCommit, m.Commit)
	if m.Reject != nil {
		b = append(b, tagMessageReject)
		b = protowire.AppendVarint(b, protowire.EncodeBool(*m.Reject))
	}
	b = appendUint64Field(b, tagMessageRejectHint, m.RejectHint)
	if m.Context != nil {
		b = append(b, tagMessageContext)
		b = protowire.AppendBytes(b, m.Context)
	}
	return appendUint64Field(b, tagMessageVote, m.Vote)
}

// entrySize is the length of a plain e's encoding.
func entrySize(e *raftpb.Entry) int {
	n := 0
	if e.Type != nil {
		n += 1 + enumSize(int32(*e.Type))
	}
	n += uint64FieldSize(e.Term) + uint64FieldSize(e.Index)
	if e.Data != nil {
		n += 1 + protowire.SizeBytes(len(e.Data))
	}
	return n
}

// appendEntry writes Type (1) first although the struct declares Term
// and Index before it: protobuf-go orders by field number.
func appendEntry(b []byte, e *raftpb.Entry) []byte {
	if e.Type != nil {
		b = append(b, tagEntryType)
		b = appendEnum(b, int32(*e.Type))
	}
	b = appendUint64Field(b, tagEntryTerm, e.Term)
	b = appendUint64Field(b, tagEntryIndex, e.Index)
	if e.Data != nil {
		// A proto2 bytes field is present when non-nil, even if empty.
		b = append(b, tagEntryData)
		b = protowire.AppendBytes(b, e.Data)
	}
	return b
}

func uint64FieldSize(v *uint64) int {
	if v == nil {
		return 0
	}
	return 1 + protowire.SizeVarint(*v)
}

func appendUint64Field(b []byte, tag byte, v *uint64) []byte {
	if v == nil {
		return b
	}
	return protowire.AppendVarint(append(b, tag), *v)
}

// Enums are int32 on the wire, sign-extended to 64 bits as protobuf-go
// does: a negative value takes ten bytes.
func enumSize(v int32) int { return protowire.SizeVarint(uint64(int64(v))) }

func appendEnum(b []byte, v int32) []byte { return protowire.AppendVarint(b, uint64(int64(v))) }
