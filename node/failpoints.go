package node

import "github.com/etcdlab/etcdlab/node/mvcc"

// Failpoints at etcd's gofail names. etcd marks them in its code with
// `// gofail: var raftBeforeSave struct{}` and its robustness tests turn
// them into a panic or a sleep (tests/robustness/failpoint); here the
// node calls Env.Failpoint at each, in the same places of its Ready loop.
const (
	// RaftBeforeLeaderSend: a leader, its Ready's entries applied, about
	// to send its messages (server/etcdserver/raft.go, raftNode.start).
	RaftBeforeLeaderSend = "raftBeforeLeaderSend"
	// RaftBeforeSave: before the hard state and entries go to the WAL.
	RaftBeforeSave = "raftBeforeSave"
	// WALBeforeSync and WALAfterSync: around the WAL's fsync, inside the
	// save (server/storage/wal/wal.go, WAL.Save), when raft says it must
	// sync.
	WALBeforeSync = "walBeforeSync"
	WALAfterSync  = "walAfterSync"
	// RaftAfterSave: the WAL write is durable (if it had to be).
	RaftAfterSave = "raftAfterSave"
	// RaftBeforeFollowerSend: a follower or candidate, its log durable,
	// about to send its acknowledgements and votes.
	RaftBeforeFollowerSend = "raftBeforeFollowerSend"
	// RaftBeforeAdvance: before raft is told the Ready is done.
	RaftBeforeAdvance = "raftBeforeAdvance"

	// A Ready that carries a snapshot from the leader meets these too
	// (raftNode.start): around saving the snapshot to the snap directory
	// and the WAL, before the Ready's save; then, once the save is
	// durable, around opening the received backend in its place
	// (EtcdServer.applySnapshot) and handing the snapshot to raft's log,
	// and after the WAL files it covers are released.
	RaftBeforeSaveSnap = "raftBeforeSaveSnap"
	RaftAfterSaveSnap  = "raftAfterSaveSnap"
	// RaftBeforeWALSaveSnaphot (sic, etcd's spelling): inside
	// storage.SaveSnap, between the .snap file and the WAL record; the
	// member's own snapshots pass it too.
	RaftBeforeWALSaveSnaphot = "raftBeforeWALSaveSnaphot"
	ApplyBeforeOpenSnapshot  = "applyBeforeOpenSnapshot"
	ApplyAfterOpenSnapshot   = "applyAfterOpenSnapshot"
	RaftBeforeApplySnap      = "raftBeforeApplySnap"
	RaftAfterApplySnap       = "raftAfterApplySnap"
	RaftAfterWALRelease      = "raftAfterWALRelease"

	// BeforeApplyOneConfChange: before a committed membership change is
	// applied (EtcdServer.apply).
	BeforeApplyOneConfChange = "beforeApplyOneConfChange"

	// The backend's batch commit (server/storage/backend/batch_tx.go,
	// batchTxBuffered.unsafeCommit and batchTx.commit): around the
	// pre-commit hook that writes the consistent index into the
	// transaction, then around bbolt's commit. They run outside the raft
	// loop, so here they may only panic: a sleep would stall a loop that
	// is not there.
	CommitBeforePreCommitHook = "commitBeforePreCommitHook"
	CommitAfterPreCommitHook  = "commitAfterPreCommitHook"
	BeforeCommit              = "beforeCommit"
	AfterCommit               = "afterCommit"

	// Defragment's, before it copies the buckets into a new file and
	// before it renames that file over the old one (panic only).
	DefragBeforeCopy   = "defragBeforeCopy"
	DefragBeforeRename = "defragBeforeRename"
)

// Failpoints lists every failpoint: the Ready loop's in the order one
// Ready meets them, then the snapshot's, the membership change's and the
// backend's, so the harness and the CLI can check the names they are given.
var Failpoints = []string{
	RaftBeforeLeaderSend,
	RaftBeforeSave,
	WALBeforeSync,
	WALAfterSync,
	RaftAfterSave,
	RaftBeforeFollowerSend,
	RaftBeforeAdvance,
	RaftBeforeSaveSnap,
	RaftBeforeWALSaveSnaphot,
	RaftAfterSaveSnap,
	ApplyBeforeOpenSnapshot,
	ApplyAfterOpenSnapshot,
	RaftBeforeApplySnap,
	RaftAfterApplySnap,
	RaftAfterWALRelease,
	BeforeApplyOneConfChange,
	CommitBeforePreCommitHook,
	CommitAfterPreCommitHook,
	BeforeCommit,
	AfterCommit,
	mvcc.FailpointCompactBeforeCommitScheduledCompact,
	mvcc.FailpointCompactAfterCommitScheduledCompact,
	mvcc.FailpointCompactAfterAcquiredBatchTxLock,
	mvcc.FailpointCompactBeforeCommitBatch,
	mvcc.FailpointCompactAfterCommitBatch,
	mvcc.FailpointCompactBeforeSetFinishedCompact,
	mvcc.FailpointCompactAfterSetFinishedCompact,
	DefragBeforeCopy,
	DefragBeforeRename,
}

// PanicOnly reports whether a failpoint may only panic: the backend's,
// which etcd's robustness tests only ever panic at.
func PanicOnly(name string) bool {
	switch name {
	case CommitBeforePreCommitHook, CommitAfterPreCommitHook, BeforeCommit, AfterCommit,
		mvcc.FailpointCompactBeforeCommitScheduledCompact, mvcc.FailpointCompactAfterCommitScheduledCompact,
		mvcc.FailpointCompactAfterAcquiredBatchTxLock, mvcc.FailpointCompactBeforeCommitBatch,
		mvcc.FailpointCompactAfterCommitBatch, mvcc.FailpointCompactBeforeSetFinishedCompact,
		mvcc.FailpointCompactAfterSetFinishedCompact, DefragBeforeCopy, DefragBeforeRename:
		return true
	}
	return false
}
