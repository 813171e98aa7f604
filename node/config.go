package node

import (
	"fmt"
	"time"

	"github.com/etcdlab/etcdlab/node/compactor"
)

// Config holds a member's settings. Names and defaults follow etcd's flags.
type Config struct {
	ID    uint64   // this member's raft ID, not 0
	Peers []uint64 // every member of the initial cluster, this one included
	// ClusterID is the cluster's ID, 0 to compute it from Peers as a new
	// cluster does (ClusterID). A member joining a running cluster is
	// given it, as etcd learns it from the cluster's members at start.
	ClusterID uint64

	// HeartbeatInterval is etcd's --heartbeat-interval (default 100 ms):
	// the node's tick. Raft's heartbeat timeout is one tick.
	HeartbeatInterval time.Duration
	// ElectionTimeout is etcd's --election-timeout (default 1000 ms). Raft
	// counts it in ticks, so it must be a multiple of the heartbeat
	// interval; like etcd, at least five of them.
	ElectionTimeout time.Duration
	// PreVote is etcd's --pre-vote (default true since v3.5): a node checks
	// it could win before it bumps the term, so a rejoining node does not
	// depose a healthy leader.
	PreVote bool
	// CheckQuorum makes a leader step down when it has not heard from a
	// quorum for an election timeout. etcd always turns it on.
	CheckQuorum bool
	// MaxSizePerMsg and MaxInflightMsgs bound raft's replication pipeline,
	// as etcd hard-codes them (1 MiB, 512 messages).
	MaxSizePerMsg   uint64
	MaxInflightMsgs int
	// InitialElectionTickAdvance is etcd's
	// --initial-election-tick-advance (default true): a starting member
	// fast-forwards its election clock once its peers are connected, so a
	// cluster with no leader elects one sooner (see Node.AdjustTicks).
	InitialElectionTickAdvance bool

	// InitialClusterState is etcd's --initial-cluster-state: "new" for a
	// member of the cluster being bootstrapped, "existing" for one that
	// MemberAdd added to a running cluster. It decides how a member with
	// no WAL starts: New bootstraps the cluster's membership, Join waits
	// for the leader.
	InitialClusterState string

	// StrictReconfigCheck is etcd's --strict-reconfig-check (default
	// true): a membership change that would leave the members this one
	// reaches without a quorum is refused.
	StrictReconfigCheck bool

	// SnapshotCount is etcd's --snapshot-count (default 10000 in v3.7):
	// after that many applied entries the member commits its backend,
	// saves a snapshot and releases the WAL files the snapshot covers.
	SnapshotCount uint64
	// SnapshotCatchUpEntries is how many entries raft's in-memory log keeps
	// behind the applied index when it is compacted (etcd's
	// --snapshot-catchup-entries, --experimental-snapshot-catchup-entries before v3.6; default 5000): a follower
	// further behind than that needs a snapshot to catch up.
	SnapshotCatchUpEntries uint64
	// BackendBatchInterval and BackendBatchLimit are etcd's
	// --backend-batch-interval (100 ms) and --backend-batch-limit (10000):
	// applied writes reach the backend file in a commit every interval, or
	// once that many are pending. The driver calls Node.CommitTick every
	// interval.
	BackendBatchInterval time.Duration
	BackendBatchLimit    int
	// MaxWALs and MaxSnapshots are etcd's --max-wals and --max-snapshots
	// (5 each; 0 keeps every file): how many released WAL segments and
	// snapshot files stay on disk.
	MaxWALs, MaxSnapshots int
	// WALSegmentSize is the size past which the WAL starts a new segment
	// file (etcd's wal.SegmentSizeBytes, 64 MB; not a flag in etcd, its
	// tests shrink it the same way).
	WALSegmentSize int

	// MaxTxnOps is etcd's --max-txn-ops (default 128): the most
	// operations one Txn may hold, in either branch.
	MaxTxnOps int
	// MaxRequestBytes is etcd's --max-request-bytes (default 1.5 MiB):
	// the largest raft request the server proposes.
	MaxRequestBytes uint64
	// QuotaBackendBytes is etcd's --quota-backend-bytes (0: the default,
	// 2 GiB): a write that would grow the backend past it raises the
	// NOSPACE alarm.
	QuotaBackendBytes int64
	// AutoCompactionMode and AutoCompactionRetention are etcd's
	// --auto-compaction-mode ("periodic" or "revision") and
	// --auto-compaction-retention (a duration for periodic, a number of
	// revisions for revision; 0 turns it off, etcd's default).
	AutoCompactionMode      string
	AutoCompactionRetention string
	// CompactionBatchLimit is etcd's --compaction-batch-limit (--experimental-compaction-batch-limit before v3.6)
	// (default 1000): how many revisions one compaction batch removes
	// before it commits.
	CompactionBatchLimit int
	// WatchProgressNotifyInterval is etcd's
	// --experimental-watch-progress-notify-interval (default 10 min).
	WatchProgressNotifyInterval time.Duration

	// Bugs are deliberate faults that prove the checkers work. Off in
	// every real run.
	Bugs Bugs
}

// The values of --auto-compaction-mode.
const (
	CompactionPeriodic = compactor.ModePeriodic
	CompactionRevision = compactor.ModeRevision
)

