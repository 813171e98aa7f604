// Package api is the client API of an etcdlab node: plain Go mirrors of
// etcd's gRPC request and response types, and the errors etcd returns.
//
// The KV service's Range, Put and DeleteRange exist so far, each on a
// single key, with the Cluster service (MemberAdd, MemberRemove,
// MemberPromote, MemberList) and Maintenance's MoveLeader. The shapes
// follow etcdserverpb so that Txn, Watch, Lease and the rest of
// Maintenance can join without changing what is here.
package api

import "errors"

// Request is one client RPC. Exactly one of the operation fields is set.
// ID is chosen by the client and must be unique in the cluster: the node
// uses it to find the waiting request when the raft entry it proposed is
// applied (etcd's RequestHeader.ID plays this part).
type Request struct {
	ID          uint64
	Range       *RangeRequest
	Put         *PutRequest
	DeleteRange *DeleteRangeRequest
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

// RangeRequest reads a key. Serializable reads are served from the local
// state machine and may be stale; the default is linearizable, which costs
// a ReadIndex round to the leader.
type RangeRequest struct {
	Key          string
	Serializable bool
}

// PutRequest writes a key.
type PutRequest struct {
	Key, Value string
}

// DeleteRangeRequest deletes a key.
type DeleteRangeRequest struct {
	Key string
}

// Response answers the Request with the same ID. Err is set instead of the
// operation's response when the request failed.
type Response struct {
	ID          uint64
	Header      ResponseHeader
	Err         error
	Range       *RangeResponse
	Put         *PutResponse
	DeleteRange *DeleteRangeResponse
	Members     *MemberResponse
}

// ResponseHeader is etcd's: who answered, at which store revision and raft
// term.
type ResponseHeader struct {
	MemberID uint64
	Revision int64
	RaftTerm uint64
}

// KeyValue is a key's current version, with etcd's revision bookkeeping.
type KeyValue struct {
	Key            string
	Value          string
	CreateRevision int64
	ModRevision    int64
	Version        int64
}

// MemberResponse answers every Cluster request: the members after it (and
// for MemberAdd, Member is the one added). MoveLeader answers with an
// empty one.
type MemberResponse struct {
	Member  *Member
	Members []Member
}

// RangeResponse holds the key if it exists (Count is 0 or 1).
type RangeResponse struct {
	KVs   []KeyValue
	Count int64
}

// PutResponse is empty beyond the header, as in etcd without prev_kv.
type PutResponse struct{}

// DeleteRangeResponse says how many keys were deleted.
type DeleteRangeResponse struct {
	Deleted int64
}

// Errors a node returns, with etcd's messages.
var (
	// ErrTimeout: the request was not done within the server's request
	// timeout. Like in etcd, a write may still take effect later.
	ErrTimeout = errors.New("etcdserver: request timed out")
	// ErrProposalDropped: raft refused the proposal, as it does during a
	// leader transfer. The write definitely did not happen. (While no
	// leader is known, writes wait for one instead, as in etcd.)
	ErrProposalDropped = errors.New("raft proposal dropped")
	// ErrLeaderChanged: a linearizable read's ReadIndex round was in
	// flight when a new leader appeared (etcd's read loop fails the round
	// then). The read did not happen; a client may retry it.
	ErrLeaderChanged = errors.New("etcdserver: leader changed")
	// ErrStopped: the server is shutting down.
	ErrStopped = errors.New("etcdserver: server stopped")
	// ErrBadRequest: the request carries no operation or cannot be decoded.
	ErrBadRequest = errors.New("etcdserver: bad request")

	// Membership errors (server/etcdserver/errors, membership/errors.go).
	ErrNotLeader               = errors.New("etcdserver: not leader")
	ErrLearnerNotReady         = errors.New("etcdserver: can only promote a learner member which is in sync with leader")
	ErrUnhealthy               = errors.New("etcdserver: unhealthy cluster")
	ErrNotEnoughStartedMembers = errors.New("etcdserver: re-configuration failed due to not enough started members")
	ErrTooManyLearners         = errors.New("membership: too many learner members in cluster")
	ErrIDNotFound              = errors.New("membership: ID not found")
	ErrIDExists                = errors.New("membership: ID exists")
	ErrIDRemoved               = errors.New("membership: ID removed")
	ErrMemberNotLearner        = errors.New("membership: can only promote a learner member")
	ErrBadLeaderTransferee     = errors.New("etcdserver: bad leader transferee")
	ErrTimeoutLeaderTransfer   = errors.New("etcdserver: request timed out, leader transfer took too long")
	// ErrNotSupportedForLearner: a learner serves only serializable reads
	// (and MemberList); gRPC's code is Unavailable.
	ErrNotSupportedForLearner = errors.New("etcdserver: rpc not supported for learner")
)

// knownErrors lets errors survive the wire as their message and come back
// as the same value, so callers can compare with ==.
var knownErrors = []error{ErrTimeout, ErrProposalDropped, ErrLeaderChanged, ErrStopped, ErrBadRequest,
	ErrNotLeader, ErrLearnerNotReady, ErrUnhealthy, ErrNotEnoughStartedMembers, ErrTooManyLearners,
	ErrIDNotFound, ErrIDExists, ErrIDRemoved, ErrMemberNotLearner, ErrBadLeaderTransferee, ErrTimeoutLeaderTransfer,
	ErrNotSupportedForLearner}

// Op names the request's operation, for traces.
func (r *Request) Op() string {
	switch {
	case r.Range != nil:
		return "range"
	case r.Put != nil:
		return "put"
	case r.DeleteRange != nil:
		return "delete"
	case r.MemberAdd != nil:
		return "member-add"
	case r.MemberRemove != nil:
		return "member-remove"
	case r.MemberPromote != nil:
		return "member-promote"
	case r.MemberList != nil:
		return "member-list"
	case r.MoveLeader != nil:
		return "move-leader"
	}
	return "empty"
}
