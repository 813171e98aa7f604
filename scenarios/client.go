package scenarios

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/network"
	"github.com/etcdlab/etcdlab/node"
	"github.com/etcdlab/etcdlab/node/api"
)

// client is a closed-loop etcd client that behaves like clientv3: one
// operation at a time, drawn from the workload's mix on a small key space.
//
//   - It holds every member as an endpoint and sends each request to the
//     next ready one in turn, as clientv3's round-robin gRPC balancer does.
//   - A member whose process is down refuses the connection at once; the
//     request never left, so it goes to the next endpoint, and the refused
//     one waits out gRPC's reconnect backoff. A partitioned member still
//     holds its connection: the client learns nothing until its timeout.
//   - It retries as clientv3's retry interceptor does (client/v3/retry.go):
//     a read is retried after a transient error (Unavailable, such as a
//     connection reset or "leader changed"); a write only when it cannot
//     have reached a server, since retrying one that may have been applied
//     would apply it twice.
//   - The timeout bounds the whole operation, retries included, like the
//     context a clientv3 user passes.
type client struct {
	c         *Cluster
	id        int
	addr      network.Addr
	rng       *rand.Rand
	endpoints []*endpoint
	next      int // round-robin cursor into endpoints
	seq       uint64
	op        *call // the operation in progress, nil between operations
	// seen is what the client last learnt of each key, from which its
	// compare-and-set and update Txns take their expectations.
	seen map[string]seenKey
}

// seenKey is a key as a client last saw it.
type seenKey struct {
	exists bool
	value  string
	modRev int64
}

// endpoint is the client's connection to one member.
type endpoint struct {
	addr      network.Addr
	downUntil time.Duration // refused: picked again only after this
	backoff   time.Duration // the last reconnect backoff, 0 when healthy
}

// call is the operation in progress and its current attempt.
type call struct {
	op       checker.Operation
	req      *api.Request
	attempt  uint64       // the request ID of the attempt in flight, 0 between attempts
	to       network.Addr // where that attempt went
	deadline time.Duration
	retries  int
	attempts []uint64 // the request IDs of every attempt sent
}

// gRPC's default reconnect backoff (grpc/backoff.DefaultConfig), which
// clientv3 keeps, and clientv3's wait between retries (options.go).
const (
	backoffBase       = 1 * time.Second
	backoffMultiplier = 1.6
	backoffJitter     = 0.2
	backoffMax        = 120 * time.Second
	retryWait         = 25 * time.Millisecond
	retryJitter       = 0.10
	maxRetries        = 100
)

func newClient(c *Cluster, id int) *client {
	cl := &client{
		c:    c,
		id:   id,
		addr: network.Addr(fmt.Sprintf("c%d", id)),
		rng:  c.sim.Rand(fmt.Sprintf("client/%d", id)),
		seen: map[string]seenKey{},
	}
	for _, m := range c.members {
		cl.endpoints = append(cl.endpoints, &endpoint{addr: m.addr})
	}
	cl.next = (id - 1) % len(cl.endpoints)
	c.net.Attach(cl.addr, cl.receive)
	c.net.OnRefused(cl.addr, cl.refused)
	c.sim.After(cl.think(), cl.issue)
	return cl
}

func (cl *client) think() time.Duration {
	if cl.c.settings.ThinkTime <= 0 {
		return 0
	}
	return time.Duration(cl.rng.Int64N(int64(cl.c.settings.ThinkTime)))
}

