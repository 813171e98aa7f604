package txn

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/protobuf/proto"

	"github.com/etcdlab/etcdlab/node/mvcc"
)

// fakeLessor records attachments; its leases are the ones listed.
type fakeLessor struct {
	leases   []int64
	attached []string // "lease:key" in order of attachment
}

func (l *fakeLessor) Lookup(id int64) bool { return slices.Contains(l.leases, id) }

func (l *fakeLessor) Attach(id int64, key []byte) error {
	if !l.Lookup(id) {
		return errors.New("no lease")
	}
	l.attached = append(l.attached, fmt.Sprintf("%d:%s", id, key))
	return nil
}

func (l *fakeLessor) Detach(id int64, key []byte) {
	l.attached = slices.DeleteFunc(l.attached, func(s string) bool { return s == fmt.Sprintf("%d:%s", id, key) })
}

func putOp(key, value string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte(key), Value: []byte(value)}}}
}

func rangeOp(r *pb.RangeRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: r}}
}

func deleteOp(key, end string) *pb.RequestOp {
	dr := &pb.DeleteRangeRequest{Key: []byte(key)}
	if end != "" {
		dr.RangeEnd = []byte(end)
	}
	return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: dr}}
}

func txnOp(t *pb.TxnRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestTxn{RequestTxn: t}}
}

func putKV(t *testing.T, s *mvcc.Store, p *pb.PutRequest, l Lessor) *pb.PutResponse {
	t.Helper()
	tw := s.Write()
	defer tw.End()
	resp, err := Put(tw, p, l)
	require.NoError(t, err)
	return resp
}

func get(t *testing.T, s *mvcc.Store, r *pb.RangeRequest) *pb.RangeResponse {
	t.Helper()
	tr := s.Read()
	defer tr.End()
	resp, err := Range(tr, r)
	require.NoError(t, err)
	return resp
}

type testSetup struct {
	compactRevision int64
	lease           int64
	key             []byte
}

// setup is etcd's txn_test.go setup: a store with a key, a lease, and a
// compaction.
func setup(t *testing.T, ts testSetup) (*mvcc.Store, *fakeLessor) {
	s := mvcc.NewStore()
	l := &fakeLessor{}
	if ts.lease != 0 {
		l.leases = append(l.leases, ts.lease)
	}
	if ts.compactRevision != 0 {
		for range ts.compactRevision {
			putKV(t, s, &pb.PutRequest{Key: []byte("compact")}, l)
		}
		c, err := s.Compact(ts.compactRevision)
		require.NoError(t, err)
		for c.Step() {
		}
		c.Finish()
	}
	if ts.key != nil {
		putKV(t, s, &pb.PutRequest{Key: ts.key}, l)
	}
	return s, l
}

var futureRev int64 = 1000

type testCase struct {
	name        string
	setup       testSetup
	op          *pb.RequestOp
	expectError string
}

// etcd's rangeTestCases and putTestCases (txn_test.go).
var checkTestCases = []testCase{
	{name: "Range with revision 0 should succeed", op: rangeOp(&pb.RangeRequest{Revision: 0})},
	{name: "Range on future rev should fail", op: rangeOp(&pb.RangeRequest{Revision: futureRev}),
		expectError: "mvcc: required revision is a future revision"},
	{name: "Range on compacted rev should fail", setup: testSetup{compactRevision: 10}, op: rangeOp(&pb.RangeRequest{Revision: 9}),
		expectError: "mvcc: required revision has been compacted"},
	{name: "Put without lease should succeed", op: &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{}}}},
	{name: "Put with non-existing lease should fail", op: &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Lease: 123}}},
		expectError: "lease not found"},
	{name: "Put with existing lease should succeed", setup: testSetup{lease: 123},
		op: &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Lease: 123}}}},
	{name: "Put with ignore value without previous key should fail",
		op:          &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{IgnoreValue: true}}},
		expectError: "etcdserver: key not found"},
	{name: "Put with ignore lease without previous key should fail",
		op:          &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{IgnoreLease: true}}},
		expectError: "etcdserver: key not found"},
	{name: "Put with ignore value with previous key should succeeded", setup: testSetup{key: []byte("ignore-value")},
		op: &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{IgnoreValue: true, Key: []byte("ignore-value")}}}},
	{name: "Put with ignore lease with previous key should succeed ", setup: testSetup{key: []byte("ignore-lease")},
		op: &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{IgnoreLease: true, Key: []byte("ignore-lease")}}}},
}

