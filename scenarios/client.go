package scenarios

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/etcdlab/etcdlab/checker"
	"github.com/etcdlab/etcdlab/network"
	"github.com/etcdlab/etcdlab/node"
	"github.com/etcdlab/etcdlab/node/api"
)

// client is a closed-loop etcd client: one operation at a time, a random
// mix of puts, gets and deletes on a small key space. Like clientv3 since
// v3.4, whose gRPC balancer is round robin, it sends each request to the
// next member in turn. A partitioned member still accepts connections, so
// the balancer keeps sending it requests, which then time out.
type client struct {
	c        *Cluster
	id       int
	addr     network.Addr
	rng      *rand.Rand
	endpoint int // the member the next request goes to, an index into the cluster's members
	seq      uint64
	inflight *call
}

// call is the operation a client is waiting on.
type call struct {
	reqID uint64
	op    checker.Operation
}

func newClient(c *Cluster, id int) *client {
	cl := &client{
		c:        c,
		id:       id,
		addr:     network.Addr(fmt.Sprintf("c%d", id)),
		rng:      c.sim.Rand(fmt.Sprintf("client/%d", id)),
		endpoint: (id - 1) % len(c.members),
	}
	c.net.Attach(cl.addr, cl.receive)
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
	if cl.c.sim.Now() >= s.Duration-s.Settle {
		return
	}
	cl.seq++
	req := &api.Request{ID: uint64(cl.id)<<32 | cl.seq}
	op := checker.Operation{Client: cl.id, Key: fmt.Sprintf("k%d", cl.rng.IntN(s.Keys)), Call: cl.c.sim.Now()}
	switch p := cl.rng.IntN(100); {
	case p < 45:
		op.Kind = checker.Get
		req.Range = &api.RangeRequest{Key: op.Key}
	case p < 90:
		op.Kind, op.Value = checker.Put, fmt.Sprintf("c%d-%d", cl.id, cl.seq)
		req.Put = &api.PutRequest{Key: op.Key, Value: op.Value}
	default:
		op.Kind = checker.Delete
		req.DeleteRange = &api.DeleteRangeRequest{Key: op.Key}
	}
	cl.inflight = &call{reqID: req.ID, op: op}
	to := cl.c.members[cl.endpoint].addr
	cl.endpoint = (cl.endpoint + 1) % len(cl.c.members)
	cl.c.net.Send(cl.addr, to, fmt.Sprintf("%s #%x", node.DescribeRequest(req), req.ID), append([]byte{wireRequest}, req.Marshal()...))
	reqID := req.ID
	cl.c.sim.After(s.ClientTimeout, func() { cl.giveUp(reqID) })
}

// giveUp ends an operation whose reply did not come in time: the client
// cannot know whether it took effect.
func (cl *client) giveUp(reqID uint64) {
	if cl.inflight == nil || cl.inflight.reqID != reqID {
		return
	}
	cl.finish(checker.Unknown, "timed out")
}

func (cl *client) receive(from network.Addr, payload []byte) {
	if len(payload) == 0 || payload[0] != wireResponse {
		return
	}
	resp, err := api.UnmarshalResponse(payload[1:])
	if err != nil || cl.inflight == nil || cl.inflight.reqID != resp.ID {
		return // late, duplicated or garbled: the client has moved on
	}
	op := &cl.inflight.op
	switch {
	case resp.Err == api.ErrProposalDropped:
		cl.finish(checker.Failed, resp.Err.Error())
	case resp.Err != nil:
		cl.finish(checker.Unknown, resp.Err.Error())
	case resp.Range != nil:
		if len(resp.Range.KVs) > 0 {
			op.Found, op.Result = true, resp.Range.KVs[0].Value
		}
		cl.finish(checker.OK, fmt.Sprintf("rev %d", resp.Header.Revision))
	case resp.DeleteRange != nil:
		op.Found = resp.DeleteRange.Deleted > 0
		cl.finish(checker.OK, fmt.Sprintf("deleted %d, rev %d", resp.DeleteRange.Deleted, resp.Header.Revision))
	default:
		cl.finish(checker.OK, fmt.Sprintf("rev %d", resp.Header.Revision))
	}
}

func (cl *client) finish(outcome checker.Outcome, detail string) {
	op := cl.inflight.op
	op.Return, op.Outcome = cl.c.sim.Now(), outcome
	cl.inflight = nil
	cl.c.history = append(cl.c.history, op)
	cl.c.sim.Logf(string(cl.addr), "%s: %s (%s, %v)", describeOp(op), outcome, detail, op.Return-op.Call)
	cl.c.sim.After(cl.think(), cl.issue)
}

// endClients closes the history when the run stops: an operation still
// waiting then has an unknown outcome, and must stay in the history, since
// a write may have taken effect that a recorded read has seen.
func (c *Cluster) endClients() {
	for _, cl := range c.clients {
		if cl.inflight != nil {
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
	default:
		return "delete " + op.Key
	}
}
