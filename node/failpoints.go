package node

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
)

// Failpoints lists every failpoint in the order one Ready meets them, so
// the harness and the CLI can check the names they are given.
var Failpoints = []string{
	RaftBeforeLeaderSend,
	RaftBeforeSave,
	WALBeforeSync,
	WALAfterSync,
	RaftAfterSave,
	RaftBeforeFollowerSend,
	RaftBeforeAdvance,
}
