package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/network"
	"github.com/etcdlab/etcdlab/node/api"
)

// watcher is a clientv3 Watch on the workload's keys (every key from "k"
// on), with prev_kv and progress notifications, as a Kubernetes informer
// or an application cache runs one:
//
//   - it opens its stream on one member, as clientv3 pins a watch stream
//     to the connection it has;
//   - every progressEvery it asks for a progress notification
//     (RequestProgress), which tells it the revision it is current to
//     when no event came;
//   - when its member dies, clientv3 re-creates the watch on another
//     member from the revision after the last one it received, so no
//     event is lost or repeated;
//   - like a Kubernetes informer (ListAndWatch), a new session first lists
//     the keys and watches from the revision after the list's;
//   - a watch cancelled because its start revision was compacted cannot
//     resume: the informer lists again and starts a new session.
type watcher struct {
	c        *Cluster
	id       int
	addr     network.Addr
	next     int    // round-robin cursor into the members
	member   uint64 // where the current watch is, 0 while none
	seq      uint64
	sessions []*checker.WatchSession
	cur      *checker.Watch
	watchID  int64 // the current watch's id on its stream, -1 until created
	// resume is the revision the next watch starts from: the last event
	// or progress revision received + 1 (0: list first).
	resume int64
	// listing is the sequence number of the list in flight, 0 if none.
	listing uint64
}

const (
	progressEvery = 1 * time.Second
	rewatchWait   = 100 * time.Millisecond // clientv3 retries a broken watch stream after a short wait
)

func newWatcher(c *Cluster, id int) *watcher {
	w := &watcher{c: c, id: id, addr: network.Addr(fmt.Sprintf("w%d", id)), next: id - 1, watchID: -1}
	c.net.Attach(w.addr, w.receive)
	c.net.OnRefused(w.addr, func(to network.Addr, _ []byte) { w.lost(to) })
	w.newSession()
	c.sim.After(0, w.watch)
	c.sim.After(progressEvery, w.progress)
	return w
}

func (w *watcher) newSession() {
	w.sessions = append(w.sessions, &checker.WatchSession{Client: w.id})
	w.resume = 0
}

// watch creates the watch on the next live member.
func (w *watcher) watch() {
	if w.c.sim.Now() >= w.c.settings.Duration {
		return
	}
	m := w.pick()
	if m == nil {
		w.c.sim.After(rewatchWait, w.watch)
		return
	}
	if w.resume == 0 {
		w.list(m)
		return
	}
	req := &pb.WatchCreateRequest{Key: []byte("k"), RangeEnd: []byte("l"), StartRevision: w.resume,
		PrevKv: true, ProgressNotify: true}
	s := w.sessions[len(w.sessions)-1]
	s.Watches = append(s.Watches, checker.Watch{Member: m.id, Sent: w.c.sim.Now(), Request: req})
	w.cur, w.member, w.watchID = &s.Watches[len(s.Watches)-1], m.id, -1
	w.send(m.addr, &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: req}})
}

// pick is the next member in turn for the watch.
func (w *watcher) pick() *member { return w.c.nextLive(&w.next) }

// nextLive is the next member in turn from *next that is up and still in
// the cluster (nil if none), moving *next past it: how watchers and lease
// holders pick a member after theirs failed them.
func (c *Cluster) nextLive(next *int) *member {
	ms := c.members
	for i := range ms {
		m := ms[(*next+i)%len(ms)]
		if m.up && !m.removed {
			*next = (*next + i + 1) % len(ms)
			return m
		}
	}
	return nil
}

func (w *watcher) send(to network.Addr, wr *pb.WatchRequest) {
	w.sendRequest(to, &api.Request{Watch: wr})
}

func (w *watcher) sendRequest(to network.Addr, req *api.Request) {
	w.seq++
	req.ID = requestID(watcherIDs, w.id, w.seq)
	w.c.net.Send(w.addr, to, func() string { return fmt.Sprintf("%s #%x", req.Op(), req.ID) }, append([]byte{wireRequest}, req.Marshal()...))
}

// list reads every workload key, linearizably, to learn the revision the
// watch starts after. A list that fails or gets no answer is tried again.
func (w *watcher) list(m *member) {
	w.listing, w.member = w.seq+1, m.id
	w.sendRequest(m.addr, &api.Request{Range: &pb.RangeRequest{Key: []byte("k"), RangeEnd: []byte("l")}})
	id := w.listing
	w.c.sim.After(w.c.settings.ClientTimeout, func() {
		if w.listing == id {
			w.listing, w.member = 0, 0
			w.watch()
		}
	})
}

