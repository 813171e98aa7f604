package node

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdlab/etcdlab/node/api"
)

// The Watch service at node level, against etcd's documentation
// (https://etcd.io/docs/v3.7/learning/api/#watch-api): a client's watch
// stream is its address on a member; every response comes back to it as
// an api.Response with Watch set.

// watchOn sends a create request on stream `from` of member via and
// returns the create response.
func (c *cluster) watchOn(via uint64, from string, cr *pb.WatchCreateRequest) *pb.WatchResponse {
	c.t.Helper()
	before := len(c.replies[from])
	c.nodes[via].Request(from, &api.Request{ID: 1, Watch: &pb.WatchRequest{
		RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: cr}}})
	rs := c.replies[from][before:]
	require.Len(c.t, rs, 1, "the create is answered at once")
	require.NoError(c.t, rs[0].Err)
	require.True(c.t, rs[0].Watch.Created)
	return rs[0].Watch
}

// watched takes the responses stream `from` received since the last call.
func (c *cluster) watched(from string) []*pb.WatchResponse {
	var ws []*pb.WatchResponse
	for _, r := range c.replies[from] {
		require.NotNil(c.t, r.Watch, "only watch responses on a watch stream")
		require.Equal(c.t, r.Header, r.Watch.Header)
		ws = append(ws, r.Watch)
	}
	c.replies[from] = nil
	return ws
}

// events flattens responses into "PUT k=v@rev" / "DELETE k@rev".
func events(ws []*pb.WatchResponse) []string {
	var evs []string
	for _, w := range ws {
		for _, ev := range w.Events {
			if ev.Type == mvccpb.DELETE {
				evs = append(evs, fmt.Sprintf("DELETE %s@%d", ev.Kv.Key, ev.Kv.ModRevision))
				continue
			}
			evs = append(evs, fmt.Sprintf("PUT %s=%s@%d", ev.Kv.Key, ev.Kv.Value, ev.Kv.ModRevision))
		}
	}
	return evs
}

func TestWatchAKeyGetsItsEventsWithTheirRevision(t *testing.T) {
	c := newKVCluster(t)
	created := c.watchOn(2, "w", &pb.WatchCreateRequest{Key: []byte("k")})
	require.Equal(t, int64(1), created.Header.Revision)
	require.Equal(t, uint64(2), created.Header.MemberId)
	c.watched("w")

	c.ok(1, &api.Request{Put: putReq("k", "a")})     // 2
	c.ok(1, &api.Request{Put: putReq("other", "x")}) // 3
	c.ok(3, &api.Request{DeleteRange: deleteReq("k")})
	ws := c.watched("w")
	require.Equal(t, []string{"PUT k=a@2", "DELETE k@4"}, events(ws))
	require.Equal(t, int64(2), ws[0].Header.Revision)
	require.Equal(t, int64(4), ws[1].Header.Revision)
	require.Equal(t, created.WatchId, ws[0].WatchId)
}

func TestWatchAPrefix(t *testing.T) {
	c := newKVCluster(t)
	c.watchOn(1, "w", &pb.WatchCreateRequest{Key: []byte("p/"), RangeEnd: []byte("p0")})
	c.watched("w")
	c.ok(1, &api.Request{Put: putReq("p/a", "1")})
	c.ok(1, &api.Request{Put: putReq("q", "1")})
	c.ok(1, &api.Request{Txn: &pb.TxnRequest{Success: []*pb.RequestOp{opPut("p/b", "2"), opPut("p/c", "3")}}})
	ws := c.watched("w")
	require.Equal(t, []string{"PUT p/a=1@2", "PUT p/b=2@4", "PUT p/c=3@4"}, events(ws))
	require.Len(t, ws, 2, "a Txn's events come in one response")
}

func TestWatchWithPrevKV(t *testing.T) {
	c := newKVCluster(t, "k=old")
	c.watchOn(3, "w", &pb.WatchCreateRequest{Key: []byte("k"), PrevKv: true})
	c.watched("w")
	c.ok(1, &api.Request{Put: putReq("k", "new")})
	c.ok(1, &api.Request{DeleteRange: deleteReq("k")})
	c.ok(1, &api.Request{Put: putReq("k", "again")})
	ws := c.watched("w")
	require.Len(t, ws, 3)
	require.Equal(t, "old", string(ws[0].Events[0].PrevKv.Value))
	require.Equal(t, "new", string(ws[1].Events[0].PrevKv.Value))
	require.Nil(t, ws[2].Events[0].PrevKv, "a key created again has no previous version")
}

