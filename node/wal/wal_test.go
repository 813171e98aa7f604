package wal

import (
	"bytes"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// memDir is a data directory in memory.
type memDir map[string][]byte

func (d memDir) List() []string { return slices.Sorted(maps.Keys(d)) }
func (d memDir) Read(name string) ([]byte, bool) {
	b, ok := d[name]
	return slices.Clone(b), ok
}

func entry(term, index uint64, data string) *raftpb.Entry {
	return &raftpb.Entry{Term: proto.Uint64(term), Index: proto.Uint64(index), Data: []byte(data)}
}

func state(term, vote, commit uint64) *raftpb.HardState {
	return &raftpb.HardState{Term: proto.Uint64(term), Vote: proto.Uint64(vote), Commit: proto.Uint64(commit)}
}

var confState = &raftpb.ConfState{Voters: []uint64{1, 2, 3}}

// sampleLog is a first segment as a new member writes it: the empty
// snapshot record, then entries and hard states.
func sampleLog() []byte {
	b := AppendSnapshot(nil, 0, 0, &raftpb.ConfState{})
	b = AppendEntry(b, entry(1, 1, "a"))
	b = AppendEntry(b, entry(1, 2, "b"))
	b = AppendState(b, state(1, 1, 1))
	b = AppendEntry(b, entry(2, 2, "b'")) // a new leader overwrote index 2
	return b
}

// twoSegments is a log cut after entry 3 and snapshotted at 3: the second
// segment starts with the hard state, as a cut writes it, and records the
// snapshot.
func twoSegments() memDir {
	first := AppendSnapshot(nil, 0, 0, &raftpb.ConfState{})
	for i := uint64(1); i <= 3; i++ {
		first = AppendEntry(first, entry(1, i, "x"))
	}
	first = AppendState(first, state(1, 1, 3))
	second := AppendState(nil, state(1, 1, 3))
	second = AppendSnapshot(second, 3, 1, confState)
	second = AppendEntry(second, entry(1, 4, "y"))
	second = AppendEntry(second, entry(1, 5, "z"))
	second = AppendState(second, state(1, 1, 5))
	return memDir{SegmentName(0, 0): first, SegmentName(1, 4): second}
}

func TestReadAllReplaysEntriesAsRaftWouldHoldThem(t *testing.T) {
	d := memDir{SegmentName(0, 0): sampleLog()}
	c, err := ReadAll(d, Ref{})
	require.NoError(t, err)
	require.Len(t, c.Entries, 2)
	require.Equal(t, "b'", string(c.Entries[1].GetData()))
	require.Equal(t, uint64(1), c.State.GetCommit())
	require.Equal(t, len(sampleLog()), c.Valid)
	require.Equal(t, len(sampleLog()), c.Size)
	require.Equal(t, []Segment{{Name: SegmentName(0, 0)}}, c.Segments)
	require.Zero(t, c.First)
}

func TestSegmentsAreListedInSequenceAndAGapIsAMissingFile(t *testing.T) {
	d := twoSegments()
	d["member/wal/0.tmp"] = nil                  // not a segment
	d["member/snap/db"] = nil                    // not in the WAL directory
	d[Dirname+"garbage-name.wal"] = []byte("??") // a name etcd cannot parse is skipped
	segs, err := Segments(d)
	require.NoError(t, err)
	require.Equal(t, []Segment{{Name: SegmentName(0, 0)}, {Name: SegmentName(1, 4), Seq: 1, Index: 4}}, segs)

	d[SegmentName(3, 9)] = AppendState(nil, state(1, 1, 5))
	_, err = Segments(d)
	require.ErrorIs(t, err, ErrFileNotFound)
	_, err = ReadAll(d, Ref{Index: 3, Term: 1})
	require.ErrorIs(t, err, ErrFileNotFound)
}

// Reading from a snapshot starts at the segment that holds it: the
// entries after it, the last hard state, and where new records go.
func TestReadAllStartsAtTheSnapshotsSegment(t *testing.T) {
	d := twoSegments()
	c, err := ReadAll(d, Ref{Index: 3, Term: 1})
	require.NoError(t, err)
	require.Len(t, c.Entries, 2)
	require.Equal(t, uint64(4), c.Entries[0].GetIndex())
	require.Equal(t, uint64(5), c.State.GetCommit())
	require.Equal(t, 0, c.First, "segment 0 holds index 3")
	require.Equal(t, SegmentName(1, 4), c.Last().Name)
	require.Equal(t, len(d[SegmentName(1, 4)]), c.Valid)

	// The segment to start from is the last one named at or before the
	// snapshot's index, even though the record itself went to the next:
	// without it, the replay cannot start (etcd's searchIndex).
	delete(d, SegmentName(0, 0))
	_, err = ReadAll(d, Ref{Index: 3, Term: 1})
	require.ErrorIs(t, err, ErrFileNotFound, "no segment starts at or before index 3")

	d = twoSegments()
	c, err = ReadAll(d, Ref{})
	require.NoError(t, err)
	require.Len(t, c.Entries, 5, "from the empty snapshot, every entry")
}

// A snapshot the WAL has no record of cannot be started from, nor one
// whose term does not match its record.
func TestReadAllNeedsTheSnapshotsRecord(t *testing.T) {
	d := twoSegments()
	_, err := ReadAll(d, Ref{Index: 2, Term: 1})
	require.ErrorIs(t, err, ErrSnapshotNotFound)
	_, err = ReadAll(d, Ref{Index: 3, Term: 2})
	require.ErrorIs(t, err, ErrSnapshotMismatch)
}

// A segment whose snapshot was deleted by a purge cannot be replayed
// from the snapshot it held.
func TestReadAllFailsWhenTheSnapshotsSegmentIsGone(t *testing.T) {
	first := AppendSnapshot(nil, 0, 0, &raftpb.ConfState{})
	first = AppendEntry(first, entry(1, 1, "x"))
	first = AppendSnapshot(first, 1, 1, confState)
	first = AppendEntry(first, entry(1, 2, "x"))
	first = AppendState(first, state(1, 1, 2))
	second := AppendState(nil, state(1, 1, 2))
	second = AppendEntry(second, entry(1, 3, "y"))
	d := memDir{SegmentName(0, 0): first, SegmentName(1, 3): second}
	_, err := ReadAll(d, Ref{Index: 1, Term: 1})
	require.NoError(t, err)

	delete(d, SegmentName(0, 0))
	_, err = ReadAll(d, Ref{Index: 1, Term: 1})
	require.ErrorIs(t, err, ErrFileNotFound)
}

// Entries that leave a gap after the snapshot are refused.
func TestReadAllRefusesAGapAfterTheSnapshot(t *testing.T) {
	b := AppendSnapshot(nil, 0, 0, &raftpb.ConfState{})
	b = AppendEntry(b, entry(1, 1, "a"))
	b = AppendEntry(b, entry(1, 3, "c"))
	_, err := ReadAll(memDir{SegmentName(0, 0): b}, Ref{})
	require.ErrorIs(t, err, ErrSliceOutOfRange)
}

func TestEveryTornTailOfTheLastSegmentIsCutAtTheLastWholeRecord(t *testing.T) {
	log := sampleLog()
	whole, err := ReadAll(memDir{SegmentName(0, 0): log}, Ref{})
	require.NoError(t, err)
	first := len(AppendSnapshot(nil, 0, 0, &raftpb.ConfState{}))
	for cut := range len(log) {
		c, err := ReadAll(memDir{SegmentName(0, 0): log[:cut]}, Ref{})
		if cut < first {
			require.ErrorIs(t, err, ErrSnapshotNotFound, "cut at %d, inside the snapshot record", cut)
			continue
		}
		require.NoError(t, err, "cut at %d", cut)
		require.LessOrEqual(t, c.Valid, cut)
		require.Equal(t, cut, c.Size)
		require.LessOrEqual(t, len(c.Entries), len(whole.Entries))
	}

	d := twoSegments()
	second := d[SegmentName(1, 4)]
	for cut := range len(second) {
		d[SegmentName(1, 4)] = second[:cut]
		c, err := ReadAll(d, Ref{})
		require.NoError(t, err, "second segment cut at %d", cut)
		require.LessOrEqual(t, c.Valid, cut)
	}
}

// Only the last segment may be torn: a cut was made after its predecessor
// was synced, so a short earlier segment is damage.
func TestATornEarlierSegmentIsCorruption(t *testing.T) {
	d := twoSegments()
	first := d[SegmentName(0, 0)]
	d[SegmentName(0, 0)] = first[:len(first)-3]
	_, err := ReadAll(d, Ref{})
	require.ErrorIs(t, err, ErrCorrupt)
	_, err = ValidSnapshotEntries(d)
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestCorruptionBeforeGoodRecordsIsAnError(t *testing.T) {
	log := sampleLog()
	log[len(log)-3] ^= 0xff // the last record's data: a torn tail
	_, err := ReadAll(memDir{SegmentName(0, 0): log}, Ref{})
	require.NoError(t, err)

	log = sampleLog()
	log[headerSize] ^= 0xff // the first record's data
	_, err = ReadAll(memDir{SegmentName(0, 0): log}, Ref{})
	require.ErrorIs(t, err, ErrCorrupt)
}

// Only snapshots at or below the last hard state's commit are valid: one
// above was recorded by a member whose hard state did not reach the disk.
func TestValidSnapshotEntriesIgnoresSnapshotsAboveTheCommit(t *testing.T) {
	d := twoSegments()
	snaps, err := ValidSnapshotEntries(d)
	require.NoError(t, err)
	require.Len(t, snaps, 2)
	require.Equal(t, []uint64{0, 3}, []uint64{snaps[0].GetIndex(), snaps[1].GetIndex()})
	require.Equal(t, confState.GetVoters(), snaps[1].GetConfState().GetVoters())

	b := AppendSnapshot(nil, 0, 0, &raftpb.ConfState{})
	for i := uint64(1); i <= 5; i++ {
		b = AppendEntry(b, entry(1, i, "x"))
	}
	b = AppendState(b, state(1, 1, 2))
	b = AppendSnapshot(b, 4, 1, confState) // received, its hard state lost
	snaps, err = ValidSnapshotEntries(memDir{SegmentName(0, 0): b})
	require.NoError(t, err)
	require.Len(t, snaps, 1)
	require.Zero(t, snaps[0].GetIndex())

	snaps, err = ValidSnapshotEntries(memDir{})
	require.NoError(t, err)
	require.Empty(t, snaps)
}

// TestAppendEntryIsProtobufs: an entry encoded in place by raftwire frames
// the same record as protobuf-go's encoding would, so WAL files, and the
// runs that read their sizes, are unchanged.
func TestAppendEntryIsProtobufs(t *testing.T) {
	for _, e := range []*raftpb.Entry{
		entry(1, 2, "data"), entry(1<<40, 1<<62, ""), {Term: proto.Uint64(3)}, {},
		{Type: raftpb.EntryType_EntryConfChangeV2.Enum(), Index: proto.Uint64(9), Data: []byte{}},
	} {
		prefix := []byte("earlier records")
		got := AppendEntry(slices.Clone(prefix), e)
		want := appendRecord(slices.Clone(prefix), EntryType, mustMarshal(e))
		if !bytes.Equal(got, want) {
			t.Errorf("%v: record %x, protobuf-go's %x", e, got, want)
		}
	}
}
