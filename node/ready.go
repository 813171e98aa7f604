package node

import (
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdlab/etcdlab/node/wal"
)

// process runs etcd's raft loop (etcdserver/raft.go, raftNode.start) for
// as long as raft has work, stopping at a Ready that waits for an fsync.
func (n *Node) process() {
	for n.unsynced == nil && n.rn.HasReady() {
		n.handleReady(n.rn.Ready())
	}
}

// handleReady does a Ready's work in etcd's order:
//  1. note the new role and leader;
//  2. hand ReadIndex results to the waiting reads;
//  3. apply committed entries (etcd passes them to its applier before
//     saving: they are committed, so a quorum already has them);
//  4. a leader sends its messages now, in parallel with its own fsync (the
//     Raft thesis, §10.2.1): safe because raft v3.6+ counts the leader's
//     own acknowledgement of an entry only when Advance says it is stable;
//  5. write HardState and entries to the WAL and fsync it;
//  6. then (finishReady) add the entries to raft's storage, send a
//     follower's messages — its acks promise the entries are durable — and
//     Advance.
func (n *Node) handleReady(rd raft.Ready) {
	if rd.SoftState != nil {
		n.role, n.leader = rd.SoftState.RaftState, rd.SoftState.Lead
	}
	if !raft.IsEmptySnap(rd.Snapshot) {
		// etcd saves and applies a snapshot before the entries after it.
		// Raft sends one only when a leader has compacted its log, which
		// this node never does yet: a snapshot here is a bug to surface.
		panic(fmt.Sprintf("member %d: raft delivered a snapshot at index %d, and this node cannot apply snapshots yet",
			n.cfg.ID, rd.Snapshot.GetMetadata().GetIndex()))
	}
	n.receiveReadStates(rd.ReadStates)
	committed := rd.CommittedEntries
	if n.cfg.Bugs.ApplyBeforeCommit {
		committed = n.applyEarly(rd)
	}
	n.applyEntries(committed)
	if n.role == raft.StateLeader {
		n.send(rd.Messages)
	}

	// Entries before the HardState, as etcd's wal.Save writes them: a
	// follower's HardState may commit entries of this same Ready, so if a
	// crash tears the write, the state must be what is lost, never the
	// entries it commits.
	var rec []byte
	for _, e := range rd.Entries {
		rec = wal.AppendEntry(rec, e)
	}
	if hs := rd.HardState; !raft.IsEmptyHardState(hs) {
		if n.cfg.Bugs.ForgetVote {
			hs = proto.CloneOf(hs)
			hs.Vote = nil
		}
		rec = wal.AppendState(rec, hs)
	}
	if len(rec) > 0 {
		n.env.AppendWAL(rec)
	}
	if rd.MustSync {
		n.unsynced = &rd
		n.env.SyncWAL()
		return
	}
	n.finishReady(rd)
}

func (n *Node) finishReady(rd raft.Ready) {
	if !raft.IsEmptyHardState(rd.HardState) {
		if err := n.storage.SetHardState(rd.HardState); err != nil {
			n.env.Logf("fatal: set hard state: %v", err)
			panic(err)
		}
	}
	if err := n.storage.Append(rd.Entries); err != nil {
		n.env.Logf("fatal: append entries: %v", err)
		panic(err)
	}
	if n.role != raft.StateLeader {
		n.send(rd.Messages)
	}
	n.rn.Advance(rd)
	n.serveReads()
}

func (n *Node) send(msgs []*raftpb.Message) {
	for _, m := range msgs {
		n.env.Send(m)
	}
}

// applyEarly is the ApplyBeforeCommit bug: a leader applies the normal
// entries it is about to append, before any quorum has them. It returns
// the committed entries it has not applied yet.
func (n *Node) applyEarly(rd raft.Ready) []*raftpb.Entry {
	if n.role == raft.StateLeader {
		var early []*raftpb.Entry
		next := n.applied + 1
		for _, e := range rd.Entries {
			if e.GetIndex() < next {
				continue
			}
			if e.GetIndex() > next || e.GetType() != raftpb.EntryNormal {
				break // a gap, or configuration: both wait for their commit
			}
			early = append(early, e)
			next++
		}
		n.applyEntries(early)
	}
	committed := rd.CommittedEntries
	for len(committed) > 0 && committed[0].GetIndex() <= n.applied {
		// The store already has whatever was applied early here; raft's
		// membership must still follow what was really committed, or the
		// bug would reach beyond acknowledging early.
		if e := committed[0]; e.GetType() != raftpb.EntryNormal {
			n.applyConfChange(e)
		}
		committed = committed[1:]
	}
	return committed
}
