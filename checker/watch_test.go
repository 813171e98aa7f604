package checker

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdlab/etcdlab/node/watch"
)

// kvStore is a write history built the way etcd's store writes it: each
// txn one revision, puts with create revision, version and lease, deletes
// with the key and the revision. It serves node/watch's History, so the
// real hub can be checked against the Truth it feeds.
type kvStore struct {
	rev        int64
	compactRev int64
	events     []*mvccpb.Event // every event, in revision order
	applied    []Applied       // every revision, as a member reports it
}

func newKVStore() *kvStore { return &kvStore{rev: 1, compactRev: -1} }

// write is one op of a txn: put key=value (under lease), or delete key.
type write struct {
	key, value string
	lease      int64
	del        bool
}

func kvPut(key, value string) write               { return write{key: key, value: value} }
func kvPutLease(key, value string, l int64) write { return write{key: key, value: value, lease: l} }
func kvDel(key string) write                      { return write{key: key, del: true} }

// txn writes at one new revision, applied at time at; revoke marks a
// LeaseRevoke. It returns the revision and its events (nil if nothing
// was written).
func (s *kvStore) txn(at time.Duration, revoke int64, ws ...write) (int64, []*mvccpb.Event) {
	rev := s.rev + 1
	var evs []*mvccpb.Event
	for _, w := range ws {
		prev := s.KeyAt([]byte(w.key), s.rev)
		if w.del {
			if prev != nil {
				evs = append(evs, &mvccpb.Event{Type: mvccpb.Event_DELETE, Kv: &mvccpb.KeyValue{Key: []byte(w.key), ModRevision: rev}})
			}
			continue
		}
		kv := &mvccpb.KeyValue{Key: []byte(w.key), Value: []byte(w.value), CreateRevision: rev, ModRevision: rev, Version: 1, Lease: w.lease}
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
	s.applied = append(s.applied, Applied{Member: 1, At: at, Rev: rev, Events: evs, Lease: revoke})
	return rev, evs
}

func (s *kvStore) Rev() int64        { return s.rev }
func (s *kvStore) CompactRev() int64 { return s.compactRev }

func (s *kvStore) Events(startRev, endRev int64) []*mvccpb.Event {
	var out []*mvccpb.Event
	for _, ev := range s.events {
		if r := ev.Kv.ModRevision; r >= startRev && r < endRev {
			out = append(out, ev)
		}
	}
	return out
}

func (s *kvStore) KeyAt(key []byte, rev int64) *mvccpb.KeyValue {
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

// truth reports every revision from members 1 and 2, as a harness would.
func (s *kvStore) truth() *Truth {
	t := NewTruth()
	for _, member := range []uint64{1, 2} {
		for _, a := range s.applied {
			a.Member = member
			a.At += time.Duration(member) * time.Millisecond
			t.Add(a)
		}
	}
	if s.compactRev > 0 {
		t.Compacted(s.compactRev)
	}
	return t
}

// The synthetic history of the table tests: revisions 2..8.
//
//	2 put a=1          3 put b=1, c=1 (one txn)   4 put a=2
//	5 delete a         6 put a=3                  7 put b=2
//	8 delete b, c (one txn)
func sampleKV() *kvStore {
	s := newKVStore()
	s.txn(ms(10), 0, kvPut("a", "1"))
	s.txn(ms(20), 0, kvPut("b", "1"), kvPut("c", "1"))
	s.txn(ms(30), 0, kvPut("a", "2"))
	s.txn(ms(40), 0, kvDel("a"))
	s.txn(ms(50), 0, kvPut("a", "3"))
	s.txn(ms(60), 0, kvPut("b", "2"))
	s.txn(ms(70), 0, kvDel("b"), kvDel("c"))
	return s
}

// A watch as a client saw it, built response by response.
type respFn func(s *kvStore) *pb.WatchResponse

func createdAt(rev int64) respFn {
	return func(*kvStore) *pb.WatchResponse {
		return &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: rev}, Created: true}
	}
}

func progressAt(rev int64) respFn {
	return func(*kvStore) *pb.WatchResponse { return &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: rev}} }
}

func compactedAt(rev int64) respFn {
	return func(*kvStore) *pb.WatchResponse {
		return &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: 8}, Canceled: true, CompactRevision: rev}
	}
}

