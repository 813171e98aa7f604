package checker

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

// The watch checker holds what watchers received to etcd's watch
// guarantees (etcd.io/docs/v3.5/learning/api_guarantees, "Watch APIs"),
// the way etcd's robustness tests do (tests/robustness/validate/watch.go),
// but against the write history as the members applied it rather than one
// rebuilt from client operations:
//
//   - ordered: events arrive in revision order;
//   - unique: no event arrives twice;
//   - atomic: the events of one revision arrive in one response;
//   - reliable: no event in the watched range is skipped;
//   - resumable: a re-watch from revision R goes on exactly from R;
//   - bookmarkable: a progress notification at R comes only once every
//     event up to R was delivered;
//   - every event is one the store wrote, byte for byte, prev_kv is the
//     key's previous version, and filters are honoured;
//   - a watcher cancelled by compaction needed a compacted revision.

// Truth is the committed write history: every revision's events, as the
// members applied them. Every member reports what it applies (Add); the
// first report of a revision is kept and the others are compared with it,
// which checks for free that members applied the same writes. A member
// restored from a snapshot reports only what it applies after it, and a
// member may apply a revision twice (a crash lost its backend commit):
// both are fine, as long as what it reports agrees.
type Truth struct {
	revs      map[int64]*truthRev
	compacted int64 // the highest compaction any member applied
	conflicts []string
	nConflict int

	// index is built from revs when a check needs it; nil after an Add.
	index *truthIndex
}

// Applied is one write txn as one member applied it: all its events share
// one revision. Events is kept as is (not copied): do not change it.
type Applied struct {
	Member uint64
	At     time.Duration // when the member applied it
	Rev    int64
	// Events: a PUT carries the full KeyValue (create and mod revision,
	// version, lease); a DELETE the key and mod_revision = Rev.
	Events []*mvccpb.Event
	// Lease is set when the txn was a LeaseRevoke: the lease whose keys it
	// deleted. A client's revoke and the leader's expiry propose the same
	// request (etcd's revokeExpiredLeases calls LeaseRevoke), so members
	// cannot tell them apart; the lease checker does, from the clients'
	// revokes. Zero for every other write.
	Lease int64
}

// truthRev is one revision as first reported.
type truthRev struct {
	Applied
	// at is the earliest time any member applied it: the write was
	// committed by then.
	at time.Duration
}

// NewTruth returns an empty history. Revision 1 is etcd's empty store;
// the first write is revision 2.
func NewTruth() *Truth {
	return &Truth{revs: map[int64]*truthRev{}}
}

// maxConflicts bounds the conflicts the Truth keeps word for word.
const maxConflicts = 5

// Add records one member's applied write. A report that disagrees with an
// earlier one for the same revision is kept as a conflict, which the
// watch verdict reports.
func (t *Truth) Add(a Applied) {
	for _, ev := range a.Events {
		if r := ev.GetKv().GetModRevision(); r != a.Rev {
			t.conflict("n%d applied revision %d with an event of key %q at mod_revision %d", a.Member, a.Rev, ev.GetKv().GetKey(), r)
			return
		}
	}
	prev := t.revs[a.Rev]
	if prev == nil {
		t.revs[a.Rev] = &truthRev{Applied: a, at: a.At}
		t.index = nil
		return
	}
	prev.at = min(prev.at, a.At)
	if why := sameWrite(&prev.Applied, &a); why != "" {
		t.conflict("n%d and n%d applied different writes at revision %d: %s", prev.Member, a.Member, a.Rev, why)
	}
}

// sameWrite says how two reports of one revision differ, "" if they agree.
func sameWrite(a, b *Applied) string {
	if a.Lease != b.Lease {
		return fmt.Sprintf("revoke of lease %x, revoke of lease %x", a.Lease, b.Lease)
	}
	if len(a.Events) != len(b.Events) {
		return fmt.Sprintf("%d events, %d events", len(a.Events), len(b.Events))
	}
	for i := range a.Events {
		if !sameEvent(a.Events[i], b.Events[i]) {
			return fmt.Sprintf("%s, %s", describeEvent(a.Events[i]), describeEvent(b.Events[i]))
		}
	}
	return ""
}

