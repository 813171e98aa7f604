package node

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdlab/etcdlab/node/api"
	"github.com/etcdlab/etcdlab/node/mvcc"
)

// The KV service at node level, against etcd's documentation
// (api/etcdserverpb/rpc.proto, https://etcd.io/docs/v3.7/learning/api/):
// requests go to members of a three-member cluster, answers come back
// through c.replies.

// do sends req to member via from a client address of its own, settles,
// and returns the one answer.
func (c *cluster) do(via uint64, req *api.Request) *api.Response {
	c.t.Helper()
	from := fmt.Sprintf("do%d", len(c.replies))
	c.nodes[via].Request(from, req)
	c.settle()
	rs := c.replies[from]
	require.Len(c.t, rs, 1, "one answer to %s", from)
	return rs[0]
}

// ok is do for a request that must succeed.
func (c *cluster) ok(via uint64, req *api.Request) *api.Response {
	c.t.Helper()
	r := c.do(via, req)
	require.NoError(c.t, r.Err)
	return r
}

// newKVCluster is a three-member cluster led by n1, with the keys given
// as key=value put through n1 one by one (revisions 2, 3, ...).
func newKVCluster(t *testing.T, kvs ...string) *cluster {
	c := newCluster(quiet{t}, 1, 2, 3)
	c.elect(1)
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		c.ok(1, &api.Request{Put: putReq(k, v)})
	}
	return c
}

// keys lists the keys of a Range answer, in order.
func keys(r *pb.RangeResponse) []string {
	var ks []string
	for _, kv := range r.Kvs {
		ks = append(ks, string(kv.Key))
	}
	return ks
}

func (c *cluster) rangeOf(via uint64, r *pb.RangeRequest) *pb.RangeResponse {
	c.t.Helper()
	return c.ok(via, &api.Request{Range: r}).Range
}

func TestRangeSelectsKeysLikeEtcd(t *testing.T) {
	c := newKVCluster(t, "a=1", "b=22", "ba=3", "c=4", "d=5")
	sortBy := func(target pb.RangeRequest_SortTarget, order pb.RangeRequest_SortOrder) *pb.RangeRequest {
		return &pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte("z"), SortTarget: target, SortOrder: order}
	}
	for _, tt := range []struct {
		name  string
		req   *pb.RangeRequest
		keys  []string
		count int64
		more  bool
	}{
		{"one key", &pb.RangeRequest{Key: []byte("b")}, []string{"b"}, 1, false},
		{"missing key", &pb.RangeRequest{Key: []byte("x")}, nil, 0, false},
		{"range_end is exclusive", &pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte("c")}, []string{"a", "b", "ba"}, 3, false},
		{"prefix", &pb.RangeRequest{Key: []byte("b"), RangeEnd: []byte("c")}, []string{"b", "ba"}, 2, false},
		{`"\x00" end: every key from key on`, &pb.RangeRequest{Key: []byte("c"), RangeEnd: []byte{0}}, []string{"c", "d"}, 2, false},
		{`"\x00" both: every key`, &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}}, []string{"a", "b", "ba", "c", "d"}, 5, false},
		{"limit: more, count of all", &pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte("z"), Limit: 2}, []string{"a", "b"}, 5, true},
		{"limit reached exactly: no more", &pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte("z"), Limit: 5}, []string{"a", "b", "ba", "c", "d"}, 5, false},
		{"count_only", &pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte("z"), CountOnly: true}, nil, 5, false},
		{"sort by key, descending", sortBy(pb.RangeRequest_KEY, pb.RangeRequest_DESCEND), []string{"d", "c", "ba", "b", "a"}, 5, false},
		{"sort by value, descending", sortBy(pb.RangeRequest_VALUE, pb.RangeRequest_DESCEND), []string{"d", "c", "ba", "b", "a"}, 5, false},
		{"sort by mod revision, ascending", sortBy(pb.RangeRequest_MOD, pb.RangeRequest_ASCEND), []string{"a", "b", "ba", "c", "d"}, 5, false},
		{"sort by create revision, descending", sortBy(pb.RangeRequest_CREATE, pb.RangeRequest_DESCEND), []string{"d", "c", "ba", "b", "a"}, 5, false},
		{"sort order without target sorts by key", sortBy(pb.RangeRequest_KEY, pb.RangeRequest_DESCEND), []string{"d", "c", "ba", "b", "a"}, 5, false},
		{"limit after sort", &pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte("z"), Limit: 2,
			SortTarget: pb.RangeRequest_KEY, SortOrder: pb.RangeRequest_DESCEND}, []string{"d", "c"}, 5, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.rangeOf(2, tt.req)
			require.Equal(t, tt.keys, keys(r))
			require.Equal(t, tt.count, r.Count)
			require.Equal(t, tt.more, r.More)
		})
	}
}

