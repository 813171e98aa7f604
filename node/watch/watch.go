// Package watch is etcd v3.7's watch machinery, sans-IO: the watchable
// store's watcher groups (server/storage/mvcc/watchable_store.go,
// watcher.go, watcher_group.go) and what the gRPC watch server adds on top
// of them (server/etcdserver/api/v3rpc/watch.go): prev_kv, filters,
// fragments, progress notifications, cancel reasons.
//
// A Hub holds every watch stream of one member. Its inputs are method
// calls: a stream's requests, each applied write txn's events (Notify),
// the 100 ms resync of slow watchers (SyncWatchers), the progress ticker
// (ProgressNotify). Its outputs are the responses each call returns, in
// the order etcd would send them on each stream. The member fills in each
// response header's member id, cluster id and raft term; the hub sets the
// header's revision where etcd does.
//
// Where etcd runs goroutines and channels, the hub runs one step at a time:
// a send never blocks (the member's output queue is unbounded), so etcd's
// "victim" watchers, whose channel was full, never arise here.
package watch

import (
	"errors"
	"maps"
	"slices"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// History is what the hub reads from the member's store. The store
// implements it; the hub never writes.
type History interface {
	// Rev is the store's current revision.
	Rev() int64
	// CompactRev is the compacted revision, -1 if the store was never
	// compacted.
	CompactRev() int64
	// Events returns the events whose main revision is in
	// [startRev, endRev), in revision order. The hub calls it with
	// startRev >= CompactRev(), as etcd's syncWatchers reads its backend
	// from the compacted revision itself: a watcher whose next revision is
	// the compacted one is not cancelled, and compaction keeps every
	// revision at the compaction point (tombstones included).
	Events(startRev, endRev int64) []*mvccpb.Event
	// KeyAt returns the key's version at rev, nil if there was none (or it
	// was compacted). prev_kv is KeyAt(key, event's ModRevision-1).
	KeyAt(key []byte, rev int64) *mvccpb.KeyValue
}

// Config holds the watch settings a member passes on from its flags.
type Config struct {
	// ProgressNotifyInterval is --experimental-watch-progress-notify-interval:
	// how often a watcher created with progress_notify is told the
	// current revision when no event came for it. Zero means etcd's
	// default, DefaultProgressNotifyInterval; etcd raises a shorter one
	// than 100 ms to 100 ms.
	ProgressNotifyInterval time.Duration
	// MaxRequestBytes is --max-request-bytes. A watcher created with
	// fragment splits a response larger than this plus gRPC's overhead
	// allowance, as etcd does. Zero means etcd's default, 1.5 MiB.
	MaxRequestBytes uint
	// SkipEvent is a deliberate bug, the lab's "watch-skips-event": at
	// every revision that is a multiple of 50, each synced watcher that
	// would receive that revision's events silently loses the first of
	// them. The watch checker must catch it. Off in every honest run.
	SkipEvent bool
}

// StreamID names one client's watch stream; the member chooses it (a
// gRPC stream is one per client connection and Watch call).
type StreamID string

// Output is one response to send on a stream.
type Output struct {
	Stream   StreamID
	Response *pb.WatchResponse
}

// etcd's constants, under etcd's names.
const (
	// AutoWatchID asks the server to choose the watch id
	// (clientv3.AutoWatchID).
	AutoWatchID int64 = 0
	// InvalidWatchID answers a create that failed, and a progress
	// response on behalf of every watcher of a stream
	// (clientv3.InvalidWatchID).
	InvalidWatchID int64 = -1

	// SyncInterval is watchResyncPeriod: how often the member calls
	// SyncWatchers (etcd's syncWatchersLoop).
	SyncInterval = 100 * time.Millisecond
	// DefaultProgressNotifyInterval is etcd's progressReportInterval.
	DefaultProgressNotifyInterval = 10 * time.Minute
	// minWatchProgressInterval is the shortest interval etcd accepts.
	minWatchProgressInterval = 100 * time.Millisecond
	// maxWatchersPerSync bounds the unsynced watchers one sync moves.
	maxWatchersPerSync = 512
	// watchBatchMaxRevs bounds the revisions one response to an unsynced
	// watcher carries; the watcher stays unsynced for the rest.
	watchBatchMaxRevs = 1000
	// defaultMaxRequestBytes is etcd's --max-request-bytes default.
	defaultMaxRequestBytes = 1.5 * 1024 * 1024
	// grpcOverheadBytes is what etcd adds to --max-request-bytes for gRPC.
	grpcOverheadBytes = 512 * 1024
)

// etcd's mvcc errors; a failed create carries the text as its cancel
// reason.
var (
	ErrWatcherNotExist    = errors.New("mvcc: watcher does not exist")
	ErrEmptyWatcherRange  = errors.New("mvcc: watcher range is empty")
	ErrWatcherDuplicateID = errors.New("mvcc: duplicate watch ID provided on the WatchStream")
)

// Hub is the watchable store and the watch server of one member.
type Hub struct {
	history History
	cfg     Config

	streams map[StreamID]*stream
	// order holds the open streams in the order they opened, so every
	// pass over streams has one order.
	order []*stream

	// watchers holds every watcher in the synced or unsynced group, in
	// creation order. etcd keeps the groups as maps and interval trees
	// and walks them in Go's random map order; one slice walked in
	// creation order gives each of etcd's possible orders one fixed pick.
	watchers []*watcher
	nextSeq  uint64

	// out collects what the current call sends.
	out []Output
}

// New returns a hub with no streams, reading history from h.
func New(h History, cfg Config) *Hub {
	if cfg.ProgressNotifyInterval == 0 {
		cfg.ProgressNotifyInterval = DefaultProgressNotifyInterval
	}
	if cfg.ProgressNotifyInterval < minWatchProgressInterval {
		cfg.ProgressNotifyInterval = minWatchProgressInterval
	}
	if cfg.MaxRequestBytes == 0 {
		cfg.MaxRequestBytes = defaultMaxRequestBytes
	}
	return &Hub{history: h, cfg: cfg, streams: map[StreamID]*stream{}}
}

// OpenStream opens a watch stream at virtual time now, which starts its
// progress ticker. etcd adds up to a tenth of the interval of random
// jitter to each stream's ticker; the hub has no random stream, so its
// tickers run at the interval exactly. Opening an id that is open is the
// member's bug.
func (h *Hub) OpenStream(id StreamID, now time.Duration) {
	if h.streams[id] != nil {
		panic("watch: stream " + string(id) + " is already open")
	}
	st := newStream(id, now+h.cfg.ProgressNotifyInterval)
	h.streams[id] = st
	h.order = append(h.order, st)
}

// CloseStream drops the stream and all its watchers, as etcd does when
// the client's connection breaks or the member stops. Nothing is sent.
func (h *Hub) CloseStream(id StreamID) {
	st := h.streams[id]
	if st == nil {
		return
	}
	for _, w := range st.sortedWatchers() {
		h.removeWatcher(w)
	}
	delete(h.streams, id)
	h.order = slices.DeleteFunc(h.order, func(s *stream) bool { return s == st })
}

// Request handles one WatchRequest from the stream's client and returns
// what etcd sends back at once. A request on a stream that is not open
// (it raced the close) is dropped.
func (h *Hub) Request(id StreamID, req *pb.WatchRequest) []Output {
	st := h.streams[id]
	if st == nil {
		return nil
	}
	switch {
	case req.GetCreateRequest() != nil:
		h.create(st, req.GetCreateRequest())
	case req.GetCancelRequest() != nil:
		h.cancel(st, req.GetCancelRequest().GetWatchId())
	case req.GetProgressRequest() != nil:
		h.progressAll(st)
	default:
		// etcd logs an unknown request and keeps the stream open.
	}
	return h.flush()
}

// Notify hands the synced watchers the events of one applied write txn,
// all at revision rev: one response per watcher, never split. The member
// calls it right after the store has applied the txn, before any other
// call into the hub, as etcd notifies inside the txn's End.
func (h *Hub) Notify(rev int64, evs []*mvccpb.Event) []Output {
	for _, ev := range evs {
		if ev.GetKv().GetModRevision() != rev {
			panic("watch: unexpected multiple revisions in watch notification")
		}
	}
	skip := h.cfg.SkipEvent && rev%50 == 0
	for _, w := range h.watchers {
		if !w.synced {
			continue
		}
		var eb eventBatch
		for _, ev := range evs {
			// A watcher waiting for a future revision has minRev past
			// this one (etcd: "don't double notify").
			if w.matches(ev) && rev >= w.minRev {
				eb.add(copyEvent(ev))
			}
		}
		if len(eb.evs) == 0 {
			continue
		}
		if skip {
			// The deliberate bug (Config.SkipEvent): the first event is
			// lost, and with it the response if it was the only one.
			eb.evs = eb.evs[1:]
		}
		if len(eb.evs) > 0 {
			h.send(w, response{watchID: w.id, events: eb.evs, revision: rev})
		}
		w.minRev = rev + 1
	}
	return h.flush()
}

// SyncWatchers is one pass of etcd's syncWatchersLoop, which the member
// runs every SyncInterval: up to maxWatchersPerSync unsynced watchers are
// cancelled if compacted, or sent the events they missed, up to
// watchBatchMaxRevs revisions each, and made synced once caught up.
//
// etcd runs the next pass sooner when more watchers wait than one pass
// takes; here the member's 100 ms tick is the only clock.
func (h *Hub) SyncWatchers() []Output {
	var chosen []*watcher
	for _, w := range h.watchers {
		if !w.synced && len(chosen) < maxWatchersPerSync {
			chosen = append(chosen, w)
		}
	}
	if len(chosen) == 0 {
		return nil
	}
	curRev, compactRev := h.history.Rev(), h.history.CompactRev()

	// chooseAll: cancel compacted watchers, find the oldest revision the
	// rest need.
	minRev := int64(-1)
	live := chosen[:0]
	for _, w := range chosen {
		if w.minRev > curRev {
			// A watcher moved back to unsynced by Restore may wait for a
			// revision the restored store has not reached.
			if !w.restore {
				panic("watch: watcher minimum revision exceeds current revision")
			}
			w.restore = false
		}
		if w.minRev < compactRev {
			// With 512 or more unsynced watchers etcd picks them into a
			// copy of the group and removes a compacted one from the copy
			// only, so it is sent this response again at every sync until
			// the client cancels it. Here it is sent once.
			h.send(w, response{watchID: w.id, compactRevision: compactRev})
			w.compacted = true
			h.removeWatcher(w)
			continue
		}
		if minRev == -1 || w.minRev < minRev {
			minRev = w.minRev
		}
		live = append(live, w)
	}
	var evs []*mvccpb.Event
	if len(live) > 0 && minRev <= curRev {
		evs = h.history.Events(minRev, curRev+1)
	}

	// newWatcherBatch, before any minRev moves.
	batches := make([]eventBatch, len(live))
	for _, ev := range evs {
		for i, w := range live {
			if w.matches(ev) && ev.GetKv().GetModRevision() >= w.minRev {
				batches[i].add(copyEvent(ev))
			}
		}
	}

	for i, w := range live {
		w.minRev = max(curRev+1, w.minRev)
		eb := batches[i]
		if len(eb.evs) == 0 {
			w.synced = true
			continue
		}
		if eb.moreRev != 0 {
			w.minRev = eb.moreRev
		}
		// etcd sets the response revision to the current revision even
		// when the batch stops short of it.
		h.send(w, response{watchID: w.id, events: eb.evs, revision: curRev})
		if eb.moreRev == 0 {
			w.synced = true
		}
	}
	return h.flush()
}

// ProgressNotify fires the progress ticker of every stream whose tick is
// due at virtual time now: each watcher created with progress_notify that
// got no event since the last tick is told the current revision, if it is
// synced (etcd's sendLoop on progressTicker).
func (h *Hub) ProgressNotify(now time.Duration) []Output {
	for _, st := range h.order {
		if now < st.nextProgress {
			continue
		}
		// A ticker keeps its phase and drops the ticks nobody took.
		for st.nextProgress <= now {
			st.nextProgress += h.cfg.ProgressNotifyInterval
		}
		for _, id := range slices.Sorted(maps.Keys(st.progress)) {
			if st.progress[id] {
				if w := st.watchers[id]; w != nil {
					h.progressIfSync(st, []*watcher{w}, w.id)
				}
			}
			st.progress[id] = true
		}
	}
	return h.flush()
}

// Restore moves every synced watcher back to unsynced, as etcd does when
// the member opens a backend received from the leader: the next
// SyncWatchers sends each what the new store holds past its revision.
func (h *Hub) Restore() {
	for _, w := range h.watchers {
		if w.synced {
			w.synced = false
			w.restore = true
		}
	}
}

func (h *Hub) flush() []Output {
	out := h.out
	h.out = nil
	return out
}

// removeWatcher takes a watcher out of the synced or unsynced group.
func (h *Hub) removeWatcher(w *watcher) {
	w.synced = false
	h.watchers = slices.DeleteFunc(h.watchers, func(x *watcher) bool { return x == w })
}

func header(rev int64) *pb.ResponseHeader {
	return &pb.ResponseHeader{Revision: rev}
}