// issue starts the next operation, unless the run is settling.
func (cl *client) issue() {
	s := cl.c.settings
	now := cl.c.sim.Now()
	if now >= s.Duration-s.Settle {
		return
	}
	k := cl.rng.IntN(s.Keys)
	op := checker.Operation{Client: cl.id, Key: fmt.Sprintf("k%d", k), Call: now}
	req := &api.Request{}
	key := []byte(op.Key)
	value := fmt.Sprintf("c%d-%d", cl.id, cl.seq+1)
	w := s.Workload
	seen, known := cl.seen[op.Key]
	switch p := cl.rng.IntN(100); {
	case p < w.SGet:
		// Served from the member's own store: fast, maybe stale.
		op.Kind, op.Serializable = checker.Get, true
		req.Range = &pb.RangeRequest{Key: key, Serializable: true}
	case p < w.SGet+w.Get, p < w.SGet+w.Get+w.Put+w.Delete+w.CAS && p >= w.SGet+w.Get+w.Put+w.Delete && !(known && seen.exists):
		// A get, or a compare-and-set with nothing to compare against yet:
		// like Jepsen's register client, read first.
		op.Kind = checker.Get
		req.Range = &pb.RangeRequest{Key: key}
	case p < w.SGet+w.Get+w.Put:
		op.Kind, op.Value = checker.Put, value
		req.Put = &pb.PutRequest{Key: key, Value: []byte(value)}
	case p < w.SGet+w.Get+w.Put+w.Delete:
		op.Kind = checker.Delete
		req.DeleteRange = &pb.DeleteRangeRequest{Key: key}
	case p < w.SGet+w.Get+w.Put+w.Delete+w.CAS:
		op.Kind, op.Value, op.Expect = checker.CAS, value, seen.value
		req.Txn = &pb.TxnRequest{
			Compare: []*pb.Compare{{Key: key, Target: pb.Compare_VALUE, Result: pb.Compare_EQUAL,
				TargetUnion: &pb.Compare_Value{Value: []byte(seen.value)}}},
			Success: []*pb.RequestOp{putOp(key, value)},
		}
	case p >= w.SGet+w.Get+w.Put+w.Delete+w.CAS+w.Update: // Settings.Validate: keys > 1
		// Two keys in one Txn: one revision for both.
		other := fmt.Sprintf("k%d", (k+1+cl.rng.IntN(s.Keys-1))%s.Keys)
		op.Kind, op.Keys, op.Values = checker.TxnPuts, []string{op.Key, other}, []string{value, value}
		req.Txn = &pb.TxnRequest{Success: []*pb.RequestOp{putOp(key, value), putOp([]byte(other), value)}}
	default:
		// kube-apiserver's GuaranteedUpdate: put if nobody wrote the key
		// since the client read it, else read it again.
		op.Kind, op.Value = checker.CASRev, value
		if known && seen.exists {
			op.ExpectModRev = seen.modRev
		}
		req.Txn = &pb.TxnRequest{
			Compare: []*pb.Compare{{Key: key, Target: pb.Compare_MOD, Result: pb.Compare_EQUAL,
				TargetUnion: &pb.Compare_ModRevision{ModRevision: op.ExpectModRev}}},
			Success: []*pb.RequestOp{putOp(key, value)},
			Failure: []*pb.RequestOp{{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: key}}}},
		}
	}
	cl.op = &call{op: op, req: req, deadline: now + s.ClientTimeout}
	op0 := cl.op
	cl.c.sim.At(cl.op.deadline, func() {
		if cl.op == op0 {
			cl.finish(checker.Unknown, "client timeout")
		}
	})
	cl.send()
}

// send makes an attempt on the next ready endpoint; with none ready it
// waits for the first to come out of backoff, as clientv3's WaitForReady
// calls do.
func (cl *client) send() {
	now := cl.c.sim.Now()
	var ep *endpoint
	soonest := time.Duration(-1)
	for i := range cl.endpoints {
		e := cl.endpoints[(cl.next+i)%len(cl.endpoints)]
		if e.downUntil <= now {
			ep = e
			cl.next = (cl.next + i + 1) % len(cl.endpoints)
			break
		}
		if soonest < 0 || e.downUntil < soonest {
			soonest = e.downUntil
		}
	}
	op := cl.op
	if ep == nil {
		cl.c.sim.At(soonest, func() {
			if cl.op == op && op.attempt == 0 {
				cl.send()
			}
		})
		return
	}
	cl.seq++
	op.req.ID = requestID(clientIDs, cl.id, cl.seq)
	op.attempt, op.to = op.req.ID, ep.addr
	op.attempts = append(op.attempts, op.req.ID)
	cl.c.unsettled[op.req.ID] = true
	desc := func() string {
		if op.retries > 0 {
			return fmt.Sprintf("%s #%x (retry %d)", node.DescribeRequest(op.req), op.req.ID, op.retries)
		}
		return fmt.Sprintf("%s #%x", node.DescribeRequest(op.req), op.req.ID)
	}
	cl.c.net.Send(cl.addr, ep.addr, desc, append([]byte{wireRequest}, op.req.Marshal()...))
}

// retry sends the operation again after clientv3's short wait, if it is
// safe and time remains.
func (cl *client) retry(why string) {
	op := cl.op
	op.attempt = 0
	if op.retries >= maxRetries {
		cl.finish(checker.Unknown, why+"; out of retries")
		return
	}
	op.retries++
	wait := time.Duration(float64(retryWait) * (1 + retryJitter*(2*cl.rng.Float64()-1)))
	cl.c.sim.Logf(string(cl.addr), "%s: %s; retrying in %v", describeOp(op.op), why, wait.Round(time.Microsecond))
	cl.c.sim.After(wait, func() {
		if cl.op == op {
			cl.send()
		}
	})
}

