package txn

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdlab/etcdlab/node/mvcc"
)

// Put is etcd's txn.Put in the write txn tw: check the lease, then, if
// the request needs the previous KV (prev_kv, ignore_value,
// ignore_lease), read it, and write. A failing check writes nothing. The
// caller ends tw.
func Put(tw mvcc.TxnWrite, p *pb.PutRequest, lessor Lessor) (*pb.PutResponse, error) {
	if err := checkLease(lessor, p); err != nil {
		return nil, err
	}
	prevKV, err := checkAndGetPrevKV(tw, p, lessor)
	if err != nil {
		return nil, err
	}
	resp := put(tw, p, prevKV, lessor)
	resp.Header = nil // the node fills it
	return resp, nil
}

func put(txnWrite mvcc.TxnWrite, p *pb.PutRequest, prevKV *mvcc.RangeResult, lessor Lessor) *pb.PutResponse {
	resp := &pb.PutResponse{}
	resp.Header = &pb.ResponseHeader{}
	val, leaseID := p.Value, p.Lease

	if p.IgnoreValue {
		val = prevKV.KVs[0].Value
	}
	if p.IgnoreLease {
		leaseID = prevKV.KVs[0].Lease
	}
	if p.PrevKv {
		if prevKV != nil && len(prevKV.KVs) != 0 {
			resp.PrevKv = prevKV.KVs[0]
		}
	}
	resp.Header.Revision = txnWrite.Put(p.Key, val, leaseID)
	moveLease(lessor, p.Key, prevKV, leaseID)
	return resp
}

// moveLease keeps the lessor's items up to date, as etcd's
// storeTxnWrite.put does after writing: detach the key from the lease its
// previous version had, attach it to the new one.
func moveLease(lessor Lessor, key []byte, prevKV *mvcc.RangeResult, leaseID int64) {
	if lessor == nil {
		return
	}
	oldLease := int64(0)
	if prevKV != nil && len(prevKV.KVs) != 0 {
		oldLease = prevKV.KVs[0].Lease
	}
	if oldLease == leaseID {
		return
	}
	if oldLease != 0 {
		lessor.Detach(oldLease, key)
	}
	if leaseID != 0 {
		if err := lessor.Attach(leaseID, key); err != nil {
			panic("unexpected error from lease Attach: " + err.Error())
		}
	}
}

func checkPut(rv mvcc.ReadView, lessor Lessor, p *pb.PutRequest) error {
	if err := checkLease(lessor, p); err != nil {
		return err
	}
	_, err := checkAndGetPrevKV(rv, p, lessor)
	return err
}

func checkLease(lessor Lessor, p *pb.PutRequest) error {
	if p.Lease != 0 && (lessor == nil || !lessor.Lookup(p.Lease)) {
		return ErrLeaseNotFound
	}
	return nil
}

func checkAndGetPrevKV(rv mvcc.ReadView, p *pb.PutRequest, lessor Lessor) (*mvcc.RangeResult, error) {
	prevKV, err := getPrevKV(rv, p, lessor)
	if err != nil {
		return nil, err
	}
	if p.IgnoreValue || p.IgnoreLease {
		if prevKV == nil || len(prevKV.KVs) == 0 {
			// ignore_{lease,value} flag expects previous key-value pair
			return nil, ErrKeyNotFound
		}
	}
	return prevKV, nil
}

// getPrevKV reads the key's current version when the request needs it,
// and, unlike etcd, also when a lessor is there: etcd's store asks the
// lessor which lease the key had, here the previous version tells.
func getPrevKV(rv mvcc.ReadView, p *pb.PutRequest, lessor Lessor) (*mvcc.RangeResult, error) {
	if p.IgnoreValue || p.IgnoreLease || p.PrevKv || lessor != nil {
		return rv.Range(p.Key, nil, mvcc.RangeOptions{})
	}
	return nil, nil
}