// events is one response carrying the store's events named "rev/key",
// with prev_kv when withPrev, as etcd's watch server fills it.
func evResp(withPrev bool, names ...string) respFn {
	return func(s *kvStore) *pb.WatchResponse {
		wr := &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: s.rev}}
		for _, n := range names {
			ev := proto.CloneOf(s.event(n))
			if withPrev && !(ev.Type == mvccpb.Event_PUT && ev.Kv.CreateRevision == ev.Kv.ModRevision) {
				ev.PrevKv = s.KeyAt(ev.Kv.Key, ev.Kv.ModRevision-1)
			}
			wr.Events = append(wr.Events, ev)
		}
		return wr
	}
}

// raw is a response built by hand.
func rawResp(wr *pb.WatchResponse) respFn { return func(*kvStore) *pb.WatchResponse { return wr } }

func (s *kvStore) event(name string) *mvccpb.Event {
	for _, ev := range s.events {
		if fmt.Sprintf("%d/%s", ev.Kv.ModRevision, ev.Kv.Key) == name {
			return ev
		}
	}
	panic("no event " + name)
}

func watchOf(s *kvStore, req *pb.WatchCreateRequest, rs ...respFn) Watch {
	w := Watch{Member: 1, Request: req}
	for i, r := range rs {
		w.Responses = append(w.Responses, WatchResponse{At: ms(100 + i), Response: r(s)})
	}
	return w
}

func watchKey(k string) *pb.WatchCreateRequest { return &pb.WatchCreateRequest{Key: []byte(k)} }

func prefixFrom(rev int64) *pb.WatchCreateRequest {
	return &pb.WatchCreateRequest{Key: []byte("a"), RangeEnd: []byte("d"), StartRevision: rev, PrevKv: true}
}

// honest is what etcd sends each watcher of sampleKV(); each case of
// TestWatchCatches breaks one guarantee in one of them.
func honest(s *kvStore) []WatchSession {
	return []WatchSession{
		// key a from now (revision 1): every event of a.
		{Client: 1, Watches: []Watch{watchOf(s, watchKey("a"),
			createdAt(1), evResp(false, "2/a"), evResp(false, "4/a"), evResp(false, "5/a"), evResp(false, "6/a"), progressAt(8))}},
		// a..d from revision 2 with prev_kv; the stream broke after
		// revision 4 and the client re-watched from 5.
		{Client: 2, Watches: []Watch{
			watchOf(s, prefixFrom(2), createdAt(1), evResp(true, "2/a"), evResp(true, "3/b", "3/c"), evResp(true, "4/a")),
			watchOf(s, prefixFrom(5), createdAt(6), evResp(true, "5/a", "6/a", "7/b"), progressAt(7), evResp(true, "8/b", "8/c")),
		}},
		// deletes only, from revision 3.
		{Client: 3, Watches: []Watch{watchOf(s,
			&pb.WatchCreateRequest{Key: []byte("a"), RangeEnd: []byte{0}, StartRevision: 3, Filters: []pb.WatchCreateRequest_FilterType{pb.WatchCreateRequest_NOPUT}},
			createdAt(8), evResp(false, "5/a", "8/b", "8/c"))}},
	}
}

func TestWatchHonestPasses(t *testing.T) {
	s := sampleKV()
	v := CheckWatch(s.truth(), honest(s))
	require.True(t, v.OK, v.Detail)
	require.Equal(t, "watch", v.Name)
	require.Equal(t, "3 watchers, 1 re-watch, 16 events checked against 7 revisions; 2 progress notifications", v.Detail)
}