// etcd's TestCheckTxn: a txn whose checks fail changes nothing.
func TestCheckTxn(t *testing.T) {
	type txnTestCase struct {
		name        string
		setup       testSetup
		txn         *pb.TxnRequest
		expectError string
	}
	var testCases []txnTestCase
	for _, tc := range checkTestCases {
		testCases = append(testCases, txnTestCase{
			name: tc.name, setup: tc.setup, expectError: tc.expectError,
			// a second, valid put shows that nothing of a failing txn is written
			txn: &pb.TxnRequest{Success: []*pb.RequestOp{putOp("other", "v"), tc.op}},
		})
	}
	invalidOperation := rangeOp(&pb.RangeRequest{Revision: futureRev})
	testCases = append(testCases,
		txnTestCase{name: "Invalid operation on failed path should succeed",
			txn: &pb.TxnRequest{Failure: []*pb.RequestOp{invalidOperation}}},
		txnTestCase{name: "Invalid operation on subtransaction should fail",
			txn:         &pb.TxnRequest{Success: []*pb.RequestOp{txnOp(&pb.TxnRequest{Success: []*pb.RequestOp{invalidOperation}})}},
			expectError: "mvcc: required revision is a future revision"},
	)
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			s, lessor := setup(t, tc.setup)
			rev, hash := s.Rev(), s.Hash()
			_, err := Txn(s, tc.txn, lessor)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
				require.Equal(t, rev, s.Rev(), "a failed check leaves the store unchanged")
				require.Equal(t, hash, s.Hash())
				require.Empty(t, lessor.attached)
			}
			require.Equal(t, tc.expectError, gotErr)
		})
	}
}

// etcd's TestCheckPut, through Put itself.
func TestPutChecks(t *testing.T) {
	for _, tc := range checkTestCases {
		p := tc.op.GetRequestPut()
		if p == nil {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			s, lessor := setup(t, tc.setup)
			rev := s.Rev()
			tw := s.Write()
			_, err := Put(tw, p, lessor)
			tw.End()
			if tc.expectError == "" {
				require.NoError(t, err)
				require.Equal(t, rev+1, s.Rev())
				return
			}
			require.EqualError(t, err, tc.expectError)
			require.Equal(t, rev, s.Rev())
		})
	}
	// A nil lessor: no lease exists.
	s := mvcc.NewStore()
	tw := s.Write()
	_, err := Put(tw, &pb.PutRequest{Key: []byte("k"), Lease: 5}, nil)
	tw.End()
	require.ErrorIs(t, err, ErrLeaseNotFound)
	require.Equal(t, rpctypes.ErrLeaseNotFound, ToRPCError(err))
}

func kvEqual(t *testing.T, want, got *mvccpb.KeyValue) {
	t.Helper()
	require.True(t, proto.Equal(want, got), "got %v, want %v", got, want)
}

func kv(key, value string, create, mod, version, lease int64) *mvccpb.KeyValue {
	return &mvccpb.KeyValue{Key: []byte(key), Value: []byte(value), CreateRevision: create, ModRevision: mod, Version: version, Lease: lease}
}