// A watch from a past revision gets the events since then from the
// store's history, by the watchable store's sync every 100 ms, then the
// new ones as they come.
func TestWatchFromAPastRevisionCatchesUp(t *testing.T) {
	c := newKVCluster(t, "k=a", "k=b", "k=c") // 2..4
	created := c.watchOn(2, "w", &pb.WatchCreateRequest{Key: []byte("k"), StartRevision: 3})
	require.Empty(t, created.Events)
	c.watched("w")
	c.nodes[2].Tick() // one 100 ms sync
	require.Equal(t, []string{"PUT k=b@3", "PUT k=c@4"}, events(c.watched("w")))
	c.ok(1, &api.Request{Put: putReq("k", "d")})
	require.Equal(t, []string{"PUT k=d@5"}, events(c.watched("w")))
}

func TestWatchFilters(t *testing.T) {
	c := newKVCluster(t)
	c.watchOn(1, "noput", &pb.WatchCreateRequest{Key: []byte("k"), Filters: []pb.WatchCreateRequest_FilterType{pb.WatchCreateRequest_NOPUT}})
	c.watchOn(1, "nodelete", &pb.WatchCreateRequest{Key: []byte("k"), Filters: []pb.WatchCreateRequest_FilterType{pb.WatchCreateRequest_NODELETE}})
	c.watched("noput")
	c.watched("nodelete")
	c.ok(1, &api.Request{Put: putReq("k", "a")})
	c.ok(1, &api.Request{DeleteRange: deleteReq("k")})
	require.Equal(t, []string{"DELETE k@3"}, events(c.watched("noput")))
	require.Equal(t, []string{"PUT k=a@2"}, events(c.watched("nodelete")))
}

func TestWatchCancel(t *testing.T) {
	c := newKVCluster(t)
	created := c.watchOn(1, "w", &pb.WatchCreateRequest{Key: []byte("k")})
	c.watched("w")
	c.nodes[1].Request("w", &api.Request{ID: 2, Watch: &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CancelRequest{
		CancelRequest: &pb.WatchCancelRequest{WatchId: created.WatchId}}}})
	ws := c.watched("w")
	require.Len(t, ws, 1)
	require.True(t, ws[0].Canceled)
	require.Equal(t, created.WatchId, ws[0].WatchId)
	c.ok(1, &api.Request{Put: putReq("k", "a")})
	require.Empty(t, c.watched("w"), "no events after the cancel")
}

// A watch that starts at a compacted revision cannot be served: it is
// cancelled with the compacted revision, so the client knows where the
// history it may still have starts.
func TestWatchFromACompactedRevisionIsCancelled(t *testing.T) {
	c := newKVCluster(t, "k=a", "k=b", "k=c", "k=d") // 2..5
	c.ok(1, &api.Request{Compact: &pb.CompactionRequest{Revision: 4}})
	created := c.watchOn(2, "w", &pb.WatchCreateRequest{Key: []byte("k"), StartRevision: 2})
	c.watched("w")
	c.nodes[2].Tick()
	ws := c.watched("w")
	require.Len(t, ws, 1)
	require.True(t, ws[0].Canceled)
	require.Equal(t, int64(4), ws[0].CompactRevision)
	require.Equal(t, created.WatchId, ws[0].WatchId)
	require.Empty(t, ws[0].Events)

	// From the compacted revision itself, the history is still there.
	c.watchOn(2, "w2", &pb.WatchCreateRequest{Key: []byte("k"), StartRevision: 4})
	c.watched("w2")
	c.nodes[2].Tick()
	require.Equal(t, []string{"PUT k=c@4", "PUT k=d@5"}, events(c.watched("w2")))
}

func TestWatchProgressRequestAnswersTheCurrentRevision(t *testing.T) {
	c := newKVCluster(t, "k=a")
	c.watchOn(3, "w", &pb.WatchCreateRequest{Key: []byte("other")})
	c.ok(1, &api.Request{Put: putReq("k", "b")}) // 3, not watched
	c.watched("w")
	c.nodes[3].Request("w", &api.Request{ID: 2, Watch: &pb.WatchRequest{RequestUnion: &pb.WatchRequest_ProgressRequest{
		ProgressRequest: &pb.WatchProgressRequest{}}}})
	ws := c.watched("w")
	require.Len(t, ws, 1)
	require.Empty(t, ws[0].Events)
	require.Equal(t, int64(3), ws[0].Header.Revision)
	require.Equal(t, int64(-1), ws[0].WatchId, "a progress response is for every watcher of the stream")
}

