package checker

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// The lease checker holds the keys attached to leases to what etcd
// promises about them:
//
//   - safety: a lease is not revoked by expiry before its TTL has run
//     from the last renewal a client was told of. The renewal happened
//     on the leader after the client sent it, so the promise is the
//     request's send time + the TTL returned; the keys' deletion was
//     applied after the leader decided the lease had expired;
//   - a revoke, by a client or by expiry, deletes all of a lease's keys
//     in one revision (etcd's lessor deletes them in one txn);
//   - liveness: the keys of a lease nobody keeps alive are gone by its
//     deadline plus a slack; a lease whose revoke a client saw succeed
//     has no keys left by then.
//
// What is attached to a lease comes from the Truth: a PUT carries its
// lease, and a key leaves its lease when it is deleted or put again with
// another (or none).

// LeaseKind is a lease operation type.
type LeaseKind uint8

// The lease operations clients issue.
const (
	LeaseGrant LeaseKind = iota + 1
	LeaseKeepAlive
	LeaseRevoke
)

func (k LeaseKind) String() string {
	switch k {
	case LeaseGrant:
		return "grant"
	case LeaseKeepAlive:
		return "keep-alive"
	case LeaseRevoke:
		return "revoke"
	}
	return "unknown lease kind"
}

// LeaseOp is one lease call as a client recorded it. An operation that
// failed for sure (a revoke answered "lease not found") is left out.
type LeaseOp struct {
	Client int
	Kind   LeaseKind
	Lease  int64
	Call   time.Duration // when the request was sent
	Return time.Duration // when the reply came (if Acked)
	// Acked: a reply came. Grant and KeepAlive: with TTL; Revoke: success.
	// Unacked, the operation may or may not have happened.
	Acked bool
	// TTL in seconds. Grant: the reply's (etcd may raise a short one), or
	// the one asked for without a reply. KeepAlive: the reply's; zero or
	// less means the lease was not found, and no reply leaves it zero.
	TTL int64
}

// LeaseCheckConfig says how much the lease checks allow.
type LeaseCheckConfig struct {
	// End is when the run's history ends.
	End time.Duration
	// EarlyTolerance is how much earlier than promised an expiry may come
	// and pass. Zero holds etcd to its promise; a leader whose clock runs
	// fast (the lab's clock-rate fault) expires leases early in real time,
	// a true etcd weakness a scenario may choose to excuse.
	EarlyTolerance time.Duration
	// Slack is how much later than its deadline a lease's keys may go:
	// etcd's lessor checks expiries every 500 ms, the revoke goes through
	// raft within a request timeout, and a new leader extends every lease
	// by an election timeout.
	Slack time.Duration
	// NoLeader lists the intervals [From, To) without a leader, one per
	// change of leader (empty if the new one took over at once). A new
	// leader gives every lease a fresh TTL from when it takes over (etcd's
	// Promote), so a lease alive when the leader went lasts at least until
	// To + TTL.
	NoLeader []Interval
}

// Interval is [From, To) in virtual time.
type Interval struct{ From, To time.Duration }

// leaseView is one lease as the checks see it: its clients' operations,
// and its keys as the Truth shows them.
type leaseView struct {
	id      int64
	ops     []LeaseOp // in call order
	granted bool      // a grant was recorded, so its TTL is known
	ttl     int64

	keys        map[string]int64 // attached now -> the revision that attached it
	attachedAny bool
	firstAttach time.Duration
	lastGone    time.Duration // when the last key that left it left
}

