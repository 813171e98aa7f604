package watch

import (
	"bytes"
	"maps"
	"slices"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/protobuf/proto"
)

// stream is one client's watch stream: etcd's mvcc.watchStream (the ids)
// and v3rpc.serverWatchStream (the per-id progress flags) in one.
type stream struct {
	id StreamID
	// nextID is the id pre-allocated for the next auto-assigned watcher.
	nextID int64
	// watchers holds every watcher the client has not cancelled,
	// compacted ones included.
	watchers map[int64]*watcher
	// progress holds, for each watcher created with progress_notify,
	// whether the next tick should notify it: an event sent to it clears
	// the flag, and the tick sets it again (etcd elides one tick).
	progress map[int64]bool
	// nextProgress is the virtual time of the stream's next progress tick.
	nextProgress time.Duration
}

func newStream(id StreamID, nextProgress time.Duration) *stream {
	return &stream{
		id:           id,
		watchers:     map[int64]*watcher{},
		progress:     map[int64]bool{},
		nextProgress: nextProgress,
	}
}

func (st *stream) sortedWatchers() []*watcher {
	ws := make([]*watcher, 0, len(st.watchers))
	for _, id := range slices.Sorted(maps.Keys(st.watchers)) {
		ws = append(ws, st.watchers[id])
	}
	return ws
}

// create is the create branch of etcd's recvLoop and watchStream.Watch:
// one response, Created, and Canceled with a reason if the watch failed.
func (h *Hub) create(st *stream, creq *pb.WatchCreateRequest) {
	key := bytes.Clone(creq.GetKey())
	if len(key) == 0 {
		// \x00 is the smallest key
		key = []byte{0}
	}
	if creq.GetStartRevision() < 0 {
		h.emit(st, &pb.WatchResponse{
			Header:       header(h.history.Rev()),
			WatchId:      InvalidWatchID,
			Canceled:     true,
			Created:      true,
			CancelReason: rpctypes.ErrCompacted.Error(),
		})
		return
	}
	// Auth is not modelled: every watch is permitted.

	var end []byte
	switch re := creq.GetRangeEnd(); {
	case len(re) == 0:
		// nil: a single key
	case len(re) == 1 && re[0] == 0:
		// "\x00" asks for every key >= key
		end = []byte{}
	default:
		end = bytes.Clone(re)
	}

	id, err := h.watch(st, creq, key, end)
	if err != nil {
		id = InvalidWatchID
	} else if creq.GetProgressNotify() {
		st.progress[id] = true
	}
	wr := &pb.WatchResponse{
		Header:   header(h.history.Rev()),
		WatchId:  id,
		Created:  true,
		Canceled: err != nil,
	}
	if err != nil {
		wr.CancelReason = err.Error()
	}
	h.emit(st, wr)
}

// watch is etcd's watchStream.Watch and watchableStore.watch: the id is
// checked or assigned, and the watcher joins the synced group if it
// starts after the current revision, else the unsynced group, where
// SyncWatchers will catch it up.
func (h *Hub) watch(st *stream, creq *pb.WatchCreateRequest, key, end []byte) (int64, error) {
	if len(end) != 0 && bytes.Compare(key, end) != -1 {
		return InvalidWatchID, ErrEmptyWatcherRange
	}
	id := creq.GetWatchId()
	if id == AutoWatchID {
		for st.watchers[st.nextID] != nil {
			st.nextID++
		}
		id = st.nextID
		st.nextID++
	} else if st.watchers[id] != nil {
		return InvalidWatchID, ErrWatcherDuplicateID
	}

	startRev := creq.GetStartRevision()
	w := &watcher{
		seq:      h.nextSeq,
		stream:   st,
		id:       id,
		key:      key,
		end:      end,
		startRev: startRev,
		minRev:   startRev,
		prevKV:   creq.GetPrevKv(),
		fragment: creq.GetFragment(),
	}
	h.nextSeq++
	for _, f := range creq.GetFilters() {
		switch f {
		case pb.WatchCreateRequest_NOPUT:
			w.noPut = true
		case pb.WatchCreateRequest_NODELETE:
			w.noDelete = true
		}
	}
	rev := h.history.Rev()
	if startRev > rev || startRev == 0 {
		w.synced = true
		w.minRev = max(rev+1, startRev)
	}
	h.watchers = append(h.watchers, w)
	st.watchers[id] = w
	return id, nil
}