// prev_kv, ignore_value and ignore_lease, and leases moving with a key.
func TestPut(t *testing.T) {
	s := mvcc.NewStore()
	l := &fakeLessor{leases: []int64{7, 8}}
	resp := putKV(t, s, &pb.PutRequest{Key: []byte("k"), Value: []byte("v1"), Lease: 7, PrevKv: true}, l)
	require.Nil(t, resp.Header, "the node fills the header")
	require.Nil(t, resp.PrevKv, "no previous key")
	require.Equal(t, []string{"7:k"}, l.attached)

	resp = putKV(t, s, &pb.PutRequest{Key: []byte("k"), IgnoreValue: true, Lease: 8, PrevKv: true}, l)
	kvEqual(t, kv("k", "v1", 2, 2, 1, 7), resp.PrevKv)
	require.Equal(t, []string{"8:k"}, l.attached, "moved from lease 7 to 8")

	resp = putKV(t, s, &pb.PutRequest{Key: []byte("k"), Value: []byte("v3"), IgnoreLease: true, PrevKv: true}, l)
	kvEqual(t, kv("k", "v1", 2, 3, 2, 8), resp.PrevKv)
	r := get(t, s, &pb.RangeRequest{Key: []byte("k")})
	kvEqual(t, kv("k", "v3", 2, 4, 3, 8), r.Kvs[0])
	require.Equal(t, []string{"8:k"}, l.attached)

	putKV(t, s, &pb.PutRequest{Key: []byte("k"), Value: []byte("v4")}, l)
	require.Empty(t, l.attached, "a put without lease detaches the key")
}

func TestDeleteRange(t *testing.T) {
	s := mvcc.NewStore()
	l := &fakeLessor{leases: []int64{7}}
	putKV(t, s, &pb.PutRequest{Key: []byte("a"), Value: []byte("1"), Lease: 7}, l)
	putKV(t, s, &pb.PutRequest{Key: []byte("b"), Value: []byte("2")}, l)
	putKV(t, s, &pb.PutRequest{Key: []byte("c"), Value: []byte("3")}, l)

	tw := s.Write()
	resp, err := DeleteRange(tw, &pb.DeleteRangeRequest{Key: []byte("a"), RangeEnd: []byte("c"), PrevKv: true}, l)
	tw.End()
	require.NoError(t, err)
	require.Equal(t, int64(2), resp.Deleted)
	require.Len(t, resp.PrevKvs, 2)
	kvEqual(t, kv("a", "1", 2, 2, 1, 7), resp.PrevKvs[0])
	kvEqual(t, kv("b", "2", 3, 3, 1, 0), resp.PrevKvs[1])
	require.Equal(t, int64(5), s.Rev())
	require.Empty(t, l.attached, "the deleted key left its lease")

	tw = s.Write()
	resp, err = DeleteRange(tw, &pb.DeleteRangeRequest{Key: []byte("a"), RangeEnd: []byte{0}}, l)
	tw.End()
	require.NoError(t, err)
	require.Equal(t, int64(1), resp.Deleted, "range end \\x00: every key >= a")
	require.Nil(t, resp.PrevKvs)

	tw = s.Write()
	resp, err = DeleteRange(tw, &pb.DeleteRangeRequest{Key: []byte("a")}, l)
	tw.End()
	require.NoError(t, err)
	require.Equal(t, int64(0), resp.Deleted)
	require.Equal(t, int64(6), s.Rev(), "deleting nothing changes nothing")
}

