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
// failpoint wherever etcd has one. A step may stall the Ready: an fsync
// until the Env calls its done, a forced backend commit until it is
// durable, a failpoint that sleeps until the Env calls
// Resume. Meanwhile the node still takes Step and Request, but no new
// Ready, as etcd's loop blocks at the same point; raft is not ticked either
// (etcd's ticker feeds the same loop), and gets the one tick it missed when
// the call that ends the stall carries on with the next step.
var readySteps []readyStep

// The steps are set in init: they refer, through the stalls they end, back
// to process, which walks them.
func init() {
	readySteps = []readyStep{
		(*Node).applyReady,
		// Only after a sleep at beforeApplyOneConfChange: the entries
		// applyReady held back.
		(*Node).applyRest,
		onlyIf(sendsEarly, failpoint(RaftBeforeLeaderSend)),
		onlyIf(sendsEarly, (*Node).sendMessages),
		// A snapshot from the leader is saved before anything after it.
		onlyIf(releasesEarly, (*Node).releaseReceived),
		onlyIf(hasSnapshot, failpoint(RaftBeforeSaveSnap)),
		onlyIf(hasSnapshot, (*Node).saveReceivedSnapFile),
		onlyIf(hasSnapshot, failpoint(RaftBeforeWALSaveSnaphot)),
		onlyIf(hasSnapshot, (*Node).saveReceivedSnapWAL),
		onlyIf(hasSnapshot, failpoint(RaftAfterSaveSnap)),
		failpoint(RaftBeforeSave),
		onlyIf(walFull, (*Node).syncTail),
		onlyIf(walFull, (*Node).cutWAL),
		(*Node).writeWAL,
		onlyIf(mustSync, failpoint(WALBeforeSync)),
		onlyIf(mustSync, (*Node).syncWAL),
		onlyIf(mustSync, failpoint(WALAfterSync)),
		failpoint(RaftAfterSave),
		// Once the save is durable the snapshot replaces the state machine and
		// the start of raft's log, and the entries after it are applied.
		onlyIf(hasSnapshot, (*Node).syncBeforeRelease),
		onlyIf(hasSnapshot, (*Node).waitForBackend),
		onlyIf(hasSnapshot, failpoint(ApplyBeforeOpenSnapshot)),
		onlyIf(hasSnapshot, (*Node).openSnapshotBackend),
		onlyIf(hasSnapshot, failpoint(ApplyAfterOpenSnapshot)),
		onlyIf(hasSnapshot, failpoint(RaftBeforeApplySnap)),
		onlyIf(hasSnapshot, (*Node).applySnapToRaftLog),
		onlyIf(hasSnapshot, failpoint(RaftAfterApplySnap)),
		onlyIf(releasesLate, (*Node).releaseReceived),
		onlyIf(hasSnapshot, failpoint(RaftAfterWALRelease)),
		(*Node).appendStorage,
		// The member's own snapshot, every SnapshotCount applied entries.
		(*Node).decideSnapshot,
		(*Node).createSnapshot,
		onlyIf(snapshotToDisk, (*Node).saveSnapFile),
		onlyIf(snapshotToDisk, failpoint(RaftBeforeWALSaveSnaphot)),
		onlyIf(snapshotToDisk, (*Node).saveSnapWAL),
		onlyIf(snapshotToDisk, (*Node).releaseSnapshot),
		(*Node).compactLog,
		onlyIf(sendsLate, failpoint(RaftBeforeFollowerSend)),
		onlyIf(sendsLate, (*Node).sendMessages),
		failpoint(RaftBeforeAdvance),
		(*Node).advance,
	}
}

// A readyStep does one step of a Ready and says whether the Ready must
// wait after it.
type readyStep func(*Node, *raft.Ready) stall

type stall int

const (
	notStalled         stall = iota
	stalledAtFailpoint       // until Resume
	stalledOnSync            // until the Env calls the sync's done
	stalledOnBackend         // until the backend's commit in flight is durable
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
		n.updateLeadership()
		if newLeader {
			n.failReadRound()
		}
	}
	n.receiveReadStates(rd.ReadStates)
	committed := rd.CommittedEntries
	if !raft.IsEmptySnap(rd.Snapshot) && len(committed) > 0 {
		// etcd applies a snapshot from the leader once it is saved, and
		// the entries after it after that; raft never hands over both in
		// one Ready (raftLog.nextCommittedEnts waits for the snapshot).
		panic(fmt.Sprintf("member %d: a Ready with a snapshot at %d and committed entries from %d",
			n.cfg.ID, rd.Snapshot.GetMetadata().GetIndex(), committed[0].GetIndex()))
	}
	if n.cfg.Bugs.ApplyBeforeCommit {
		committed = n.applyEarly(*rd)
	}
	return n.applyEntries(committed)
}