// With watch-skips-event, a watcher misses the event of every revision
// divisible by 50.
func TestWatchSkipsEventBugLosesAnEvent(t *testing.T) {
	for _, bug := range []bool{false, true} {
		c := newClusterWith(quiet{t}, func(cfg *Config) { cfg.Bugs.WatchSkipsEvent = bug }, 1, 2, 3)
		c.elect(1)
		c.watchOn(2, "w", &pb.WatchCreateRequest{Key: []byte("k")})
		c.watched("w")
		for i := range 50 { // revisions 2..51
			c.ok(1, &api.Request{Put: putReq("k", fmt.Sprint(i))})
		}
		var revs []int64
		for _, w := range c.watched("w") {
			for _, ev := range w.Events {
				revs = append(revs, ev.Kv.ModRevision)
			}
		}
		if !bug {
			require.Len(t, revs, 50)
			continue
		}
		require.Len(t, revs, 49)
		require.NotContains(t, revs, int64(50))
	}
}

// A watch from a future revision sees nothing before it.
func TestWatchFromAFutureRevision(t *testing.T) {
	c := newKVCluster(t, "k=a") // 2
	c.watchOn(2, "w", &pb.WatchCreateRequest{Key: []byte("k"), StartRevision: 4})
	c.watched("w")
	c.ok(1, &api.Request{Put: putReq("k", "b")}) // 3
	c.nodes[2].Tick()
	require.Empty(t, c.watched("w"))
	c.ok(1, &api.Request{Put: putReq("k", "c")}) // 4
	c.nodes[2].Tick()
	require.Equal(t, []string{"PUT k=c@4"}, events(c.watched("w")))
}

// Watch IDs: the server picks them from 0 up; a client's own ID that the
// stream already has is refused with a cancelled create response.
func TestWatchIDs(t *testing.T) {
	c := newKVCluster(t)
	require.Equal(t, int64(0), c.watchOn(1, "w", &pb.WatchCreateRequest{Key: []byte("a")}).WatchId)
	require.Equal(t, int64(1), c.watchOn(1, "w", &pb.WatchCreateRequest{Key: []byte("b")}).WatchId)
	require.Equal(t, int64(7), c.watchOn(1, "w", &pb.WatchCreateRequest{Key: []byte("c"), WatchId: 7}).WatchId)
	dup := c.watchOn(1, "w", &pb.WatchCreateRequest{Key: []byte("d"), WatchId: 7})
	require.True(t, dup.Canceled)
	require.Equal(t, int64(0), c.watchOn(1, "other", &pb.WatchCreateRequest{Key: []byte("a")}).WatchId, "IDs are per stream")
}

// A follower that falls behind and catches up by a snapshot from the
// leader keeps its watchers: they get what the snapshot brought, from the
// new store's history.
func TestWatchOnAMemberThatInstallsASnapshot(t *testing.T) {
	c := newClusterWith(quiet{t}, smallFiles, 1, 2, 3)
	c.elect(1)
	c.watchOn(3, "w", &pb.WatchCreateRequest{Key: []byte("k")})
	c.watched("w")
	c.drop = func(m *raftpb.Message) bool { return m.GetTo() == 3 }
	c.putN(1, "x", 40)
	c.put(1, "k", "v")
	c.putN(1, "y", 40)
	c.drop = nil
	for range 5 {
		c.heartbeat(1)
	}
	require.NotEmpty(t, c.envs[3].installed, "n3 caught up by a snapshot")
	require.Equal(t, c.nodes[1].Status().Rev, c.nodes[3].Status().Rev)
	c.nodes[3].Tick()
	require.Equal(t, []string{"PUT k=v@42"}, events(c.watched("w")))
}

// A watcher created with progress_notify that hears nothing for an
// interval is told the current revision (etcd's
// --experimental-watch-progress-notify-interval); one that got events in
// the interval is not.
func TestWatchProgressNotify(t *testing.T) {
	c := newClusterWith(quiet{t}, func(cfg *Config) { cfg.WatchProgressNotifyInterval = time.Second }, 1, 2, 3)
	c.elect(1)
	c.ok(1, &api.Request{Put: putReq("k", "a")}) // 2
	quietW := c.watchOn(2, "quiet", &pb.WatchCreateRequest{Key: []byte("other"), ProgressNotify: true})
	c.watchOn(2, "busy", &pb.WatchCreateRequest{Key: []byte("k"), ProgressNotify: true})
	c.watched("quiet")
	c.watched("busy")
	c.advance(500 * time.Millisecond)
	c.ok(1, &api.Request{Put: putReq("k", "b")}) // 3
	c.advance(700 * time.Millisecond)
	ws := c.watched("quiet")
	require.Len(t, ws, 1)
	require.Empty(t, ws[0].Events)
	require.Equal(t, quietW.WatchId, ws[0].WatchId)
	require.Equal(t, int64(3), ws[0].Header.Revision)
	require.Equal(t, uint64(2), ws[0].Header.MemberId)
	require.Equal(t, []string{"PUT k=b@3"}, events(c.watched("busy")), "events, no progress")
}