// etcd's range: sort, limit and more, count_only, keys_only, revision
// filters, reads at a revision.
func TestRange(t *testing.T) {
	s := mvcc.NewStore()
	l := &fakeLessor{leases: []int64{9}}
	putKV(t, s, &pb.PutRequest{Key: []byte("a"), Value: []byte("z")}, l) // 2
	putKV(t, s, &pb.PutRequest{Key: []byte("b"), Value: []byte("y")}, l) // 3
	putKV(t, s, &pb.PutRequest{Key: []byte("c"), Value: []byte("x"), Lease: 9}, l)
	putKV(t, s, &pb.PutRequest{Key: []byte("a"), Value: []byte("w")}, l) // 5
	putKV(t, s, &pb.PutRequest{Key: []byte("d"), Value: []byte("v")}, l) // 6

	keys := func(r *pb.RangeResponse) string {
		var s string
		for _, kv := range r.Kvs {
			s += string(kv.Key)
		}
		return s
	}
	all := func(r *pb.RangeRequest) *pb.RangeRequest {
		r.Key, r.RangeEnd = []byte("a"), []byte{0}
		return r
	}
	tests := []struct {
		name  string
		req   *pb.RangeRequest
		keys  string
		more  bool
		count int64
	}{
		{"all", all(&pb.RangeRequest{}), "abcd", false, 4},
		{"one key", &pb.RangeRequest{Key: []byte("b")}, "b", false, 1},
		{"range end", &pb.RangeRequest{Key: []byte("b"), RangeEnd: []byte("d")}, "bc", false, 2},
		{"limit", all(&pb.RangeRequest{Limit: 2}), "ab", true, 4},
		{"limit exact", all(&pb.RangeRequest{Limit: 4}), "abcd", false, 4},
		{"count only", all(&pb.RangeRequest{CountOnly: true}), "", false, 4},
		{"at revision 4", all(&pb.RangeRequest{Revision: 4}), "abc", false, 3},
		{"sort by key descending", all(&pb.RangeRequest{SortOrder: pb.RangeRequest_DESCEND}), "dcba", false, 4},
		{"sort by value", all(&pb.RangeRequest{SortTarget: pb.RangeRequest_VALUE}), "dacb", false, 4},
		{"sort by mod descending, limit", all(&pb.RangeRequest{SortTarget: pb.RangeRequest_MOD, SortOrder: pb.RangeRequest_DESCEND, Limit: 2}), "da", true, 4},
		{"sort by create", all(&pb.RangeRequest{SortTarget: pb.RangeRequest_CREATE, SortOrder: pb.RangeRequest_ASCEND}), "abcd", false, 4},
		{"sort by version descending", all(&pb.RangeRequest{SortTarget: pb.RangeRequest_VERSION, SortOrder: pb.RangeRequest_DESCEND, Limit: 1}), "a", true, 4},
		{"min mod revision", all(&pb.RangeRequest{MinModRevision: 4}), "acd", false, 4},
		{"max mod revision", all(&pb.RangeRequest{MaxModRevision: 4}), "bc", false, 4},
		{"min create revision", all(&pb.RangeRequest{MinCreateRevision: 3}), "bcd", false, 4},
		{"max create revision, limit", all(&pb.RangeRequest{MaxCreateRevision: 3, Limit: 1}), "a", true, 4},
	}
	for _, tt := range tests {
		r := get(t, s, tt.req)
		require.Equal(t, tt.keys, keys(r), tt.name)
		require.Equal(t, tt.more, r.More, tt.name)
		require.Equal(t, tt.count, r.Count, tt.name)
		require.Nil(t, r.Header, tt.name)
	}

	r := get(t, s, &pb.RangeRequest{Key: []byte("c"), KeysOnly: true})
	kvEqual(t, &mvccpb.KeyValue{Key: []byte("c"), CreateRevision: 4, ModRevision: 4, Version: 1}, r.Kvs[0])
	r = get(t, s, &pb.RangeRequest{Key: []byte("c")})
	kvEqual(t, kv("c", "x", 4, 4, 1, 9), r.Kvs[0])

	tr := s.Read()
	_, err := Range(tr, &pb.RangeRequest{Key: []byte("a"), Revision: 7})
	tr.End()
	require.ErrorIs(t, err, mvcc.ErrFutureRev)
	require.Equal(t, rpctypes.ErrFutureRev, ToRPCError(err))
}

func cmp(key string, target pb.Compare_CompareTarget, result pb.Compare_CompareResult, v int64) *pb.Compare {
	c := &pb.Compare{Key: []byte(key), Target: target, Result: result}
	switch target {
	case pb.Compare_VERSION:
		c.TargetUnion = &pb.Compare_Version{Version: v}
	case pb.Compare_CREATE:
		c.TargetUnion = &pb.Compare_CreateRevision{CreateRevision: v}
	case pb.Compare_MOD:
		c.TargetUnion = &pb.Compare_ModRevision{ModRevision: v}
	case pb.Compare_LEASE:
		c.TargetUnion = &pb.Compare_Lease{Lease: v}
	}
	return c
}