func TestRangeKeysOnlyLeavesValuesOut(t *testing.T) {
	c := newKVCluster(t, "a=1")
	r := c.rangeOf(1, &pb.RangeRequest{Key: []byte("a"), KeysOnly: true})
	require.Len(t, r.Kvs, 1)
	require.Empty(t, r.Kvs[0].Value)
	require.Equal(t, int64(2), r.Kvs[0].ModRevision)
}

func TestRangeAtAPastRevisionSeesThatRevision(t *testing.T) {
	c := newKVCluster(t, "k=v1", "k=v2", "j=x")
	c.ok(1, &api.Request{DeleteRange: deleteReq("k")}) // rev 5
	for _, tt := range []struct {
		rev  int64
		want string
	}{{2, "v1"}, {3, "v2"}, {4, "v2"}, {5, ""}} {
		r := c.rangeOf(3, &pb.RangeRequest{Key: []byte("k"), Revision: tt.rev})
		if tt.want == "" {
			require.Empty(t, r.Kvs, "rev %d", tt.rev)
			continue
		}
		require.Equal(t, tt.want, string(r.Kvs[0].Value), "rev %d", tt.rev)
	}
	// The header says the store's revision, not the one read.
	require.Equal(t, int64(5), c.ok(3, &api.Request{Range: &pb.RangeRequest{Key: []byte("k"), Revision: 2}}).Header.Revision)
}

func TestRangeAtACompactedOrFutureRevisionFails(t *testing.T) {
	c := newKVCluster(t, "k=a", "k=b", "k=c") // rev 4
	c.ok(1, &api.Request{Compact: &pb.CompactionRequest{Revision: 3}})
	for _, tt := range []struct {
		rev int64
		err error
	}{
		{2, api.ErrCompacted},
		{3, nil}, // the compacted revision itself is still readable
		{4, nil},
		{5, api.ErrFutureRev},
	} {
		r := c.do(2, &api.Request{Range: &pb.RangeRequest{Key: []byte("k"), Revision: tt.rev}})
		require.Equal(t, tt.err, r.Err, "rev %d", tt.rev)
	}
}

func TestPutReturnsThePreviousKeyValue(t *testing.T) {
	c := newKVCluster(t, "k=old")
	r := c.ok(2, &api.Request{Put: &pb.PutRequest{Key: []byte("k"), Value: []byte("new"), PrevKv: true}})
	require.Equal(t, "old", string(r.Put.PrevKv.Value))
	require.Equal(t, int64(2), r.Put.PrevKv.ModRevision)

	r = c.ok(2, &api.Request{Put: &pb.PutRequest{Key: []byte("fresh"), Value: []byte("v"), PrevKv: true}})
	require.Nil(t, r.Put.PrevKv, "no previous key")
}

func TestPutIgnoreValueAndIgnoreLease(t *testing.T) {
	c := newKVCluster(t)
	c.ok(1, &api.Request{LeaseGrant: &pb.LeaseGrantRequest{ID: 7, TTL: 60}})
	c.ok(1, &api.Request{Put: &pb.PutRequest{Key: []byte("k"), Value: []byte("v"), Lease: 7}})

	// ignore_value keeps the value and changes the lease.
	c.ok(1, &api.Request{Put: &pb.PutRequest{Key: []byte("k"), IgnoreValue: true}})
	kv := c.rangeOf(1, rangeReq("k")).Kvs[0]
	require.Equal(t, "v", string(kv.Value))
	require.Zero(t, kv.Lease, "the put without a lease detached it")

	// ignore_lease keeps the lease and changes the value.
	c.ok(1, &api.Request{Put: &pb.PutRequest{Key: []byte("k"), Value: []byte("v"), Lease: 7}})
	c.ok(1, &api.Request{Put: &pb.PutRequest{Key: []byte("k"), Value: []byte("w"), IgnoreLease: true}})
	kv = c.rangeOf(1, rangeReq("k")).Kvs[0]
	require.Equal(t, "w", string(kv.Value))
	require.Equal(t, int64(7), kv.Lease)

	for _, p := range []*pb.PutRequest{
		{Key: []byte("missing"), IgnoreValue: true},
		{Key: []byte("missing"), Value: []byte("v"), IgnoreLease: true},
	} {
		r := c.do(2, &api.Request{Put: p})
		require.Equal(t, api.ErrKeyNotFound, r.Err)
	}
	// The gRPC layer refuses the contradictions before raft.
	require.Equal(t, api.ErrValueProvided, c.do(2, &api.Request{Put: &pb.PutRequest{Key: []byte("k"), Value: []byte("v"), IgnoreValue: true}}).Err)
	require.Equal(t, api.ErrLeaseProvided, c.do(2, &api.Request{Put: &pb.PutRequest{Key: []byte("k"), Value: []byte("v"), Lease: 7, IgnoreLease: true}}).Err)
}

