package watch

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

func newHub(cfg Config) (*fakeStore, *Hub) {
	s := newFakeStore()
	h := New(s, cfg)
	h.OpenStream("s1", 0)
	return s, h
}

// TestCreate ports etcd's TestWatcherWatchID, TestWatcherRequestsCustomID
// and TestWatcherWatchWrongRange, and the recvLoop's checks: ids are
// assigned from 0 skipping those in use, a taken id is refused with
// ErrWatcherDuplicateID, and a failed create answers Created and Canceled
// with watch id -1 and the reason.
func TestCreate(t *testing.T) {
	tests := []struct {
		name string
		reqs []*pb.WatchRequest
		want []string
	}{
		{"auto ids count from 0",
			[]*pb.WatchRequest{createReq("a"), createReq("b"), createReq("c")},
			[]string{"s1 id=0 rev=1 created", "s1 id=1 rev=1 created", "s1 id=2 rev=1 created"}},
		{"auto ids skip custom ones",
			[]*pb.WatchRequest{createReq("a", watchID(1)), createReq("b"), createReq("c"), createReq("d", watchID(7))},
			[]string{"s1 id=1 rev=1 created", "s1 id=0 rev=1 created", "s1 id=2 rev=1 created", "s1 id=7 rev=1 created"}},
		{"duplicate id",
			[]*pb.WatchRequest{createReq("a", watchID(3)), createReq("b", watchID(3))},
			[]string{"s1 id=3 rev=1 created",
				`s1 id=-1 rev=1 created canceled reason="mvcc: duplicate watch ID provided on the WatchStream"`}},
		{"cancelled id is free again",
			[]*pb.WatchRequest{createReq("a", watchID(3)), cancelReq(3), createReq("b", watchID(3))},
			[]string{"s1 id=3 rev=1 created", "s1 id=3 rev=1 canceled", "s1 id=3 rev=1 created"}},
		{"negative start revision",
			[]*pb.WatchRequest{createReq("a", startRev(-1))},
			[]string{`s1 id=-1 rev=1 created canceled reason="etcdserver: mvcc: required revision has been compacted"`}},
		{"key equal to range end",
			[]*pb.WatchRequest{createReq("foo", rangeEnd("foo"))},
			[]string{`s1 id=-1 rev=1 created canceled reason="mvcc: watcher range is empty"`}},
		{"key after range end",
			[]*pb.WatchRequest{createReq("fp", rangeEnd("fo"))},
			[]string{`s1 id=-1 rev=1 created canceled reason="mvcc: watcher range is empty"`}},
		{"empty key with range end \\x00 watches everything",
			[]*pb.WatchRequest{createReq("", rangeEnd("\x00"))},
			[]string{"s1 id=0 rev=1 created"}},
		{"cancel of an unknown id is not answered",
			[]*pb.WatchRequest{cancelReq(5)},
			[]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, h := newHub(Config{})
			var out []Output
			for _, r := range tt.reqs {
				out = append(out, h.Request("s1", r)...)
			}
			require.Equal(t, tt.want, describe(out))
		})
	}
}

// TestNotifyMatches ports TestWatcherWatchPrefix and TestWatchDeleteRange:
// a key, a range, a prefix and "from key" each get exactly the events on
// their keys, one response per revision holding all of that revision's
// events (atomic), header revision the txn's.
func TestNotifyMatches(t *testing.T) {
	tests := []struct {
		name string
		req  *pb.WatchRequest
		want []string
	}{
		{"single key", createReq("foo"),
			[]string{"s1 id=0 rev=2 PUT foo=1@2", "s1 id=0 rev=3 DELETE foo@3"}},
		{"range [foo, fop)", createReq("foo", rangeEnd("fop")),
			[]string{"s1 id=0 rev=2 PUT foo=1@2 PUT foo1=1@2", "s1 id=0 rev=3 DELETE foo@3 PUT foo2=2@3"}},
		{"from key", createReq("foo", rangeEnd("\x00")),
			[]string{"s1 id=0 rev=2 PUT foo=1@2 PUT foo1=1@2 PUT zzz=1@2", "s1 id=0 rev=3 DELETE foo@3 PUT foo2=2@3"}},
		{"no match", createReq("bar"), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, h := newHub(Config{})
			h.Request("s1", tt.req)
			var out []Output
			out = append(out, write(s, h, put("foo", "1"), put("fo", "1"), put("foo1", "1"), put("zzz", "1"))...)
			out = append(out, write(s, h, del("foo"), put("foo2", "2"), put("a", "2"))...)
			out = append(out, h.SyncWatchers()...)
			require.Equal(t, tt.want, describe(out))
		})
	}
}