// Each case breaks one guarantee in one honest watch, and the verdict
// must say which.
func TestWatchCatches(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(s *kvStore, ss []WatchSession)
		want   string
	}{
		{"a skipped event", func(s *kvStore, ss []WatchSession) {
			ss[0].Watches[0] = watchOf(s, watchKey("a"), createdAt(1), evResp(false, "2/a"), evResp(false, "5/a"), evResp(false, "6/a"))
		}, `client 1 watch "a" from revision 0: broke Reliable: missed the event at revision 4 key "a" (the next came at revision 5)`},
		{"the last event skipped before a progress notification", func(s *kvStore, ss []WatchSession) {
			ss[0].Watches[0] = watchOf(s, watchKey("a"), createdAt(1), evResp(false, "2/a"), evResp(false, "4/a"), evResp(false, "5/a"), progressAt(8))
		}, `broke Bookmarkable: progress notification at 104ms says revision 8, but the event at revision 6 key "a" was not delivered`},
		{"a duplicated event", func(s *kvStore, ss []WatchSession) {
			ss[0].Watches[0] = watchOf(s, watchKey("a"), createdAt(1), evResp(false, "2/a"), evResp(false, "4/a"), evResp(false, "4/a"), evResp(false, "5/a"), evResp(false, "6/a"))
		}, `broke Unique: event at revision 4 key "a" at 103ms received twice`},
		{"one revision's events split over two responses", func(s *kvStore, ss []WatchSession) {
			ss[1].Watches[0] = watchOf(s, prefixFrom(2), createdAt(1), evResp(true, "2/a"), evResp(true, "3/b"), evResp(true, "3/c"), evResp(true, "4/a"))
		}, `broke Atomic: event at revision 3 key "c" at 103ms came in a later response`},
		{"events out of order", func(s *kvStore, ss []WatchSession) {
			ss[0].Watches[0] = watchOf(s, watchKey("a"), createdAt(1), evResp(false, "2/a", "5/a", "4/a"), evResp(false, "6/a"))
		}, `broke Ordered: event at revision 4 key "a" at 101ms came after one at revision 5`},
		{"a progress notification ahead of the events", func(s *kvStore, ss []WatchSession) {
			ss[1].Watches[1] = watchOf(s, prefixFrom(5), createdAt(6), evResp(true, "5/a", "6/a"), progressAt(7), evResp(true, "7/b"), evResp(true, "8/b", "8/c"))
		}, `broke Bookmarkable: progress notification at 102ms says revision 7, but the event at revision 7 key "b" was not delivered`},
		{"a wrong prev_kv", func(s *kvStore, ss []WatchSession) {
			wrong := evResp(true, "4/a")(s)
			wrong.Events[0].PrevKv = s.event("6/a").Kv
			ss[1].Watches[0] = watchOf(s, prefixFrom(2), createdAt(1), evResp(true, "2/a"), evResp(true, "3/b", "3/c"), rawResp(wrong))
		}, `event at revision 4 key "a" at 103ms has prev_kv "a"="3" (mod 6, create 6, version 1), want "a"="1" (mod 2, create 2, version 1)`},
		{"a prev_kv on a create", func(s *kvStore, ss []WatchSession) {
			wrong := evResp(true, "6/a")(s)
			wrong.Events[0].PrevKv = s.event("4/a").Kv
			ss[1].Watches[1] = watchOf(s, prefixFrom(5), createdAt(6), evResp(true, "5/a"), rawResp(wrong), evResp(true, "7/b"), evResp(true, "8/b", "8/c"))
		}, `has prev_kv "a"="2" (mod 4, create 2, version 2), but the key had no previous version`},
		{"a missing prev_kv", func(s *kvStore, ss []WatchSession) {
			ss[1].Watches[0] = watchOf(s, prefixFrom(2), createdAt(1), evResp(true, "2/a"), evResp(true, "3/b", "3/c"), evResp(false, "4/a"))
		}, `event at revision 4 key "a" at 103ms has no prev_kv, want "a"="1"`},
		{"a filter ignored", func(s *kvStore, ss []WatchSession) {
			w := &ss[2].Watches[0]
			*w = watchOf(s, w.Request, createdAt(8), evResp(false, "5/a", "6/a"), evResp(false, "8/b", "8/c"))
		}, `event at revision 6 key "a" at 101ms should have been filtered out (PUT)`},
		{"an invented event", func(s *kvStore, ss []WatchSession) {
			inv := evResp(false, "4/a")(s)
			inv.Events[0].Kv.Key = []byte("b") // revision 4 did not write b
			ss[1].Watches[0] = watchOf(s, prefixFrom(2), createdAt(1), evResp(true, "2/a"), evResp(true, "3/b", "3/c"), evResp(true, "4/a"), rawResp(inv))
		}, `event at revision 4 key "b" at 104ms is not in the KV history: revision 4 did not write the key`},
		{"a changed value", func(s *kvStore, ss []WatchSession) {
			chg := evResp(false, "4/a")(s)
			chg.Events[0].Kv = proto.CloneOf(chg.Events[0].Kv)
			chg.Events[0].Kv.Value = []byte("x")
			ss[0].Watches[0] = watchOf(s, watchKey("a"), createdAt(1), evResp(false, "2/a"), rawResp(chg), evResp(false, "5/a"), evResp(false, "6/a"))
		}, `event at revision 4 key "a" at 102ms differs from the KV history: got PUT "a"="x"`},
		{"an event of a revision nobody applied", func(s *kvStore, ss []WatchSession) {
			fut := evResp(false, "6/a")(s)
			fut.Events[0].Kv = proto.CloneOf(fut.Events[0].Kv)
			fut.Events[0].Kv.ModRevision = 9
			ss[0].Watches[0] = watchOf(s, watchKey("a"), createdAt(1), evResp(false, "2/a"), evResp(false, "4/a"), evResp(false, "5/a"), evResp(false, "6/a"), rawResp(fut))
		}, `is not in the KV history: no member applied revision 9`},
		{"an event outside the range", func(s *kvStore, ss []WatchSession) {
			ss[0].Watches[0] = watchOf(s, watchKey("a"), createdAt(1), evResp(false, "2/a", "3/b"), evResp(false, "4/a"), evResp(false, "5/a"), evResp(false, "6/a"))
		}, `event at revision 3 key "b" at 101ms is outside the watched range`},
		{"a re-watch that does not resume at its revision", func(s *kvStore, ss []WatchSession) {
			ss[1].Watches[1] = watchOf(s, prefixFrom(5), createdAt(6), evResp(true, "6/a", "7/b"), evResp(true, "8/b", "8/c"))
		}, `(re-watch 1 on n1): broke Reliable: missed the event at revision 5 key "a" (the next came at revision 6)`},
		{"a client that re-watches past a gap", func(s *kvStore, ss []WatchSession) {
			ss[1].Watches[1] = watchOf(s, prefixFrom(6), createdAt(6), evResp(true, "6/a", "7/b"), evResp(true, "8/b", "8/c"))
		}, `the client re-watched from revision 6, skipping 5..5 (a client bug, not etcd's)`},
		{"a compaction cancel the watcher did not need", func(s *kvStore, ss []WatchSession) {
			s.compactRev = 4
			ss[0].Watches[0] = watchOf(s, watchKey("a"), createdAt(1), evResp(false, "2/a"), evResp(false, "4/a"), compactedAt(4))
		}, `cancelled at 103ms as compacted at 4, but it needed revisions from 5 on`},
		{"events after a cancel", func(s *kvStore, ss []WatchSession) {
			s.compactRev = 4
			ss[0].Watches[0] = watchOf(s, watchKey("a"), createdAt(1), evResp(false, "2/a"), compactedAt(4), evResp(false, "4/a"))
		}, `a response at 103ms after the watch was cancelled`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sampleKV()
			ss := honest(s)
			tc.break_(s, ss)
			v := CheckWatch(s.truth(), ss)
			require.False(t, v.OK, v.Detail)
			require.Contains(t, v.Detail, tc.want)
		})
	}
}