func (n *Node) sendMessages(rd *raft.Ready) stall {
	for _, m := range processMessages(rd.Messages) {
		if m.GetType() == raftpb.MessageType_MsgSnap {
			n.sendMergedSnapshot(m)
			continue
		}
		n.env.Send(m)
	}
	return notStalled
}

// processMessages keeps only the last MsgAppResp of a Ready, as etcd's
// raftNode.processMessages does: each one acknowledges the log up to its
// index, so the last says all the earlier ones say. Unlike etcd's, which
// walks the messages backwards and so sends them reversed, it keeps the
// others in raft's order. (etcd also drops messages to members it knows
// were removed; here their peers answer them with RejectRemoved. MsgSnap
// goes to sendMergedSnapshot, as etcd's goes to its server.)
func processMessages(msgs []*raftpb.Message) []*raftpb.Message {
	last, resps := -1, 0
	for i, m := range msgs {
		if m.GetType() == raftpb.MessageType_MsgAppResp {
			last = i
			resps++
		}
	}
	if resps <= 1 {
		return msgs // nothing to drop
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
		n.wal.lastIdx = e.GetIndex()
	}
	if hs := rd.HardState; !raft.IsEmptyHardState(hs) {
		n.wal.state = hs
		if n.cfg.Bugs.ForgetVote {
			hs = proto.CloneOf(hs)
			hs.Vote = nil
		}
		rec = wal.AppendState(rec, hs)
	}
	if len(rec) > 0 {
		n.env.Append(n.wal.tail().Name, rec)
		n.wal.size += len(rec)
	}
	return notStalled
}

func (n *Node) syncWAL(*raft.Ready) stall {
	n.env.Sync(n.wal.tail().Name, n.synced)
	return stalledOnSync
}

// walFull: the segment being written has reached the segment size, so
// this Ready's save starts a new one (etcd cuts at the end of the save
// that fills a segment; cutting at the start of the next is the same
// file layout).
func walFull(n *Node, _ *raft.Ready) bool { return n.wal.size >= n.cfg.WALSegmentSize }

// syncTail makes the full segment durable before the next one starts, as
// etcd's WAL.cut does: only the last segment may have a torn tail.
func (n *Node) syncTail(*raft.Ready) stall { return n.syncWAL(nil) }

// cutWAL starts the next segment, named after the index its first entry
// will have, and opens it with the current hard state, so a replay that
// starts here knows it.
func (n *Node) cutWAL(*raft.Ready) stall {
	w := &n.wal
	seg := wal.Segment{Seq: w.tail().Seq + 1, Index: w.lastIdx + 1}
	seg.Name = wal.SegmentName(seg.Seq, seg.Index)
	var rec []byte
	if w.state != nil {
		rec = wal.AppendState(nil, w.state)
	}
	w.segments = append(w.segments, seg)
	w.size = len(rec)
	n.env.WriteFile(seg.Name, rec)
	n.env.Logf("created a new WAL segment: %s", seg.Name)
	return notStalled
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
	n.logEntries(rd.Entries)
	return notStalled
}

// advance tells raft the Ready is done, then serves the reads that the
// entries applied have made ready.
func (n *Node) advance(rd *raft.Ready) stall {
	n.rn.Advance(*rd)
	// Answers to membership changes go out only now: raft takes the next
	// change only once it is told this one was applied (etcd waits on
	// raftAdvancedC for the same reason, etcd-io/etcd#15528).
	for _, r := range n.confReplies {
		n.env.Reply(r.to, r.resp)
	}
	n.confReplies = nil
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
		n.applyEntries(early) // normal entries only: no failpoint to stall at
	}
	committed := rd.CommittedEntries
	for len(committed) > 0 && committed[0].GetIndex() <= n.applied {
		// The store already has whatever was applied early here; raft's
		// membership must still follow what was really committed, or the
		// bug would reach beyond acknowledging early.
		if e := committed[0]; e.GetType() != raftpb.EntryNormal {
			n.applyConfChange(e, false)
		}
		committed = committed[1:]
	}
	return committed
}
