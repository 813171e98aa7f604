package node

import (
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdlab/etcdlab/node/api"
	"github.com/etcdlab/etcdlab/node/watch"
)

// The Watch service. Each client address holds one watch stream on this
// member, as a clientv3 client multiplexes its watchers over one gRPC
// stream; the hub (node/watch) is etcd's watchable store and watch server.
// Watchers hear of every applied write at once (apply.changed); the ones
// that start in the past catch up from the store's history every 100 ms.

// liveStore is the store the hub reads: whichever one the member holds
// now, since a snapshot from the leader or a restart replaces it.
type liveStore struct{ n *Node }

func (l liveStore) Rev() int64                                   { return l.n.store.Rev() }
func (l liveStore) CompactRev() int64                            { return l.n.store.CompactRev() }
func (l liveStore) Events(start, end int64) []*mvccpb.Event      { return l.n.store.Events(start, end) }
func (l liveStore) KeyAt(key []byte, rev int64) *mvccpb.KeyValue { return l.n.store.KeyAt(key, rev) }

func newWatchHub(n *Node) *watch.Hub {
	return watch.New(liveStore{n}, watch.Config{
		ProgressNotifyInterval: n.cfg.WatchProgressNotifyInterval,
		MaxRequestBytes:        uint(n.cfg.MaxRequestBytes),
		SkipEvent:              n.cfg.Bugs.WatchSkipsEvent,
	})
}

// handleWatch takes one message of a client's watch stream.
func (n *Node) handleWatch(from string, req *api.Request) {
	id := watch.StreamID(from)
	if !n.watchStreams[id] {
		n.watchStreams[id] = true
		n.watch.OpenStream(id, n.env.Now())
	}
	n.sendWatch(req.ID, n.watch.Request(id, req.Watch))
}

// sendWatch sends the hub's responses, each with this member's header
// around the revision the hub gave it.
func (n *Node) sendWatch(reqID uint64, outs []watch.Output) {
	for _, o := range outs {
		h := n.header()
		h.Revision = o.Response.GetHeader().GetRevision()
		o.Response.Header = h
		n.env.Reply(string(o.Stream), &api.Response{ID: reqID, Header: h, Watch: o.Response})
	}
}

// watchLoop runs the hub's timers on the member's ticks: the sync of
// unsynced watchers (etcd's syncWatchersLoop, every 100 ms) and the
// progress notifications.
func (n *Node) watchLoop() {
	if n.ticks%max(uint64(watch.SyncInterval/n.cfg.HeartbeatInterval), 1) == 0 {
		n.sendWatch(0, n.watch.SyncWatchers())
	}
	n.sendWatch(0, n.watch.ProgressNotify(n.env.Now()))
}