func cmpValue(key string, result pb.Compare_CompareResult, v string) *pb.Compare {
	return &pb.Compare{Key: []byte(key), Target: pb.Compare_VALUE, Result: result, TargetUnion: &pb.Compare_Value{Value: []byte(v)}}
}

// Every compare target and result, on one key, on a missing key and over
// a range (etcd's applyCompare: every key of the range must pass).
func TestCompares(t *testing.T) {
	s := mvcc.NewStore()
	l := &fakeLessor{leases: []int64{5}}
	putKV(t, s, &pb.PutRequest{Key: []byte("k1"), Value: []byte("b")}, l)           // 2
	putKV(t, s, &pb.PutRequest{Key: []byte("k1"), Value: []byte("b"), Lease: 5}, l) // 3: version 2
	putKV(t, s, &pb.PutRequest{Key: []byte("k2"), Value: []byte("c")}, l)           // 4

	const (
		eq, ne, gt, lt = pb.Compare_EQUAL, pb.Compare_NOT_EQUAL, pb.Compare_GREATER, pb.Compare_LESS
	)
	tests := []struct {
		c    *pb.Compare
		want bool
	}{
		{cmpValue("k1", eq, "b"), true},
		{cmpValue("k1", ne, "b"), false},
		{cmpValue("k1", gt, "a"), true},
		{cmpValue("k1", lt, "a"), false},
		{cmpValue("missing", ne, "x"), false}, // a value compare on a missing key always fails
		{cmp("k1", pb.Compare_VERSION, eq, 2), true},
		{cmp("k1", pb.Compare_VERSION, gt, 1), true},
		{cmp("k1", pb.Compare_VERSION, lt, 2), false},
		{cmp("missing", pb.Compare_VERSION, eq, 0), true}, // a missing key has version 0
		{cmp("k1", pb.Compare_CREATE, eq, 2), true},
		{cmp("missing", pb.Compare_CREATE, eq, 0), true},
		{cmp("k1", pb.Compare_MOD, eq, 3), true},
		{cmp("k1", pb.Compare_MOD, ne, 3), false},
		{cmp("k1", pb.Compare_MOD, lt, 4), true},
		{cmp("k1", pb.Compare_LEASE, eq, 5), true},
		{cmp("k2", pb.Compare_LEASE, eq, 0), true},
		{cmp("k2", pb.Compare_LEASE, gt, 0), false},
		{withEnd(cmp("k", pb.Compare_MOD, gt, 2), "l"), true},         // k1: 3, k2: 4
		{withEnd(cmp("k", pb.Compare_MOD, gt, 3), "l"), false},        // k1 fails
		{withEnd(cmp("k", pb.Compare_VERSION, eq, 1), "\x00"), false}, // every key >= k
		{withEnd(cmpValue("k", ne, "a"), "\x00"), true},
	}
	for i, tt := range tests {
		rev := s.Rev()
		resp, err := Txn(s, &pb.TxnRequest{
			Compare: []*pb.Compare{tt.c},
			Success: []*pb.RequestOp{rangeOp(&pb.RangeRequest{Key: []byte("k1")})},
		}, l)
		require.NoError(t, err)
		require.Equal(t, tt.want, resp.Succeeded, "#%d %v", i, tt.c)
		require.Equal(t, rev, s.Rev())
		if tt.want {
			require.Len(t, resp.Responses, 1)
		} else {
			require.Empty(t, resp.Responses)
		}
	}
}

func withEnd(c *pb.Compare, end string) *pb.Compare {
	c.RangeEnd = []byte(end)
	return c
}