func autoCompactionErr(c Config) error {
	_, err := compactor.New(c.AutoCompactionMode, c.AutoCompactionRetention)
	return err
}

// The values of --initial-cluster-state.
const (
	ClusterStateNew      = "new"
	ClusterStateExisting = "existing"
)

// DefaultConfig is etcd's defaults for member id of the given cluster.
func DefaultConfig(id uint64, peers []uint64) Config {
	election := 1000 * time.Millisecond
	return Config{
		ID:                          id,
		Peers:                       peers,
		HeartbeatInterval:           100 * time.Millisecond,
		ElectionTimeout:             election,
		PreVote:                     true,
		CheckQuorum:                 true,
		InitialElectionTickAdvance:  true,
		InitialClusterState:         ClusterStateNew,
		StrictReconfigCheck:         true,
		MaxSizePerMsg:               1 << 20,
		MaxInflightMsgs:             4096 / 8,
		SnapshotCount:               10000,
		SnapshotCatchUpEntries:      5000,
		BackendBatchInterval:        100 * time.Millisecond,
		BackendBatchLimit:           10000,
		MaxWALs:                     5,
		MaxSnapshots:                5,
		WALSegmentSize:              64 * 1000 * 1000,
		MaxTxnOps:                   128,
		MaxRequestBytes:             1.5 * 1024 * 1024,
		AutoCompactionMode:          CompactionPeriodic,
		AutoCompactionRetention:     "0",
		CompactionBatchLimit:        1000,
		WatchProgressNotifyInterval: 10 * time.Minute,
	}
}

// Validate rejects settings etcd would refuse to start with, and ones raft
// cannot express.
func (c Config) Validate() error {
	switch {
	case c.ID == 0:
		return fmt.Errorf("member ID must not be 0")
	case c.HeartbeatInterval <= 0:
		return fmt.Errorf("--heartbeat-interval must be positive, got %v", c.HeartbeatInterval)
	case c.ElectionTimeout < 5*c.HeartbeatInterval:
		return fmt.Errorf("--election-timeout[%v] should be at least as 5 times as --heartbeat-interval[%v]", c.ElectionTimeout, c.HeartbeatInterval)
	case c.ElectionTimeout > 50*time.Second:
		return fmt.Errorf("--election-timeout[%v] is too long, and should be set less than 50 seconds", c.ElectionTimeout)
	case c.InitialClusterState != ClusterStateNew && c.InitialClusterState != ClusterStateExisting:
		return fmt.Errorf("--initial-cluster-state must be %q or %q, got %q", ClusterStateNew, ClusterStateExisting, c.InitialClusterState)
	case c.SnapshotCount == 0:
		return fmt.Errorf("--snapshot-count must be at least 1")
	case c.BackendBatchInterval <= 0:
		return fmt.Errorf("--backend-batch-interval must be positive, got %v", c.BackendBatchInterval)
	case c.BackendBatchLimit <= 0:
		return fmt.Errorf("--backend-batch-limit must be positive, got %d", c.BackendBatchLimit)
	case c.MaxWALs < 0 || c.MaxSnapshots < 0:
		return fmt.Errorf("--max-wals and --max-snapshots must not be negative")
	case c.WALSegmentSize < 1024:
		return fmt.Errorf("wal-segment-size must be at least 1024 bytes, got %d", c.WALSegmentSize)
	case c.CompactionBatchLimit <= 0:
		return fmt.Errorf("compaction-batch-limit (etcd's --compaction-batch-limit) must be positive, got %d", c.CompactionBatchLimit)
	case c.MaxTxnOps <= 0:
		return fmt.Errorf("--max-txn-ops must be positive, got %d", c.MaxTxnOps)
	case c.MaxRequestBytes == 0:
		return fmt.Errorf("--max-request-bytes must be positive")
	case c.QuotaBackendBytes < 0:
		return fmt.Errorf("--quota-backend-bytes must not be negative, got %d", c.QuotaBackendBytes)
	case c.AutoCompactionMode != CompactionPeriodic && c.AutoCompactionMode != CompactionRevision:
		return fmt.Errorf("unknown auto-compaction-mode %q (use %q or %q)", c.AutoCompactionMode, CompactionPeriodic, CompactionRevision)
	case autoCompactionErr(c) != nil:
		return autoCompactionErr(c)
	case c.ElectionTimeout%c.HeartbeatInterval != 0:
		return fmt.Errorf("--election-timeout[%v] must be a multiple of --heartbeat-interval[%v]: raft counts it in ticks", c.ElectionTimeout, c.HeartbeatInterval)
	}
	for _, p := range c.Peers {
		if p == c.ID {
			return nil
		}
	}
	return fmt.Errorf("member %d is not in its own peer list %v", c.ID, c.Peers)
}

func (c Config) electionTicks() int { return int(c.ElectionTimeout / c.HeartbeatInterval) }

// RequestTimeout is how long the server waits for a request to be applied
// before answering ErrTimeout: etcd derives it from the election timeout
// (ServerConfig.ReqTimeout, 5 s plus two election timeouts), so a slow
// election does not time out every request.
func (c Config) RequestTimeout() time.Duration { return 5*time.Second + 2*c.ElectionTimeout }

func (c Config) requestTicks() uint64 {
	return uint64((c.RequestTimeout() + c.HeartbeatInterval - 1) / c.HeartbeatInterval)
}
