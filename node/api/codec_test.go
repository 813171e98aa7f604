package api

import (
	"testing"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

func TestRequestsAndResponsesSurviveTheWire(t *testing.T) {
	for _, req := range []*Request{
		{ID: 1, Range: &pb.RangeRequest{Key: []byte("k"), RangeEnd: []byte("l"), Revision: 7, Serializable: true}},
		{ID: 2, Put: &pb.PutRequest{Key: []byte("k"), Value: []byte("v"), Lease: 5, PrevKv: true}},
		{ID: 3, DeleteRange: &pb.DeleteRangeRequest{Key: []byte("k")}},
		{ID: 4, Txn: &pb.TxnRequest{
			Compare: []*pb.Compare{{Key: []byte("k"), Target: pb.Compare_MOD, Result: pb.Compare_EQUAL,
				TargetUnion: &pb.Compare_ModRevision{ModRevision: 3}}},
			Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("k"), Value: []byte("w")}}}},
			Failure: []*pb.RequestOp{{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte("k")}}}},
		}},
		{ID: 5, Watch: &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: &pb.WatchCreateRequest{Key: []byte("k"), StartRevision: 2}}}},
		{ID: 6, LeaseGrant: &pb.LeaseGrantRequest{TTL: 5}},
		{ID: 7, MemberAdd: &MemberAddRequest{ID: 4, IsLearner: true}},
		{ID: 8},
	} {
		got, err := UnmarshalRequest(req.Marshal())
		require.NoError(t, err)
		require.Equal(t, req.Op(), got.Op())
		require.Equal(t, string(req.Marshal()), string(got.Marshal()), "%s", req.Op())
	}
	header := &pb.ResponseHeader{MemberId: 2, Revision: 9, RaftTerm: 3}
	for _, resp := range []*Response{
		{ID: 1, Header: header, Range: &pb.RangeResponse{Header: header, Count: 1,
			Kvs: []*mvccpb.KeyValue{{Key: []byte("k"), Value: []byte("v"), CreateRevision: 2, ModRevision: 9, Version: 4}}}},
		{ID: 2, Header: header, Put: &pb.PutResponse{Header: header}},
		{ID: 3, Header: header, DeleteRange: &pb.DeleteRangeResponse{Header: header, Deleted: 1}},
		{ID: 4, Header: header, Err: ErrTimeout},
		{ID: 5, Header: header, Err: ErrCompacted},
		{ID: 6, Header: header, Members: &MemberResponse{Member: &Member{ID: 4}, Members: []Member{{ID: 1}, {ID: 4}}}},
	} {
		got, err := UnmarshalResponse(resp.Marshal())
		require.NoError(t, err)
		require.Equal(t, resp.Err, got.Err)
		require.True(t, proto.Equal(resp.Header, got.Header))
		require.Equal(t, string(resp.Marshal()), string(got.Marshal()))
	}
}

func TestKnownErrorsComeBackAsTheSameValue(t *testing.T) {
	for _, e := range knownErrors {
		got, err := UnmarshalResponse((&Response{ID: 1, Header: &pb.ResponseHeader{}, Err: e}).Marshal())
		require.NoError(t, err)
		require.Equal(t, e, got.Err) //nolint:errorlint // the same value is the point
	}
}

func TestGarbageIsAnErrorNotAPanic(t *testing.T) {
	b := (&Request{ID: 2, Put: &pb.PutRequest{Key: []byte("key"), Value: []byte("value")}}).Marshal()
	for cut := range len(b) {
		_, err := UnmarshalRequest(b[:cut])
		require.ErrorIs(t, err, ErrCorrupt, "cut at %d", cut)
	}
	_, err := UnmarshalRequest(append(b, 0))
	require.ErrorIs(t, err, ErrCorrupt)
}
