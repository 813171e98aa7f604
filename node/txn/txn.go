// Package txn applies KV requests to the store: etcd's
// server/etcdserver/txn (Put, DeleteRange, Range, Txn) on node/mvcc, and
// the checks etcd's gRPC KV server makes when a request arrives
// (v3rpc/key.go).
//
// Responses are etcd's etcdserverpb messages. The top-level Header is
// left nil: the node fills it (revision, raft term, member id); its
// revision is the store's revision right after the call. Responses nested
// in a Txn carry the header etcd gives them (the revision only).
package txn

import (
	"bytes"
	"errors"
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdlab/etcdlab/node/mvcc"
)

// Errors etcd's apply returns, with etcd's texts. The node answers a
// client with ToRPCError of them.
var (
	// ErrKeyNotFound is etcd's server/etcdserver/errors.ErrKeyNotFound:
	// ignore_value or ignore_lease on a key that does not exist.
	ErrKeyNotFound = errors.New("etcdserver: key not found")
	// ErrLeaseNotFound is etcd's lease.ErrLeaseNotFound: a put names a
	// lease the lessor does not have.
	ErrLeaseNotFound = errors.New("lease not found")
)

// Lessor is what applying KV requests needs of the lessor (etcd's
// lease.Lessor, reduced): whether a lease exists, and keeping its set of
// keys up to date as puts and deletes move keys between leases. A nil
// Lessor means no lease exists.
type Lessor interface {
	// Lookup reports whether the lease exists.
	Lookup(id int64) bool
	// Attach adds key to the lease's items; it fails only if the lease
	// does not exist (checked before any write, so etcd panics then).
	Attach(id int64, key []byte) error
	// Detach removes key from the lease's items.
	Detach(id int64, key []byte)
}

// KV is the store as Txn uses it; *mvcc.Store is one.
type KV interface {
	Read() mvcc.TxnRead
	Write() mvcc.TxnWrite
}

// Txn is etcd's txn.Txn: evaluate the compares on a read view, check the
// requests of the chosen branches (so a failing one changes nothing),
// then run them in one write txn, all writes under one revision, or in
// the read txn if the request only reads.
func Txn(kv KV, rt *pb.TxnRequest, lessor Lessor) (*pb.TxnResponse, error) {
	isWrite := !IsTxnReadonly(rt)
	txnRead := kv.Read()
	txnPath := compareToPath(txnRead, rt)
	if _, err := checkTxn(txnRead, rt, lessor, txnPath); err != nil {
		txnRead.End()
		return nil, err
	}
	// Writes are serialized on the apply loop, so the read view and the
	// write txn see the same revision.
	var txnWrite mvcc.TxnWrite
	if isWrite {
		txnRead.End()
		txnWrite = kv.Write()
	} else {
		txnWrite = readOnlyTxnWrite{txnRead}
	}
	txnResp, err := txn(txnWrite, rt, isWrite, txnPath, lessor)
	txnWrite.End()
	if err != nil {
		return nil, err
	}
	txnResp.Header = nil // the node fills it
	return txnResp, nil
}

func txn(txnWrite mvcc.TxnWrite, rt *pb.TxnRequest, isWrite bool, txnPath []bool, lessor Lessor) (*pb.TxnResponse, error) {
	txnResp, _ := newTxnResp(rt, txnPath)
	if _, err := executeTxn(txnWrite, rt, txnPath, txnResp, lessor); err != nil {
		if isWrite {
			// etcd: a txn with writes that fails half way would leave
			// members apart, so it crashes rather than go on.
			panic(fmt.Sprintf("txn: unexpected error during txn with writes: %v", err))
		}
		return nil, err
	}
	return txnResp, nil
}