func TestPutWithAnUnknownLeaseFails(t *testing.T) {
	c := newKVCluster(t)
	r := c.do(2, &api.Request{Put: &pb.PutRequest{Key: []byte("k"), Value: []byte("v"), Lease: 99}})
	require.Equal(t, api.ErrLeaseNotFound, r.Err)
	require.Equal(t, int64(1), c.nodes[1].Status().Rev, "nothing was written")
}

func TestDeleteRangeReturnsPreviousKeyValues(t *testing.T) {
	c := newKVCluster(t, "a=1", "b=2", "c=3")
	r := c.ok(2, &api.Request{DeleteRange: &pb.DeleteRangeRequest{Key: []byte("a"), RangeEnd: []byte("c"), PrevKv: true}})
	require.Equal(t, int64(2), r.DeleteRange.Deleted)
	require.Len(t, r.DeleteRange.PrevKvs, 2)
	require.Equal(t, "1", string(r.DeleteRange.PrevKvs[0].Value))
	require.Equal(t, "2", string(r.DeleteRange.PrevKvs[1].Value))
	require.Equal(t, int64(5), r.Header.Revision, "both deletes in one revision")
	require.Equal(t, []string{"c"}, keys(c.rangeOf(3, &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})))
}

func TestDeleteOfNothingDoesNotMoveTheRevision(t *testing.T) {
	c := newKVCluster(t, "a=1")
	r := c.ok(2, &api.Request{DeleteRange: deleteReq("missing")})
	require.Zero(t, r.DeleteRange.Deleted)
	require.Equal(t, int64(2), r.Header.Revision)
	require.Equal(t, int64(3), c.ok(2, &api.Request{Put: putReq("b", "1")}).Header.Revision)
}

// etcd's data model (https://etcd.io/docs/v3.7/learning/data_model/): a
// key's version counts its modifications since it was created; a delete
// ends its generation, and creating it again starts over at version 1.
func TestRevisionsAndVersionsAcrossPutDeleteAndRecreate(t *testing.T) {
	c := newKVCluster(t, "other=x")
	get := func() *mvccpb.KeyValue {
		kvs := c.rangeOf(2, rangeReq("k")).Kvs
		if len(kvs) == 0 {
			return nil
		}
		return kvs[0]
	}
	c.ok(1, &api.Request{Put: putReq("k", "a")}) // 3
	require.Equal(t, [3]int64{3, 3, 1}, crv(get()))
	c.ok(1, &api.Request{Put: putReq("k", "b")}) // 4
	require.Equal(t, [3]int64{3, 4, 2}, crv(get()))
	c.ok(1, &api.Request{DeleteRange: deleteReq("k")}) // 5
	require.Nil(t, get())
	c.ok(1, &api.Request{Put: putReq("k", "c")}) // 6
	require.Equal(t, [3]int64{6, 6, 1}, crv(get()))
}

// crv is a key's create revision, mod revision and version.
func crv(kv *mvccpb.KeyValue) [3]int64 {
	return [3]int64{kv.CreateRevision, kv.ModRevision, kv.Version}
}

// Every member fills the header of what it serves: the cluster ID is the
// same everywhere, the member ID its own, and after the same writes the
// same revision and raft term.
func TestResponseHeadersAgreeAcrossMembers(t *testing.T) {
	c := newKVCluster(t, "k=v")
	var cluster uint64
	for _, id := range c.ids() {
		h := c.ok(id, &api.Request{Range: rangeReq("k")}).Header
		require.Equal(t, id, h.MemberId)
		require.Equal(t, int64(2), h.Revision)
		require.Equal(t, c.nodes[1].Status().Term, h.RaftTerm)
		require.NotZero(t, h.ClusterId)
		if cluster == 0 {
			cluster = h.ClusterId
		}
		require.Equal(t, cluster, h.ClusterId)
	}
	r := c.do(3, &api.Request{Put: putReq("", "v")})
	require.Equal(t, api.ErrEmptyKey, r.Err)
	require.Equal(t, uint64(3), r.Header.MemberId, "an error carries a header too")
	require.Equal(t, cluster, r.Header.ClusterId)
}

// --- Txn ---

func cmpValue(key string, res pb.Compare_CompareResult, v string) *pb.Compare {
	return &pb.Compare{Key: []byte(key), Result: res, Target: pb.Compare_VALUE, TargetUnion: &pb.Compare_Value{Value: []byte(v)}}
}