// refused is the network saying the member's process was down: the
// request never reached a server, so any request may go elsewhere.
func (cl *client) refused(to network.Addr, payload []byte) {
	if cl.op == nil || cl.op.to != to || cl.op.attempt == 0 {
		return
	}
	req, err := api.UnmarshalRequest(payload[1:])
	if err != nil || req.ID != cl.op.attempt {
		return
	}
	if ep := cl.endpoint(to); ep != nil {
		ep.backoff = min(max(backoffBase, time.Duration(float64(ep.backoff)*backoffMultiplier)), backoffMax)
		jittered := time.Duration(float64(ep.backoff) * (1 + backoffJitter*(2*cl.rng.Float64()-1)))
		ep.downUntil = cl.c.sim.Now() + jittered
		cl.c.sim.Logf(string(cl.addr), "%s refused the connection; backing off %v", to, jittered.Round(time.Millisecond))
	}
	cl.op.attempt = 0
	cl.send()
}

// connectionLost is a member crashing while the client waits on it: the
// connection resets. A read is retried; a write may have been applied, so
// its outcome is unknown.
func (cl *client) connectionLost(member network.Addr) {
	if cl.op == nil || cl.op.to != member || cl.op.attempt == 0 {
		return
	}
	op := cl.op
	attempt := op.attempt
	cl.c.sim.After(cl.c.settings.Link.Latency, func() {
		if cl.op != op || op.attempt != attempt {
			return
		}
		if op.op.Kind == checker.Get {
			cl.retry("connection reset by " + string(member))
			return
		}
		cl.finish(checker.Unknown, "connection reset by "+string(member))
	})
}

// endpoint is the client's connection to member a, nil if the client no
// longer lists it (a removed member's last answers can still arrive).
func (cl *client) endpoint(a network.Addr) *endpoint {
	for _, e := range cl.endpoints {
		if e.addr == a {
			return e
		}
	}
	return nil
}

func (cl *client) receive(from network.Addr, payload []byte) {
	if len(payload) == 0 || payload[0] != wireResponse {
		return
	}
	resp, err := api.UnmarshalResponse(payload[1:])
	if err != nil || cl.op == nil || cl.op.attempt != resp.ID {
		return // late, duplicated or garbled: the client has moved on
	}
	if e := cl.endpoint(from); e != nil {
		e.backoff = 0
	}
	op := &cl.op.op
	op.Member, op.Term, op.Rev = resp.Header.MemberId, resp.Header.RaftTerm, resp.Header.Revision
	if resp.Err != nil {
		op.Err = resp.Err.Error()
	}
	switch {
	case op.Kind == checker.Get && unavailable(resp.Err):
		cl.retry(resp.Err.Error())
	case resp.Err == api.ErrProposalDropped, resp.Err == api.ErrNotSupportedForLearner, refusedBeforeApply(resp.Err):
		// Refused before anything was proposed: the write did not happen.
		cl.finish(checker.Failed, resp.Err.Error())
	case resp.Err != nil:
		cl.finish(checker.Unknown, resp.Err.Error())
	case resp.Range != nil:
		cl.sawRange(op, resp.Range)
		cl.finish(checker.OK, fmt.Sprintf("n%d, rev %d", resp.Header.MemberId, resp.Header.Revision))
	case resp.Txn != nil && op.Kind == checker.TxnPuts:
		op.Found = resp.Txn.Succeeded
		for i, k := range op.Keys {
			cl.seen[k] = seenKey{exists: true, value: op.Values[i], modRev: resp.Header.Revision}
		}
		cl.finish(checker.OK, fmt.Sprintf("n%d, rev %d", resp.Header.MemberId, resp.Header.Revision))
	case resp.Txn != nil:
		op.Found = resp.Txn.Succeeded
		if op.Found {
			cl.seen[op.Key] = seenKey{exists: true, value: op.Value, modRev: resp.Header.Revision}
		} else if rs := resp.Txn.Responses; len(rs) == 1 && rs[0].GetResponseRange() != nil {
			read := checker.Operation{Key: op.Key}
			cl.sawRange(&read, rs[0].GetResponseRange())
		}
		cl.finish(checker.OK, fmt.Sprintf("n%d, succeeded %v, rev %d", resp.Header.MemberId, op.Found, resp.Header.Revision))
	case resp.Put != nil:
		cl.seen[op.Key] = seenKey{exists: true, value: op.Value, modRev: resp.Header.Revision}
		cl.finish(checker.OK, fmt.Sprintf("n%d, rev %d", resp.Header.MemberId, resp.Header.Revision))
	case resp.DeleteRange != nil:
		op.Found = resp.DeleteRange.Deleted > 0
		cl.seen[op.Key] = seenKey{}
		cl.finish(checker.OK, fmt.Sprintf("n%d, deleted %d, rev %d", resp.Header.MemberId, resp.DeleteRange.Deleted, resp.Header.Revision))
	default:
		cl.finish(checker.OK, fmt.Sprintf("n%d, rev %d", resp.Header.MemberId, resp.Header.Revision))
	}
}