// CheckLease holds the keys attached to leases to etcd's lease promises.
func CheckLease(truth *Truth, ops []LeaseOp, cfg LeaseCheckConfig) Verdict {
	c := &leaseCheck{cfg: cfg, leases: map[int64]*leaseView{}}
	c.cfg.NoLeader = slices.Clone(cfg.NoLeader)
	slices.SortFunc(c.cfg.NoLeader, func(a, b Interval) int { return cmpInt(int64(a.From), int64(b.From)) })
	for _, op := range ops {
		l := c.lease(op.Lease)
		l.ops = append(l.ops, op)
		if op.Kind == LeaseGrant {
			l.granted, l.ttl = true, op.TTL
		}
	}
	for _, l := range c.leases { //lint:allow maprange each lease sorted on its own
		slices.SortStableFunc(l.ops, func(a, b LeaseOp) int { return cmpInt(int64(a.Call), int64(b.Call)) })
	}
	c.walk(truth.build())
	for _, id := range slices.Sorted(maps.Keys(c.leases)) {
		c.checkLiveness(c.leases[id])
	}

	v := Verdict{Name: "lease", OK: c.nViolations == 0}
	switch {
	case c.nViolations > 1:
		v.Detail = fmt.Sprintf("%s (and %d more)", c.violations[0], c.nViolations-1)
	case c.nViolations == 1:
		v.Detail = c.violations[0]
	case c.withKeys == 0:
		// Nothing judged is nothing vouched for.
		v.OK = false
		v.Detail = "no lease had keys to check"
	default:
		v.Detail = fmt.Sprintf("%s with keys: %s, none early, and %s, each in one revision; keys of %s gone in time",
			thousands(c.withKeys, "lease"), thousands(c.expired, "expiry"), thousands(c.clientRevokes, "client revoke"), thousands(c.timely, "lease"))
		if c.skipped > 0 {
			v.Detail += fmt.Sprintf(" (%d not judged: deadline near the end or TTL unknown)", c.skipped)
		}
	}
	return v
}

type leaseCheck struct {
	cfg      LeaseCheckConfig
	leases   map[int64]*leaseView
	attached map[string]int64 // key -> its lease, as far as the Truth shows

	violations  []string
	nViolations int

	withKeys, expired, clientRevokes, timely, skipped int
}

func (c *leaseCheck) lease(id int64) *leaseView {
	l := c.leases[id]
	if l == nil {
		l = &leaseView{id: id, keys: map[string]int64{}}
		c.leases[id] = l
	}
	return l
}

func (c *leaseCheck) violate(format string, args ...any) {
	c.nViolations++
	if len(c.violations) < maxConflicts {
		c.violations = append(c.violations, fmt.Sprintf(format, args...))
	}
}

// walk follows every key's lease through the Truth, checking each revoke
// as it comes.
func (c *leaseCheck) walk(ix *truthIndex) {
	c.attached = map[string]int64{}
	for _, tr := range ix.revs {
		if tr.afterGap {
			// What was attached before an unreported revision is unknown:
			// forget it rather than judge on a guess.
			clear(c.attached)
			for _, l := range c.leases { //lint:allow maprange every lease is cleared alike
				clear(l.keys)
			}
		}
		for _, te := range tr.events {
			c.apply(tr, te.ev)
		}
		if tr.Lease != 0 {
			c.checkRevoke(tr)
		}
	}
	for _, l := range c.leases { //lint:allow maprange a count
		if l.attachedAny {
			c.withKeys++
		}
	}
}

// apply moves one key between leases as one event of revision tr does.
func (c *leaseCheck) apply(tr *indexedRev, ev *mvccpb.Event) {
	k := string(ev.GetKv().GetKey())
	old, known := c.attached[k]
	next := int64(0)
	if ev.GetType() == mvccpb.Event_PUT {
		next = ev.GetKv().GetLease()
	}
	if tr.Lease != 0 {
		switch {
		case ev.GetType() != mvccpb.Event_DELETE:
			c.violate("the revoke of lease %x at revision %d put key %q", tr.Lease, tr.Rev, k)
		case known && old != tr.Lease:
			c.violate("the revoke of lease %x at revision %d deleted key %q, which was attached to %s", tr.Lease, tr.Rev, k, leaseName(old))
		}
	}
	if known && old == next {
		return // put again under the same lease
	}
	if old != 0 {
		l := c.lease(old)
		delete(l.keys, k)
		l.lastGone = max(l.lastGone, tr.at)
	}
	if next == 0 {
		delete(c.attached, k)
		return
	}
	c.attached[k] = next
	l := c.lease(next)
	l.keys[k] = tr.Rev
	if !l.attachedAny {
		l.attachedAny, l.firstAttach = true, tr.at
	}
}

