package txn

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdlab/etcdlab/node/mvcc"
)

// DeleteRange is etcd's txn.DeleteRange in the write txn tw. The caller
// ends tw.
func DeleteRange(tw mvcc.TxnWrite, dr *pb.DeleteRangeRequest, lessor Lessor) (*pb.DeleteRangeResponse, error) {
	resp, err := deleteRange(tw, dr, lessor)
	if err != nil {
		return nil, err
	}
	resp.Header = nil // the node fills it
	return resp, nil
}

func deleteRange(txnWrite mvcc.TxnWrite, dr *pb.DeleteRangeRequest, lessor Lessor) (*pb.DeleteRangeResponse, error) {
	resp := &pb.DeleteRangeResponse{}
	resp.Header = &pb.ResponseHeader{}
	end := mkGteRange(dr.RangeEnd)

	// The deleted keys' leases are detached as etcd's store does; here
	// the previous versions tell which leases they had.
	var rr *mvcc.RangeResult
	if dr.PrevKv || lessor != nil {
		var err error
		rr, err = txnWrite.Range(dr.Key, end, mvcc.RangeOptions{})
		if err != nil {
			return nil, err
		}
	}
	if dr.PrevKv && rr != nil {
		resp.PrevKvs = make([]*mvccpb.KeyValue, len(rr.KVs))
		copy(resp.PrevKvs, rr.KVs)
	}
	resp.Deleted, resp.Header.Revision = txnWrite.DeleteRange(dr.Key, end)
	if lessor != nil && rr != nil {
		for _, kv := range rr.KVs {
			if kv.Lease != 0 {
				lessor.Detach(kv.Lease, kv.Key)
			}
		}
	}
	return resp, nil
}

// mkGteRange turns a client's range end "\x00" (every key >= key) into the
// store's empty end.
func mkGteRange(rangeEnd []byte) []byte {
	if len(rangeEnd) == 1 && rangeEnd[0] == 0 {
		return []byte{}
	}
	return rangeEnd
}