// progress asks the current watch's member where the stream stands.
func (w *watcher) progress() {
	if w.c.sim.Now() >= w.c.settings.Duration {
		return
	}
	if w.member != 0 && w.watchID >= 0 {
		w.send(nodeAddr(w.member), &pb.WatchRequest{RequestUnion: &pb.WatchRequest_ProgressRequest{ProgressRequest: &pb.WatchProgressRequest{}}})
	}
	w.c.sim.After(progressEvery, w.progress)
}

func (w *watcher) receive(from network.Addr, payload []byte) {
	if len(payload) == 0 || payload[0] != wireResponse || w.member == 0 || from != nodeAddr(w.member) {
		return // a stream the watcher left
	}
	resp, err := api.UnmarshalResponse(payload[1:])
	if err != nil {
		return
	}
	if resp.Range != nil || (resp.Err != nil && w.listing != 0 && resp.ID == requestID(watcherIDs, w.id, w.listing)) {
		w.listed(resp)
		return
	}
	if resp.Watch == nil {
		return
	}
	wr := resp.Watch
	switch {
	case wr.Created && w.watchID < 0 && !wr.Canceled:
		w.watchID = wr.WatchId
	case wr.WatchId != w.watchID && wr.WatchId != -1:
		return // another watch of the stream (a duplicate create's)
	}
	w.cur.Responses = append(w.cur.Responses, checker.WatchResponse{At: w.c.sim.Now(), Response: wr})
	for _, ev := range wr.Events {
		w.resume = ev.Kv.ModRevision + 1
	}
	if len(wr.Events) == 0 && !wr.Created && !wr.Canceled && wr.Header.GetRevision() > 0 {
		w.resume = max(w.resume, wr.Header.GetRevision()+1) // a progress notification
	}
	if wr.Created && w.resume == 0 {
		w.resume = wr.Header.GetRevision() + 1
	}
	if wr.Canceled {
		// Compacted (or refused): this session is over; an informer
		// lists again and watches from now on.
		w.member, w.cur = 0, nil
		w.newSession()
		w.c.sim.After(rewatchWait, w.watch)
	}
}

// listed: the list's revision is where the watch starts after.
func (w *watcher) listed(resp *api.Response) {
	if w.listing == 0 || resp.ID != requestID(watcherIDs, w.id, w.listing) {
		return
	}
	w.listing, w.member = 0, 0
	if resp.Err != nil {
		w.c.sim.After(rewatchWait, w.watch)
		return
	}
	w.resume = resp.Header.GetRevision() + 1
	w.watch()
}

// lost is the watch's member crashing or refusing the stream: clientv3
// re-creates the watch elsewhere from the next revision it needs.
func (w *watcher) lost(member network.Addr) {
	if w.member == 0 || member != nodeAddr(w.member) {
		return
	}
	w.member, w.cur, w.listing = 0, nil, 0
	w.c.sim.After(rewatchWait, w.watch)
}

// watchSessions collects every watcher's sessions for the checker.
func (c *Cluster) watchSessions() []checker.WatchSession {
	var out []checker.WatchSession
	for _, w := range c.watchers {
		for _, s := range w.sessions {
			if len(s.Watches) > 0 {
				out = append(out, *s)
			}
		}
	}
	return out
}

// watchLags measures every event the watchers received against when its
// revision was first applied, for the watch-lag chart.
func watchLags(truth *checker.Truth, sessions []checker.WatchSession) []WatchLag {
	var lags []WatchLag
	for _, s := range sessions {
		for _, w := range s.Watches {
			for _, resp := range w.Responses {
				for _, ev := range resp.Response.GetEvents() {
					rev := ev.GetKv().GetModRevision()
					if at, ok := truth.FirstApplied(rev); ok {
						lags = append(lags, WatchLag{At: resp.At, Watcher: s.Client, Member: w.Member, Rev: rev, Lag: resp.At - at})
					}
				}
			}
		}
	}
	slices.SortStableFunc(lags, func(a, b WatchLag) int { return cmp.Compare(a.At, b.At) })
	return lags
}
