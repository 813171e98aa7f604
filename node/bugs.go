package node

import (
	"fmt"
	"strings"
)

// Bugs switches on deliberate misbehaviour. Each checker is only worth
// something if it catches a real bug, so each has a switch here and a
// test that turns it on and watches the checker fail.
type Bugs struct {
	// StaleReads serves linearizable reads from the local state machine
	// without ReadIndex, as if every read were serializable. A deposed
	// leader or a lagging follower then answers with old data.
	StaleReads bool
	// ApplyBeforeCommit makes a leader apply its new entries, and answer
	// their clients, as soon as it appends them, without waiting for a
	// quorum. A leader cut off from the majority then acknowledges writes
	// that the next leader overwrites: members apply different entries at
	// one index and never converge.
	ApplyBeforeCommit bool
	// ForgetVote leaves the vote out of the hard state the member writes
	// to its WAL. Raft's election safety rests on a vote surviving a
	// crash: restarted, the member may vote a second time in one term,
	// for another candidate, and the term gets two leaders.
	ForgetVote bool
	// AckBeforeFsync makes a member that is not leader send its messages
	// (MsgAppResp, MsgVoteResp) where a leader sends, before its WAL write
	// is synced, not after the save as etcd's raft loop does. A follower
	// that crashes before the fsync completes then forgets entries it
	// acknowledged: an entry counted as committed may be on fewer than a
	// quorum, and a later leader overwrites an acknowledged write.
	AckBeforeFsync bool
	// SkipConsistentIndex makes a restarted member apply again the entries
	// its backend already holds, ignoring the consistent index: every put
	// among them bumps the revision a second time, and the member's store
	// no longer matches the others'.
	SkipConsistentIndex bool
	// SnapshotSkipsStore makes a member that installs a snapshot from the
	// leader move its applied index to the snapshot's but keep its old
	// backend: the writes the snapshot carried never reach its store.
	SnapshotSkipsStore bool
	// ReleaseWALEarly releases and purges the WAL segments a snapshot
	// covers (its own, or one from the leader) before the snapshot is
	// saved, not after: a crash in between leaves a WAL that no longer
	// holds the last snapshot it records, and the member cannot restart
	// from its own disk.
	ReleaseWALEarly bool
	// WatchSkipsEvent makes the watch hub drop one event now and then
	// (the first matching event of every 50th revision, for each synced
	// watcher): the watch checker's "reliable" must catch the gap.
	WatchSkipsEvent bool
	// LeaseNeverExpires stops the leader from revoking expired leases:
	// keys outlive leases nobody keeps alive.
	LeaseNeverExpires bool
	// TxnSplit applies each write of a Txn's chosen branch in a revision
	// of its own, as if the Txn were several requests.
	TxnSplit bool
	// RevisionSkew makes a delete not advance the store's revision: the
	// next write reuses it, so two changes share one revision.
	RevisionSkew bool
}

// bugs names every switch, as the CLI and reports spell it.
var bugs = []struct {
	name, effect string
	field        func(*Bugs) *bool
}{
	{"stale-reads", "linearizable reads served locally without ReadIndex",
		func(b *Bugs) *bool { return &b.StaleReads }},
	{"apply-before-commit", "a leader applies and acknowledges entries before a quorum has them",
		func(b *Bugs) *bool { return &b.ApplyBeforeCommit }},
	{"forget-vote", "the vote is not written to the WAL, so a restarted member may vote twice in one term",
		func(b *Bugs) *bool { return &b.ForgetVote }},
	{"ack-before-fsync", "a follower acknowledges entries and votes before its WAL write is synced",
		func(b *Bugs) *bool { return &b.AckBeforeFsync }},
	{"skip-consistent-index", "a restarted member applies again the entries its backend already holds",
		func(b *Bugs) *bool { return &b.SkipConsistentIndex }},
	{"snapshot-skips-store", "a member installs the leader's snapshot but keeps its old backend",
		func(b *Bugs) *bool { return &b.SnapshotSkipsStore }},
	{"release-wal-early", "WAL segments are released and purged before the snapshot that covers them is saved",
		func(b *Bugs) *bool { return &b.ReleaseWALEarly }},
	{"watch-skips-event", "the watch hub drops an event now and then",
		func(b *Bugs) *bool { return &b.WatchSkipsEvent }},
	{"lease-never-expires", "the leader never revokes expired leases",
		func(b *Bugs) *bool { return &b.LeaseNeverExpires }},
	{"txn-split", "each write of a Txn lands in a revision of its own",
		func(b *Bugs) *bool { return &b.TxnSplit }},
	{"revision-skew", "a delete does not advance the revision, so the next write reuses it",
		func(b *Bugs) *bool { return &b.RevisionSkew }},
}

// BugNames lists every bug switch by name.
func BugNames() []string {
	names := make([]string, len(bugs))
	for i, b := range bugs {
		names[i] = b.name
	}
	return names
}

// Set turns on the bugs named in list, separated by commas.
func (b *Bugs) Set(list string) error {
	for _, name := range strings.Split(list, ",") {
		i := bugIndex(strings.TrimSpace(name))
		if i < 0 {
			return fmt.Errorf("unknown bug %q (known: %s)", name, strings.Join(BugNames(), ", "))
		}
		*bugs[i].field(b) = true
	}
	return nil
}

// On lists the bugs switched on, by name: what --bug takes back.
func (b Bugs) On() []string {
	var on []string
	for _, bug := range bugs {
		if *bug.field(&b) {
			on = append(on, bug.name)
		}
	}
	return on
}

func bugIndex(name string) int {
	for i, b := range bugs {
		if b.name == name {
			return i
		}
	}
	return -1
}