// sawRange records a read of the operation's key: in the operation, and
// in what the client knows of the key.
func (cl *client) sawRange(op *checker.Operation, r *pb.RangeResponse) {
	if len(r.Kvs) == 0 {
		cl.seen[op.Key] = seenKey{}
		return
	}
	kv := r.Kvs[0]
	op.Found, op.Result = true, string(kv.Value)
	op.ModRev, op.CreateRev, op.Version = kv.ModRevision, kv.CreateRevision, kv.Version
	cl.seen[string(kv.Key)] = seenKey{exists: true, value: op.Result, modRev: kv.ModRevision}
}

func putOp(key []byte, value string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: key, Value: []byte(value)}}}
}

// Request IDs are unique in the run: the top bits name the kind of
// actor, the next its number, the low 32 bits count its requests (the
// admin's are below 2^32). The applied log is matched to clients by
// them.
const (
	clientIDs uint64 = iota + 1
	watcherIDs
	leaseHolderIDs
)

func requestID(kind uint64, actor int, seq uint64) uint64 {
	return kind<<56 | uint64(actor)<<32 | seq
}

// refusedBeforeApply reports the errors that say the request changed
// nothing: refused on arrival (a malformed request) or by the apply (a
// compacted revision, a missing lease). NOSPACE is not one: etcd's quota
// applier answers it for writes it made, so the client cannot know.
func refusedBeforeApply(err error) bool {
	switch err {
	case api.ErrCompacted, api.ErrFutureRev, api.ErrLeaseNotFound, api.ErrKeyNotFound,
		api.ErrEmptyKey, api.ErrTooManyOps, api.ErrDuplicateKey, api.ErrRequestTooLarge, api.ErrValueProvided, api.ErrLeaseProvided:
		return true
	}
	return false
}

// unavailable reports the errors etcd sends with gRPC's Unavailable code
// (api/v3rpc/rpctypes): the ones clientv3 retries a read after.
func unavailable(err error) bool {
	return err == api.ErrLeaderChanged || err == api.ErrTimeout || err == api.ErrStopped || err == api.ErrNotSupportedForLearner
}

func (cl *client) finish(outcome checker.Outcome, detail string) {
	op := cl.op.op
	op.Return, op.Outcome = cl.c.sim.Now(), outcome
	if outcome != checker.OK {
		delete(cl.seen, op.Key) // a write may or may not have changed it
	}
	if outcome == checker.Unknown && op.Kind != checker.Get {
		cl.c.openWrites = append(cl.c.openWrites, openWrite{op: len(cl.c.history), attempts: cl.op.attempts})
	} else {
		for _, id := range cl.op.attempts {
			delete(cl.c.unsettled, id)
			delete(cl.c.appliedWrites, id)
		}
	}
	cl.op = nil
	cl.c.history = append(cl.c.history, op)
	cl.c.sim.Logf(string(cl.addr), "%s: %s (%s, %v)", describeOp(op), outcome, detail, op.Return-op.Call)
	cl.c.sim.After(cl.think(), cl.issue)
}

// endClients closes the history when the run stops: an operation still
// waiting then has an unknown outcome, and must stay in the history, since
// a write may have taken effect that a recorded read has seen.
func (c *Cluster) endClients() {
	for _, cl := range c.clients {
		if cl.op != nil {
			cl.finish(checker.Unknown, "run ended")
		}
	}
}

func describeOp(op checker.Operation) string {
	switch op.Kind {
	case checker.Put:
		return fmt.Sprintf("put %s=%s", op.Key, op.Value)
	case checker.Get:
		if op.Outcome == checker.OK && !op.Found {
			return fmt.Sprintf("get %s -> not found", op.Key)
		}
		if op.Outcome == checker.OK {
			return fmt.Sprintf("get %s -> %s", op.Key, op.Result)
		}
		return "get " + op.Key
	case checker.CAS:
		return fmt.Sprintf("cas %s %s->%s", op.Key, op.Expect, op.Value)
	case checker.CASRev:
		return fmt.Sprintf("update %s@%d=%s", op.Key, op.ExpectModRev, op.Value)
	case checker.TxnPuts:
		return fmt.Sprintf("txn %s=%s", strings.Join(op.Keys, ","), op.Values[0])
	default:
		return "delete " + op.Key
	}
}