func cmpTarget(key string, target pb.Compare_CompareTarget, res pb.Compare_CompareResult, n int64) *pb.Compare {
	c := &pb.Compare{Key: []byte(key), Result: res, Target: target}
	switch target {
	case pb.Compare_VERSION:
		c.TargetUnion = &pb.Compare_Version{Version: n}
	case pb.Compare_CREATE:
		c.TargetUnion = &pb.Compare_CreateRevision{CreateRevision: n}
	case pb.Compare_MOD:
		c.TargetUnion = &pb.Compare_ModRevision{ModRevision: n}
	case pb.Compare_LEASE:
		c.TargetUnion = &pb.Compare_Lease{Lease: n}
	}
	return c
}

func opPut(k, v string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: putReq(k, v)}}
}

func opGet(k string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: rangeReq(k)}}
}

func opDelete(k string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: deleteReq(k)}}
}

func opTxn(t *pb.TxnRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestTxn{RequestTxn: t}}
}

func TestTxnComparesChooseTheBranch(t *testing.T) {
	// k: created at 2, modified at 3, version 2, lease 7.
	setup := func(t *testing.T) *cluster {
		c := newKVCluster(t, "k=a")
		c.ok(1, &api.Request{LeaseGrant: &pb.LeaseGrantRequest{ID: 7, TTL: 60}}) // no revision
		c.ok(1, &api.Request{Put: &pb.PutRequest{Key: []byte("k"), Value: []byte("b"), Lease: 7}})
		return c
	}
	c := setup(t)
	for _, tt := range []struct {
		name string
		cmp  *pb.Compare
		want bool
	}{
		{"value equal", cmpValue("k", pb.Compare_EQUAL, "b"), true},
		{"value not equal", cmpValue("k", pb.Compare_NOT_EQUAL, "b"), false},
		{"value greater", cmpValue("k", pb.Compare_GREATER, "a"), true},
		{"value less", cmpValue("k", pb.Compare_LESS, "a"), false},
		{"version", cmpTarget("k", pb.Compare_VERSION, pb.Compare_EQUAL, 2), true},
		{"version of a missing key is 0", cmpTarget("missing", pb.Compare_VERSION, pb.Compare_EQUAL, 0), true},
		{"create revision", cmpTarget("k", pb.Compare_CREATE, pb.Compare_EQUAL, 2), true},
		{"create revision of a missing key is 0", cmpTarget("missing", pb.Compare_CREATE, pb.Compare_EQUAL, 0), true},
		{"mod revision", cmpTarget("k", pb.Compare_MOD, pb.Compare_GREATER, 2), true},
		{"mod revision less", cmpTarget("k", pb.Compare_MOD, pb.Compare_LESS, 3), false},
		{"lease", cmpTarget("k", pb.Compare_LEASE, pb.Compare_EQUAL, 7), true},
		{"value of a missing key never compares", cmpValue("missing", pb.Compare_NOT_EQUAL, "x"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.ok(2, &api.Request{Txn: &pb.TxnRequest{Compare: []*pb.Compare{tt.cmp},
				Success: []*pb.RequestOp{opGet("k")}, Failure: []*pb.RequestOp{opGet("missing")}}})
			require.Equal(t, tt.want, r.Txn.Succeeded)
			require.Len(t, r.Txn.Responses, 1)
			if tt.want {
				require.Equal(t, "b", string(r.Txn.Responses[0].GetResponseRange().Kvs[0].Value))
			}
		})
	}
}

func TestTxnRunsTheChosenBranchsWrites(t *testing.T) {
	c := newKVCluster(t, "k=a")
	txn := func(v string) *pb.TxnRequest {
		return &pb.TxnRequest{Compare: []*pb.Compare{cmpValue("k", pb.Compare_EQUAL, v)},
			Success: []*pb.RequestOp{opPut("s", "1")}, Failure: []*pb.RequestOp{opPut("f", "1"), opGet("k")}}
	}
	r := c.ok(2, &api.Request{Txn: txn("nope")})
	require.False(t, r.Txn.Succeeded)
	require.Len(t, r.Txn.Responses, 2)
	require.NotNil(t, r.Txn.Responses[0].GetResponsePut())
	require.Equal(t, "a", string(r.Txn.Responses[1].GetResponseRange().Kvs[0].Value))
	r = c.ok(2, &api.Request{Txn: txn("a")})
	require.True(t, r.Txn.Succeeded)
	require.Equal(t, []string{"f", "k", "s"}, keys(c.rangeOf(1, &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})))
}

