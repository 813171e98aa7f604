package watch

import (
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// fakeStore is a History kept as the list of every event, enough for the
// hub: puts and deletes in txns, compaction, reads at old revisions.
type fakeStore struct {
	rev        int64
	compactRev int64
	events     []*mvccpb.Event // every event, in revision order
}

func newFakeStore() *fakeStore { return &fakeStore{rev: 1, compactRev: -1} }

func (s *fakeStore) Rev() int64        { return s.rev }
func (s *fakeStore) CompactRev() int64 { return s.compactRev }

func (s *fakeStore) Events(startRev, endRev int64) []*mvccpb.Event {
	if startRev < s.compactRev {
		panic(fmt.Sprintf("Events(%d, %d) below the compacted revision %d", startRev, endRev, s.compactRev))
	}
	var out []*mvccpb.Event
	for _, ev := range s.events {
		if r := ev.Kv.ModRevision; r >= startRev && r < endRev {
			out = append(out, ev)
		}
	}
	return out
}

func (s *fakeStore) KeyAt(key []byte, rev int64) *mvccpb.KeyValue {
	if rev < s.compactRev {
		return nil
	}
	var kv *mvccpb.KeyValue
	for _, ev := range s.events {
		if ev.Kv.ModRevision > rev {
			break
		}
		if string(ev.Kv.Key) == string(key) {
			kv = ev.Kv
			if ev.Type == mvccpb.Event_DELETE {
				kv = nil
			}
		}
	}
	return kv
}

// op is one write of a txn: a put of key=value, or a delete if del.
type op struct {
	key, value string
	del        bool
}

func put(key, value string) op { return op{key: key, value: value} }
func del(key string) op        { return op{key: key, del: true} }

// txn applies ops at one new revision and returns it and its events, as
// etcd's watchableStoreTxnWrite.End builds them.
func (s *fakeStore) txn(ops ...op) (int64, []*mvccpb.Event) {
	rev := s.rev + 1
	var evs []*mvccpb.Event
	for _, o := range ops {
		prev := s.KeyAt([]byte(o.key), s.rev)
		if o.del {
			if prev == nil {
				continue
			}
			evs = append(evs, &mvccpb.Event{Type: mvccpb.Event_DELETE, Kv: &mvccpb.KeyValue{Key: []byte(o.key), ModRevision: rev}})
			continue
		}
		kv := &mvccpb.KeyValue{Key: []byte(o.key), Value: []byte(o.value), CreateRevision: rev, ModRevision: rev, Version: 1}
		if prev != nil {
			kv.CreateRevision, kv.Version = prev.CreateRevision, prev.Version+1
		}
		evs = append(evs, &mvccpb.Event{Type: mvccpb.Event_PUT, Kv: kv})
	}
	if len(evs) == 0 {
		return s.rev, nil
	}
	s.rev = rev
	s.events = append(s.events, evs...)
	return rev, evs
}

// write applies a txn and notifies the hub, as the member does.
func write(s *fakeStore, h *Hub, ops ...op) []Output {
	rev, evs := s.txn(ops...)
	if evs == nil {
		return nil
	}
	return h.Notify(rev, evs)
}

// Requests, spelt short.

type createOpt func(*pb.WatchCreateRequest)

func rangeEnd(end string) createOpt {
	return func(c *pb.WatchCreateRequest) { c.RangeEnd = []byte(end) }
}
func startRev(rev int64) createOpt {
	return func(c *pb.WatchCreateRequest) { c.StartRevision = rev }
}
func watchID(id int64) createOpt                  { return func(c *pb.WatchCreateRequest) { c.WatchId = id } }
func withPrevKV(c *pb.WatchCreateRequest)         { c.PrevKv = true }
func withProgressNotify(c *pb.WatchCreateRequest) { c.ProgressNotify = true }
func withFragment(c *pb.WatchCreateRequest)       { c.Fragment = true }
func filters(fs ...pb.WatchCreateRequest_FilterType) createOpt {
	return func(c *pb.WatchCreateRequest) { c.Filters = fs }
}

func createReq(key string, opts ...createOpt) *pb.WatchRequest {
	c := &pb.WatchCreateRequest{Key: []byte(key)}
	for _, o := range opts {
		o(c)
	}
	return &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: c}}
}

func cancelReq(id int64) *pb.WatchRequest {
	return &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CancelRequest{
		CancelRequest: &pb.WatchCancelRequest{WatchId: id}}}
}

func progressReq() *pb.WatchRequest {
	return &pb.WatchRequest{RequestUnion: &pb.WatchRequest_ProgressRequest{
		ProgressRequest: &pb.WatchProgressRequest{}}}
}

// describe prints outputs one a line, so tests compare text:
//
//	s1 id=0 rev=3 created
//	s1 id=0 rev=4 PUT a=1@4 DELETE b@4
func describe(out []Output) []string {
	lines := []string{}
	for _, o := range out {
		r := o.Response
		line := fmt.Sprintf("%s id=%d rev=%d", o.Stream, r.WatchId, r.GetHeader().GetRevision())
		if r.Created {
			line += " created"
		}
		if r.Canceled {
			line += " canceled"
		}
		if r.CompactRevision != 0 {
			line += fmt.Sprintf(" compact=%d", r.CompactRevision)
		}
		if r.CancelReason != "" {
			line += fmt.Sprintf(" reason=%q", r.CancelReason)
		}
		if r.Fragment {
			line += " fragment"
		}
		for _, ev := range r.Events {
			line += " " + describeEvent(ev)
		}
		lines = append(lines, line)
	}
	return lines
}

func describeEvent(ev *mvccpb.Event) string {
	s := ""
	switch ev.Type {
	case mvccpb.Event_PUT:
		s = fmt.Sprintf("PUT %s=%s@%d", ev.Kv.Key, ev.Kv.Value, ev.Kv.ModRevision)
	case mvccpb.Event_DELETE:
		s = fmt.Sprintf("DELETE %s@%d", ev.Kv.Key, ev.Kv.ModRevision)
	}
	if ev.PrevKv != nil {
		s += fmt.Sprintf("(prev %s@%d)", ev.PrevKv.Value, ev.PrevKv.ModRevision)
	}
	return s
}