func TestWatchCompactionCancelPasses(t *testing.T) {
	s := sampleKV()
	s.compactRev = 6
	ss := []WatchSession{{Client: 1, Watches: []Watch{
		watchOf(s, watchKey("a"), createdAt(1), evResp(false, "2/a"), evResp(false, "4/a"), compactedAt(6)),
		// The client picks up at the compaction, as a client told
		// ErrCompacted may.
		watchOf(s, &pb.WatchCreateRequest{Key: []byte("a"), StartRevision: 6}, createdAt(8), evResp(false, "6/a")),
	}}}
	v := CheckWatch(s.truth(), ss)
	require.True(t, v.OK, v.Detail)
	require.Contains(t, v.Detail, "1 compaction cancel")

	// Without a compaction reported, the cancel is unfounded; prev_kv
	// may go missing only below one.
	s.compactRev = -1
	v = CheckWatch(s.truth(), ss)
	require.False(t, v.OK)
	require.Contains(t, v.Detail, "no member compacted beyond 0")
}

func TestWatchFragmentsJoin(t *testing.T) {
	s := sampleKV()
	frag1, frag2 := evResp(true, "3/b")(s), evResp(true, "3/c")(s)
	frag1.Fragment = true
	ss := []WatchSession{{Client: 2, Watches: []Watch{
		watchOf(s, prefixFrom(2), createdAt(1), evResp(true, "2/a"), rawResp(frag1), rawResp(frag2), evResp(true, "4/a")),
	}}}
	v := CheckWatch(s.truth(), ss)
	require.True(t, v.OK, v.Detail)
}