// cancel is the cancel branch of etcd's recvLoop: an id the stream does
// not have gets no answer at all.
func (h *Hub) cancel(st *stream, id int64) {
	w := st.watchers[id]
	if w == nil {
		return
	}
	h.removeWatcher(w)
	delete(st.watchers, id)
	h.emit(st, &pb.WatchResponse{
		Header:   header(h.history.Rev()),
		WatchId:  id,
		Canceled: true,
	})
	delete(st.progress, id)
}

// progressAll answers a client's progress request (RequestProgressAll).
func (h *Hub) progressAll(st *stream) {
	h.progressIfSync(st, st.sortedWatchers(), InvalidWatchID)
}

// progressIfSync sends one response with no events at the current
// revision, only if every given watcher is synced and has reached its
// start revision: a progress notification must never claim a revision a
// watcher has not had the events of. A stream with no watchers gets
// nothing, and neither does one holding a compacted watcher it has not
// cancelled yet: both as in etcd.
func (h *Hub) progressIfSync(st *stream, ws []*watcher, watchID int64) {
	rev := h.history.Rev()
	for _, w := range ws {
		if !w.synced {
			return
		}
		if rev < w.startRev {
			return
		}
	}
	if len(ws) == 0 {
		return
	}
	h.deliver(st, response{watchID: watchID, revision: rev})
}

// deliver is etcd's sendLoop for one response from the store: prev_kv is
// looked up, the response built, the progress flag cleared by events, and
// the response split in fragments if the watcher asked for them.
func (h *Hub) deliver(st *stream, wr response) {
	w := st.watchers[wr.watchID]
	if w != nil && w.prevKV {
		for _, ev := range wr.events {
			if !isCreateEvent(ev) {
				ev.PrevKv = h.history.KeyAt(ev.GetKv().GetKey(), ev.GetKv().GetModRevision()-1)
			}
		}
	}
	resp := &pb.WatchResponse{
		Header:          header(wr.revision),
		WatchId:         wr.watchID,
		Events:          wr.events,
		CompactRevision: wr.compactRevision,
		Canceled:        wr.compactRevision != 0,
	}
	if w != nil && w.fragment {
		for _, frag := range fragments(resp, h.cfg.MaxRequestBytes+grpcOverheadBytes) {
			h.emit(st, frag)
		}
	} else {
		h.emit(st, resp)
	}
	if len(wr.events) > 0 && st.progress[wr.watchID] {
		st.progress[wr.watchID] = false
	}
}

func (h *Hub) emit(st *stream, resp *pb.WatchResponse) {
	h.out = append(h.out, Output{Stream: st.id, Response: resp})
}

// isCreateEvent is etcd's: a put that created the key has no previous
// version to look up.
func isCreateEvent(ev *mvccpb.Event) bool {
	return ev.GetType() == mvccpb.Event_PUT && ev.GetKv().GetCreateRevision() == ev.GetKv().GetModRevision()
}

// fragments is etcd's sendFragments: a response of at least two events
// whose encoding reaches maxRequestBytes is split into responses marked
// Fragment, all but the last, each holding as many events as fit (and at
// least one).
func fragments(wr *pb.WatchResponse, maxRequestBytes uint) []*pb.WatchResponse {
	if uint(proto.Size(wr)) < maxRequestBytes || len(wr.Events) < 2 {
		return []*pb.WatchResponse{wr}
	}
	var out []*pb.WatchResponse
	idx := 0
	for {
		cur := &pb.WatchResponse{
			Header:          proto.CloneOf(wr.Header),
			WatchId:         wr.WatchId,
			Created:         wr.Created,
			Canceled:        wr.Canceled,
			CompactRevision: wr.CompactRevision,
			CancelReason:    wr.CancelReason,
			Fragment:        true,
			Events:          make([]*mvccpb.Event, 0),
		}
		for _, ev := range wr.Events[idx:] {
			cur.Events = append(cur.Events, ev)
			if len(cur.Events) > 1 && uint(proto.Size(cur)) >= maxRequestBytes {
				cur.Events = cur.Events[:len(cur.Events)-1]
				break
			}
			idx++
		}
		if idx == len(wr.Events) {
			cur.Fragment = false
		}
		out = append(out, cur)
		if !cur.Fragment {
			return out
		}
	}
}