func TestNestedTxn(t *testing.T) {
	c := newKVCluster(t, "k=a")
	inner := &pb.TxnRequest{Compare: []*pb.Compare{cmpValue("k", pb.Compare_EQUAL, "a")},
		Success: []*pb.RequestOp{opPut("inner", "yes")}, Failure: []*pb.RequestOp{opPut("inner", "no")}}
	r := c.ok(2, &api.Request{Txn: &pb.TxnRequest{Success: []*pb.RequestOp{opPut("outer", "1"), opTxn(inner)}}})
	require.True(t, r.Txn.Succeeded)
	require.True(t, r.Txn.Responses[1].GetResponseTxn().Succeeded)
	require.Equal(t, int64(3), r.Header.Revision, "outer and inner writes in one revision")
	kv := c.rangeOf(3, rangeReq("inner")).Kvs[0]
	require.Equal(t, "yes", string(kv.Value))
	require.Equal(t, int64(3), kv.ModRevision)
}

// A Txn is atomic: all its writes are in one revision. Each key changed
// gets that revision as its mod revision, a later key of the Txn sees the
// earlier ones' puts, and the watchers get them in one response.
func TestTxnWritesLandInOneRevision(t *testing.T) {
	c := newKVCluster(t, "gone=x")
	r := c.ok(2, &api.Request{Txn: &pb.TxnRequest{Success: []*pb.RequestOp{
		opPut("a", "1"), opPut("b", "2"), opDelete("gone")}}})
	require.Equal(t, int64(3), r.Header.Revision)
	for _, k := range []string{"a", "b"} {
		require.Equal(t, int64(3), c.rangeOf(1, rangeReq(k)).Kvs[0].ModRevision)
	}
	require.Equal(t, int64(3), c.nodes[3].Status().Rev)
}

// A Txn that only reads needs no raft entry: it is served as a Range is,
// linearizably after a ReadIndex round (or at once, if serializable).
func TestReadOnlyTxnIsServedLikeALinearizableRead(t *testing.T) {
	c := newKVCluster(t, "k=v")
	applied := c.nodes[1].Status().Applied
	rt := &pb.TxnRequest{Compare: []*pb.Compare{cmpValue("k", pb.Compare_EQUAL, "v")}, Success: []*pb.RequestOp{opGet("k")}}
	c.nodes[3].Request("r", &api.Request{Txn: rt})
	require.Empty(t, c.replies["r"], "it waits for its ReadIndex round")
	c.settle()
	require.Len(t, c.replies["r"], 1)
	r := c.replies["r"][0]
	require.NoError(t, r.Err)
	require.True(t, r.Txn.Succeeded)
	require.Equal(t, "v", string(r.Txn.Responses[0].GetResponseRange().Kvs[0].Value))
	require.Equal(t, applied, c.nodes[1].Status().Applied, "no entry was proposed")

	serializable := &pb.TxnRequest{Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestRange{
		RequestRange: &pb.RangeRequest{Key: []byte("k"), Serializable: true}}}}}
	c.nodes[3].Request("s", &api.Request{Txn: serializable})
	require.Len(t, c.replies["s"], 1, "a serializable Txn is served at once")
}

func TestTxnRequestsEtcdRefuses(t *testing.T) {
	c := newClusterWith(quiet{t}, func(cfg *Config) { cfg.MaxTxnOps = 2 }, 1, 2, 3)
	c.elect(1)
	for _, tt := range []struct {
		name string
		txn  *pb.TxnRequest
		err  error
	}{
		{"more ops than --max-txn-ops", &pb.TxnRequest{Success: []*pb.RequestOp{opPut("a", "1"), opPut("b", "1"), opPut("c", "1")}}, api.ErrTooManyOps},
		{"more compares than --max-txn-ops", &pb.TxnRequest{Compare: []*pb.Compare{
			cmpValue("a", pb.Compare_EQUAL, ""), cmpValue("b", pb.Compare_EQUAL, ""), cmpValue("c", pb.Compare_EQUAL, "")}}, api.ErrTooManyOps},
		{"a key put twice", &pb.TxnRequest{Success: []*pb.RequestOp{opPut("a", "1"), opPut("a", "2")}}, api.ErrDuplicateKey},
		{"a key put and deleted", &pb.TxnRequest{Success: []*pb.RequestOp{opPut("a", "1"), opDelete("a")}}, api.ErrDuplicateKey},
		{"an empty key", &pb.TxnRequest{Success: []*pb.RequestOp{opPut("", "1")}}, api.ErrEmptyKey},
		{"an empty key in a compare", &pb.TxnRequest{Compare: []*pb.Compare{cmpValue("", pb.Compare_EQUAL, "")}}, api.ErrEmptyKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.err, c.do(2, &api.Request{Txn: tt.txn}).Err)
		})
	}
	// The same key in the two branches is fine: only one runs.
	c.ok(2, &api.Request{Txn: &pb.TxnRequest{Success: []*pb.RequestOp{opPut("a", "1")}, Failure: []*pb.RequestOp{opPut("a", "2")}}})
	require.Equal(t, int64(2), c.nodes[1].Status().Rev)
}