// checkRevoke checks the revision that revoked a lease: it took all the
// lease's keys, and unless a client asked for it, it did not come before
// the lease could have expired.
func (c *leaseCheck) checkRevoke(tr *indexedRev) {
	l := c.lease(tr.Lease)
	if len(l.keys) > 0 {
		k := slices.Sorted(maps.Keys(l.keys))[0]
		c.violate("the revoke of lease %x at revision %d left key %q (attached at revision %d) for a later revision", l.id, tr.Rev, k, l.keys[k])
	}
	for _, op := range l.ops {
		if op.Kind == LeaseRevoke && op.Call <= tr.at {
			c.clientRevokes++
			return
		}
	}
	c.expired++
	// The renewals answered before the deletion: each promised the lease
	// would live until its send time + TTL.
	var promised time.Duration
	var by LeaseOp
	for _, op := range l.ops {
		if op.Kind != LeaseRevoke && op.Acked && op.TTL > 0 && op.Return <= tr.at {
			if p := op.Call + seconds(op.TTL); p > promised {
				promised, by = p, op
			}
		}
	}
	if tr.at+c.cfg.EarlyTolerance < promised {
		c.violate("lease %x expired early: its keys were deleted at revision %d at %v, but a %s sent at %v was answered with TTL %ds, so it could not expire before %v",
			l.id, tr.Rev, tr.at, by.Kind, by.Call, by.TTL, promised)
	}
}

// checkLiveness checks that a lease's keys went by its deadline + slack,
// and by the reply to a client's revoke.
func (c *leaseCheck) checkLiveness(l *leaseView) {
	if !l.attachedAny {
		return
	}
	gone := l.lastGone
	if len(l.keys) > 0 {
		gone = math.MaxInt64 // still attached at the end
	}
	for _, op := range l.ops {
		if op.Kind == LeaseRevoke && op.Acked && gone > op.Return {
			c.violate("the revoke of lease %x was acknowledged at %v, but %s", l.id, op.Return, c.left(l, gone))
			return
		}
	}
	deadline, ok := c.deadline(l)
	switch {
	case !ok:
		c.skipped++
		return
	case gone <= deadline+c.cfg.Slack:
		c.timely++
		return
	case deadline+c.cfg.Slack > c.cfg.End:
		c.skipped++ // the run ended before the keys were due to go
		return
	default:
		c.violate("lease %x (TTL %ds) was not kept alive after it was due to expire at %v, yet %s (slack %v)", l.id, l.ttl, deadline, c.left(l, gone), c.cfg.Slack)
	}
}

// left says what became of a lease's keys.
func (c *leaseCheck) left(l *leaseView, gone time.Duration) string {
	if len(l.keys) == 0 {
		return fmt.Sprintf("its last key went only at %v", gone)
	}
	k := slices.Sorted(maps.Keys(l.keys))[0]
	return fmt.Sprintf("key %q (attached at revision %d) was still there at the end (%v)", k, l.keys[k], c.cfg.End)
}

// deadline is the latest time the lease could expire: its last renewal
// (at the latest when its reply came; an unanswered one, when it was
// sent, the slack covers its delivery) + TTL, moved on by every leader
// change while it was alive. ok is false when its TTL is unknown.
func (c *leaseCheck) deadline(l *leaseView) (time.Duration, bool) {
	if !l.granted {
		return 0, false
	}
	var renewed time.Duration
	grantAcked := false
	for _, op := range l.ops {
		switch {
		case op.Kind == LeaseRevoke:
		case op.Kind == LeaseKeepAlive && op.Acked && op.TTL <= 0:
			// not found: no renewal
		case op.Acked:
			renewed = max(renewed, op.Return)
			grantAcked = grantAcked || op.Kind == LeaseGrant
		default:
			renewed = max(renewed, op.Call)
		}
	}
	if !grantAcked {
		// The grant applied at the latest when its first key was attached.
		renewed = max(renewed, l.firstAttach)
	}
	ttl := seconds(l.ttl)
	deadline := renewed + ttl
	for _, iv := range c.cfg.NoLeader { // sorted by From
		if iv.From < deadline+c.cfg.Slack {
			deadline = max(deadline, iv.To+ttl)
		}
	}
	return deadline, true
}

func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }

func leaseName(id int64) string {
	if id == 0 {
		return "no lease"
	}
	return fmt.Sprintf("lease %x", id)
}
