package node

import (
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdlab/etcdlab/node/wal"
)

// One Ready is worked through as a list of steps, in the order of etcd's
// raft loop (server/etcdserver/raft.go, raftNode.start) with the WAL's
// save (server/storage/wal/wal.go, WAL.Save) unfolded in its place, and a
// failpoint wherever etcd has one. A step may stall the Ready: the fsync
// until the Env calls Synced, a failpoint that sleeps until it calls
// Resume. Meanwhile the node still takes Step and Request, but no new
// Ready, as etcd's loop blocks at the same point; raft is not ticked either
// (etcd's ticker feeds the same loop), and gets the one tick it missed when
// the call that ends the stall carries on with the next step.
var readySteps = []readyStep{
	(*Node).applyReady,
	onlyIf(sendsEarly, failpoint(RaftBeforeLeaderSend)),
	onlyIf(sendsEarly, (*Node).sendMessages),
	failpoint(RaftBeforeSave),
	(*Node).writeWAL,
	onlyIf(mustSync, failpoint(WALBeforeSync)),
	onlyIf(mustSync, (*Node).syncWAL),
	onlyIf(mustSync, failpoint(WALAfterSync)),
	failpoint(RaftAfterSave),
	(*Node).appendStorage,
	onlyIf(sendsLate, failpoint(RaftBeforeFollowerSend)),
	onlyIf(sendsLate, (*Node).sendMessages),
	failpoint(RaftBeforeAdvance),
	(*Node).advance,
}

// A readyStep does one step of a Ready and says whether the Ready must
// wait after it.
type readyStep func(*Node, *raft.Ready) stall

type stall int

const (
	notStalled         stall = iota
	stalledAtFailpoint       // until Resume
	stalledOnSync            // until Synced
)

// process proposes the writes held for want of a leader, then runs the
// raft loop for as long as raft has work and no step stalls. Every input
// ends here.
func (n *Node) process() {
	n.proposeHeld()
	for n.stalled == notStalled {
		if n.ready == nil {
			if !n.rn.HasReady() {
				return
			}
			rd := n.rn.Ready()
			n.ready, n.next = &rd, 0
		}
		step := readySteps[n.next]
		n.next++
		n.stalled = step(n, n.ready)
		if n.next == len(readySteps) {
			n.ready = nil
		}
	}
}

// sendsEarly: a leader sends its messages before its own WAL write, in
// parallel with its fsync (the Raft thesis, §10.2.1). That is safe
// because raft v3.6+ counts the leader's own acknowledgement of an entry
// only once Advance says it is stable. The AckBeforeFsync bug makes every
// member send here.
func sendsEarly(n *Node, _ *raft.Ready) bool {
	return n.role == raft.StateLeader || n.cfg.Bugs.AckBeforeFsync
}

// sendsLate: every other member sends after the save, because its
// acknowledgements and votes promise that what they cover is durable.
func sendsLate(n *Node, rd *raft.Ready) bool { return !sendsEarly(n, rd) }

func mustSync(_ *Node, rd *raft.Ready) bool { return rd.MustSync }

func onlyIf(cond func(*Node, *raft.Ready) bool, step readyStep) readyStep {
	return func(n *Node, rd *raft.Ready) stall {
		if !cond(n, rd) {
			return notStalled
		}
		return step(n, rd)
	}
}

// failpoint asks the Env what to do at the named failpoint: a sleep
// stalls the Ready here until Resume; a panic happens inside the call.
func failpoint(name string) readyStep {
	return func(n *Node, _ *raft.Ready) stall {
		if n.env.Failpoint(name) > 0 {
			return stalledAtFailpoint
		}
		return notStalled
	}
}

// applyReady notes the new role and leader (failing the ReadIndex round
// in flight if a new leader appeared), hands ReadIndex results to the
// waiting reads, and applies committed entries. etcd passes them to
// its applier before it saves: they are committed, so a quorum already
// has them.
func (n *Node) applyReady(rd *raft.Ready) stall {
	if rd.SoftState != nil {
		// etcd's test, in raftNode.start: losing the leader is no change;
		// a leader appearing is, even the one lost before.
		newLeader := rd.SoftState.Lead != raft.None && rd.SoftState.Lead != n.leader
		n.role, n.leader = rd.SoftState.RaftState, rd.SoftState.Lead
		if newLeader {
			n.failReadRound()
		}
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
		committed = n.applyEarly(*rd)
	}
	n.applyEntries(committed)
	return notStalled
}

func (n *Node) sendMessages(rd *raft.Ready) stall {
	for _, m := range processMessages(rd.Messages) {
		n.env.Send(m)
	}
	return notStalled
}

// processMessages keeps only the last MsgAppResp of a Ready, as etcd's
// raftNode.processMessages does: each one acknowledges the log up to its
// index, so the last says all the earlier ones say. Unlike etcd's, which
// walks the messages backwards and so sends them reversed, it keeps the
// others in raft's order. (etcd also drops messages to removed members
// and hands MsgSnap to its server; this node removes no one and sends no
// snapshots yet.)
func processMessages(msgs []*raftpb.Message) []*raftpb.Message {
	last := -1
	for i, m := range msgs {
		if m.GetType() == raftpb.MessageType_MsgAppResp {
			last = i
		}
	}
	out := make([]*raftpb.Message, 0, len(msgs))
	for i, m := range msgs {
		if m.GetType() != raftpb.MessageType_MsgAppResp || i == last {
			out = append(out, m)
		}
	}
	return out
}

// writeWAL writes entries before the HardState, as etcd's WAL.Save does:
// a follower's HardState may commit entries of this same Ready, so if a
// crash tears the write, the state must be what is lost, never the
// entries it commits.
func (n *Node) writeWAL(rd *raft.Ready) stall {
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
	return notStalled
}

func (n *Node) syncWAL(*raft.Ready) stall {
	n.env.SyncWAL()
	return stalledOnSync
}

// appendStorage hands the saved state and entries to raft's log, as etcd
// does with raftStorage.Append once storage.Save returns.
func (n *Node) appendStorage(rd *raft.Ready) stall {
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
	return notStalled
}

// advance tells raft the Ready is done, then serves the reads that the
// entries applied have made ready.
func (n *Node) advance(rd *raft.Ready) stall {
	n.rn.Advance(*rd)
	n.serveReads()
	return notStalled
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