// FirstApplied is when the first member applied revision rev: the write
// was committed by then, and a watcher could hear of it no sooner.
func (t *Truth) FirstApplied(rev int64) (time.Duration, bool) {
	r := t.revs[rev]
	if r == nil {
		return 0, false
	}
	return r.at, true
}

// Compacted records that a member applied a compaction at rev. prev_kv
// older than the compaction may be missing, and a watcher may be
// cancelled for needing a revision below it.
func (t *Truth) Compacted(rev int64) { t.compacted = max(t.compacted, rev) }

// Rev is the highest revision any member reported, 1 if none.
func (t *Truth) Rev() int64 { return t.build().lastRev() }

func (t *Truth) conflict(format string, args ...any) {
	t.nConflict++
	if len(t.conflicts) < maxConflicts {
		t.conflicts = append(t.conflicts, fmt.Sprintf(format, args...))
	}
}

// truthIndex is the Truth in revision order, with what the watch and
// lease checks look up: each event's previous version of its key.
type truthIndex struct {
	revs []*indexedRev // ascending
	pos  map[int64]int // revision -> its place in revs
	// missing counts the revisions from 2 up to the last that no member
	// reported.
	missing int64
}

type indexedRev struct {
	*truthRev
	events []truthEvent
	// afterGap: the revision before this one is unknown (no member
	// reported it), so what happened to keys before it is unknown.
	afterGap bool
}

type truthEvent struct {
	ev *mvccpb.Event
	// prev is the key's version before this event, nil if it had none;
	// prevKnown is false when a gap in the Truth hides it.
	prev      *mvccpb.KeyValue
	prevKnown bool
}

// build indexes the revisions reported so far, once per batch of Adds: a
// pass in revision order that follows every key's latest version.
func (t *Truth) build() *truthIndex {
	if t.index != nil {
		return t.index
	}
	revs := make([]int64, 0, len(t.revs))
	for r := range t.revs { //lint:allow maprange sorted below
		revs = append(revs, r)
	}
	slices.Sort(revs)
	ix := &truthIndex{pos: make(map[int64]int, len(revs))}
	latest := map[string]*mvccpb.KeyValue{} // key -> its live version, nil once deleted
	expect := int64(2)
	for _, r := range revs {
		tr := &indexedRev{truthRev: t.revs[r], afterGap: r != expect}
		if tr.afterGap {
			ix.missing += r - expect
			clear(latest) // every key's history before the gap is unknown
		}
		expect = r + 1
		tr.events = make([]truthEvent, len(tr.Events))
		for j, ev := range tr.Events {
			k := string(ev.GetKv().GetKey())
			prev, seen := latest[k]
			// Without a gap so far, a key never seen had no version.
			tr.events[j] = truthEvent{ev: ev, prev: prev, prevKnown: seen || ix.missing == 0}
			if ev.GetType() == mvccpb.Event_DELETE {
				latest[k] = nil
			} else {
				latest[k] = ev.GetKv()
			}
		}
		ix.pos[r] = len(ix.revs)
		ix.revs = append(ix.revs, tr)
	}
	t.index = ix
	return ix
}

func (ix *truthIndex) lastRev() int64 {
	if len(ix.revs) == 0 {
		return 1
	}
	return ix.revs[len(ix.revs)-1].Rev
}

// at returns the revision's place in revs, or the place of the first
// revision above it.
func (ix *truthIndex) at(rev int64) int {
	i, _ := slices.BinarySearchFunc(ix.revs, rev, func(r *indexedRev, rev int64) int { return cmpInt(r.Rev, rev) })
	return i
}