// --max-request-bytes bounds the proposal: a bigger put is refused before
// raft, and nothing is written.
func TestPutLargerThanMaxRequestBytesIsRefused(t *testing.T) {
	c := newClusterWith(quiet{t}, func(cfg *Config) { cfg.MaxRequestBytes = 1024 }, 1, 2, 3)
	c.elect(1)
	r := c.do(2, &api.Request{Put: putReq("k", strings.Repeat("x", 2000))})
	require.Equal(t, api.ErrRequestTooLarge, r.Err)
	c.ok(2, &api.Request{Put: putReq("k", strings.Repeat("x", 900))})
	require.Equal(t, int64(2), c.nodes[3].Status().Rev)
}

// --- Compact ---

func TestCompactionReachesEveryMember(t *testing.T) {
	c := newKVCluster(t, "k=a", "k=b", "k=c") // rev 4
	r := c.ok(2, &api.Request{Compact: &pb.CompactionRequest{Revision: 3}})
	require.NotNil(t, r.Compact)
	for _, id := range c.ids() {
		require.Equal(t, int64(3), c.nodes[id].store.CompactRev(), "n%d", id)
		rr := c.do(id, &api.Request{Range: &pb.RangeRequest{Key: []byte("k"), Revision: 2, Serializable: true}})
		require.Equal(t, api.ErrCompacted, rr.Err, "n%d", id)
	}
	for _, tt := range []struct {
		rev int64
		err error
	}{
		{3, api.ErrCompacted}, // again at the compacted revision
		{2, api.ErrCompacted}, // below it
		{5, api.ErrFutureRev}, // above the current revision
		{4, nil},              // up to the current revision
	} {
		require.Equal(t, tt.err, c.do(3, &api.Request{Compact: &pb.CompactionRequest{Revision: tt.rev}}).Err, "rev %d", tt.rev)
	}
}

// HashKV at a revision hashes the store's history up to it, leaving out
// what a compaction removed (etcd's corruption check): members that applied
// the same agree, before and after a compaction, and say which compacted
// revision their hash is of, since only hashes of one compacted revision
// compare.
func TestHashKVAgreesAcrossMembersAcrossACompaction(t *testing.T) {
	c := newKVCluster(t, "k=a", "j=b", "k=c", "j=d") // rev 5
	hash := func(rev int64) *pb.HashKVResponse {
		var first *pb.HashKVResponse
		for _, id := range c.ids() {
			r := c.ok(id, &api.Request{HashKV: &pb.HashKVRequest{Revision: rev}}).HashKV
			require.Equal(t, rev, r.HashRevision)
			if first == nil {
				first = r
			}
			require.Equal(t, first.Hash, r.Hash, "n%d at rev %d", id, rev)
			require.Equal(t, first.CompactRevision, r.CompactRevision)
		}
		return first
	}
	before := hash(5)
	require.NotEqual(t, before.Hash, hash(4).Hash, "a different revision hashes differently")
	c.ok(1, &api.Request{Compact: &pb.CompactionRequest{Revision: 3}})
	after := hash(5)
	require.Equal(t, int64(3), after.CompactRevision)
	require.NotEqual(t, before.Hash, after.Hash, "the revisions compacted away are no longer hashed")
	require.Equal(t, api.ErrCompacted, c.do(2, &api.Request{HashKV: &pb.HashKVRequest{Revision: 2}}).Err)
	require.Equal(t, api.ErrFutureRev, c.do(2, &api.Request{HashKV: &pb.HashKVRequest{Revision: 6}}).Err)
}

// panicAt is a member's env whose failpoint `at` panics, the first time
// it is passed, as gofail's panic action does.
type panicAt struct {
	*testEnv
	at    string
	fired *bool
}

func (e panicAt) Failpoint(name string) time.Duration {
	if name == e.at && !*e.fired {
		*e.fired = true
		panic("failpoint " + name)
	}
	return e.testEnv.Failpoint(name)
}

// armPanic restarts member id (from its current files, as if it had been
// stopped cleanly) with failpoint `at` set to panic.
func (c *cluster) armPanic(id uint64, at string) {
	files := c.crash(id)
	env := newTestEnv(c, id, files)
	n, err := Restart(c.nodes[id].cfg, panicAt{testEnv: env, at: at, fired: new(bool)})
	require.NoError(c.t, err)
	c.nodes[id], c.envs[id] = n, env
	c.settle()
}

