// Package compactor is etcd v3.7's auto-compactor
// (server/etcdserver/api/v3compactor) without its goroutine and clock.
//
// etcd runs Periodic or Revision in a goroutine that waits on a clock,
// reads the store's revision and calls s.Compact, which proposes a
// CompactionRequest through raft and blocks until it is applied or fails.
// Here the member drives the same loop by hand:
//
//   - Tick(now, rev) on every heartbeat tick, with now the member's own
//     time since it started and rev the store's current revision. The first
//     Tick plays etcd's Run. A timer that etcd arms fires at the first Tick
//     at or after its deadline, so a 100 ms tick makes each interval up to
//     100 ms late, as a busy goroutine would.
//   - When Tick answers ok, the member proposes
//     CompactionRequest{Revision: compactRev} through raft (etcd's
//     s.Compact) and later calls Done(now, rev, err) exactly once with the
//     outcome: nil or ErrCompacted when applied, the error (ErrTimeout,
//     ErrProposalDropped, ...) otherwise. Until then Tick answers nothing,
//     as etcd's loop is blocked in s.Compact; its next timer is armed when
//     Done is called.
//   - Pause and Resume follow leadership, as etcd's updateLeadership does:
//     Resume when this member leads, Pause otherwise. A compactor starts
//     resumed, as etcd's does, until the first leadership update.
//
// etcd's Stop has no counterpart: a member that stops drops its compactor,
// and a restarted member starts a new one, as etcd's NewServer does.
package compactor

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdlab/etcdlab/node/mvcc"
)

// The values of --auto-compaction-mode.
const (
	ModePeriodic = "periodic"
	ModeRevision = "revision"
)

// Compactor decides when to compact the store and to which revision.
type Compactor interface {
	// Tick is called at least every heartbeat tick with the member's time
	// since start and the store's current revision. ok asks the member to
	// propose a compaction to compactRev and to report it with Done.
	Tick(now time.Duration, rev int64) (compactRev int64, ok bool)
	// Done reports how the compaction Tick asked for ended, at now, with
	// the store's current revision then. err nil or ErrCompacted (mvcc's
	// or rpctypes') is a success.
	Done(now time.Duration, rev int64, err error)
	// Pause stops compacting (but not sampling, in periodic mode): the
	// member is not the leader.
	Pause()
	// Resume compacts again: the member is the leader.
	Resume()
}

// New parses --auto-compaction-mode and --auto-compaction-retention as
// etcd does (embed's Validate and parseCompactionRetention) and returns the
// compactor etcd's NewServer would run. A retention of 0 (or "", which
// etcd reads as "0") turns auto-compaction off: New returns nil, nil, and
// the member runs no compactor, as etcd's s.compactor stays nil.
//
// Stricter than etcd, since etcd's answers there are accidents: a negative
// duration ("-1h") is refused where etcd starts a compactor with a negative
// period; in revision mode a duration ("1h") is refused where etcd counts
// its nanoseconds as revisions; a periodic retention under 10ns is refused
// where etcd divides by a zero retry interval and panics.
func New(mode, retention string) (Compactor, error) {
	const maxHours = int(math.MaxInt64 / int64(time.Hour))
	switch mode {
	case ModePeriodic, ModeRevision:
	case "":
		return nil, errors.New("undefined auto-compaction-mode")
	default:
		return nil, fmt.Errorf("unknown auto-compaction-mode %q (use %q or %q)", mode, ModePeriodic, ModeRevision)
	}
	if retention == "" {
		retention = "0"
	}
	h, err := strconv.Atoi(retention)
	if err == nil && h >= 0 {
		if h == 0 {
			return nil, nil
		}
		if mode == ModeRevision {
			return NewRevision(int64(h)), nil
		}
		// A bare number in periodic mode counts hours.
		if h > maxHours {
			return nil, fmt.Errorf("--auto-compaction-retention %q: %d hours is longer than Go's durations reach (%d hours)", retention, h, maxHours)
		}
		return NewPeriodic(time.Duration(h) * time.Hour), nil
	}
	if mode == ModeRevision {
		return nil, fmt.Errorf("--auto-compaction-retention %q: revision mode needs a number of revisions >= 0", retention)
	}
	if err == nil { // a negative number
		return nil, fmt.Errorf("--auto-compaction-retention %q is negative: use a number of hours or a duration >= 0", retention)
	}
	d, err := time.ParseDuration(retention)
	if err != nil {
		return nil, fmt.Errorf("error parsing CompactionRetention: %w (use a duration such as \"30m\", or a number of hours)", err)
	}
	switch {
	case d < 0:
		return nil, fmt.Errorf("--auto-compaction-retention %q is negative: use a duration >= 0", retention)
	case d == 0:
		return nil, nil
	case d < retryDivisor:
		return nil, fmt.Errorf("--auto-compaction-retention %q is too short: use at least %v", retention, time.Duration(retryDivisor))
	}
	return NewPeriodic(d), nil
}

// succeeded is etcd's test of a Compact result: ErrCompacted means another
// compaction got there first, which is as good. The member may report
// either mvcc's error (what etcd's applier returns) or rpctypes' (what a
// client would see).
func succeeded(err error) bool {
	return err == nil || errors.Is(err, mvcc.ErrCompacted) || errors.Is(err, rpctypes.ErrCompacted)
}
