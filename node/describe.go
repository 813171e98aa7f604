package node

import (
	"fmt"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdlab/etcdlab/node/api"
)

// DescribeRequest is a request in a few words, for traces: "put k1=c2-7",
// "range k0 (serializable)", "txn if mod(k1)=7 then put k1=x else range k1".
func DescribeRequest(req *api.Request) string {
	switch {
	case req.Range != nil:
		return describeRange(req.Range)
	case req.Put != nil:
		return describePut(req.Put)
	case req.DeleteRange != nil:
		return "delete " + keyRange(req.DeleteRange.Key, req.DeleteRange.RangeEnd)
	case req.Txn != nil:
		return describeTxn(req.Txn)
	case req.Compact != nil:
		return fmt.Sprintf("compact %d", req.Compact.Revision)
	case req.LeaseGrant != nil:
		return fmt.Sprintf("lease-grant %x ttl %ds", req.LeaseGrant.ID, req.LeaseGrant.TTL)
	case req.LeaseRevoke != nil:
		return fmt.Sprintf("lease-revoke %x", req.LeaseRevoke.ID)
	case req.LeaseKeepAlive != nil:
		return fmt.Sprintf("lease-keepalive %x", req.LeaseKeepAlive.ID)
	case req.LeaseTimeToLive != nil:
		return fmt.Sprintf("lease-timetolive %x", req.LeaseTimeToLive.ID)
	case req.Watch != nil:
		return describeWatch(req.Watch)
	case req.Alarm != nil:
		return "alarm " + strings.ToLower(req.Alarm.Action.String()) + " " + req.Alarm.Alarm.String()
	}
	return req.Op()
}

func describeRange(r *pb.RangeRequest) string {
	s := "range " + keyRange(r.Key, r.RangeEnd)
	if r.Revision != 0 {
		s += fmt.Sprintf(" @%d", r.Revision)
	}
	if r.Limit != 0 {
		s += fmt.Sprintf(" limit %d", r.Limit)
	}
	if r.CountOnly {
		s += " count"
	}
	if r.Serializable {
		s += " (serializable)"
	}
	return s
}

func describePut(r *pb.PutRequest) string {
	s := "put " + string(r.Key) + "=" + string(r.Value)
	if r.Lease != 0 {
		s += fmt.Sprintf(" lease %x", r.Lease)
	}
	return s
}

func describeTxn(t *pb.TxnRequest) string {
	var b strings.Builder
	b.WriteString("txn")
	if len(t.Compare) > 0 {
		cmps := make([]string, len(t.Compare))
		for i, c := range t.Compare {
			cmps[i] = describeCompare(c)
		}
		b.WriteString(" if " + strings.Join(cmps, " and "))
	}
	b.WriteString(" then " + describeOps(t.Success))
	if len(t.Failure) > 0 {
		b.WriteString(" else " + describeOps(t.Failure))
	}
	return b.String()
}

func describeCompare(c *pb.Compare) string {
	op := map[pb.Compare_CompareResult]string{pb.Compare_EQUAL: "=", pb.Compare_GREATER: ">",
		pb.Compare_LESS: "<", pb.Compare_NOT_EQUAL: "!="}[c.Result]
	key := keyRange(c.Key, c.RangeEnd)
	switch c.Target {
	case pb.Compare_VERSION:
		return fmt.Sprintf("version(%s)%s%d", key, op, c.GetVersion())
	case pb.Compare_CREATE:
		return fmt.Sprintf("create(%s)%s%d", key, op, c.GetCreateRevision())
	case pb.Compare_MOD:
		return fmt.Sprintf("mod(%s)%s%d", key, op, c.GetModRevision())
	case pb.Compare_LEASE:
		return fmt.Sprintf("lease(%s)%s%x", key, op, c.GetLease())
	}
	return fmt.Sprintf("value(%s)%s%q", key, op, c.GetValue())
}

func describeOps(ops []*pb.RequestOp) string {
	if len(ops) == 0 {
		return "nothing"
	}
	out := make([]string, len(ops))
	for i, op := range ops {
		switch {
		case op.GetRequestRange() != nil:
			out[i] = describeRange(op.GetRequestRange())
		case op.GetRequestPut() != nil:
			out[i] = describePut(op.GetRequestPut())
		case op.GetRequestDeleteRange() != nil:
			out[i] = "delete " + keyRange(op.GetRequestDeleteRange().Key, op.GetRequestDeleteRange().RangeEnd)
		case op.GetRequestTxn() != nil:
			out[i] = "(" + describeTxn(op.GetRequestTxn()) + ")"
		}
	}
	return strings.Join(out, ", ")
}

func describeWatch(w *pb.WatchRequest) string {
	switch {
	case w.GetCreateRequest() != nil:
		c := w.GetCreateRequest()
		s := "watch " + keyRange(c.Key, c.RangeEnd)
		if c.StartRevision != 0 {
			s += fmt.Sprintf(" from %d", c.StartRevision)
		}
		return s
	case w.GetCancelRequest() != nil:
		return fmt.Sprintf("watch-cancel %d", w.GetCancelRequest().WatchId)
	}
	return "watch-progress"
}

// keyRange writes a key, or a range [key, end) as key..end, with etcd's
// "\x00" end (every key from key on) as key.. .
func keyRange(key, end []byte) string {
	switch {
	case len(end) == 0:
		return string(key)
	case string(end) == "\x00":
		return string(key) + ".."
	}
	return string(key) + ".." + string(end)
}