func TestTruthMembersDisagree(t *testing.T) {
	s := sampleKV()
	tr := s.truth()
	other := s.applied[2] // revision 4, put a=2
	other.Member = 3
	other.Events = []*mvccpb.Event{{Type: mvccpb.Event_PUT, Kv: &mvccpb.KeyValue{Key: []byte("a"), Value: []byte("9"), ModRevision: 4, CreateRevision: 2, Version: 2}}}
	tr.Add(other)
	v := CheckWatch(tr, nil)
	require.False(t, v.OK)
	require.Equal(t, `n1 and n3 applied different writes at revision 4: PUT "a"="2" (mod 4, create 2, version 2), PUT "a"="9" (mod 4, create 2, version 2)`, v.Detail)

	// A member restored from a snapshot reports only a suffix; one that
	// lost its backend commit reports a revision again: both agree.
	tr = NewTruth()
	for _, a := range s.applied[3:] {
		a.Member = 4
		tr.Add(a)
	}
	for _, a := range s.applied {
		tr.Add(a)
	}
	tr.Add(s.applied[5])
	require.True(t, CheckWatch(tr, honest(s)).OK)
	require.Equal(t, int64(8), tr.Rev())
}

func TestTruthGapHidesPrevKV(t *testing.T) {
	s := sampleKV()
	tr := NewTruth()
	for _, a := range s.applied[2:] { // revisions 4..8 only
		tr.Add(a)
	}
	// The watcher's prev_kv at revision 4 cannot be judged: what a held
	// before is unknown.
	ss := []WatchSession{{Client: 2, Watches: []Watch{
		watchOf(s, prefixFrom(4), createdAt(3), evResp(true, "4/a"), evResp(true, "5/a", "6/a", "7/b"), evResp(true, "8/b", "8/c")),
	}}}
	v := CheckWatch(tr, ss)
	require.True(t, v.OK, v.Detail)
	require.Contains(t, v.Detail, "2 revisions no member reported")
}

// The real watch hub, driven at random with writes, watchers, syncs,
// progress, compactions and broken streams, passes the checker; with its
// deliberate watch-skips-event bug, it fails as Reliable.
func TestWatchHubRandom(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		s, ss := driveHub(seed, false)
		v := CheckWatch(s.truth(), ss)
		require.True(t, v.OK, "seed %d: %s", seed, v.Detail)
	}
	for seed := uint64(1); seed <= 5; seed++ {
		s, ss := driveHub(seed, true)
		v := CheckWatch(s.truth(), ss, "bug watch-skips-event on")
		require.False(t, v.OK, "seed %d: %s", seed, v.Detail)
		require.Contains(t, v.Detail, "broke Reliable")
		require.Contains(t, v.Detail, "bug watch-skips-event on")
	}
}

// hubClient is one client's stream of watches, resumed as clientv3 does.
type hubClient struct {
	stream   watch.StreamID
	sessions []int         // client's sessions, by index into the list
	byID     map[int64]int // watch id -> session index
	next     map[int]int64 // session -> clientv3's nextRev
	pending  []int         // sessions whose create awaits its response
}