// TestWatchFromRevision ports TestSyncWatchers, TestWatchFutureRev and
// TestWatcherRequestProgress's revisions: a start revision at or below
// the current one makes the watcher unsynced, caught up by the next
// SyncWatchers with header revision the current one; a future start
// revision waits for its revision; 0 means "from now on".
func TestWatchFromRevision(t *testing.T) {
	tests := []struct {
		start int64
		want  []string
	}{
		{0, []string{"after: s1 id=0 rev=6 PUT k=6@6"}},
		{1, []string{"sync: s1 id=0 rev=5 PUT k=2@2 PUT k=3@3 PUT k=4@4", "after: s1 id=0 rev=6 PUT k=6@6"}},
		{3, []string{"sync: s1 id=0 rev=5 PUT k=3@3 PUT k=4@4", "after: s1 id=0 rev=6 PUT k=6@6"}},
		{4, []string{"sync: s1 id=0 rev=5 PUT k=4@4", "after: s1 id=0 rev=6 PUT k=6@6"}},
		{5, []string{"after: s1 id=0 rev=6 PUT k=6@6"}},
		{6, []string{"after: s1 id=0 rev=6 PUT k=6@6"}},
		{7, []string{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.start), func(t *testing.T) {
			s, h := newHub(Config{})
			for v := 2; v <= 4; v++ {
				s.txn(put("k", fmt.Sprint(v)))
			}
			h.Request("s1", createReq("k", startRev(tt.start)))
			got := []string{}
			// Nothing reaches an unsynced watcher before the sync.
			for _, l := range describe(write(s, h, put("other", "5"))) {
				got = append(got, "before: "+l)
			}
			for _, l := range describe(h.SyncWatchers()) {
				got = append(got, "sync: "+l)
			}
			for _, l := range describe(write(s, h, put("k", "6"))) {
				got = append(got, "after: "+l)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

// TestWatchCompacted ports TestWatchCompacted and
// TestWatchNoEventLossOnCompact: a watcher whose start revision is below
// the compacted one is cancelled at the next sync with CompactRevision
// set (header revision 0, as etcd's mvcc response carries none); one
// starting at the compacted revision itself still gets its events.
func TestWatchCompacted(t *testing.T) {
	s, h := newHub(Config{})
	for v := 2; v <= 10; v++ {
		s.txn(put("foo", fmt.Sprint(v)))
	}
	s.compactRev = 5
	h.Request("s1", createReq("foo", startRev(4)))
	h.Request("s1", createReq("foo", startRev(5)))
	h.Request("s1", createReq("foo", startRev(1)))
	require.Equal(t, []string{
		"s1 id=0 rev=0 canceled compact=5",
		"s1 id=2 rev=0 canceled compact=5",
		"s1 id=1 rev=10 PUT foo=5@5 PUT foo=6@6 PUT foo=7@7 PUT foo=8@8 PUT foo=9@9 PUT foo=10@10",
	}, describe(h.SyncWatchers()))

	// A compacted watcher gets nothing more, and until the client cancels
	// it, its stream gets no progress (etcd: it is in no group).
	require.Equal(t, []string{"s1 id=1 rev=11 PUT foo=11@11"}, describe(write(s, h, put("foo", "11"))))
	require.Empty(t, h.Request("s1", progressReq()))
	require.Equal(t, []string{"s1 id=0 rev=11 canceled"}, describe(h.Request("s1", cancelReq(0))))
	require.Equal(t, []string{"s1 id=2 rev=11 canceled"}, describe(h.Request("s1", cancelReq(2))))
	require.Equal(t, []string{"s1 id=-1 rev=11"}, describe(h.Request("s1", progressReq())))
}

// TestFilters ports TestWatcherWatchWithFilter: NOPUT and NODELETE drop
// those events, and a response left with no event is not sent, from a
// synced watcher's notifications and an unsynced one's catch-up alike.
func TestFilters(t *testing.T) {
	tests := []struct {
		name    string
		filters []pb.WatchCreateRequest_FilterType
		want    []string
	}{
		{"none", nil, []string{"s1 id=0 rev=3 PUT a=1@3", "s1 id=0 rev=4 DELETE a@4", "s1 id=0 rev=5 PUT b=2@5 DELETE b2@5"}},
		{"NOPUT", []pb.WatchCreateRequest_FilterType{pb.WatchCreateRequest_NOPUT},
			[]string{"s1 id=0 rev=4 DELETE a@4", "s1 id=0 rev=5 DELETE b2@5"}},
		{"NODELETE", []pb.WatchCreateRequest_FilterType{pb.WatchCreateRequest_NODELETE},
			[]string{"s1 id=0 rev=3 PUT a=1@3", "s1 id=0 rev=5 PUT b=2@5"}},
		{"both", []pb.WatchCreateRequest_FilterType{pb.WatchCreateRequest_NOPUT, pb.WatchCreateRequest_NODELETE}, []string{}},
	}
	for _, tt := range tests {
		for _, unsynced := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/unsynced=%v", tt.name, unsynced), func(t *testing.T) {
				s, h := newHub(Config{})
				s.txn(put("b2", "0"))
				create := createReq("a", rangeEnd("\x00"), filters(tt.filters...), startRev(3))
				var out []Output
				if !unsynced {
					h.Request("s1", create)
				}
				out = append(out, write(s, h, put("a", "1"))...)
				out = append(out, write(s, h, del("a"))...)
				out = append(out, write(s, h, put("b", "2"), del("b2"))...)
				want := tt.want
				if unsynced {
					h.Request("s1", create)
					// One catch-up response for all, at the current revision.
					want = catchUp(tt.want, 5)
				}
				out = append(out, h.SyncWatchers()...)
				require.Equal(t, want, describe(out))
			})
		}
	}
}

// catchUp merges per-revision response lines into the one a sync sends.
func catchUp(lines []string, rev int64) []string {
	if len(lines) == 0 {
		return []string{}
	}
	var evs []string
	for _, l := range lines {
		_, e, _ := strings.Cut(l, "rev=")
		_, e, _ = strings.Cut(e, " ")
		evs = append(evs, e)
	}
	return []string{fmt.Sprintf("s1 id=0 rev=%d %s", rev, strings.Join(evs, " "))}
}

// TestPrevKV: prev_kv carries the key's version before the event, except
// for a put that created the key (etcd's IsCreateEvent); a watcher that did
// not ask gets none, from the same notification.
func TestPrevKV(t *testing.T) {
	s, h := newHub(Config{})
	h.Request("s1", createReq("a", withPrevKV))
	h.Request("s1", createReq("a"))
	var out []Output
	out = append(out, write(s, h, put("a", "1"))...)
	out = append(out, write(s, h, put("a", "2"))...)
	out = append(out, write(s, h, del("a"))...)
	out = append(out, write(s, h, put("a", "3"))...)
	require.Equal(t, []string{
		"s1 id=0 rev=2 PUT a=1@2", "s1 id=1 rev=2 PUT a=1@2",
		"s1 id=0 rev=3 PUT a=2@3(prev 1@2)", "s1 id=1 rev=3 PUT a=2@3",
		"s1 id=0 rev=4 DELETE a@4(prev 2@3)", "s1 id=1 rev=4 DELETE a@4",
		"s1 id=0 rev=5 PUT a=3@5", "s1 id=1 rev=5 PUT a=3@5",
	}, describe(out))

	// And for an unsynced watcher, from history.
	h.Request("s1", createReq("a", withPrevKV, startRev(3)))
	require.Equal(t, []string{"s1 id=2 rev=5 PUT a=2@3(prev 1@2) DELETE a@4(prev 2@3) PUT a=3@5"},
		describe(h.SyncWatchers()))
}

// TestCancel ports TestWatchStreamCancelWatcherByID and
// TestCancelUnsynced: a cancelled watcher, synced or not, gets nothing
// more; cancelling again is not answered. CloseStream drops every
// watcher of the stream and sends nothing.
func TestCancel(t *testing.T) {
	s, h := newHub(Config{})
	h.OpenStream("s2", 0)
	s.txn(put("a", "0"))
	h.Request("s1", createReq("a"))
	h.Request("s1", createReq("a", startRev(1)))
	h.Request("s2", createReq("a"))
	require.Equal(t, []string{"s1 id=0 rev=2 canceled"}, describe(h.Request("s1", cancelReq(0))))
	require.Equal(t, []string{"s1 id=1 rev=2 canceled"}, describe(h.Request("s1", cancelReq(1))))
	require.Empty(t, h.Request("s1", cancelReq(1)))
	require.Empty(t, h.SyncWatchers())
	require.Equal(t, []string{"s2 id=0 rev=3 PUT a=1@3"}, describe(write(s, h, put("a", "1"))))
	h.CloseStream("s2")
	require.Empty(t, write(s, h, put("a", "2")))
	require.Empty(t, h.Request("s2", createReq("a")))
	require.Empty(t, h.watchers)
}

// TestProgressRequest ports TestWatcherRequestProgressAll: a progress
// request is answered with watch id -1 at the current revision only when
// every watcher of the stream is synced and past its start revision:
// progress never runs ahead of events a watcher has not received.
func TestProgressRequest(t *testing.T) {
	tests := []struct {
		name      string
		start     int64
		before    []string
		afterSync []string
	}{
		{"zero revision", 0, []string{"s1 id=-1 rev=2"}, []string{"s1 id=-1 rev=2"}},
		{"old revision", 1, []string{}, []string{"s1 id=-1 rev=2"}},
		{"current revision", 2, []string{}, []string{"s1 id=-1 rev=2"}},
		{"current plus one", 3, []string{}, []string{}},
		{"current plus two", 4, []string{}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, h := newHub(Config{})
			s.txn(put("foo", "bar"))
			h.Request("s1", createReq("bad", startRev(tt.start)))
			require.Equal(t, tt.before, describe(h.Request("s1", progressReq())))
			h.SyncWatchers()
			require.Equal(t, tt.afterSync, describe(h.Request("s1", progressReq())))
		})
	}

	t.Run("a stream with no watchers gets nothing", func(t *testing.T) {
		_, h := newHub(Config{})
		require.Empty(t, h.Request("s1", progressReq()))
	})
	t.Run("one unsynced watcher holds back the stream", func(t *testing.T) {
		s, h := newHub(Config{})
		s.txn(put("foo", "bar"))
		h.Request("s1", createReq("a"))
		h.Request("s1", createReq("foo", startRev(2)))
		require.Empty(t, h.Request("s1", progressReq()))
		require.Equal(t, []string{"s1 id=1 rev=2 PUT foo=bar@2"}, describe(h.SyncWatchers()))
		require.Equal(t, []string{"s1 id=-1 rev=2"}, describe(h.Request("s1", progressReq())))
	})
}

// TestProgressNotify: a watcher created with progress_notify is told the
// revision every interval, unless an event reached it since the last
// tick (etcd elides one tick) or it is unsynced.
func TestProgressNotify(t *testing.T) {
	s, h := newHub(Config{ProgressNotifyInterval: time.Second})
	h.Request("s1", createReq("a", withProgressNotify))
	h.Request("s1", createReq("b"))
	require.Empty(t, h.ProgressNotify(999*time.Millisecond))
	require.Equal(t, []string{"s1 id=0 rev=1"}, describe(h.ProgressNotify(time.Second)))
	write(s, h, put("a", "1"))
	require.Empty(t, h.ProgressNotify(2*time.Second), "an event since the last tick elides this one")
	require.Equal(t, []string{"s1 id=0 rev=2"}, describe(h.ProgressNotify(3500*time.Millisecond)))
	require.Empty(t, h.ProgressNotify(3900*time.Millisecond), "the ticker keeps its phase")
	require.Equal(t, []string{"s1 id=0 rev=2"}, describe(h.ProgressNotify(4*time.Second)))

	// An unsynced watcher is never told a revision it has not caught up to.
	h.Request("s1", createReq("a", withProgressNotify, startRev(1)))
	require.Equal(t, []string{"s1 id=0 rev=2"}, describe(h.ProgressNotify(5*time.Second)))
	require.Equal(t, []string{"s1 id=2 rev=2 PUT a=1@2"}, describe(h.SyncWatchers()))
	require.Equal(t, []string{"s1 id=0 rev=2"}, describe(h.ProgressNotify(6*time.Second)), "2's event elides its tick")
	require.Equal(t, []string{"s1 id=0 rev=2", "s1 id=2 rev=2"}, describe(h.ProgressNotify(7*time.Second)))
}

// TestProgressNotifyInterval: etcd's default, and its 100 ms minimum.
func TestProgressNotifyInterval(t *testing.T) {
	require.Equal(t, 10*time.Minute, New(newFakeStore(), Config{}).cfg.ProgressNotifyInterval)
	require.Equal(t, 100*time.Millisecond, New(newFakeStore(), Config{ProgressNotifyInterval: time.Millisecond}).cfg.ProgressNotifyInterval)
}

// TestWatchBatchUnsynced ports etcd's test of the same name: an unsynced
// watcher gets at most watchBatchMaxRevs revisions a sync, and stays
// unsynced until it has them all.
func TestWatchBatchUnsynced(t *testing.T) {
	s, h := newHub(Config{})
	const revs = watchBatchMaxRevs*2 + 5
	for i := range revs {
		s.txn(put("k", fmt.Sprint(i)))
	}
	h.Request("s1", createReq("k", startRev(2)))
	var sizes []int
	for range 4 {
		for _, o := range h.SyncWatchers() {
			sizes = append(sizes, len(o.Response.Events))
			require.EqualValues(t, s.rev, o.Response.Header.Revision)
		}
	}
	require.Equal(t, []int{watchBatchMaxRevs, watchBatchMaxRevs, 5}, sizes)
	require.True(t, h.watchers[0].synced)
}

// TestMaxWatchersPerSync: one sync moves at most 512 unsynced watchers,
// the oldest first.
func TestMaxWatchersPerSync(t *testing.T) {
	s, h := newHub(Config{})
	s.txn(put("k", "v"))
	for range maxWatchersPerSync + 10 {
		h.Request("s1", createReq("k", startRev(1)))
	}
	require.Len(t, h.SyncWatchers(), maxWatchersPerSync)
	out := h.SyncWatchers()
	require.Len(t, out, 10)
	require.EqualValues(t, maxWatchersPerSync, out[0].Response.WatchId)
	require.Empty(t, h.SyncWatchers())
}

// TestRestore ports TestWatchRestore: after the member opens a backend
// from the leader, every watcher is unsynced and the next sync sends what
// the new store holds past each watcher's revision, including to a
// watcher waiting for a future revision.
func TestRestore(t *testing.T) {
	s, h := newHub(Config{})
	h.Request("s1", createReq("k"))
	h.Request("s1", createReq("k", startRev(10)))
	write(s, h, put("k", "1"))
	// The leader's snapshot: the store moved on to revision 5 meanwhile.
	for v := 2; v <= 4; v++ {
		s.txn(put("k", fmt.Sprint(v)))
	}
	h.Restore()
	require.Empty(t, h.Request("s1", progressReq()))
	require.Equal(t, []string{"s1 id=0 rev=5 PUT k=2@3 PUT k=3@4 PUT k=4@5"}, describe(h.SyncWatchers()))
	var got []string
	for v := 5; v <= 10; v++ {
		for _, l := range describe(write(s, h, put("k", fmt.Sprint(v)))) {
			if strings.HasPrefix(l, "s1 id=1 ") {
				got = append(got, l)
			}
		}
	}
	require.Equal(t, []string{"s1 id=1 rev=10 PUT k=9@10", "s1 id=1 rev=11 PUT k=10@11"}, got)
}

// TestFragment: a watcher created with fragment gets a large response in
// pieces, each under the limit, all but the last marked Fragment.
func TestFragment(t *testing.T) {
	s, h := newHub(Config{MaxRequestBytes: 1})
	h.Request("s1", createReq("a", rangeEnd("z"), withFragment))
	h.Request("s1", createReq("a", rangeEnd("z")))
	big := strings.Repeat("x", 300*1024)
	out := describe(write(s, h, put("a", big), put("b", big), put("c", big)))
	require.Len(t, out, 4)
	for i, want := range []string{"id=0 rev=2 fragment PUT a=", "id=0 rev=2 fragment PUT b=", "id=0 rev=2 PUT c=", "id=1 rev=2 PUT a="} {
		require.True(t, strings.HasPrefix(out[i], "s1 "+want), out[i][:40])
	}
}

// TestSkipEventBug: the deliberate bug loses the first event of every
// 50th revision for synced watchers, and only that.
func TestSkipEventBug(t *testing.T) {
	for _, skip := range []bool{false, true} {
		t.Run(fmt.Sprint(skip), func(t *testing.T) {
			s, h := newHub(Config{SkipEvent: skip})
			h.Request("s1", createReq("k", rangeEnd("\x00")))
			got := 0
			for i := range 60 {
				got += countEvents(write(s, h, put("k", fmt.Sprint(i)), put("k2", fmt.Sprint(i))))
			}
			want := 120
			if skip {
				want = 119 // revision 50 lost its first event
			}
			require.Equal(t, want, got)
		})
	}
}

func countEvents(out []Output) int {
	n := 0
	for _, o := range out {
		n += len(o.Response.Events)
	}
	return n
}

// TestGuarantees drives random writes, compactions, watch creations at
// random start revisions, cancels, syncs and progress requests, and
// checks etcd's documented guarantees for every watcher: ordered (by
// revision), unique (no event twice), reliable (no gap from its start
// revision on, unless cancelled by compaction), atomic (one revision's
// events in one response), resumable (starts exactly at its start
// revision) and progress never ahead of an event not yet received.
func TestGuarantees(t *testing.T) {
	seen := map[string]int{}
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			checkGuarantees(t, seed, seen, Config{})
		})
	}
	// The run must have met every case it checks.
	for _, kind := range []string{"created", "events", "compacted", "canceled", "progress", "progress-all"} {
		require.Positive(t, seen[kind], "no %s response in any seed: %v", kind, seen)
	}
}

