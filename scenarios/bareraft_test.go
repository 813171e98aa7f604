package scenarios

import (
	"fmt"
	"io"
	"log"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdlab/etcdlab/internal/raftwire"
)

// bareRaft is the floor the simulation is measured against: five
// RawNodes driven with the least harness there can be — a slice as the
// network (every message arrives the next millisecond), a marshal round
// trip per message with the simulation's own codec (internal/raftwire:
// what a real transport costs at least), raft's
// MemoryStorage as the disk, a tick every 100 ms, perSec proposals a
// virtual second to the leader, and no trace, no checks, no clients. It
// runs until msgs messages were delivered and returns the virtual time
// that took.
func bareRaft(msgs, perSec int) (time.Duration, error) {
	const members = 5
	nodes := make([]*raft.RawNode, members)
	stores := make([]*raft.MemoryStorage, members)
	peers := make([]raft.Peer, members)
	for i := range peers {
		peers[i] = raft.Peer{ID: uint64(i + 1)}
	}
	for i := range nodes {
		stores[i] = raft.NewMemoryStorage()
		rn, err := raft.NewRawNode(&raft.Config{ID: uint64(i + 1), ElectionTick: 10, HeartbeatTick: 1, Storage: stores[i],
			MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 512, CheckQuorum: true, PreVote: true, Logger: &raft.DefaultLogger{Logger: log.New(io.Discard, "", 0)}}) // the floor has no trace
		if err != nil {
			return 0, err
		}
		if err := rn.Bootstrap(peers); err != nil {
			return 0, err
		}
		nodes[i] = rn
	}
	var inflight [][]byte
	delivered := 0
	payload := []byte("put k1=c1-1")
	every := time.Second / time.Duration(max(perSec, 1))
	now := time.Duration(0)
	for ; delivered < msgs; now += time.Millisecond {
		if now > time.Hour {
			return now, fmt.Errorf("bare raft: only %d of %d messages in an hour", delivered, msgs)
		}
		// Deliver what was sent a millisecond ago.
		arriving := inflight
		inflight = nil
		for _, b := range arriving {
			m, err := raftwire.UnmarshalMessage(b)
			if err != nil {
				return now, err
			}
			_ = nodes[m.GetTo()-1].Step(m)
			delivered++
		}
		if now%(100*time.Millisecond) == 0 {
			for _, rn := range nodes {
				rn.Tick()
			}
		}
		if perSec > 0 && now%every == 0 {
			for _, rn := range nodes {
				if rn.BasicStatus().RaftState == raft.StateLeader {
					_ = rn.Propose(payload)
				}
			}
		}
		for i, rn := range nodes {
			for rn.HasReady() {
				rd := rn.Ready()
				if !raft.IsEmptyHardState(rd.HardState) {
					_ = stores[i].SetHardState(rd.HardState)
				}
				_ = stores[i].Append(rd.Entries)
				for _, m := range rd.Messages {
					inflight = append(inflight, raftwire.AppendMessage(nil, m))
				}
				for _, e := range rd.CommittedEntries {
					if e.GetType() == raftpb.EntryConfChange {
						cc := &raftpb.ConfChange{}
						if err := proto.Unmarshal(e.GetData(), cc); err == nil {
							rn.ApplyConfChange(cc)
						}
					}
				}
				rn.Advance(rd)
			}
		}
	}
	return now, nil
}
