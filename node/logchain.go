package node

import (
	"encoding/binary"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
)

// The log chain is for the checkers, not for etcd: a digest chained over
// the entries of the member's log, reported with each entry it logs
// (Env.Logged), so two members' logs can be compared index by index for
// log matching and leader completeness. It goes on from the applied
// digest, and keeps only the part of the log raft may still overwrite.

// chainDigest folds an applied entry into the digest of all entries
// applied before it (FNV-1a over index, term, type and data). Two members
// with equal digests at one index applied the same log prefix, which is
// what raft's state-machine safety promises and the checker verifies.
func chainDigest(d uint64, e *raftpb.Entry) uint64 {
	const prime = 1099511628211
	if d == 0 {
		d = 14695981039346656037 // FNV offset basis
	}
	var head [3 * binary.MaxVarintLen64]byte
	b := binary.AppendUvarint(head[:0], e.GetIndex())
	b = binary.AppendUvarint(b, e.GetTerm())
	b = binary.AppendUvarint(b, uint64(e.GetType()))
	for _, c := range b {
		d = (d ^ uint64(c)) * prime
	}
	for _, c := range e.GetData() {
		d = (d ^ uint64(c)) * prime
	}
	return d
}

// chainApplied puts the digest of the entry just applied into the log's
// chain. Raft may hand over committed entries before this member's log
// holds them (they are written in the same Ready, after the apply), and
// those may replace entries of an older term that the chain still has:
// the applied digest is the truth at its index, and what the chain had
// after it is stale.
func (n *Node) chainApplied() {
	k := n.applied - n.logBase
	switch {
	case n.applied < n.logBase:
		// Behind the chain's start (a restart skipping what its backend
		// holds): the chain already starts from a known digest.
	case k < uint64(len(n.logChain)):
		if n.logChain[k] != n.digest {
			n.logChain = append(n.logChain[:k], n.digest)
		}
	case k == uint64(len(n.logChain)):
		n.logChain = append(n.logChain, n.digest)
	default:
		n.logChain, n.logBase = []uint64{n.digest}, n.applied
	}
}

// trimLogChain drops the log digests no entry can chain from any more:
// below both the applied index (raft never overwrites an applied entry)
// and the last entry logged.
func (n *Node) trimLogChain() {
	to := min(n.applied, n.logged)
	if to <= n.logBase || to-n.logBase >= uint64(len(n.logChain)) {
		return
	}
	n.logChain, n.logBase = n.logChain[to-n.logBase:], to
}

// logEntries chains the log's digest over entries now in the durable log
// and reports each to the Env, for the log-matching checkers. Entries at
// or below logBase are already known (applied, or covered by the snapshot
// the log starts from).
func (n *Node) logEntries(ents []*raftpb.Entry) {
	for _, e := range ents {
		i := e.GetIndex()
		if i <= n.logBase {
			continue
		}
		if i-n.logBase > uint64(len(n.logChain)) {
			panic(fmt.Sprintf("member %d: log entry %d leaves a gap after %d", n.cfg.ID, i, n.logBase+uint64(len(n.logChain))-1))
		}
		n.logChain = append(n.logChain[:i-n.logBase], chainDigest(n.logChain[i-n.logBase-1], e))
		n.env.Logged(i, e.GetTerm(), n.logChain[i-n.logBase])
		n.logged = i
	}
	n.trimLogChain()
}
