package watch

import (
	"bytes"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// watcher is one watch: a key or a range on one stream (etcd's
// mvcc.watcher, with the per-id options the gRPC server keeps in maps).
type watcher struct {
	// seq is the creation order, the hub's order for everything.
	seq    uint64
	stream *stream
	id     int64

	// key is the watched key; end, if not nil, makes it the range
	// [key, end), and an empty end means every key from key on.
	key, end []byte

	// startRev is the revision the client asked to start from; minRev is
	// the lowest revision the watcher still accepts events at.
	startRev, minRev int64

	// synced is which group the watcher is in, while it is in one.
	synced bool
	// compacted is set when a compaction cancelled the watcher: it has
	// left the groups, but its id stays taken on its stream until the
	// client cancels it, as in etcd.
	compacted bool
	// restore marks a watcher moved from synced to unsynced by Restore:
	// it may wait for a revision past the restored store's.
	restore bool

	// filters (etcd's FilterFunc list, from WatchCreateRequest.filters).
	noPut, noDelete bool
	// prevKV and fragment are the create request's options.
	prevKV, fragment bool
}

// matches is etcd's watcherGroup lookup for one key: the exact key for a
// single-key watcher, [key, end) for a range, [key, ∞) for an empty end.
// (etcd keeps ranges in an interval tree; a scan gives the same answer.)
func (w *watcher) matches(ev *mvccpb.Event) bool {
	k := ev.GetKv().GetKey()
	if w.end == nil {
		return bytes.Equal(k, w.key)
	}
	return bytes.Compare(k, w.key) >= 0 && (len(w.end) == 0 || bytes.Compare(k, w.end) < 0)
}

// filtered reports whether one of the watcher's filters drops ev.
func (w *watcher) filtered(ev *mvccpb.Event) bool {
	return (w.noPut && ev.GetType() == mvccpb.Event_PUT) ||
		(w.noDelete && ev.GetType() == mvccpb.Event_DELETE)
}

// response is etcd's mvcc.WatchResponse, before the gRPC server turns it
// into a pb.WatchResponse.
type response struct {
	watchID         int64
	events          []*mvccpb.Event
	revision        int64
	compactRevision int64
}

// send is etcd's watcher.send: filters apply, and a response whose events
// were all filtered out is not sent. A response that had no events to
// begin with (a progress notification, a compaction) always goes.
func (h *Hub) send(w *watcher, wr response) {
	progressEvent := len(wr.events) == 0
	if w.noPut || w.noDelete {
		kept := make([]*mvccpb.Event, 0, len(wr.events))
		for _, ev := range wr.events {
			if !w.filtered(ev) {
				kept = append(kept, ev)
			}
		}
		wr.events = kept
	}
	if !progressEvent && len(wr.events) == 0 {
		return
	}
	for _, ev := range wr.events {
		if w.startRev > 0 && ev.GetKv().GetModRevision() < w.startRev {
			panic("watch: event revision is below the watcher's start revision")
		}
	}
	h.deliver(w.stream, wr)
}

// copyEvent gives each watcher its own Event, so prev_kv set for one
// watcher never shows up in another's (etcd's newWatcherBatch copies the
// same way). The KeyValue is shared and never written.
func copyEvent(ev *mvccpb.Event) *mvccpb.Event {
	return &mvccpb.Event{Type: ev.GetType(), Kv: ev.GetKv(), PrevKv: ev.GetPrevKv()}
}

// eventBatch is the events one response carries to one watcher: at most
// watchBatchMaxRevs revisions, and moreRev, the first revision left out.
type eventBatch struct {
	evs     []*mvccpb.Event
	revs    int
	moreRev int64
}

func (eb *eventBatch) add(ev *mvccpb.Event) {
	if eb.revs > watchBatchMaxRevs {
		return
	}
	if len(eb.evs) == 0 {
		eb.revs = 1
		eb.evs = append(eb.evs, ev)
		return
	}
	ebRev := eb.evs[len(eb.evs)-1].GetKv().GetModRevision()
	evRev := ev.GetKv().GetModRevision()
	if evRev > ebRev {
		eb.revs++
		if eb.revs > watchBatchMaxRevs {
			eb.moreRev = evRev
			return
		}
	}
	eb.evs = append(eb.evs, ev)
}