// A txn's writes share one revision; its later ops see its earlier ones;
// a nested txn follows its own compares; responses nest the same way.
func TestTxnWritesAndNesting(t *testing.T) {
	s := mvcc.NewStore()
	putKV(t, s, &pb.PutRequest{Key: []byte("x"), Value: []byte("1")}, nil) // 2

	rt := &pb.TxnRequest{
		Compare: []*pb.Compare{cmpValue("x", pb.Compare_EQUAL, "1")},
		Success: []*pb.RequestOp{
			putOp("a", "1"),
			putOp("b", "1"),
			rangeOp(&pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte("c")}),
			txnOp(&pb.TxnRequest{
				// Every compare is evaluated before the txn writes
				// anything (compareToPath): a did not exist then.
				Compare: []*pb.Compare{cmp("a", pb.Compare_VERSION, pb.Compare_EQUAL, 0)},
				Success: []*pb.RequestOp{
					deleteOp("x", ""),
					txnOp(&pb.TxnRequest{Success: []*pb.RequestOp{putOp("deep", "1")}}),
				},
				Failure: []*pb.RequestOp{putOp("never", "1")},
			}),
			putOp("c", "1"),
		},
		Failure: []*pb.RequestOp{putOp("failure", "1")},
	}
	require.NoError(t, CheckTxnRequest(rt, DefaultMaxTxnOps))
	resp, err := Txn(s, rt, nil)
	require.NoError(t, err)
	require.True(t, resp.Succeeded)
	require.Nil(t, resp.Header)
	require.Equal(t, int64(3), s.Rev(), "one revision for the whole txn")

	require.Equal(t, int64(3), resp.Responses[0].GetResponsePut().Header.Revision)
	rr := resp.Responses[2].GetResponseRange()
	require.Len(t, rr.Kvs, 2, "the txn's own puts are visible to its range")
	require.Equal(t, int64(3), rr.Header.Revision)
	nested := resp.Responses[3].GetResponseTxn()
	require.True(t, nested.Succeeded, "the nested compare saw the store before the txn")
	require.Equal(t, int64(1), nested.Responses[0].GetResponseDeleteRange().Deleted)
	require.True(t, nested.Responses[1].GetResponseTxn().Succeeded)

	evs := s.Events(3, 4)
	var got []string
	for _, ev := range evs {
		got = append(got, fmt.Sprintf("%s %s %d", ev.Type, ev.Kv.Key, ev.Kv.ModRevision))
	}
	require.Equal(t, []string{"PUT a 3", "PUT b 3", "DELETE x 3", "PUT deep 3", "PUT c 3"}, got)

	// A read-only txn is served from a read txn and changes nothing.
	resp, err = Txn(s, &pb.TxnRequest{Success: []*pb.RequestOp{rangeOp(&pb.RangeRequest{Key: []byte("a")})}}, nil)
	require.NoError(t, err)
	require.Equal(t, int64(3), s.Rev())
	require.Len(t, resp.Responses[0].GetResponseRange().Kvs, 1)
	require.True(t, IsTxnReadonly(&pb.TxnRequest{Success: []*pb.RequestOp{rangeOp(&pb.RangeRequest{Key: []byte("a")})}}))
	require.False(t, IsTxnReadonly(rt))
	// A write in the failure branch alone makes it a write.
	read := &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte("k")}}}
	put := &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("k")}}}
	require.True(t, IsTxnReadonly(&pb.TxnRequest{Success: []*pb.RequestOp{read}}))
	require.False(t, IsTxnReadonly(&pb.TxnRequest{Success: []*pb.RequestOp{read}, Failure: []*pb.RequestOp{put}}))

	// A txn without ops changes nothing; x is gone, so its compare fails.
	resp, err = Txn(s, &pb.TxnRequest{Compare: []*pb.Compare{cmpValue("x", pb.Compare_EQUAL, "1")}}, nil)
	require.NoError(t, err)
	require.False(t, resp.Succeeded)
	require.Equal(t, int64(3), s.Rev())
}
