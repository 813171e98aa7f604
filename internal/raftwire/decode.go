package raftwire

import (
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// UnmarshalMessage decodes b into the message proto.Unmarshal would give
// (proto.Equal to it), with one allocation for the message and its fields
// and two for its entries, however many.
//
// The message's Context and its entries' Data alias b (capped, so an
// append to them cannot reach the bytes after them): the caller hands b
// over and must not change it afterwards. A member owns the bytes the
// network delivers to it, so it may.
//
// Whatever this decoder does not expect (a Snapshot or Responses, a field
// it does not know, another wire type, an overlong tag, a malformed or
// truncated input) goes to proto.Unmarshal, so such input decodes exactly
// as protobuf-go decodes it, errors included.
func UnmarshalMessage(b []byte) (*raftpb.Message, error) {
	if m, ok := decodeMessage(b); ok {
		return m, nil
	}
	m := &raftpb.Message{}
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, err
	}
	return m, nil
}

// UnmarshalEntry decodes b into the entry proto.Unmarshal would give, in
// one allocation. Its Data aliases b, as in UnmarshalMessage.
func UnmarshalEntry(b []byte) (*raftpb.Entry, error) {
	x := &entryBox{}
	if decodeEntry(x, b) {
		return &x.e, nil
	}
	e := &raftpb.Entry{}
	if err := proto.Unmarshal(b, e); err != nil {
		return nil, err
	}
	return e, nil
}

// messageBox holds a message and the values its pointer fields point to,
// so that decoding one costs one allocation, not one per field.
type messageBox struct {
	m       raftpb.Message
	typ     raftpb.MessageType
	to      uint64
	from    uint64
	term    uint64
	logTerm uint64
	index   uint64
	commit  uint64
	hint    uint64
	vote    uint64
	reject  bool
}

// entryBox is messageBox for an entry; a message's entries are decoded
// into one slice of them.
type entryBox struct {
	e     raftpb.Entry
	typ   raftpb.EntryType
	term  uint64
	index uint64
}

// decodeMessage decodes b in two passes: the first sets every field but
// the entries and counts those, so the second can decode them all into
// one slice. It says false, having given nothing away, for anything
// proto.Unmarshal should decide.
func decodeMessage(b []byte) (*raftpb.Message, bool) {
	x := &messageBox{}
	m := &x.m
	entries, firstEntry := 0, 0
	for i := 0; i < len(b); {
		// A tag byte of 0x80 or more starts a longer tag: a field number
		// above 15, which raftpb.Message does not have, or padding.
		tag := b[i]
		i++
		if tag == tagMessageEntries || tag == tagMessageContext {
			v, n := protowire.ConsumeBytes(b[i:])
			if n < 0 {
				return nil, false
			}
			if tag == tagMessageContext {
				m.Context = v[:len(v):len(v)]
			} else if entries++; entries == 1 {
				firstEntry = i - 1
			}
			i += n
			continue
		}
		v, n := protowire.ConsumeVarint(b[i:])
		if n < 0 {
			return nil, false
		}
		i += n
		// A repeated scalar field takes its last value, as in protobuf.
		switch tag {
		case tagMessageType:
			x.typ, m.Type = raftpb.MessageType(int32(v)), &x.typ
		case tagMessageTo:
			x.to, m.To = v, &x.to
		case tagMessageFrom:
			x.from, m.From = v, &x.from
		case tagMessageTerm:
			x.term, m.Term = v, &x.term
		case tagMessageLogTerm:
			x.logTerm, m.LogTerm = v, &x.logTerm
		case tagMessageIndex:
			x.index, m.Index = v, &x.index
		case tagMessageCommit:
			x.commit, m.Commit = v, &x.commit
		case tagMessageReject:
			x.reject, m.Reject = protowire.DecodeBool(v), &x.reject
		case tagMessageRejectHint:
			x.hint, m.RejectHint = v, &x.hint
		case tagMessageVote:
			x.vote, m.Vote = v, &x.vote
		default:
			return nil, false
		}
	}
	if entries > 0 && !decodeEntries(m, b[firstEntry:], entries) {
		return nil, false
	}
	return m, true
}

// decodeEntries decodes the count entries in b, which the first pass of
// decodeMessage checked is a sequence of its known fields.
func decodeEntries(m *raftpb.Message, b []byte, count int) bool {
	boxes := make([]entryBox, count)
	m.Entries = make([]*raftpb.Entry, count)
	k := 0
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		if tag != tagMessageEntries && tag != tagMessageContext {
			_, n := protowire.ConsumeVarint(b[i:])
			i += n
			continue
		}
		v, n := protowire.ConsumeBytes(b[i:])
		i += n
		if tag == tagMessageEntries {
			if !decodeEntry(&boxes[k], v) {
				return false
			}
			m.Entries[k] = &boxes[k].e
			k++
		}
	}
	return true
}

// decodeEntry decodes b into x, or says false for proto.Unmarshal to
// decide, as decodeMessage does.
func decodeEntry(x *entryBox, b []byte) bool {
	e := &x.e
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		if tag == tagEntryData {
			v, n := protowire.ConsumeBytes(b[i:])
			if n < 0 {
				return false
			}
			// Present even when empty: v is not nil, as b is not.
			e.Data = v[:len(v):len(v)]
			i += n
			continue
		}
		v, n := protowire.ConsumeVarint(b[i:])
		if n < 0 {
			return false
		}
		i += n
		switch tag {
		case tagEntryType:
			x.typ, e.Type = raftpb.EntryType(int32(v)), &x.typ
		case tagEntryTerm:
			x.term, e.Term = v, &x.term
		case tagEntryIndex:
			x.index, e.Index = v, &x.index
		default:
			return false
		}
	}
	return true
}