// TestGuaranteesCatchSkipEvent: the check above fails, for every seed,
// with the deliberate bug on; a watch checker can catch it too.
func TestGuaranteesCatchSkipEvent(t *testing.T) {
	for seed := range uint64(20) {
		r := &recorder{}
		func() {
			defer func() {
				if p := recover(); p != nil && p != errFailNow {
					panic(p)
				}
			}()
			checkGuarantees(r, seed, map[string]int{}, Config{SkipEvent: true})
		}()
		require.True(t, r.failed, "seed %d: the lost event went unnoticed", seed)
	}
}

// recorder is a require.TestingT that notes a failure and stops the check.
type recorder struct{ failed bool }

var errFailNow = errors.New("failed")

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) FailNow()              { r.failed = true; panic(errFailNow) }

type watchState struct {
	key, end  string
	start     int64
	got       []*mvccpb.Event
	compacted bool
	cancelled bool
}

func checkGuarantees(t require.TestingT, seed uint64, seen map[string]int, cfg Config) {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := newFakeStore()
	cfg.ProgressNotifyInterval = time.Second
	h := New(s, cfg)
	streams := []StreamID{"s0", "s1", "s2"}
	states := map[StreamID]map[int64]*watchState{}
	for _, st := range streams {
		h.OpenStream(st, 0)
		states[st] = map[int64]*watchState{}
	}
	keys := []string{"a", "b", "c", "d"}
	pending := map[StreamID][]*watchState{}

	handle := func(out []Output) {
		for _, o := range out {
			r := o.Response
			switch {
			case r.Created:
				seen["created"]++
				ws := pending[o.Stream][0]
				pending[o.Stream] = pending[o.Stream][1:]
				require.False(t, r.Canceled)
				states[o.Stream][r.WatchId] = ws
			case r.CompactRevision != 0:
				seen["compacted"]++
				ws := states[o.Stream][r.WatchId]
				require.Less(t, ws.start, r.CompactRevision, "cancelled for compaction only below the compacted revision")
				require.Less(t, lastEventRev(ws, ws.start-1)+1, r.CompactRevision)
				ws.compacted = true
			case r.Canceled:
				seen["canceled"]++
				states[o.Stream][r.WatchId].cancelled = true
			case len(r.Events) == 0:
				// Progress: every watcher of the stream has had every
				// event up to the revision.
				if r.WatchId == InvalidWatchID {
					seen["progress-all"]++
				} else {
					seen["progress"]++
				}
				for id, ws := range states[o.Stream] { //lint:allow maprange assertions only
					if r.WatchId != InvalidWatchID && id != r.WatchId {
						continue
					}
					if ws.compacted || ws.cancelled {
						continue
					}
					require.Equal(t, expected(s, ws, r.Header.Revision), describeEvents(ws.got), "progress at %d ahead of watcher %d", r.Header.Revision, id)
				}
			default:
				seen["events"]++
				ws := states[o.Stream][r.WatchId]
				require.False(t, ws.compacted || ws.cancelled, "event after cancel")
				// Atomic: the response ends on a whole revision.
				last := r.Events[len(r.Events)-1].Kv.ModRevision
				ws.got = append(ws.got, r.Events...)
				require.Equal(t, expected(s, ws, last), describeEvents(ws.got), "watcher %s/%d", o.Stream, r.WatchId)
				require.GreaterOrEqual(t, r.Header.Revision, last)
			}
		}
	}

	now := time.Duration(0)
	for range 400 {
		now += 10 * time.Millisecond
		st := streams[rng.IntN(len(streams))]
		switch n := rng.IntN(100); {
		case n < 50:
			var ops []op
			for range 1 + rng.IntN(3) {
				k := keys[rng.IntN(len(keys))]
				if rng.IntN(4) == 0 {
					ops = append(ops, del(k))
				} else {
					ops = append(ops, put(k, fmt.Sprint(rng.IntN(1000))))
				}
			}
			// A txn touches a key once, as etcd's does.
			seen := map[string]bool{}
			ops = slicesFilter(ops, func(o op) bool { ok := !seen[o.key]; seen[o.key] = true; return ok })
			handle(write(s, h, ops...))
		case n < 65:
			reqStart := rng.Int64N(s.rev + 3)
			ws := &watchState{key: keys[rng.IntN(len(keys))], start: reqStart}
			if reqStart == 0 {
				ws.start = s.rev + 1 // "from now on"
			}
			var opts []createOpt
			if rng.IntN(2) == 0 {
				ws.end = "c"
				opts = append(opts, rangeEnd("c"))
				ws.key = keys[rng.IntN(2)]
			}
			opts = append(opts, startRev(reqStart), withProgressNotify)
			pending[st] = append(pending[st], ws)
			handle(h.Request(st, createReq(ws.key, opts...)))
		case n < 70:
			for id, ws := range states[st] { //lint:allow maprange picks any; the test's own rng is not what is under test
				if !ws.cancelled {
					handle(h.Request(st, cancelReq(id)))
					break
				}
			}
		case n < 75:
			if s.rev > 3 {
				s.compactRev = max(s.compactRev, s.rev-1-rng.Int64N(3))
			}
		case n < 85:
			handle(h.Request(st, progressReq()))
		default:
			handle(h.SyncWatchers())
			handle(h.ProgressNotify(now))
		}
	}
	// Reliable: after enough syncs every live watcher has every event.
	for range 3 {
		handle(h.SyncWatchers())
	}
	for _, st := range streams {
		for _, ws := range states[st] { //lint:allow maprange assertions only
			if !ws.compacted && !ws.cancelled {
				require.Equal(t, expected(s, ws, s.rev), describeEvents(ws.got))
			}
		}
	}
}

// expected is every event the watcher should have had up to rev.
func expected(s *fakeStore, ws *watchState, rev int64) []string {
	out := []string{}
	start := ws.start
	for _, ev := range s.events {
		r := ev.Kv.ModRevision
		k := string(ev.Kv.Key)
		in := k == ws.key
		if ws.end != "" {
			in = k >= ws.key && k < ws.end
		}
		if r >= start && r <= rev && in {
			out = append(out, describeEvent(ev))
		}
	}
	return out
}

func lastEventRev(ws *watchState, def int64) int64 {
	if len(ws.got) == 0 {
		return def
	}
	return ws.got[len(ws.got)-1].Kv.ModRevision
}

func slicesFilter(ops []op, keep func(op) bool) []op {
	var out []op
	for _, o := range ops {
		if keep(o) {
			out = append(out, o)
		}
	}
	return out
}

func describeEvents(evs []*mvccpb.Event) []string {
	out := []string{}
	for _, ev := range evs {
		out = append(out, describeEvent(ev))
	}
	return out
}