// newTxnResp allocates the responses of the branches taken, nested txns
// included, as etcd does.
func newTxnResp(rt *pb.TxnRequest, txnPath []bool) (txnResp *pb.TxnResponse, txnCount int) {
	reqs := rt.Success
	if !txnPath[0] {
		reqs = rt.Failure
	}
	resps := make([]*pb.ResponseOp, len(reqs))
	txnResp = &pb.TxnResponse{
		Responses: resps,
		Succeeded: txnPath[0],
		Header:    &pb.ResponseHeader{},
	}
	for i, req := range reqs {
		switch tv := req.Request.(type) {
		case *pb.RequestOp_RequestRange:
			resps[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseRange{}}
		case *pb.RequestOp_RequestPut:
			resps[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponsePut{}}
		case *pb.RequestOp_RequestDeleteRange:
			resps[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseDeleteRange{}}
		case *pb.RequestOp_RequestTxn:
			resp, txns := newTxnResp(tv.RequestTxn, txnPath[1:])
			resps[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseTxn{ResponseTxn: resp}}
			txnPath = txnPath[1+txns:]
			txnCount += txns + 1
		default:
			// empty union
		}
	}
	return txnResp, txnCount
}

func executeTxn(txnWrite mvcc.TxnWrite, rt *pb.TxnRequest, txnPath []bool, tresp *pb.TxnResponse, lessor Lessor) (txns int, err error) {
	reqs := rt.Success
	if !txnPath[0] {
		reqs = rt.Failure
	}
	for i, req := range reqs {
		respi := tresp.Responses[i].Response
		switch tv := req.Request.(type) {
		case *pb.RequestOp_RequestRange:
			resp, err := executeRange(txnWrite, tv.RequestRange)
			if err != nil {
				return 0, fmt.Errorf("applyTxn: failed Range: %w", err)
			}
			respi.(*pb.ResponseOp_ResponseRange).ResponseRange = resp
		case *pb.RequestOp_RequestPut:
			prevKV, err := getPrevKV(txnWrite, tv.RequestPut, lessor)
			if err != nil {
				return 0, fmt.Errorf("applyTxn: failed to get prevKV on put: %w", err)
			}
			respi.(*pb.ResponseOp_ResponsePut).ResponsePut = put(txnWrite, tv.RequestPut, prevKV, lessor)
		case *pb.RequestOp_RequestDeleteRange:
			resp, err := deleteRange(txnWrite, tv.RequestDeleteRange, lessor)
			if err != nil {
				return 0, fmt.Errorf("applyTxn: failed DeleteRange: %w", err)
			}
			respi.(*pb.ResponseOp_ResponseDeleteRange).ResponseDeleteRange = resp
		case *pb.RequestOp_RequestTxn:
			resp := respi.(*pb.ResponseOp_ResponseTxn).ResponseTxn
			applyTxns, err := executeTxn(txnWrite, tv.RequestTxn, txnPath[1:], resp, lessor)
			if err != nil {
				// don't wrap the error. It's a recursive call and err should be already wrapped
				return 0, err
			}
			txns += applyTxns + 1
			txnPath = txnPath[applyTxns+1:]
		default:
			// empty union
		}
	}
	return txns, nil
}

// checkTxn checks the requests of the branches taken (etcd v3.7 checks
// only those): a range's revision, a put's lease and ignore flags.
func checkTxn(rv mvcc.ReadView, rt *pb.TxnRequest, lessor Lessor, txnPath []bool) (int, error) {
	txnCount := 0
	reqs := rt.Success
	if !txnPath[0] {
		reqs = rt.Failure
	}
	for _, req := range reqs {
		var err error
		var txns int
		switch tv := req.Request.(type) {
		case *pb.RequestOp_RequestRange:
			err = checkRange(rv, tv.RequestRange)
		case *pb.RequestOp_RequestPut:
			err = checkPut(rv, lessor, tv.RequestPut)
		case *pb.RequestOp_RequestDeleteRange:
		case *pb.RequestOp_RequestTxn:
			txns, err = checkTxn(rv, tv.RequestTxn, lessor, txnPath[1:])
			txnCount += txns + 1
			txnPath = txnPath[txns+1:]
		default:
			// empty union
		}
		if err != nil {
			return 0, err
		}
	}
	return txnCount, nil
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	default:
		return 0
	}
}

// compareToPath evaluates the compares of the txn and of every nested txn
// on the branches taken, depth first: the path executeTxn follows.
func compareToPath(rv mvcc.ReadView, rt *pb.TxnRequest) []bool {
	txnPath := make([]bool, 1)
	ops := rt.Success
	if txnPath[0] = applyCompares(rv, rt.Compare); !txnPath[0] {
		ops = rt.Failure
	}
	for _, op := range ops {
		tv, ok := op.Request.(*pb.RequestOp_RequestTxn)
		if !ok || tv.RequestTxn == nil {
			continue
		}
		txnPath = append(txnPath, compareToPath(rv, tv.RequestTxn)...)
	}
	return txnPath
}

