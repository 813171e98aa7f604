package api

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRequestsAndResponsesSurviveTheWire(t *testing.T) {
	for _, req := range []*Request{
		{ID: 1, Range: &RangeRequest{Key: "k", Serializable: true}},
		{ID: 2, Put: &PutRequest{Key: "k", Value: "v"}},
		{ID: 3, DeleteRange: &DeleteRangeRequest{Key: "k"}},
		{ID: 4},
	} {
		got, err := UnmarshalRequest(req.Marshal())
		require.NoError(t, err)
		require.Equal(t, req, got)
	}
	for _, resp := range []*Response{
		{ID: 1, Header: ResponseHeader{MemberID: 2, Revision: 9, RaftTerm: 3},
			Range: &RangeResponse{Count: 1, KVs: []KeyValue{{Key: "k", Value: "v", CreateRevision: 2, ModRevision: 9, Version: 4}}}},
		{ID: 2, Put: &PutResponse{}},
		{ID: 3, DeleteRange: &DeleteRangeResponse{Deleted: 1}},
		{ID: 4, Err: ErrTimeout},
		{ID: 5, Err: ErrLeaderChanged},
	} {
		got, err := UnmarshalResponse(resp.Marshal())
		require.NoError(t, err)
		require.Equal(t, resp, got)
	}
}

func TestGarbageIsAnErrorNotAPanic(t *testing.T) {
	b := (&Request{ID: 2, Put: &PutRequest{Key: "key", Value: "value"}}).Marshal()
	for cut := range len(b) {
		_, err := UnmarshalRequest(b[:cut])
		require.ErrorIs(t, err, ErrCorrupt, "cut at %d", cut)
	}
	_, err := UnmarshalRequest(append(b, 0))
	require.ErrorIs(t, err, ErrCorrupt)
}
