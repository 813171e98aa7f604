package txn

import (
	"errors"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdlab/etcdlab/node/mvcc"
)

// DefaultMaxTxnOps is etcd's --max-txn-ops default.
const DefaultMaxTxnOps = 128

// The checks etcd's gRPC KV server (v3rpc/key.go) makes before a request
// goes to raft. They return the errors a client sees (rpctypes).

// CheckRangeRequest is etcd's checkRangeRequest.
func CheckRangeRequest(r *pb.RangeRequest) error {
	if len(r.Key) == 0 {
		return rpctypes.ErrEmptyKey
	}
	if _, ok := pb.RangeRequest_SortOrder_name[int32(r.SortOrder)]; !ok {
		return rpctypes.ErrInvalidSortOption
	}
	if _, ok := pb.RangeRequest_SortTarget_name[int32(r.SortTarget)]; !ok {
		return rpctypes.ErrInvalidSortOption
	}
	return nil
}

// CheckPutRequest is etcd's checkPutRequest.
func CheckPutRequest(r *pb.PutRequest) error {
	if len(r.Key) == 0 {
		return rpctypes.ErrEmptyKey
	}
	if r.IgnoreValue && len(r.Value) != 0 {
		return rpctypes.ErrValueProvided
	}
	if r.IgnoreLease && r.Lease != 0 {
		return rpctypes.ErrLeaseProvided
	}
	return nil
}

// CheckDeleteRequest is etcd's checkDeleteRequest.
func CheckDeleteRequest(r *pb.DeleteRangeRequest) error {
	if len(r.Key) == 0 {
		return rpctypes.ErrEmptyKey
	}
	return nil
}

// CheckTxnRequest is what etcd's kvServer.Txn checks: checkTxnRequest
// (sizes against maxTxnOps, every op), then checkIntervals on both
// branches (no key put twice, or put and deleted, in one txn).
func CheckTxnRequest(r *pb.TxnRequest, maxTxnOps int) error {
	if err := checkTxnRequest(r, maxTxnOps); err != nil {
		return err
	}
	// check for forbidden put/del overlaps after checking request to avoid quadratic blowup
	if _, _, err := checkIntervals(r.Success); err != nil {
		return err
	}
	if _, _, err := checkIntervals(r.Failure); err != nil {
		return err
	}
	return nil
}

func checkTxnRequest(r *pb.TxnRequest, maxTxnOps int) error {
	opc := len(r.Compare)
	if opc < len(r.Success) {
		opc = len(r.Success)
	}
	if opc < len(r.Failure) {
		opc = len(r.Failure)
	}
	if opc > maxTxnOps {
		return rpctypes.ErrTooManyOps
	}
	for _, c := range r.Compare {
		if len(c.Key) == 0 {
			return rpctypes.ErrEmptyKey
		}
	}
	for _, u := range r.Success {
		if err := checkRequestOp(u, maxTxnOps-opc); err != nil {
			return err
		}
	}
	for _, u := range r.Failure {
		if err := checkRequestOp(u, maxTxnOps-opc); err != nil {
			return err
		}
	}
	return nil
}

func checkRequestOp(u *pb.RequestOp, maxTxnOps int) error {
	// TODO: ensure only one of the field is set.
	switch uv := u.Request.(type) {
	case *pb.RequestOp_RequestRange:
		return CheckRangeRequest(uv.RequestRange)
	case *pb.RequestOp_RequestPut:
		return CheckPutRequest(uv.RequestPut)
	case *pb.RequestOp_RequestDeleteRange:
		return CheckDeleteRequest(uv.RequestDeleteRange)
	case *pb.RequestOp_RequestTxn:
		return checkTxnRequest(uv.RequestTxn, maxTxnOps)
	default:
		// empty op / nil entry
		return rpctypes.ErrKeyNotFound
	}
}

