// Package api is the client API of an etcdlab node: the request and
// response messages of etcd's gRPC services, in etcd's own types
// (go.etcd.io/etcd/api/v3 etcdserverpb and mvccpb), and the errors etcd
// returns (its rpctypes values, so a client compares them as clientv3
// users do).
//
// A Request carries one RPC of the KV, Lease, Watch or Maintenance
// service exactly as etcd's documentation describes it: a RangeRequest
// with its key, range_end, revision and serializable flag; a TxnRequest
// with its compares and branches; a WatchRequest on the client's watch
// stream. Only the Cluster service and MoveLeader use the lab's own small
// types (MemberAddRequest names the new member's ID instead of its peer
// URLs, so the harness can start the process that goes with it).
package api

import (
	"errors"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// Request is one client RPC. Exactly one of the operation fields is set.
// ID is chosen by the client; the node answers with the same ID. It is
// the lab's stand-in for a gRPC call's stream: etcd's own request IDs
// (RequestHeader.ID in the raft entry) are made by the server.
type Request struct {
	ID uint64
	// The KV service.
	Range       *pb.RangeRequest
	Put         *pb.PutRequest
	DeleteRange *pb.DeleteRangeRequest
	Txn         *pb.TxnRequest
	Compact     *pb.CompactionRequest
	// The Lease service. KeepAlive is one message of the client's
	// keep-alive stream.
	LeaseGrant      *pb.LeaseGrantRequest
	LeaseRevoke     *pb.LeaseRevokeRequest
	LeaseKeepAlive  *pb.LeaseKeepAliveRequest
	LeaseTimeToLive *pb.LeaseTimeToLiveRequest
	LeaseLeases     *pb.LeaseLeasesRequest
	// The Watch service: one message of the client's watch stream (create,
	// cancel or progress). Its answers come as Responses with Watch set,
	// as many as there are events.
	Watch *pb.WatchRequest
	// The Maintenance service.
	Status     *pb.StatusRequest
	HashKV     *pb.HashKVRequest
	Defragment *pb.DefragmentRequest
	Alarm      *pb.AlarmRequest
	// The Cluster service, and Maintenance's MoveLeader.
	MemberAdd     *MemberAddRequest
	MemberRemove  *MemberRemoveRequest
	MemberPromote *MemberPromoteRequest
	MemberList    *MemberListRequest
	MoveLeader    *MoveLeaderRequest
}

// MemberAddRequest adds a member, as a learner or a voter. etcd makes the
// new member's ID from its peer URLs; here the caller names it, so the
// harness can start the process that goes with it.
type MemberAddRequest struct {
	ID        uint64
	IsLearner bool
}

// MemberRemoveRequest removes a member, learner or voter, the leader too.
type MemberRemoveRequest struct{ ID uint64 }

// MemberPromoteRequest makes a learner a voter, once it has caught up.
type MemberPromoteRequest struct{ ID uint64 }

// MemberListRequest lists the members as this member knows them.
type MemberListRequest struct{}

// MoveLeaderRequest asks the leader to hand leadership to TargetID.
type MoveLeaderRequest struct{ TargetID uint64 }

// Member is a cluster member as the Cluster service reports it.
type Member struct {
	ID        uint64
	IsLearner bool
}

// MemberResponse answers every Cluster request: the members after it (and
// for MemberAdd, Member is the one added). MoveLeader answers with an
// empty one.
type MemberResponse struct {
	Member  *Member
	Members []Member
}

// Response answers the Request with the same ID; responses a watch stream
// pushes (events, progress notifications) have ID 0, and the client tells
// its watches apart by WatchId, as clientv3 does. Err is set instead of the operation's
// response when the request failed. Header is the header of the response
// inside (etcd's ResponseHeader: cluster, member, revision, raft term),
// kept here too so that errors carry one.
type Response struct {
	ID     uint64
	Header *pb.ResponseHeader
	Err    error

	Range       *pb.RangeResponse
	Put         *pb.PutResponse
	DeleteRange *pb.DeleteRangeResponse
	Txn         *pb.TxnResponse
	Compact     *pb.CompactionResponse

	LeaseGrant      *pb.LeaseGrantResponse
	LeaseRevoke     *pb.LeaseRevokeResponse
	LeaseKeepAlive  *pb.LeaseKeepAliveResponse
	LeaseTimeToLive *pb.LeaseTimeToLiveResponse
	LeaseLeases     *pb.LeaseLeasesResponse

	Watch *pb.WatchResponse

	Status     *pb.StatusResponse
	HashKV     *pb.HashKVResponse
	Defragment *pb.DefragmentResponse
	Alarm      *pb.AlarmResponse

	Members *MemberResponse
}

// Errors a node returns. Where etcd's client sees an rpctypes value, the
// node returns that same value, so `err == api.ErrCompacted` reads as
// `err == rpctypes.ErrCompacted` does in clientv3 code.
var (
	// ErrTimeout: the request was not done within the server's request
	// timeout. Like in etcd, a write may still take effect later.
	ErrTimeout = rpctypes.ErrTimeout
	// ErrLeaderChanged: a linearizable read's ReadIndex round was in
	// flight when a new leader appeared (etcd's read loop fails the round
	// then). The read did not happen; a client may retry it.
	ErrLeaderChanged = rpctypes.ErrLeaderChanged
	// ErrStopped: the server is shutting down.
	ErrStopped = rpctypes.ErrStopped
	// ErrProposalDropped: raft refused the proposal, as it does during a
	// leader transfer. The write definitely did not happen. (While no
	// leader is known, writes wait for one instead, as in etcd.) etcd's
	// server returns raft's error as it is; gRPC makes it Unknown.
	ErrProposalDropped = errors.New("raft proposal dropped")
	// ErrBadRequest: the request carries no operation or cannot be
	// decoded (gRPC would refuse it before the server sees it).
	ErrBadRequest = errors.New("etcdserver: bad request")

	// The KV service's errors.
	ErrEmptyKey         = rpctypes.ErrEmptyKey
	ErrKeyNotFound      = rpctypes.ErrKeyNotFound
	ErrValueProvided    = rpctypes.ErrValueProvided
	ErrLeaseProvided    = rpctypes.ErrLeaseProvided
	ErrTooManyOps       = rpctypes.ErrTooManyOps
	ErrDuplicateKey     = rpctypes.ErrDuplicateKey
	ErrInvalidSortOpt   = rpctypes.ErrInvalidSortOption
	ErrCompacted        = rpctypes.ErrCompacted
	ErrFutureRev        = rpctypes.ErrFutureRev
	ErrNoSpace          = rpctypes.ErrNoSpace
	ErrRequestTooLarge  = rpctypes.ErrRequestTooLarge
	ErrLeaseNotFound    = rpctypes.ErrLeaseNotFound
	ErrLeaseExist       = rpctypes.ErrLeaseExist
	ErrLeaseTTLTooLarge = rpctypes.ErrLeaseTTLTooLarge
	ErrNoLeader         = rpctypes.ErrNoLeader
	ErrNotLeader        = rpctypes.ErrNotLeader

	// Membership errors (server/etcdserver/errors, membership/errors.go),
	// as the server returns them before gRPC translates them.
	ErrLearnerNotReady         = rpctypes.ErrMemberLearnerNotReady
	ErrUnhealthy               = rpctypes.ErrUnhealthy
	ErrNotEnoughStartedMembers = rpctypes.ErrMemberNotEnoughStarted
	ErrTooManyLearners         = errors.New("membership: too many learner members in cluster")
	ErrIDNotFound              = errors.New("membership: ID not found")
	ErrIDExists                = errors.New("membership: ID exists")
	ErrIDRemoved               = errors.New("membership: ID removed")
	ErrMemberNotLearner        = errors.New("membership: can only promote a learner member")
	ErrBadLeaderTransferee     = rpctypes.ErrBadLeaderTransferee
	ErrTimeoutLeaderTransfer   = errors.New("etcdserver: request timed out, leader transfer took too long")
	// ErrNotSupportedForLearner: a learner serves only serializable reads
	// and Status; gRPC's code is Unavailable.
	ErrNotSupportedForLearner = errors.New("etcdserver: rpc not supported for learner")
)

// knownErrors lets errors survive the wire as their message and come back
// as the same value, so callers can compare with ==.
var knownErrors = []error{ErrTimeout, ErrLeaderChanged, ErrStopped, ErrProposalDropped, ErrBadRequest,
	ErrEmptyKey, ErrKeyNotFound, ErrValueProvided, ErrLeaseProvided, ErrTooManyOps, ErrDuplicateKey,
	ErrInvalidSortOpt, ErrCompacted, ErrFutureRev, ErrNoSpace, ErrRequestTooLarge, ErrLeaseNotFound,
	ErrLeaseExist, ErrLeaseTTLTooLarge, ErrNoLeader, ErrNotLeader,
	ErrLearnerNotReady, ErrUnhealthy, ErrNotEnoughStartedMembers, ErrTooManyLearners,
	ErrIDNotFound, ErrIDExists, ErrIDRemoved, ErrMemberNotLearner, ErrBadLeaderTransferee, ErrTimeoutLeaderTransfer,
	ErrNotSupportedForLearner}

// Op names the request's operation, for traces.
func (r *Request) Op() string {
	for _, o := range ops {
		if o.req(r) {
			return o.name
		}
	}
	for _, o := range memberOps {
		if o.req(r) {
			return o.name
		}
	}
	return "empty"
}