// event finds the event of key at rev; nil, false if rev is unknown.
func (ix *truthIndex) event(rev int64, key []byte) (*truthEvent, bool) {
	i, ok := ix.pos[rev]
	if !ok {
		return nil, false
	}
	evs := ix.revs[i].events
	for j := range evs {
		if bytes.Equal(evs[j].ev.GetKv().GetKey(), key) {
			return &evs[j], true
		}
	}
	return nil, true
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// WatchSession is one logical watcher of one client: its first watch and
// the re-watches that resumed it after its stream broke (the member
// crashed, the connection dropped). A client re-watches from the next
// revision it lacks, as clientv3 does: the last event's revision + 1, or
// a progress notification's + 1; a watch from the current revision (0)
// that got nothing resumes from its created response's revision.
type WatchSession struct {
	Client  int
	Watches []Watch
}

// Watch is one create request and what came back for its watch id.
type Watch struct {
	Member  uint64        // the member the stream went to
	Sent    time.Duration // when the create request was sent
	Request *pb.WatchCreateRequest
	// Responses are those for this watch id, in the order they arrived,
	// fragments as they came: the checker joins them as clientv3 does. A
	// progress response for the whole stream (watch id -1, an answer to
	// RequestProgress) belongs in every watch of the stream.
	Responses []WatchResponse
}

// WatchResponse is one response as the client received it.
type WatchResponse struct {
	At       time.Duration
	Response *pb.WatchResponse
}

// CheckWatch holds every watch session to etcd's watch guarantees against
// the Truth. bugNote, if given, is added to the detail (e.g. which
// deliberate bug the run switched on).
func CheckWatch(truth *Truth, sessions []WatchSession, bugNote ...string) Verdict {
	c := &watchCheck{ix: truth.build(), compacted: truth.compacted, seen: map[string]struct{}{}}
	for i := range sessions {
		c.checkSession(&sessions[i])
	}
	v := Verdict{Name: "watch"}
	var problems []string
	if truth.nConflict > 0 {
		problems = append(problems, truth.conflicts[0])
	}
	problems = append(problems, c.violations...)
	n := truth.nConflict + c.nViolations
	switch {
	case n == 0 && c.events == 0 && c.progress == 0:
		// Nothing received is nothing vouched for: every list or create
		// may have failed.
		v.Detail = "no watcher received anything to check: " + c.summary()
	case n == 0:
		v.OK = true
		v.Detail = c.summary()
	case n == 1:
		v.Detail = problems[0]
	default:
		v.Detail = fmt.Sprintf("%s (and %d more)", problems[0], n-1)
	}
	if len(bugNote) > 0 {
		v.Detail += "; " + strings.Join(bugNote, "; ")
	}
	return v
}

// watchCheck walks the sessions one watch at a time.
type watchCheck struct {
	ix        *truthIndex
	compacted int64

	violations  []string // the first few
	nViolations int

	sessions, rewatches, events, progress, compactions int

	// The watch being checked.
	name  string
	rng   watchRange
	start int64 // the first revision it promises events from
	// lastEv is the revision of the last event received, the revision
	// still open: more of its events may come only in the same response.
	lastEv int64
	seen   map[string]struct{} // keys received at lastEv
	// lastProgress is the highest progress notification's revision.
	lastProgress int64
	// cursor is the next Truth revision whose expected events are not
	// yet accounted for.
	cursor int
}

func (c *watchCheck) violate(format string, args ...any) {
	c.nViolations++
	if len(c.violations) < maxConflicts {
		c.violations = append(c.violations, c.name+": "+fmt.Sprintf(format, args...))
	}
}

func (c *watchCheck) summary() string {
	s := fmt.Sprintf("%s, %s, %s checked against %s",
		thousands(c.sessions, "watcher"), thousands(c.rewatches, "re-watch"), thousands(c.events, "event"), thousands(len(c.ix.revs), "revision"))
	if c.progress > 0 {
		s += "; " + thousands(c.progress, "progress notification")
	}
	if c.compactions > 0 {
		s += "; " + thousands(c.compactions, "compaction cancel")
	}
	if c.ix.missing > 0 {
		s += "; " + thousands(int(c.ix.missing), "revision") + " no member reported"
	}
	return s
}

// checkSession checks each watch of a session, and that each re-watch
// resumes where the session stopped: next is the lowest revision the
// session has not had the events of.
func (c *watchCheck) checkSession(s *WatchSession) {
	c.sessions++
	var next, lastEv int64
	for i := range s.Watches {
		w := &s.Watches[i]
		c.name = fmt.Sprintf("client %d watch %s", s.Client, describeWatch(w.Request))
		if i > 0 {
			c.rewatches++
			c.name += fmt.Sprintf(" (re-watch %d on n%d)", i, w.Member)
		}
		start, end, ok := c.checkWatch(w)
		if !ok {
			continue // the watch never started
		}
		if i > 0 && next > 0 {
			// Not etcd's fault, but it would hide or fake etcd's: the
			// session is only as reliable as the client's resumption.
			switch {
			case start > next:
				c.violate("the client re-watched from revision %d, skipping %d..%d (a client bug, not etcd's)", start, next, start-1)
			case start <= lastEv:
				c.violate("the client re-watched from revision %d, repeating events up to %d (a client bug, not etcd's)", start, lastEv)
			}
		}
		next = max(next, end.next)
		lastEv = max(lastEv, end.lastEv)
	}
}

// watchEnd is where a watch left its session.
type watchEnd struct {
	next   int64 // the lowest revision it did not vouch for
	lastEv int64 // its last event's revision
}

// checkWatch checks one watch. ok is false if it never started (no
// created response, or a failed create).
func (c *watchCheck) checkWatch(w *Watch) (start int64, end watchEnd, ok bool) {
	resps := joinFragments(w.Responses)
	if len(resps) == 0 {
		return 0, end, false
	}
	first := resps[0].Response
	if !first.GetCreated() {
		c.violate("the first response at %v is not the created response", resps[0].At)
		return 0, end, false
	}
	if first.GetCanceled() {
		return 0, end, false // a refused create (a negative or compacted start, an empty range)
	}
	c.rng = newWatchRange(w.Request)
	c.start = w.Request.GetStartRevision()
	if c.start == 0 {
		// etcd starts a watch from the current revision with the next
		// one; the created response carries the current one.
		c.start = first.GetHeader().GetRevision() + 1
	}
	c.lastEv, c.lastProgress = 0, 0
	clear(c.seen)
	c.cursor = c.ix.at(c.start)

	var compactedAt int64
	canceled := false
	for _, r := range resps[1:] {
		resp := r.Response
		switch {
		case canceled:
			c.violate("a response at %v after the watch was cancelled", r.At)
		case resp.GetCreated():
			c.violate("a second created response at %v", r.At)
		case resp.GetCanceled():
			canceled = true
			if cr := resp.GetCompactRevision(); cr != 0 {
				compactedAt = cr
				c.checkCompactCancel(cr, r.At)
			}
		case isProgressNotify(resp):
			c.checkProgress(resp.GetHeader().GetRevision(), r.At)
		default:
			c.checkEvents(resp.GetEvents(), r.At)
		}
	}
	// Whatever the watch vouched for, last event or progress, holds
	// every event up to it; the open revision is closed by it too.
	vouched := max(c.lastEv, c.lastProgress)
	c.settle(vouched+1, func(r int64, k []byte) {
		c.violate("broke Reliable: missed the event at revision %d key %q (the watch had revisions up to %d)", r, k, vouched)
	})
	end = watchEnd{next: max(c.start, c.lastEv+1, c.lastProgress+1, compactedAt), lastEv: c.lastEv}
	return c.start, end, true
}

// isProgressNotify is clientv3's WatchResponse.IsProgressNotify.
func isProgressNotify(wr *pb.WatchResponse) bool {
	return len(wr.GetEvents()) == 0 && !wr.GetCanceled() && !wr.GetCreated() && wr.GetCompactRevision() == 0 && wr.GetHeader().GetRevision() != 0
}

// joinFragments merges fragmented responses as clientv3 does: events
// accumulate until the response whose Fragment flag is false, and the
// joined response arrives with it. Fragments cut short (the stream broke,
// or a created or cancel response came) never reach clientv3's caller,
// so they are dropped.
func joinFragments(rs []WatchResponse) []WatchResponse {
	out := make([]WatchResponse, 0, len(rs))
	var pending []*mvccpb.Event
	for _, r := range rs {
		resp := r.Response
		if resp.GetCreated() || resp.GetCanceled() {
			pending = nil
		} else if resp.GetFragment() {
			pending = append(pending, resp.GetEvents()...)
			continue
		} else if len(pending) > 0 {
			resp = &pb.WatchResponse{
				Header:  resp.GetHeader(),
				WatchId: resp.GetWatchId(),
				Events:  append(pending, resp.GetEvents()...),
			}
			pending = nil
		}
		out = append(out, WatchResponse{At: r.At, Response: resp})
	}
	return out
}

// checkEvents checks one (joined) response's events, in order. An event
// the store never wrote is reported as such and otherwise ignored, and
// the order is checked over the whole response first: either would
// otherwise show up first as a skipped event.
func (c *watchCheck) checkEvents(evs []*mvccpb.Event, at time.Duration) {
	last := c.lastEv
	for _, ev := range evs {
		if rev := ev.GetKv().GetModRevision(); rev < last {
			c.violate("broke Ordered: event at revision %d key %q at %v came after one at revision %d", rev, ev.GetKv().GetKey(), at, last)
		} else {
			last = rev
		}
	}
	for i, ev := range evs {
		c.events++
		rev, key := ev.GetKv().GetModRevision(), ev.GetKv().GetKey()
		where := fmt.Sprintf("revision %d key %q at %v", rev, key, at)
		if !c.checkEvent(ev, where) {
			continue
		}
		switch {
		case rev < c.start:
			c.violate("event at %s is before the watch's start revision %d", where, c.start)
			continue
		case rev < c.lastEv:
			continue // reported above
		case rev <= c.lastProgress:
			c.violate("broke Bookmarkable: event at %s came after a progress notification at %d", where, c.lastProgress)
			continue
		case rev == c.lastEv:
			if _, dup := c.seen[string(key)]; dup {
				c.violate("broke Unique: event at %s received twice", where)
				continue
			}
			if i == 0 {
				c.violate("broke Atomic: event at %s came in a later response than others of its revision", where)
			}
		default:
			c.settle(rev, func(r int64, k []byte) {
				c.violate("broke Reliable: missed the event at revision %d key %q (the next came at revision %d)", r, k, rev)
			})
			c.lastEv = rev
			clear(c.seen)
		}
		c.seen[string(key)] = struct{}{}
	}
}

// checkEvent holds one event to the Truth: it was written byte for byte,
// it is in range and passes the filters, and prev_kv is right. It says
// whether the event is one the watch should have received.
func (c *watchCheck) checkEvent(ev *mvccpb.Event, where string) bool {
	rev := ev.GetKv().GetModRevision()
	te, known := c.ix.event(rev, ev.GetKv().GetKey())
	switch {
	case !known:
		c.violate("event at %s is not in the KV history: no member applied revision %d", where, rev)
		return false
	case te == nil:
		c.violate("event at %s is not in the KV history: revision %d did not write the key", where, rev)
		return false
	case !sameEvent(ev, te.ev):
		c.violate("event at %s differs from the KV history: got %s, want %s", where, describeEvent(ev), describeEvent(te.ev))
		return false
	case !c.rng.contains(ev.GetKv().GetKey()):
		c.violate("event at %s is outside the watched range", where)
		return false
	case c.rng.filtered(ev):
		c.violate("event at %s should have been filtered out (%s)", where, ev.GetType())
		return false
	}
	got := ev.GetPrevKv()
	switch {
	case !c.rng.prevKV && got != nil:
		c.violate("event at %s carries a prev_kv the watch did not ask for", where)
	case !c.rng.prevKV || !te.prevKnown:
	case te.prev == nil && got != nil:
		c.violate("event at %s has prev_kv %s, but the key had no previous version", where, describeKV(got))
	case te.prev != nil && got == nil && rev-1 >= c.compacted:
		// etcd's KeyAt(key, rev-1) finds the version unless compacted.
		c.violate("event at %s has no prev_kv, want %s (compacted only up to %d)", where, describeKV(te.prev), c.compacted)
	case te.prev != nil && got != nil && !proto.Equal(got, te.prev):
		c.violate("event at %s has prev_kv %s, want %s", where, describeKV(got), describeKV(te.prev))
	}
	return true
}

// checkProgress: etcd sends a progress notification at revision P only
// when the watcher has had every event up to P.
func (c *watchCheck) checkProgress(p int64, at time.Duration) {
	c.progress++
	if p < c.lastEv {
		c.violate("broke Bookmarkable: progress notification at %v says revision %d after an event at %d", at, p, c.lastEv)
		return
	}
	c.settle(p+1, func(r int64, k []byte) {
		c.violate("broke Bookmarkable: progress notification at %v says revision %d, but the event at revision %d key %q was not delivered", at, p, r, k)
	})
	c.lastProgress = max(c.lastProgress, p)
}

// checkCompactCancel: etcd cancels a watcher for compaction only when the
// next revision it needs is below the compaction.
func (c *watchCheck) checkCompactCancel(cr int64, at time.Duration) {
	c.compactions++
	next := max(c.start, c.lastEv+1, c.lastProgress+1)
	switch {
	case cr <= next:
		c.violate("cancelled at %v as compacted at %d, but it needed revisions from %d on", at, cr, next)
	case cr > c.compacted:
		c.violate("cancelled at %v as compacted at %d, but no member compacted beyond %d (report compactions with Truth.Compacted)", at, cr, c.compacted)
	}
}

// settle accounts for every Truth revision below upTo: each event there
// in the watched range that passes the filters must have been received.
// Of the open revision (lastEv) some were; of any other, none were. missed
// is told the first event missing at each revision.
func (c *watchCheck) settle(upTo int64, missed func(rev int64, key []byte)) {
	for ; c.cursor < len(c.ix.revs) && c.ix.revs[c.cursor].Rev < upTo; c.cursor++ {
		tr := c.ix.revs[c.cursor]
		for i := range tr.events {
			key := tr.events[i].ev.GetKv().GetKey()
			if !c.rng.contains(key) || c.rng.filtered(tr.events[i].ev) {
				continue
			}
			if _, got := c.seen[string(key)]; got && tr.Rev == c.lastEv {
				continue
			}
			missed(tr.Rev, key)
			break
		}
	}
}

// watchRange is what a create request selects, read as etcd's watch
// server reads it (node/watch: an empty key is "\x00", range_end "\x00"
// means every key from key on, no range_end one key).
type watchRange struct {
	key, end        []byte // end nil: just key; empty: no upper bound
	noPut, noDelete bool
	prevKV          bool
}

func newWatchRange(req *pb.WatchCreateRequest) watchRange {
	r := watchRange{key: req.GetKey(), prevKV: req.GetPrevKv()}
	if len(r.key) == 0 {
		r.key = []byte{0}
	}
	switch re := req.GetRangeEnd(); {
	case len(re) == 0:
	case len(re) == 1 && re[0] == 0:
		r.end = []byte{}
	default:
		r.end = re
	}
	for _, f := range req.GetFilters() {
		switch f {
		case pb.WatchCreateRequest_NOPUT:
			r.noPut = true
		case pb.WatchCreateRequest_NODELETE:
			r.noDelete = true
		}
	}
	return r
}

func (r watchRange) contains(k []byte) bool {
	if r.end == nil {
		return bytes.Equal(k, r.key)
	}
	return bytes.Compare(k, r.key) >= 0 && (len(r.end) == 0 || bytes.Compare(k, r.end) < 0)
}

func (r watchRange) filtered(ev *mvccpb.Event) bool {
	return r.noPut && ev.GetType() == mvccpb.Event_PUT || r.noDelete && ev.GetType() == mvccpb.Event_DELETE
}

// sameEvent compares what the store wrote: type and KeyValue, not the
// prev_kv a watcher adds.
func sameEvent(a, b *mvccpb.Event) bool {
	return a.GetType() == b.GetType() && proto.Equal(a.GetKv(), b.GetKv())
}

func describeWatch(req *pb.WatchCreateRequest) string {
	s := fmt.Sprintf("%q", req.GetKey())
	if re := req.GetRangeEnd(); len(re) > 0 {
		s = fmt.Sprintf("[%q, %q)", req.GetKey(), re)
	}
	return s + " from revision " + strconv.FormatInt(req.GetStartRevision(), 10)
}

func describeEvent(ev *mvccpb.Event) string {
	return ev.GetType().String() + " " + describeKV(ev.GetKv())
}

func describeKV(kv *mvccpb.KeyValue) string {
	s := fmt.Sprintf("%q=%q (mod %d, create %d, version %d", kv.GetKey(), kv.GetValue(), kv.GetModRevision(), kv.GetCreateRevision(), kv.GetVersion())
	if kv.GetLease() != 0 {
		s += fmt.Sprintf(", lease %x", kv.GetLease())
	}
	return s + ")"
}

// thousands is plural with digits grouped: "4,210 events".
func thousands(n int, noun string) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	switch {
	case n == 1:
	case strings.HasSuffix(noun, "ch"):
		noun += "es"
	case strings.HasSuffix(noun, "ry"):
		noun = strings.TrimSuffix(noun, "y") + "ies"
	default:
		noun += "s"
	}
	return s + " " + noun
}