func applyCompares(rv mvcc.ReadView, cmps []*pb.Compare) bool {
	for _, c := range cmps {
		if !applyCompare(rv, c) {
			return false
		}
	}
	return true
}

// applyCompare applies the compare request. If the comparison succeeds,
// it returns true. Otherwise, returns false. A compare with a range end
// holds if it holds for every key in the range.
func applyCompare(rv mvcc.ReadView, c *pb.Compare) bool {
	rr, err := rv.Range(c.Key, mkGteRange(c.RangeEnd), mvcc.RangeOptions{})
	if err != nil {
		return false
	}
	if len(rr.KVs) == 0 {
		if c.Target == pb.Compare_VALUE {
			// Always fail if comparing a value on a key/keys that doesn't exist;
			// nil == empty string in grpc; no way to represent missing value
			return false
		}
		return compareKV(c, &mvccpb.KeyValue{})
	}
	for _, kv := range rr.KVs {
		if !compareKV(c, kv) {
			return false
		}
	}
	return true
}

func compareKV(c *pb.Compare, ckv *mvccpb.KeyValue) bool {
	var result int
	rev := int64(0)
	switch c.Target {
	case pb.Compare_VALUE:
		var v []byte
		if tv, _ := c.TargetUnion.(*pb.Compare_Value); tv != nil {
			v = tv.Value
		}
		result = bytes.Compare(ckv.Value, v)
	case pb.Compare_CREATE:
		if tv, _ := c.TargetUnion.(*pb.Compare_CreateRevision); tv != nil {
			rev = tv.CreateRevision
		}
		result = compareInt64(ckv.CreateRevision, rev)
	case pb.Compare_MOD:
		if tv, _ := c.TargetUnion.(*pb.Compare_ModRevision); tv != nil {
			rev = tv.ModRevision
		}
		result = compareInt64(ckv.ModRevision, rev)
	case pb.Compare_VERSION:
		if tv, _ := c.TargetUnion.(*pb.Compare_Version); tv != nil {
			rev = tv.Version
		}
		result = compareInt64(ckv.Version, rev)
	case pb.Compare_LEASE:
		if tv, _ := c.TargetUnion.(*pb.Compare_Lease); tv != nil {
			rev = tv.Lease
		}
		result = compareInt64(ckv.Lease, rev)
	}
	switch c.Result {
	case pb.Compare_EQUAL:
		return result == 0
	case pb.Compare_NOT_EQUAL:
		return result != 0
	case pb.Compare_GREATER:
		return result > 0
	case pb.Compare_LESS:
		return result < 0
	}
	return true
}

// IsTxnSerializable reports whether every op of the txn is a serializable
// range.
func IsTxnSerializable(r *pb.TxnRequest) bool {
	for _, u := range r.Success {
		if r := u.GetRequestRange(); r == nil || !r.Serializable {
			return false
		}
	}
	for _, u := range r.Failure {
		if r := u.GetRequestRange(); r == nil || !r.Serializable {
			return false
		}
	}
	return true
}

// IsTxnReadonly reports whether every op of the txn is a range (a nested
// txn counts as a write, as in etcd).
func IsTxnReadonly(r *pb.TxnRequest) bool {
	for _, u := range r.Success {
		if r := u.GetRequestRange(); r == nil {
			return false
		}
	}
	for _, u := range r.Failure {
		if r := u.GetRequestRange(); r == nil {
			return false
		}
	}
	return true
}

// readOnlyTxnWrite is etcd's mvcc.NewReadOnlyTxnWrite: a read txn that
// runs a txn made only of ranges.
type readOnlyTxnWrite struct{ mvcc.TxnRead }

func (readOnlyTxnWrite) DeleteRange(key, end []byte) (n, rev int64) {
	panic("unexpected DeleteRange")
}

func (readOnlyTxnWrite) Put(key, value []byte, lease int64) (rev int64) {
	panic("unexpected Put")
}

func (readOnlyTxnWrite) Changes() []*mvccpb.KeyValue { return nil }
