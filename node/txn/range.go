package txn

import (
	"bytes"
	"math"
	"sort"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdlab/etcdlab/node/mvcc"
)

// Range is etcd's txn.Range on the read view rv (the caller begins and
// ends it): read, filter by revisions, sort, cut at the limit.
func Range(rv mvcc.ReadView, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	resp, err := executeRange(rv, r)
	if err != nil {
		return nil, err
	}
	resp.Header = nil // the node fills it
	return resp, nil
}

func executeRange(rv mvcc.ReadView, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	ro := mvcc.RangeOptions{
		Limit: rangeLimit(r),
		Rev:   r.Revision,
		Count: r.CountOnly,
	}
	rr, err := rv.Range(r.Key, mkGteRange(r.RangeEnd), ro)
	if err != nil {
		return nil, err
	}
	if r.KeysOnly && r.SortTarget != pb.RangeRequest_VALUE {
		// etcd v3.7's FastKeysOnly reads keys from the index alone: the
		// KVs come without value and without lease.
		for _, kv := range rr.KVs {
			kv.Value, kv.Lease = nil, 0
		}
	}
	filterRangeResults(rr, r)
	sortRangeResults(rr, r)
	return asembleRangeResponse(rr, r), nil
}

// rangeLimit asks the store for one KV more than the limit, to know
// whether there are more; none when the results are sorted or filtered
// afterwards.
func rangeLimit(r *pb.RangeRequest) int64 {
	limit := r.Limit
	if !IsDefaultOrdering(r.SortTarget, r.SortOrder) || HasRevisionFilters(r) {
		// fetch everything; sort and truncate afterwards
		limit = 0
	}
	if limit > 0 && limit < math.MaxInt64 {
		// fetch one extra for 'more' flag
		limit = limit + 1
	}
	return limit
}

// IsDefaultOrdering reports whether the store's own order (by key,
// ascending) is the one asked for.
func IsDefaultOrdering(sortTarget pb.RangeRequest_SortTarget, sortOrder pb.RangeRequest_SortOrder) bool {
	return sortOrder == pb.RangeRequest_NONE ||
		(sortTarget == pb.RangeRequest_KEY && sortOrder == pb.RangeRequest_ASCEND)
}

// HasRevisionFilters reports whether the request filters by mod or create
// revision.
func HasRevisionFilters(r *pb.RangeRequest) bool {
	return r.MinModRevision != 0 || r.MaxModRevision != 0 ||
		r.MinCreateRevision != 0 || r.MaxCreateRevision != 0
}

func filterRangeResults(rr *mvcc.RangeResult, r *pb.RangeRequest) {
	if r.MaxModRevision != 0 {
		pruneKVs(rr, func(kv *mvccpb.KeyValue) bool { return kv.ModRevision > r.MaxModRevision })
	}
	if r.MinModRevision != 0 {
		pruneKVs(rr, func(kv *mvccpb.KeyValue) bool { return kv.ModRevision < r.MinModRevision })
	}
	if r.MaxCreateRevision != 0 {
		pruneKVs(rr, func(kv *mvccpb.KeyValue) bool { return kv.CreateRevision > r.MaxCreateRevision })
	}
	if r.MinCreateRevision != 0 {
		pruneKVs(rr, func(kv *mvccpb.KeyValue) bool { return kv.CreateRevision < r.MinCreateRevision })
	}
}

// sortRangeResults sorts as etcd does, with sort.Sort (not stable): the
// order of equal elements is sort.Sort's, the same on every member.
func sortRangeResults(rr *mvcc.RangeResult, r *pb.RangeRequest) {
	sortOrder := r.SortOrder
	if r.SortTarget != pb.RangeRequest_KEY && sortOrder == pb.RangeRequest_NONE {
		// Since current mvcc.Range implementation returns results
		// sorted by keys in lexiographically ascending order,
		// sort ASCEND by default only when target is not 'KEY'
		sortOrder = pb.RangeRequest_ASCEND
	}
	if IsDefaultOrdering(r.SortTarget, sortOrder) {
		return
	}
	var sorter sort.Interface
	switch r.SortTarget {
	case pb.RangeRequest_KEY:
		sorter = &kvSortByKey{&kvSort{rr.KVs}}
	case pb.RangeRequest_VERSION:
		sorter = &kvSortByVersion{&kvSort{rr.KVs}}
	case pb.RangeRequest_CREATE:
		sorter = &kvSortByCreate{&kvSort{rr.KVs}}
	case pb.RangeRequest_MOD:
		sorter = &kvSortByMod{&kvSort{rr.KVs}}
	case pb.RangeRequest_VALUE:
		sorter = &kvSortByValue{&kvSort{rr.KVs}}
	default:
		panic("unexpected sort target " + r.SortTarget.String())
	}
	switch sortOrder {
	case pb.RangeRequest_ASCEND:
		sort.Sort(sorter)
	case pb.RangeRequest_DESCEND:
		sort.Sort(sort.Reverse(sorter))
	}
}

func asembleRangeResponse(rr *mvcc.RangeResult, r *pb.RangeRequest) *pb.RangeResponse {
	resp := &pb.RangeResponse{Header: &pb.ResponseHeader{}}
	if r.Limit > 0 && len(rr.KVs) > int(r.Limit) {
		rr.KVs = rr.KVs[:r.Limit]
		resp.More = true
	}
	resp.Header.Revision = rr.Rev
	resp.Count = int64(rr.Count)
	resp.Kvs = make([]*mvccpb.KeyValue, len(rr.KVs))
	for i := range rr.KVs {
		if r.KeysOnly {
			rr.KVs[i].Value = nil
		}
		resp.Kvs[i] = rr.KVs[i]
	}
	return resp
}

func checkRange(rv mvcc.ReadView, req *pb.RangeRequest) error {
	switch {
	case req.Revision == 0:
		return nil
	case req.Revision > rv.Rev():
		return mvcc.ErrFutureRev
	case req.Revision < rv.FirstRev():
		return mvcc.ErrCompacted
	}
	return nil
}

func pruneKVs(rr *mvcc.RangeResult, isPrunable func(*mvccpb.KeyValue) bool) {
	j := 0
	for i := range rr.KVs {
		rr.KVs[j] = rr.KVs[i]
		if !isPrunable(rr.KVs[i]) {
			j++
		}
	}
	rr.KVs = rr.KVs[:j]
}

type kvSort struct{ kvs []*mvccpb.KeyValue }

func (s *kvSort) Swap(i, j int) { s.kvs[i], s.kvs[j] = s.kvs[j], s.kvs[i] }
func (s *kvSort) Len() int      { return len(s.kvs) }

type kvSortByKey struct{ *kvSort }

func (s *kvSortByKey) Less(i, j int) bool {
	return bytes.Compare(s.kvs[i].Key, s.kvs[j].Key) < 0
}

type kvSortByVersion struct{ *kvSort }

func (s *kvSortByVersion) Less(i, j int) bool {
	return (s.kvs[i].Version - s.kvs[j].Version) < 0
}

type kvSortByCreate struct{ *kvSort }

func (s *kvSortByCreate) Less(i, j int) bool {
	return (s.kvs[i].CreateRevision - s.kvs[j].CreateRevision) < 0
}

type kvSortByMod struct{ *kvSort }

func (s *kvSortByMod) Less(i, j int) bool {
	return (s.kvs[i].ModRevision - s.kvs[j].ModRevision) < 0
}

type kvSortByValue struct{ *kvSort }

func (s *kvSortByValue) Less(i, j int) bool {
	return bytes.Compare(s.kvs[i].Value, s.kvs[j].Value) < 0
}
