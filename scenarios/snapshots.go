package scenarios

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdlab/etcdlab/network"
	"github.com/etcdlab/etcdlab/node"
	"github.com/etcdlab/etcdlab/node/snap"
)

// Snapshots in the simulation: what members saved, sent, received and
// restored, for the run's summary; and the transport that carries a merged
// snapshot, as rafthttp's snapshot sender and handler do.

// SnapshotKind is what happened to a snapshot.
type SnapshotKind string

const (
	SnapshotSaved    SnapshotKind = "saved"    // a member saved its own snapshot to disk
	SnapshotSent     SnapshotKind = "sent"     // a leader sent one to a follower
	SnapshotRestored SnapshotKind = "restored" // a member opened a received backend in place of its own
)

// SnapshotRecord is one snapshot event.
type SnapshotRecord struct {
	Kind   SnapshotKind
	At     time.Duration
	Member uint64 // who saved, sent or restored it
	Peer   uint64 // for a send: the follower
	Index  uint64
	Size   int // bytes of the backend it holds or carries
	// For a send: how long until the follower had saved it, or until the
	// sender gave up (Failed).
	Took   time.Duration
	Failed bool
	done   bool
}

func (c *Cluster) noteSnapshot(r SnapshotRecord) *SnapshotRecord {
	r.At = c.sim.Now()
	rec := &r
	c.snapshots = append(c.snapshots, rec)
	return rec
}

// snapshotTimeout is how long a snapshot sender waits, beyond the time the
// whole db takes on the link to the follower, for the follower to answer that it saved the
// snapshot (rafthttp's snapResponseReadTimeout); then it reports failure.
const snapshotTimeout = 5 * time.Second

// SendSnapshot streams the merged snapshot to the follower on the peer
// route. The follower saves the db, steps the message into its node and
// answers; the answer, or the timeout, is reported to the sender's raft.
func (e memberEnv) SendSnapshot(msg *raftpb.Message, db []byte) {
	m, c := e.m, e.m.c
	b, err := proto.Marshal(msg)
	if err != nil {
		panic(fmt.Sprintf("marshal raft message: %v", err))
	}
	payload := binary.AppendUvarint([]byte{wireSnapshot}, uint64(len(b)))
	payload = append(append(payload, b...), db...)
	to, idx := msg.GetTo(), msg.GetSnapshot().GetMetadata().GetIndex()
	rec := c.noteSnapshot(SnapshotRecord{Kind: SnapshotSent, Member: m.id, Peer: to, Index: idx, Size: len(db)})
	c.raftMessages++
	c.net.Send(m.addr, nodeAddr(to), func() string { return fmt.Sprintf("MsgSnap index %d with a %d-byte db", idx, len(db)) }, payload)
	c.fireTriggers(m, msg, true)
	epoch := m.epoch
	link := c.net.RouteLink(m.addr, nodeAddr(to))
	wait := link.Latency + snapshotTimeout
	if link.BytesPerSec > 0 {
		wait += time.Duration(float64(len(payload)) / float64(link.BytesPerSec) * float64(time.Second))
	}
	c.sim.After(wait, func() {
		if rec.done || m.epoch != epoch {
			return
		}
		rec.done, rec.Failed, rec.Took = true, true, c.sim.Now()-rec.At
		c.sim.Logf(string(m.addr), "snapshot %d to n%d: no answer in %v, reporting failure", idx, to, wait.Round(time.Millisecond))
		m.call(func() { m.node.ReportSnapshot(to, false) })
	})
}

// receiveSnapshot is rafthttp's snapshot handler: it saves the db the way
// etcd's snapshotter does (a temporary file, synced, renamed to
// <index>.snap.db), then hands the message to raft and answers the sender.
func (m *member) receiveSnapshot(from network.Addr, body []byte) {
	n, k := binary.Uvarint(body)
	if k <= 0 || uint64(len(body)-k) < n {
		m.c.sim.Logf(string(m.addr), "dropping undecodable snapshot from %s", from)
		return
	}
	msg := &raftpb.Message{}
	if err := proto.Unmarshal(body[k:k+int(n)], msg); err != nil {
		m.c.sim.Logf(string(m.addr), "dropping undecodable snapshot from %s: %v", from, err)
		return
	}
	db := body[k+int(n):]
	idx := msg.GetSnapshot().GetMetadata().GetIndex()
	name := node.SnapDir + snap.DBName(idx)
	m.call(func() {
		// A temporary file of this receipt's own, as etcd's SaveDBFrom
		// makes one, so two copies of one snapshot in flight never share
		// it.
		m.received++
		tmp := fmt.Sprintf("%s.tmp-%d", name, m.received)
		m.disk.WriteFile(tmp, db)
		epoch := m.epoch
		m.disk.Sync(tmp, func(err error) {
			if m.epoch != epoch || err != nil {
				return // the sender times out
			}
			m.call(func() {
				m.disk.Rename(tmp, name)
				m.c.sim.Logf(string(m.addr), "saved snapshot db %s (%d bytes)", name, len(db))
				m.node.Step(msg)
				m.c.fireTriggers(m, msg, false)
				ack := binary.AppendUvarint([]byte{wireSnapDone}, idx)
				m.c.net.Send(m.addr, from, func() string { return fmt.Sprintf("snapshot %d saved", idx) }, ack)
			})
		})
	})
}

// snapshotDone is the follower's answer: the sender reports success.
func (m *member) snapshotDone(from network.Addr, body []byte) {
	idx, k := binary.Uvarint(body)
	if k <= 0 {
		return
	}
	i := slices.IndexFunc(m.c.members, func(p *member) bool { return p.addr == from })
	if i < 0 {
		return
	}
	peer := m.c.members[i].id
	for _, rec := range m.c.snapshots {
		if rec.Kind == SnapshotSent && rec.Member == m.id && rec.Peer == peer && rec.Index == idx && !rec.done {
			rec.done, rec.Took = true, m.c.sim.Now()-rec.At
			m.call(func() { m.node.ReportSnapshot(peer, true) })
			return
		}
	}
}