// checkIntervals tests whether puts and deletes overlap for a list of
// ops. If there is an overlap, returns an error. If no overlap, return put
// and delete sets for recursive evaluation.
//
// etcd keeps the deletes in an interval tree of "affine" strings (an empty
// end is +infinity); a list with the same comparisons gives the same
// answers. As in etcd, a delete whose range end is "\x00" (every key >=
// key) is the interval [key, "\x00"), which holds no key, so it never
// conflicts with a put.
func checkIntervals(reqs []*pb.RequestOp) (map[string]struct{}, *intervals, error) {
	dels := &intervals{}

	// collect deletes from this level; build first to check lower level overlapped puts
	for _, req := range reqs {
		tv, ok := req.Request.(*pb.RequestOp_RequestDeleteRange)
		if !ok {
			continue
		}
		dreq := tv.RequestDeleteRange
		if dreq == nil {
			continue
		}
		if len(dreq.RangeEnd) != 0 {
			dels.insert(string(dreq.Key), string(dreq.RangeEnd))
		} else {
			dels.insertPoint(string(dreq.Key))
		}
	}

	// collect children puts/deletes
	puts := make(map[string]struct{})
	for _, req := range reqs {
		tv, ok := req.Request.(*pb.RequestOp_RequestTxn)
		if !ok {
			continue
		}
		putsThen, delsThen, err := checkIntervals(tv.RequestTxn.Success)
		if err != nil {
			return nil, dels, err
		}
		putsElse, delsElse, err := checkIntervals(tv.RequestTxn.Failure)
		if err != nil {
			return nil, dels, err
		}
		for k := range putsThen { //lint:allow maprange the outcome is one error value or none, the same in any order
			if _, ok := puts[k]; ok {
				return nil, dels, rpctypes.ErrDuplicateKey
			}
			if dels.intersectsPoint(k) {
				return nil, dels, rpctypes.ErrDuplicateKey
			}
			puts[k] = struct{}{}
		}
		for k := range putsElse { //lint:allow maprange the outcome is one error value or none, the same in any order
			if _, ok := puts[k]; ok {
				// if key is from putsThen, overlap is OK since
				// either then/else are mutually exclusive
				if _, isSafe := putsThen[k]; !isSafe {
					return nil, dels, rpctypes.ErrDuplicateKey
				}
			}
			if dels.intersectsPoint(k) {
				return nil, dels, rpctypes.ErrDuplicateKey
			}
			puts[k] = struct{}{}
		}
		dels.union(delsThen)
		dels.union(delsElse)
	}

	// collect and check this level's puts
	for _, req := range reqs {
		tv, ok := req.Request.(*pb.RequestOp_RequestPut)
		if !ok || tv.RequestPut == nil {
			continue
		}
		k := string(tv.RequestPut.Key)
		if _, ok := puts[k]; ok {
			return nil, dels, rpctypes.ErrDuplicateKey
		}
		if dels.intersectsPoint(k) {
			return nil, dels, rpctypes.ErrDuplicateKey
		}
		puts[k] = struct{}{}
	}
	return puts, dels, nil
}

// intervals is a list of [begin, end) ranges of keys, compared as etcd's
// adt.StringAffineComparable (an empty string is larger than any other).
type intervals struct{ ivs [][2]string }

func (d *intervals) insert(begin, end string) { d.ivs = append(d.ivs, [2]string{begin, end}) }

// insertPoint is adt.NewStringAffinePoint: [key, key+"\x00").
func (d *intervals) insertPoint(key string) { d.insert(key, key+"\x00") }

// union adds every interval of o (etcd unions over ["\x00", +inf), which
// every non-empty key is in).
func (d *intervals) union(o *intervals) { d.ivs = append(d.ivs, o.ivs...) }

// intersectsPoint reports whether key lies in one of the intervals: the
// interval is not wholly left of [key, key+"\x00") nor key at or past its
// end (adt.Interval.Compare).
func (d *intervals) intersectsPoint(key string) bool {
	for _, iv := range d.ivs {
		if affineCompare(key, iv[0]) >= 0 && affineCompare(key, iv[1]) < 0 {
			return true
		}
	}
	return false
}

func affineCompare(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	case a < b:
		return -1
	}
	return 1
}

// ToRPCError is the error a client sees for an error of the apply
// functions, as etcd's v3rpc togRPCError maps them; others pass through.
func ToRPCError(err error) error {
	switch {
	case errors.Is(err, mvcc.ErrCompacted):
		return rpctypes.ErrCompacted
	case errors.Is(err, mvcc.ErrFutureRev):
		return rpctypes.ErrFutureRev
	case errors.Is(err, ErrKeyNotFound):
		return rpctypes.ErrKeyNotFound
	case errors.Is(err, ErrLeaseNotFound):
		return rpctypes.ErrLeaseNotFound
	}
	return err
}