// A member that crashes in the middle of a compaction, at each of etcd's
// compaction failpoints, ends up with the same store as the others once it
// restarts. Each of these failpoints comes after the forced commit of the
// scheduled compaction is durable (etcd's ForceCommit returns once bbolt
// has synced), so whatever the crash kept, the backend holds the scheduled
// compaction with the entry, and the restart resumes the compaction, as
// etcd's restore does. A second crash right after does not apply anything
// twice: the commit made while resuming keeps the backend's consistent
// index.
func TestCompactionInterruptedByACrashResumesAtRestart(t *testing.T) {
	for _, fp := range []string{
		mvcc.FailpointCompactAfterCommitScheduledCompact,
		mvcc.FailpointCompactAfterAcquiredBatchTxLock,
		mvcc.FailpointCompactBeforeCommitBatch,
		mvcc.FailpointCompactAfterCommitBatch,
		mvcc.FailpointCompactBeforeSetFinishedCompact,
	} {
		for _, synced := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/all-written-%v", fp, synced), func(t *testing.T) {
				c := newClusterWith(quiet{t}, nil, 1, 2, 3)
				c.elect(1)
				for i := range 12 {
					c.ok(1, &api.Request{Put: putReq(fmt.Sprintf("k%d", i%3), fmt.Sprint(i))})
				}
				c.armPanic(2, fp)
				c.nodes[2].store.SetCompactionBatchLimit(2) // several batches
				var crashed any
				func() {
					defer func() { crashed = recover() }()
					c.nodes[1].Request("admin", &api.Request{Compact: &pb.CompactionRequest{Revision: 10}})
					c.settle()
				}()
				require.NotNil(t, crashed, "n2 panicked at %s", fp)
				files := c.crash(2)
				if synced {
					files = c.envs[2].currentFiles()
				}
				for range 3 {
					c.heartbeat(1)
				}
				want := c.nodes[1].Hash()
				require.Equal(t, want, c.nodes[3].Hash())

				n := c.restart(2, files)
				for range 3 {
					c.heartbeat(1)
				}
				require.Equal(t, int64(10), n.store.CompactRev())
				resumed := slices.ContainsFunc(c.envs[2].logs, func(l string) bool {
					return strings.HasPrefix(l, "resuming scheduled compaction: compact-revision=10")
				})
				require.True(t, resumed, "the restart resumes the compaction its backend scheduled")
				_, unfinished := n.store.Unfinished()
				require.False(t, unfinished, "the compaction is finished")
				require.Equal(t, want, n.Hash())
				h1 := c.ok(1, &api.Request{HashKV: &pb.HashKVRequest{Revision: 13}}).HashKV
				h2 := c.ok(2, &api.Request{HashKV: &pb.HashKVRequest{Revision: 13}}).HashKV
				require.Equal(t, h1.Hash, h2.Hash)
				require.Equal(t, h1.CompactRevision, h2.CompactRevision)

				again := c.restart(2, c.crash(2))
				for range 3 {
					c.heartbeat(1)
				}
				require.Equal(t, c.nodes[1].Hash(), again.Hash(), "a second crash applies nothing twice")
			})
		}
	}
}

// With txn-split, a Txn's two puts land in two revisions: what a Txn
// promises is exactly that they do not.
func TestTxnSplitBugLandsATxnInTwoRevisions(t *testing.T) {
	for _, bug := range []bool{false, true} {
		c := newClusterWith(quiet{t}, func(cfg *Config) { cfg.Bugs.TxnSplit = bug }, 1, 2, 3)
		c.elect(1)
		r := c.ok(2, &api.Request{Txn: &pb.TxnRequest{Success: []*pb.RequestOp{opPut("a", "1"), opPut("b", "2")}}})
		require.True(t, r.Txn.Succeeded)
		a := c.rangeOf(1, rangeReq("a")).Kvs[0].ModRevision
		b := c.rangeOf(1, rangeReq("b")).Kvs[0].ModRevision
		if !bug {
			require.Equal(t, a, b, "one revision")
			require.Equal(t, int64(2), r.Header.Revision)
			continue
		}
		require.Equal(t, a+1, b, "two revisions")
		require.Equal(t, int64(3), r.Header.Revision)
	}
}

