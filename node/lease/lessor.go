package lease

import (
	"cmp"
	"container/heap"
	"errors"
	"math"
	"slices"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// MaxLeaseTTL is the maximum lease TTL value
const MaxLeaseTTL = 9000000000

// LoopInterval is how often etcd's runLoop looks for expired leases and
// due checkpoints (its delayTicker). It runs once at start, then on every
// tick; the node calls ExpiredLeases and ScheduledCheckpoints as often.
const LoopInterval = 500 * time.Millisecond

var (
	// default number of leases to revoke per second; configurable for tests
	defaultLeaseRevokeRate = 1000

	// maximum number of lease checkpoints recorded to the consensus log per second; configurable for tests
	leaseCheckpointRate = 1000

	// the default interval of lease checkpoint
	defaultLeaseCheckpointInterval = 5 * time.Minute

	// maximum number of lease checkpoints to batch into a single consensus log entry
	maxLeaseCheckpointBatchSize = 1000

	// the default interval to check if the expired lease is revoked
	defaultExpiredleaseRetryInterval = 3 * time.Second
)

// etcd's errors, with etcd's text; its server turns them into the rpctypes
// errors clients see (ErrGRPCLeaseNotFound, ...).
var (
	ErrNotPrimary       = errors.New("not a primary lessor")
	ErrLeaseNotFound    = errors.New("lease not found")
	ErrLeaseExists      = errors.New("lease already exists")
	ErrLeaseTTLTooLarge = errors.New("too large lease TTL")
)

// ErrRenewBlocked is not etcd's: it stands for the wait in etcd's Renew of
// an expired lease. etcd blocks there until the lease is revoked (then
// ErrLeaseNotFound) or the lessor demoted (then ErrNotPrimary), since an
// expired lease may be on its way to being revoked through raft. A caller
// holds the request and calls Renew again after every Revoke and Demote.
var ErrRenewBlocked = errors.New("lease: renew of an expired lease waits for its revoke or the lessor's demotion")

// ErrCorrupt is returned by Recover for a lease bucket it cannot read.
var ErrCorrupt = errors.New("lease: corrupt lease bucket")

// MinLeaseTTLFor is the MinLeaseTTL etcd's server gives its lessor
// (etcdserver.NewServer): one and a half election timeouts, counted in
// whole ticks with integer division, rounded up to whole seconds:
//
//	minTTL := time.Duration((3*cfg.ElectionTicks)/2) * heartbeat
//	MinLeaseTTL: int64(math.Ceil(minTTL.Seconds()))
//
// With etcd's defaults (100 ms, 10 ticks) that is 1.5 s, so 2 s. A lease
// must outlive an election, or a leader change alone would expire it.
func MinLeaseTTLFor(heartbeat time.Duration, electionTicks int) int64 {
	minTTL := time.Duration((3*electionTicks)/2) * heartbeat
	return int64(math.Ceil(minTTL.Seconds()))
}

// LessorConfig is etcd's, with its defaults for zero values.
type LessorConfig struct {
	// MinLeaseTTL is the shortest TTL granted; shorter requests get it.
	// etcd's server sets MinLeaseTTLFor(heartbeat, election ticks).
	MinLeaseTTL int64
	// CheckpointInterval is the wait between a lease's checkpoints
	// (default 5 min). etcd v3.7 has no flag for it any more; only its
	// integration tests set it.
	CheckpointInterval time.Duration
	// ExpiredLeasesRetryInterval is how long an expired lease handed out
	// for revocation waits before it is handed out again (lessor default
	// 3 s). etcd's server passes its ReqTimeout(): 5 s plus two election
	// timeouts.
	ExpiredLeasesRetryInterval time.Duration
	// LeaseCheckpoint is etcd v3.7's feature gate
	// --feature-gates=LeaseCheckpoint=true (v3.6's
	// --experimental-enable-lease-checkpoint), off by default: with it the
	// leader checkpoints remaining TTLs through raft, so a new leader does
	// not give every lease its full TTL again. etcd turns it on by setting
	// a Checkpointer.
	LeaseCheckpoint bool
	// LeaseRevokeRate is how many leases may be revoked per second
	// (default 1000). etcd keeps it unexported, for tests.
	LeaseRevokeRate int
}

// Lessor owns leases. It can grant, revoke, renew and modify leases for
// lessee. Only the primary (the raft leader) expires and renews them.
type Lessor struct {
	// primary is etcd's demotec != nil: Promote sets it, Demote clears it.
	primary bool

	leaseMap             map[LeaseID]*Lease
	leaseExpiredNotifier *LeaseExpiredNotifier
	leaseCheckpointHeap  LeaseQueue
	itemMap              map[LeaseItem]LeaseID

	// minLeaseTTL is the minimum lease TTL that can be granted for a lease. Any
	// requests for shorter TTLs are extended to the minimum TTL.
	minLeaseTTL int64
	// maximum number of leases to revoke per second
	leaseRevokeRate int
	// Wait duration between lease checkpoints.
	checkpointInterval time.Duration
	// the interval to check if the expired lease is revoked
	expiredLeaseRetryInterval time.Duration
	// checkpointing stands for etcd's le.cp != nil.
	checkpointing bool
}

// NewLessor returns an empty lessor that is not the primary. etcd's
// newLessor also reads the lease bucket; here the caller calls Recover.
func NewLessor(cfg LessorConfig) *Lessor {
	le := &Lessor{
		leaseMap:                  map[LeaseID]*Lease{},
		itemMap:                   map[LeaseItem]LeaseID{},
		leaseExpiredNotifier:      newLeaseExpiredNotifier(),
		minLeaseTTL:               cfg.MinLeaseTTL,
		leaseRevokeRate:           cfg.LeaseRevokeRate,
		checkpointInterval:        cfg.CheckpointInterval,
		expiredLeaseRetryInterval: cfg.ExpiredLeasesRetryInterval,
		checkpointing:             cfg.LeaseCheckpoint,
	}
	if le.checkpointInterval == 0 {
		le.checkpointInterval = defaultLeaseCheckpointInterval
	}
	if le.expiredLeaseRetryInterval == 0 {
		le.expiredLeaseRetryInterval = defaultExpiredleaseRetryInterval
	}
	if le.leaseRevokeRate == 0 {
		le.leaseRevokeRate = defaultLeaseRevokeRate
	}
	return le
}

// IsPrimary indicates if this lessor is the primary lessor. The primary
// lessor manages lease expiration and renew. In etcd the raft leader is
// the primary, from the first entry of its term it applies until it
// steps down.
func (le *Lessor) IsPrimary() bool { return le.primary }

// Grant grants a lease that expires at least after TTL seconds. It is
// applied from a LeaseGrant entry on every member; only the primary starts
// its clock, the others keep it forever until promoted.
func (le *Lessor) Grant(id LeaseID, ttl int64, now time.Duration) (*Lease, error) {
	if id == NoLease {
		return nil, ErrLeaseNotFound
	}
	if ttl > MaxLeaseTTL {
		return nil, ErrLeaseTTLTooLarge
	}
	if _, ok := le.leaseMap[id]; ok {
		return nil, ErrLeaseExists
	}

	l := newLease(id, ttl)
	if l.ttl < le.minLeaseTTL {
		l.ttl = le.minLeaseTTL
	}
	if le.primary {
		l.refresh(now, 0)
	} else {
		l.forever()
	}
	le.leaseMap[id] = l

	if le.primary {
		le.leaseExpiredNotifier.RegisterOrUpdate(&LeaseWithTime{id: l.ID, time: l.expiry})
		le.scheduleCheckpointIfNeeded(l, now)
	}
	return l, nil
}

// Revoke removes the lease and returns the keys attached to it, sorted,
// so that every member deletes them in the same order (etcd: "otherwise
// the backend hashes will be different"). The caller deletes the keys
// and the lease in one write: etcd does both in one backend transaction,
// or a crash in between would leave keys without their lease or a revoke
// half done.
//
// The keys are detached here too. In etcd the store's delete detaches
// each key from its lease (GetLease, then Detach) while the lease still
// exists; here the lease is gone before the caller deletes, so GetLease
// already answers NoLease for them.
func (le *Lessor) Revoke(id LeaseID) ([]string, error) {
	l := le.leaseMap[id]
	if l == nil {
		return nil, ErrLeaseNotFound
	}
	keys := l.Keys()
	for _, k := range keys {
		if le.itemMap[LeaseItem{Key: k}] == id {
			delete(le.itemMap, LeaseItem{Key: k})
		}
	}
	delete(le.leaseMap, id)
	return keys, nil
}

// Checkpoint applies the remainingTTL of a lease (a LeaseCheckpoint entry).
// The remainingTTL is used in Promote to set the expiry of leases to less
// than the full TTL when possible. An unknown lease is no error.
func (le *Lessor) Checkpoint(id LeaseID, remainingTTL int64, now time.Duration) error {
	if l, ok := le.leaseMap[id]; ok {
		// when checkpointing, we only update the remainingTTL, Promote is responsible for applying this to lease expiry
		l.remainingTTL = remainingTTL
		if le.primary {
			// schedule the next checkpoint as needed
			le.scheduleCheckpointIfNeeded(l, now)
		}
	}
	return nil
}

// Renew renews an existing lease (LeaseKeepAlive) and returns its TTL.
// Only the primary renews: others return ErrNotPrimary and etcd forwards
// the request to the leader. An expired lease returns ErrRenewBlocked
// (see there).
//
// With checkpointing on and a remaining TTL checkpointed, etcd first
// proposes a checkpoint clearing it and waits for it to apply, so the
// renewed lease is not cut short by the old checkpoint at the next
// promotion. Renew then returns that request (ttl -1) instead of renewing:
// the caller proposes it and, once applied, calls Renew again. At most two
// raft entries per lease per checkpoint interval come of this.
func (le *Lessor) Renew(id LeaseID, now time.Duration) (int64, *pb.LeaseCheckpointRequest, error) {
	if !le.primary {
		return -1, nil, ErrNotPrimary
	}
	l := le.leaseMap[id]
	if l == nil {
		return -1, nil, ErrLeaseNotFound
	}
	if l.expired(now) {
		return -1, nil, ErrRenewBlocked
	}
	if le.checkpointing && l.remainingTTL > 0 {
		return -1, &pb.LeaseCheckpointRequest{Checkpoints: []*pb.LeaseCheckpoint{{ID: int64(l.ID), Remaining_TTL: 0}}}, nil
	}
	l.refresh(now, 0)
	le.leaseExpiredNotifier.RegisterOrUpdate(&LeaseWithTime{id: l.ID, time: l.expiry})
	return l.ttl, nil, nil
}

// Lookup gives the lease at a given lease id, if any.
func (le *Lessor) Lookup(id LeaseID) *Lease { return le.leaseMap[id] }

// Leases lists all leases by expiry, as etcd does; leases that expire
// together (all of them, off the primary) by ID.
func (le *Lessor) Leases() []*Lease {
	ls := le.leasesByID()
	slices.SortStableFunc(ls, func(a, b *Lease) int { return cmp.Compare(a.expiry, b.expiry) })
	return ls
}

// leasesByID is every lease, by ID: the order in which maps are walked
// here, so nothing depends on Go's map order.
func (le *Lessor) leasesByID() []*Lease {
	ls := make([]*Lease, 0, len(le.leaseMap))
	for _, l := range le.leaseMap { //lint:allow maprange sorted below
		ls = append(ls, l)
	}
	slices.SortFunc(ls, func(a, b *Lease) int { return cmp.Compare(a.ID, b.ID) })
	return ls
}

// LeaseLeases answers the LeaseLeases RPC (etcd's EtcdServer.LeaseLeases):
// every lease's ID, by expiry. The header is the caller's.
func (le *Lessor) LeaseLeases() *pb.LeaseLeasesResponse {
	ls := le.Leases()
	lss := make([]*pb.LeaseStatus, len(ls))
	for i, l := range ls {
		lss[i] = &pb.LeaseStatus{ID: int64(l.ID)}
	}
	return &pb.LeaseLeasesResponse{Leases: lss}
}

// TimeToLive answers LeaseTimeToLive on the primary, as etcd's
// leaseTimeToLive and leasehttp do: the remaining TTL in whole seconds,
// truncated, the granted TTL, and the keys (sorted) if asked for. A lease
// whose expiry is forever — this lessor is not the primary — answers
// ErrNotPrimary, since its remaining TTL would be wrong: leasehttp returns
// that, and etcd's leader path returns ErrLeaderChanged instead, so the
// client retries. The header is the caller's.
func (le *Lessor) TimeToLive(id LeaseID, keys bool, now time.Duration) (*pb.LeaseTimeToLiveResponse, error) {
	l := le.leaseMap[id]
	if l == nil {
		return nil, ErrLeaseNotFound
	}
	resp := &pb.LeaseTimeToLiveResponse{ID: int64(id), TTL: int64(l.Remaining(now).Seconds()), GrantedTTL: l.ttl}
	if keys {
		ks := l.Keys()
		resp.Keys = make([][]byte, len(ks))
		for i, k := range ks {
			resp.Keys[i] = []byte(k)
		}
	}
	if l.Demoted() {
		return nil, ErrNotPrimary
	}
	return resp, nil
}

// Promote makes this lessor the primary: etcd's server calls it with one
// election timeout as extend once the new leader has applied the first
// entry of its term. Every lease then expires extend after its remaining
// TTL (the checkpointed one, else the full TTL): the grace covers the
// keep-alives clients could not send while there was no leader.
//
// If as many leases as the revoke rate allows per second or more are
// promoted, expiries are spread so that no more than three quarters of
// that rate fall in any second: otherwise a pile of leases that expire
// together (all granted under one old leader, say) would take the whole
// revoke budget.
func (le *Lessor) Promote(extend, now time.Duration) {
	le.primary = true

	// refresh the expiries of all leases.
	leases := le.leasesByID()
	for _, l := range leases {
		l.refresh(now, extend)
		le.leaseExpiredNotifier.RegisterOrUpdate(&LeaseWithTime{id: l.ID, time: l.expiry})
		le.scheduleCheckpointIfNeeded(l, now)
	}

	if len(leases) < le.leaseRevokeRate {
		// no possibility of lease pile-up
		return
	}

	// adjust expiries in case of overlap
	slices.SortStableFunc(leases, func(a, b *Lease) int { return cmp.Compare(a.expiry, b.expiry) })

	baseWindow := leases[0].Remaining(now)
	nextWindow := baseWindow + time.Second
	expires := 0
	// have fewer expires than the total revoke rate so piled up leases
	// don't consume the entire revoke limit
	targetExpiresPerSecond := (3 * le.leaseRevokeRate) / 4
	for _, l := range leases {
		remaining := l.Remaining(now)
		if remaining > nextWindow {
			baseWindow = remaining
			nextWindow = baseWindow + time.Second
			expires = 1
			continue
		}
		expires++
		if expires <= targetExpiresPerSecond {
			continue
		}
		rateDelay := float64(time.Second) * (float64(expires) / float64(targetExpiresPerSecond))
		// If leases are extended by n seconds, leases n seconds ahead of the
		// base window should be extended by only one second.
		rateDelay -= float64(remaining - baseWindow)
		delay := time.Duration(rateDelay)
		nextWindow = baseWindow + delay
		l.refresh(now, delay+extend)
		le.leaseExpiredNotifier.RegisterOrUpdate(&LeaseWithTime{id: l.ID, time: l.expiry})
		le.scheduleCheckpointIfNeeded(l, now)
	}
}

// Demote makes this lessor a follower: no lease expires here any more,
// and nothing is queued for revocation or checkpointing. A Renew that
// was blocked on an expired lease now answers ErrNotPrimary.
func (le *Lessor) Demote() {
	// set the expiries of all leases to forever
	for _, l := range le.leaseMap { //lint:allow maprange every lease gets the same value
		l.forever()
	}
	le.leaseCheckpointHeap = nil
	le.leaseExpiredNotifier = newLeaseExpiredNotifier()
	le.primary = false
}

// Attach attaches items to the lease with given ID. When the lease
// expires, the attached items will be automatically removed.
// If the given lease does not exist, an error will be returned.
func (le *Lessor) Attach(id LeaseID, items []LeaseItem) error {
	l := le.leaseMap[id]
	if l == nil {
		return ErrLeaseNotFound
	}
	for _, it := range items {
		l.itemSet[it] = struct{}{}
		le.itemMap[it] = id
	}
	return nil
}

// GetLease returns LeaseID for given item.
// If no lease found, NoLease value will be returned.
func (le *Lessor) GetLease(item LeaseItem) LeaseID { return le.itemMap[item] }

// Detach detaches items from the lease with given ID.
// If the given lease does not exist, an error will be returned.
func (le *Lessor) Detach(id LeaseID, items []LeaseItem) error {
	l := le.leaseMap[id]
	if l == nil {
		return ErrLeaseNotFound
	}
	for _, it := range items {
		delete(l.itemSet, it)
		delete(le.itemMap, it)
	}
	return nil
}

// ExpiredLeases is the first half of etcd's runLoop (revokeExpiredLeases):
// on the primary, the leases past their expiry, at most half the revoke
// rate per call, since the loop runs twice a second. The leader proposes
// a LeaseRevoke for each (etcd's server first checks it is still the
// leader, ensureLeadership). A lease handed out here is handed out again
// after ExpiredLeasesRetryInterval if it is still there, in case that
// revoke was lost.
func (le *Lessor) ExpiredLeases(now time.Duration) []LeaseID {
	if !le.primary {
		return nil
	}
	// rate limit
	revokeLimit := le.leaseRevokeRate / 2
	var ids []LeaseID
	for _, l := range le.findExpiredLeases(revokeLimit, now) {
		ids = append(ids, l.ID)
	}
	return ids
}

// ScheduledCheckpoints is the second half of etcd's runLoop
// (checkpointScheduledLeases): on the primary with checkpointing on, the
// checkpoints now due, in batches of at most maxLeaseCheckpointBatchSize,
// at most leaseCheckpointRate/2 batches per call. etcd proposes each batch
// as a LeaseCheckpoint entry and waits for it to apply before the next.
func (le *Lessor) ScheduledCheckpoints(now time.Duration) []*pb.LeaseCheckpointRequest {
	var reqs []*pb.LeaseCheckpointRequest
	// rate limit
	for i := 0; i < leaseCheckpointRate/2; i++ {
		var cps []*pb.LeaseCheckpoint
		if le.primary {
			cps = le.findDueScheduledCheckpoints(maxLeaseCheckpointBatchSize, now)
		}
		if len(cps) != 0 {
			reqs = append(reqs, &pb.LeaseCheckpointRequest{Checkpoints: cps})
		}
		if len(cps) < maxLeaseCheckpointBatchSize {
			break
		}
	}
	return reqs
}

// expireExists returns "l" which is not nil if expiry items exist.
// It pops only when expiry item exists.
// "next" is true, to indicate that it may exist in next attempt.
func (le *Lessor) expireExists(now time.Duration) (l *Lease, next bool) {
	if le.leaseExpiredNotifier.Len() == 0 {
		return nil, false
	}

	item := le.leaseExpiredNotifier.Peek()
	l = le.leaseMap[item.id]
	if l == nil {
		// lease has expired or been revoked
		// no need to revoke (nothing is expiry)
		le.leaseExpiredNotifier.Unregister() // O(log N)
		return nil, true
	}
	if now < item.time /* item.time: expiration time */ {
		// Candidate expirations are caught up, reinsert this item
		// and no need to revoke (nothing is expiry)
		return nil, false
	}

	// recheck if revoke is complete after retry interval
	item.time = now + le.expiredLeaseRetryInterval
	le.leaseExpiredNotifier.RegisterOrUpdate(item)
	return l, false
}

// findExpiredLeases loops leases in the leaseMap until reaching expired limit
// and returns the expired leases that needed to be revoked.
func (le *Lessor) findExpiredLeases(limit int, now time.Duration) []*Lease {
	leases := make([]*Lease, 0, 16)

	for {
		l, next := le.expireExists(now)
		if l == nil && !next {
			break
		}
		if next {
			continue
		}

		if l.expired(now) {
			leases = append(leases, l)

			// reach expired limit
			if len(leases) == limit {
				break
			}
		}
	}

	return leases
}

// scheduleCheckpointIfNeeded queues a checkpoint one interval from now for
// a lease that lives longer than the interval; a shorter one would expire
// or be renewed before a checkpoint could matter.
func (le *Lessor) scheduleCheckpointIfNeeded(lease *Lease, now time.Duration) {
	if !le.checkpointing {
		return
	}
	if lease.getRemainingTTL() > int64(le.checkpointInterval.Seconds()) {
		heap.Push(&le.leaseCheckpointHeap, &LeaseWithTime{
			id:   lease.ID,
			time: now + le.checkpointInterval,
		})
	}
}

func (le *Lessor) findDueScheduledCheckpoints(checkpointLimit int, now time.Duration) []*pb.LeaseCheckpoint {
	if !le.checkpointing {
		return nil
	}

	var cps []*pb.LeaseCheckpoint
	for le.leaseCheckpointHeap.Len() > 0 && len(cps) < checkpointLimit {
		lt := le.leaseCheckpointHeap[0]
		if lt.time > now /* lt.time: next checkpoint time */ {
			return cps
		}
		heap.Pop(&le.leaseCheckpointHeap)
		l, ok := le.leaseMap[lt.id]
		if !ok {
			continue
		}
		if now >= l.expiry {
			continue
		}
		remainingTTL := int64(math.Ceil((l.expiry - now).Seconds()))
		if remainingTTL >= l.ttl {
			continue
		}
		cps = append(cps, &pb.LeaseCheckpoint{ID: int64(lt.id), Remaining_TTL: remainingTTL})
	}
	return cps
}
