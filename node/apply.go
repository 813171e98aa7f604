package node

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdlab/etcdlab/node/api"
)

// apply carries out one committed InternalRaftRequest on the store, as
// etcd's applier does (server/etcdserver/apply), and returns the response
// for the client that proposed it.
func (n *Node) apply(r *pb.InternalRaftRequest) *api.Response {
	resp := &api.Response{}
	switch {
	case r.Put != nil:
		n.store.Put(string(r.Put.Key), string(r.Put.Value))
		resp.Put = &pb.PutResponse{}
		n.noteWrite(false)
	case r.DeleteRange != nil:
		deleted := n.store.Delete(string(r.DeleteRange.Key))
		resp.DeleteRange = &pb.DeleteRangeResponse{Deleted: deleted}
		n.noteWrite(deleted > 0)
	default:
		resp.Err = api.ErrBadRequest
	}
	return resp
}

// rangeResponse serves a read from the local store.
func (n *Node) rangeResponse(req *api.Request) *api.Response {
	rr := &pb.RangeResponse{}
	if kv, ok := n.store.Get(string(req.Range.Key)); ok {
		rr.Kvs, rr.Count = []*mvccpb.KeyValue{{Key: []byte(kv.Key), Value: []byte(kv.Value),
			CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision, Version: kv.Version}}, 1
	}
	return &api.Response{ID: req.ID, Range: rr}
}
