package wal

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

func entry(term, index uint64, data string) *raftpb.Entry {
	return &raftpb.Entry{Term: proto.Uint64(term), Index: proto.Uint64(index), Data: []byte(data)}
}

func sampleLog() []byte {
	var b []byte
	b = AppendEntry(b, entry(1, 1, "a"))
	b = AppendEntry(b, entry(1, 2, "b"))
	b = AppendState(b, &raftpb.HardState{Term: proto.Uint64(1), Vote: proto.Uint64(1), Commit: proto.Uint64(1)})
	b = AppendEntry(b, entry(2, 2, "b'")) // a new leader overwrote index 2
	return b
}

func TestReadReplaysEntriesAsRaftWouldHoldThem(t *testing.T) {
	c, err := Read(sampleLog())
	require.NoError(t, err)
	require.Len(t, c.Entries, 2)
	require.Equal(t, "b'", string(c.Entries[1].GetData()))
	require.Equal(t, uint64(1), c.State.GetCommit())
	require.Equal(t, len(sampleLog()), c.Valid)
}

func TestEveryTornTailIsCutAtTheLastWholeRecord(t *testing.T) {
	log := sampleLog()
	whole, err := Read(log)
	require.NoError(t, err)
	for cut := range len(log) {
		c, err := Read(log[:cut])
		require.NoError(t, err, "cut at %d", cut)
		require.LessOrEqual(t, c.Valid, cut)
		require.LessOrEqual(t, len(c.Entries), len(whole.Entries))
	}
}

func TestCorruptionBeforeGoodRecordsIsAnError(t *testing.T) {
	log := sampleLog()
	log[headerSize] ^= 0xff // the first record's data
	_, err := Read(log)
	require.ErrorIs(t, err, ErrCorrupt)
}
