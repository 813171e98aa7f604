package txn

import (
	"testing"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// etcd's v3rpc TestCheckRangeRequest, and an empty key.
func TestCheckRangeRequest(t *testing.T) {
	tests := []struct {
		sortOrder  pb.RangeRequest_SortOrder
		sortTarget pb.RangeRequest_SortTarget
		werr       error
	}{
		{pb.RangeRequest_ASCEND, pb.RangeRequest_CREATE, nil},
		{pb.RangeRequest_ASCEND, 100, rpctypes.ErrInvalidSortOption},
		{200, pb.RangeRequest_MOD, rpctypes.ErrInvalidSortOption},
	}
	for i, tt := range tests {
		err := CheckRangeRequest(&pb.RangeRequest{Key: []byte{1, 2, 3}, SortOrder: tt.sortOrder, SortTarget: tt.sortTarget})
		require.Equal(t, tt.werr, err, "#%d", i)
	}
	require.Equal(t, rpctypes.ErrEmptyKey, CheckRangeRequest(&pb.RangeRequest{}))
	require.Equal(t, "etcdserver: key is not provided", rpctypes.ErrEmptyKey.Error())
}

func TestCheckPutAndDeleteRequest(t *testing.T) {
	tests := []struct {
		req  *pb.PutRequest
		werr error
	}{
		{&pb.PutRequest{Key: []byte("k"), Value: []byte("v")}, nil},
		{&pb.PutRequest{Value: []byte("v")}, rpctypes.ErrEmptyKey},
		{&pb.PutRequest{Key: []byte("k"), IgnoreValue: true}, nil},
		{&pb.PutRequest{Key: []byte("k"), IgnoreValue: true, Value: []byte("v")}, rpctypes.ErrValueProvided},
		{&pb.PutRequest{Key: []byte("k"), IgnoreLease: true, Lease: 1}, rpctypes.ErrLeaseProvided},
	}
	for i, tt := range tests {
		require.Equal(t, tt.werr, CheckPutRequest(tt.req), "#%d", i)
	}
	require.Equal(t, rpctypes.ErrEmptyKey, CheckDeleteRequest(&pb.DeleteRangeRequest{RangeEnd: []byte("z")}))
	require.NoError(t, CheckDeleteRequest(&pb.DeleteRangeRequest{Key: []byte("a")}))
}

// etcd's TestV3TxnTooManyOps: more than max-txn-ops compares, successes
// or failures, at any nesting.
func TestCheckTxnTooManyOps(t *testing.T) {
	const maxTxnOps = 4
	many := func(op func(i int) *pb.RequestOp) []*pb.RequestOp {
		var ops []*pb.RequestOp
		for i := range maxTxnOps + 1 {
			ops = append(ops, op(i))
		}
		return ops
	}
	put := func(i int) *pb.RequestOp { return putOp(string(rune('a'+i)), "v") }
	var cmps []*pb.Compare
	for i := range maxTxnOps + 1 {
		cmps = append(cmps, cmp(string(rune('a'+i)), pb.Compare_VERSION, pb.Compare_EQUAL, 0))
	}
	tests := []*pb.TxnRequest{
		{Compare: cmps},
		{Success: many(put)},
		{Failure: many(put)},
		{Success: []*pb.RequestOp{txnOp(&pb.TxnRequest{Success: many(put)})}},
	}
	for i, tt := range tests {
		require.Equal(t, rpctypes.ErrTooManyOps, CheckTxnRequest(tt, maxTxnOps), "#%d", i)
	}
	require.NoError(t, CheckTxnRequest(&pb.TxnRequest{Success: many(put)[:maxTxnOps]}, maxTxnOps))
	require.Equal(t, 128, DefaultMaxTxnOps)

	require.Equal(t, rpctypes.ErrEmptyKey, CheckTxnRequest(&pb.TxnRequest{Compare: []*pb.Compare{{}}}, maxTxnOps))
	require.Equal(t, rpctypes.ErrEmptyKey, CheckTxnRequest(&pb.TxnRequest{Success: []*pb.RequestOp{putOp("", "v")}}, maxTxnOps))
	require.Equal(t, rpctypes.ErrKeyNotFound, CheckTxnRequest(&pb.TxnRequest{Failure: []*pb.RequestOp{{}}}, maxTxnOps), "an empty op")
}

// etcd's TestV3TxnDuplicateKeys.
func TestCheckTxnDuplicateKeys(t *testing.T) {
	putreq := putOp("abc", "def")
	delKeyReq := deleteOp("abc", "")
	delInRangeReq := deleteOp("a", "b")
	delOutOfRangeReq := deleteOp("abb", "abc")
	txnDelReq := txnOp(&pb.TxnRequest{Success: []*pb.RequestOp{delInRangeReq}})
	txnDelReqTwoSide := txnOp(&pb.TxnRequest{Success: []*pb.RequestOp{delInRangeReq}, Failure: []*pb.RequestOp{delInRangeReq}})
	txnPutReq := txnOp(&pb.TxnRequest{Success: []*pb.RequestOp{putreq}})
	txnPutReqTwoSide := txnOp(&pb.TxnRequest{Success: []*pb.RequestOp{putreq}, Failure: []*pb.RequestOp{putreq}})

	tests := []struct {
		txnSuccess []*pb.RequestOp
		werr       error
	}{
		{[]*pb.RequestOp{putreq, putreq}, rpctypes.ErrDuplicateKey},
		{[]*pb.RequestOp{putreq, delKeyReq}, rpctypes.ErrDuplicateKey},
		{[]*pb.RequestOp{putreq, delInRangeReq}, rpctypes.ErrDuplicateKey},
		// Then(Put(a), Then(Del(a)))
		{[]*pb.RequestOp{putreq, txnDelReq}, rpctypes.ErrDuplicateKey},
		// Then(Del(a), Then(Put(a)))
		{[]*pb.RequestOp{delInRangeReq, txnPutReq}, rpctypes.ErrDuplicateKey},
		// Then((Then(Put(a)), Else(Put(a))), (Then(Put(a)), Else(Put(a)))
		{[]*pb.RequestOp{txnPutReqTwoSide, txnPutReqTwoSide}, rpctypes.ErrDuplicateKey},
		// Then(Del(x), (Then(Put(a)), Else(Put(a))))
		{[]*pb.RequestOp{delOutOfRangeReq, txnPutReqTwoSide}, nil},
		// Then(Then(Del(a)), (Then(Del(a)), Else(Del(a))))
		{[]*pb.RequestOp{txnDelReq, txnDelReqTwoSide}, nil},
		{[]*pb.RequestOp{delKeyReq, delInRangeReq, delKeyReq, delInRangeReq}, nil},
		{[]*pb.RequestOp{putreq, delOutOfRangeReq}, nil},
		// etcd's interval tree holds no key in [a, "\x00"): a delete of
		// every key >= a does not conflict with a put of abc.
		{[]*pb.RequestOp{putreq, deleteOp("a", "\x00")}, nil},
	}
	for i, tt := range tests {
		err := CheckTxnRequest(&pb.TxnRequest{Success: tt.txnSuccess}, DefaultMaxTxnOps)
		require.Equal(t, tt.werr, err, "#%d", i)
		err = CheckTxnRequest(&pb.TxnRequest{Failure: tt.txnSuccess}, DefaultMaxTxnOps)
		require.Equal(t, tt.werr, err, "#%d in the failure branch", i)
	}
}