func driveHub(seed uint64, skip bool) (*kvStore, []WatchSession) {
	rng := rand.New(rand.NewPCG(seed, 7))
	s := newKVStore()
	hub := watch.New(s, watch.Config{ProgressNotifyInterval: 300 * time.Millisecond, SkipEvent: skip})
	var ss []WatchSession
	now := time.Duration(0)
	keys := []string{"a", "b", "c", "d", "e"}

	clients := make([]*hubClient, 3)
	open := func(i int) {
		c := clients[i]
		c.stream = watch.StreamID(fmt.Sprintf("c%d-%v", i, now))
		c.byID = map[int64]int{}
		hub.OpenStream(c.stream, now)
	}
	// deliver routes outputs to the sessions' current watches.
	deliver := func(out []watch.Output) {
		for _, o := range out {
			for _, c := range clients {
				if c.stream != o.Stream {
					continue
				}
				r := o.Response
				targets := []int{}
				switch {
				case r.Created:
					si := c.pending[0]
					c.pending = c.pending[1:]
					c.byID[r.WatchId] = si
					targets = append(targets, si)
				case r.WatchId == watch.InvalidWatchID:
					for _, si := range c.sessions {
						if _, live := c.byID[watchIDOf(c, si)]; live {
							targets = append(targets, si)
						}
					}
				default:
					targets = append(targets, c.byID[r.WatchId])
				}
				for _, si := range targets {
					w := &ss[si].Watches[len(ss[si].Watches)-1]
					w.Responses = append(w.Responses, WatchResponse{At: now, Response: proto.CloneOf(r)})
					// clientv3's nextRev.
					switch {
					case r.Created && w.Request.StartRevision == 0:
						c.next[si] = r.Header.Revision
					case len(r.Events) > 0 && !r.Fragment:
						c.next[si] = r.Events[len(r.Events)-1].Kv.ModRevision + 1
					case isProgressNotify(r):
						c.next[si] = r.Header.Revision + 1
					}
				}
			}
		}
	}
	create := func(ci, si int, req *pb.WatchCreateRequest) {
		c := clients[ci]
		ss[si].Watches = append(ss[si].Watches, Watch{Member: 1, Sent: now, Request: req})
		c.pending = append(c.pending, si)
		deliver(hub.Request(c.stream, &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: req}}))
	}
	for i := range clients {
		clients[i] = &hubClient{next: map[int]int64{}}
		open(i)
	}

	for step := 0; step < 400; step++ {
		now += 10 * time.Millisecond
		switch n := rng.IntN(100); {
		case n < 50: // a write txn of one to three ops
			var ws []write
			for j := rng.IntN(3); j >= 0; j-- {
				k := keys[rng.IntN(len(keys))]
				if dup := func() bool {
					for _, w := range ws {
						if w.key == k {
							return true
						}
					}
					return false
				}(); dup {
					continue
				}
				if rng.IntN(4) == 0 {
					ws = append(ws, kvDel(k))
				} else {
					ws = append(ws, kvPut(k, fmt.Sprint(step)))
				}
			}
			if rev, evs := s.txn(now, 0, ws...); evs != nil {
				deliver(hub.Notify(rev, evs))
			}
		case n < 58 && len(ss) < 12: // a new watcher
			ci := rng.IntN(len(clients))
			req := &pb.WatchCreateRequest{Key: []byte(keys[rng.IntN(len(keys))]), PrevKv: rng.IntN(2) == 0, ProgressNotify: rng.IntN(2) == 0}
			if rng.IntN(2) == 0 {
				req.RangeEnd = []byte("d")
				req.Key = []byte("a")
			}
			if rng.IntN(3) == 0 {
				req.Filters = []pb.WatchCreateRequest_FilterType{pb.WatchCreateRequest_FilterType(rng.IntN(2))}
			}
			if rng.IntN(2) == 0 {
				req.StartRevision = max(1, s.rev-int64(rng.IntN(20)))
			}
			ss = append(ss, WatchSession{Client: ci})
			clients[ci].sessions = append(clients[ci].sessions, len(ss)-1)
			clients[ci].next[len(ss)-1] = req.StartRevision
			create(ci, len(ss)-1, req)
		case n < 63: // the client's stream breaks; it re-watches every session
			ci := rng.IntN(len(clients))
			c := clients[ci]
			hub.CloseStream(c.stream)
			open(ci)
			c.pending = nil
			for _, si := range c.sessions {
				w := ss[si].Watches[len(ss[si].Watches)-1]
				if !resumable(w) {
					continue
				}
				req := proto.CloneOf(w.Request)
				req.StartRevision = c.next[si]
				create(ci, si, req)
			}
		case n < 65: // a progress request
			deliver(hub.Request(clients[rng.IntN(len(clients))].stream, &pb.WatchRequest{RequestUnion: &pb.WatchRequest_ProgressRequest{ProgressRequest: &pb.WatchProgressRequest{}}}))
		case n < 66 && s.rev > 10: // a compaction
			s.compactRev = s.rev - int64(rng.IntN(10))
		case n < 68: // a snapshot restored under the watchers
			hub.Restore()
		}
		if step%10 == 0 {
			deliver(hub.SyncWatchers())
		}
		deliver(hub.ProgressNotify(now))
	}
	for range 3 {
		deliver(hub.SyncWatchers())
	}
	return s, ss
}

// watchIDOf is the id of a session's current watch, -2 if it has none.
func watchIDOf(c *hubClient, si int) int64 {
	for id, s := range c.byID { //lint:allow maprange at most one id matches
		if s == si {
			return id
		}
	}
	return -2
}

// resumable: clientv3 resumes a watch that was created and not cancelled.
func resumable(w Watch) bool {
	if len(w.Responses) == 0 || !w.Responses[0].Response.Created {
		return false
	}
	for _, r := range w.Responses {
		if r.Response.Canceled {
			return false
		}
	}
	return true
}