// With revision-skew, a delete does not move the revision: the next put
// reuses it, so two changes share one revision.
func TestRevisionSkewBugReusesARevision(t *testing.T) {
	for _, bug := range []bool{false, true} {
		c := newClusterWith(quiet{t}, func(cfg *Config) { cfg.Bugs.RevisionSkew = bug }, 1, 2, 3)
		c.elect(1)
		c.ok(1, &api.Request{Put: putReq("k", "v")}) // 2
		c.watchOn(2, "w", &pb.WatchCreateRequest{Key: []byte{0}, RangeEnd: []byte{0}})
		c.watched("w")
		del := c.ok(1, &api.Request{DeleteRange: deleteReq("k")})
		put := c.ok(1, &api.Request{Put: putReq("j", "v")})
		if !bug {
			require.Equal(t, int64(3), del.Header.Revision)
			require.Equal(t, int64(4), put.Header.Revision)
			require.Equal(t, []string{"DELETE k@3", "PUT j=v@4"}, events(c.watched("w")))
			continue
		}
		require.Equal(t, int64(2), del.Header.Revision, "the delete left the revision where it was")
		require.Equal(t, int64(3), put.Header.Revision, "and the put took the delete's revision")
		require.Equal(t, []string{"DELETE k@3", "PUT j=v@3"}, events(c.watched("w")), "two changes at one revision")
		require.Equal(t, int64(3), c.rangeOf(2, &pb.RangeRequest{Key: []byte("j")}).Kvs[0].ModRevision)
	}
}

// Inside a Txn, a read sees the writes made before it in the same Txn,
// at the Txn's revision.
func TestTxnReadsSeeTheTxnsEarlierWrites(t *testing.T) {
	c := newKVCluster(t, "a=old")
	r := c.ok(2, &api.Request{Txn: &pb.TxnRequest{Success: []*pb.RequestOp{opPut("a", "new"), opGet("a"), opDelete("b"), opGet("c")}}})
	got := r.Txn.Responses[1].GetResponseRange()
	require.Equal(t, "new", string(got.Kvs[0].Value))
	require.Equal(t, int64(3), got.Kvs[0].ModRevision)
	require.Equal(t, int64(3), r.Header.Revision)
}

// A Txn with writes goes through raft even when the branch it takes only
// reads; it then creates no revision.
func TestTxnWhoseBranchOnlyReadsMakesNoRevision(t *testing.T) {
	c := newKVCluster(t, "a=1")
	r := c.ok(2, &api.Request{Txn: &pb.TxnRequest{Compare: []*pb.Compare{cmpValue("a", pb.Compare_EQUAL, "2")},
		Success: []*pb.RequestOp{opPut("a", "3")}, Failure: []*pb.RequestOp{opGet("a")}}})
	require.False(t, r.Txn.Succeeded)
	require.Equal(t, "1", string(r.Txn.Responses[0].GetResponseRange().Kvs[0].Value))
	require.Equal(t, int64(2), r.Header.Revision)
	require.Equal(t, int64(3), c.ok(1, &api.Request{Put: putReq("b", "1")}).Header.Revision)
}

func TestTxnDuplicateKeysAcrossNestingAndRanges(t *testing.T) {
	c := newKVCluster(t)
	for _, tt := range []struct {
		name string
		ops  []*pb.RequestOp
	}{
		{"a put in a nested txn of a key the outer puts", []*pb.RequestOp{opPut("a", "1"),
			opTxn(&pb.TxnRequest{Success: []*pb.RequestOp{opPut("a", "2")}})}},
		{"a put of a key inside a deleted range", []*pb.RequestOp{opPut("b", "1"),
			{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: []byte("a"), RangeEnd: []byte("c")}}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, api.ErrDuplicateKey, c.do(1, &api.Request{Txn: &pb.TxnRequest{Success: tt.ops}}).Err)
		})
	}
}

func TestHashKVAtRevisionZeroIsTheCurrentRevision(t *testing.T) {
	c := newKVCluster(t, "k=a", "k=b")
	r := c.ok(2, &api.Request{HashKV: &pb.HashKVRequest{}})
	require.Equal(t, int64(3), r.HashKV.HashRevision)
	require.Equal(t, c.ok(3, &api.Request{HashKV: &pb.HashKVRequest{Revision: 3}}).HashKV.Hash, r.HashKV.Hash)
}

// A Txn whose chosen branch has a request the store refuses (a put with
// ignore_value of a missing key, or with an unknown lease) fails as a
// whole: nothing of it is written.
func TestTxnWithARefusedRequestWritesNothing(t *testing.T) {
	c := newKVCluster(t)
	for _, tt := range []struct {
		put *pb.PutRequest
		err error
	}{
		{&pb.PutRequest{Key: []byte("missing"), IgnoreValue: true}, api.ErrKeyNotFound},
		{&pb.PutRequest{Key: []byte("k"), Value: []byte("v"), Lease: 99}, api.ErrLeaseNotFound},
	} {
		r := c.do(2, &api.Request{Txn: &pb.TxnRequest{Success: []*pb.RequestOp{opPut("first", "1"),
			{Request: &pb.RequestOp_RequestPut{RequestPut: tt.put}}}}})
		require.Equal(t, tt.err, r.Err)
		require.Equal(t, int64(1), c.nodes[3].Status().Rev, "nothing written")
	}
}
