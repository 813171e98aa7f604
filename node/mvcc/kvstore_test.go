package mvcc

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

// Helpers in the shape of etcd's kv_test.go: a put or delete-range is one
// write txn.
func put(s *Store, key, value string, lease int64) int64 {
	tw := s.Write()
	defer tw.End()
	return tw.Put([]byte(key), []byte(value), lease)
}

func deleteRange(s *Store, key, end []byte) (int64, int64) {
	tw := s.Write()
	defer tw.End()
	return tw.DeleteRange(key, end)
}

func rangeRead(s *Store, key, end []byte, ro RangeOptions) (*RangeResult, error) {
	tr := s.Read()
	defer tr.End()
	return tr.Range(key, end, ro)
}

// rangeInWrite ranges inside a write txn that changes nothing, as etcd's
// txnRangeFunc does.
func rangeInWrite(s *Store, key, end []byte, ro RangeOptions) (*RangeResult, error) {
	tw := s.Write()
	defer tw.End()
	return tw.Range(key, end, ro)
}

var rangeFuncs = []struct {
	name string
	f    func(*Store, []byte, []byte, RangeOptions) (*RangeResult, error)
}{
	{"read", rangeRead},
	{"write", rangeInWrite},
}

func kv(key, value string, create, mod, version, lease int64) *mvccpb.KeyValue {
	return &mvccpb.KeyValue{Key: []byte(key), Value: []byte(value), CreateRevision: create, ModRevision: mod, Version: version, Lease: lease}
}

func requireKVs(t *testing.T, want, got []*mvccpb.KeyValue, msg ...any) {
	t.Helper()
	require.Len(t, got, len(want), msg...)
	for i := range want {
		require.True(t, proto.Equal(want[i], got[i]), "%v: kv %d = %v, want %v", msg, i, got[i], want[i])
	}
}

func put3TestKVs(s *Store) []*mvccpb.KeyValue {
	put(s, "foo", "bar", 1)
	put(s, "foo1", "bar1", 2)
	put(s, "foo2", "bar2", 3)
	return []*mvccpb.KeyValue{
		kv("foo", "bar", 2, 2, 1, 1),
		kv("foo1", "bar1", 3, 3, 1, 2),
		kv("foo2", "bar2", 4, 4, 1, 3),
	}
}

// etcd's testKVRange.
func TestKVRange(t *testing.T) {
	for _, rf := range rangeFuncs {
		name, f := rf.name, rf.f
		s := NewStore()
		kvs := put3TestKVs(s)
		tests := []struct {
			key, end []byte
			wkvs     []*mvccpb.KeyValue
		}{
			{[]byte("doo"), []byte("foo"), nil},      // get no keys
			{[]byte("foo"), []byte("foo"), nil},      // get no keys when key == end
			{[]byte("doo"), nil, nil},                // get no keys when ranging single key
			{[]byte("foo"), []byte("foo3"), kvs},     // get all keys
			{[]byte("foo"), []byte("foo1"), kvs[:1]}, // get partial keys
			{[]byte("foo"), nil, kvs[:1]},            // get single key
			{[]byte(""), []byte(""), kvs},            // get entire keyspace
			{[]byte("foo1"), []byte{}, kvs[1:]},      // every key >= foo1 ("\x00" after mkGteRange)
		}
		for i, tt := range tests {
			r, err := f(s, tt.key, tt.end, RangeOptions{})
			require.NoError(t, err)
			require.Equal(t, int64(4), r.Rev, "%s #%d", name, i)
			requireKVs(t, tt.wkvs, r.KVs, name, i)
			require.Equal(t, len(tt.wkvs), r.Count, "%s #%d", name, i)
		}
	}
}

// etcd's testKVRangeRev.
func TestKVRangeRev(t *testing.T) {
	for _, rf := range rangeFuncs {
		name, f := rf.name, rf.f
		s := NewStore()
		kvs := put3TestKVs(s)
		tests := []struct {
			rev  int64
			wrev int64
			wkvs []*mvccpb.KeyValue
		}{
			{-1, 4, kvs},
			{0, 4, kvs},
			{2, 4, kvs[:1]},
			{3, 4, kvs[:2]},
			{4, 4, kvs},
		}
		for i, tt := range tests {
			r, err := f(s, []byte("foo"), []byte("foo3"), RangeOptions{Rev: tt.rev})
			require.NoError(t, err)
			require.Equal(t, tt.wrev, r.Rev, "%s #%d", name, i)
			requireKVs(t, tt.wkvs, r.KVs, name, i)
		}
	}
}

// etcd's testKVRangeBadRev: the compacted revision itself stays readable.
func TestKVRangeBadRev(t *testing.T) {
	for _, rf := range rangeFuncs {
		name, f := rf.name, rf.f
		s := NewStore()
		put3TestKVs(s)
		_, err := s.Compact(4)
		require.NoError(t, err)
		tests := []struct {
			rev  int64
			werr error
		}{
			{-1, nil}, // <= 0 is most recent store
			{0, nil},
			{1, ErrCompacted},
			{2, ErrCompacted},
			{4, nil},
			{5, ErrFutureRev},
			{100, ErrFutureRev},
		}
		for i, tt := range tests {
			_, err := f(s, []byte("foo"), []byte("foo3"), RangeOptions{Rev: tt.rev})
			require.ErrorIs(t, err, tt.werr, "%s #%d", name, i)
		}
	}
	require.Equal(t, "mvcc: required revision has been compacted", ErrCompacted.Error())
	require.Equal(t, "mvcc: required revision is a future revision", ErrFutureRev.Error())
}

// etcd's testKVRangeLimit: Count is every match, whatever the limit.
func TestKVRangeLimit(t *testing.T) {
	s := NewStore()
	kvs := put3TestKVs(s)
	tests := []struct {
		limit int64
		wkvs  []*mvccpb.KeyValue
	}{
		{-1, kvs}, // no limit
		{0, kvs},  // no limit
		{1, kvs[:1]},
		{2, kvs[:2]},
		{3, kvs},
		{100, kvs},
	}
	for i, tt := range tests {
		r, err := rangeRead(s, []byte("foo"), []byte("foo3"), RangeOptions{Limit: tt.limit})
		require.NoError(t, err)
		requireKVs(t, tt.wkvs, r.KVs, i)
		require.Equal(t, 4, r.Count+1, "#%d count", i)
	}
	r, err := rangeRead(s, []byte("foo"), []byte("foo3"), RangeOptions{Count: true, Rev: 3})
	require.NoError(t, err)
	require.Nil(t, r.KVs)
	require.Equal(t, 2, r.Count, "count only, at revision 3")
}

// etcd's testKVPutMultipleTimes, and delete then recreate: the version
// restarts and the create revision is the new one (a new generation).
func TestKVPutDeleteRecreate(t *testing.T) {
	s := NewStore()
	for i := range int64(10) {
		base := i + 1
		require.Equal(t, base+1, put(s, "foo", "bar", base))
		r, err := rangeRead(s, []byte("foo"), nil, RangeOptions{})
		require.NoError(t, err)
		requireKVs(t, []*mvccpb.KeyValue{kv("foo", "bar", 2, base+1, base, base)}, r.KVs, i)
	}
	n, rev := deleteRange(s, []byte("foo"), nil)
	require.Equal(t, []int64{1, 12}, []int64{n, rev})
	n, rev = deleteRange(s, []byte("foo"), nil)
	require.Equal(t, []int64{0, 12}, []int64{n, rev}, "deleting a missing key changes nothing")
	require.Equal(t, int64(12), s.Rev())

	put(s, "foo", "again", 0)
	r, err := rangeRead(s, []byte("foo"), nil, RangeOptions{})
	require.NoError(t, err)
	requireKVs(t, []*mvccpb.KeyValue{kv("foo", "again", 13, 13, 1, 0)}, r.KVs)
	r, err = rangeRead(s, []byte("foo"), nil, RangeOptions{Rev: 12})
	require.NoError(t, err)
	require.Empty(t, r.KVs, "deleted at 12")
	r, err = rangeRead(s, []byte("foo"), nil, RangeOptions{Rev: 11})
	require.NoError(t, err)
	requireKVs(t, []*mvccpb.KeyValue{kv("foo", "bar", 2, 11, 10, 10)}, r.KVs)
}

// etcd's testKVDeleteRange.
func TestKVDeleteRange(t *testing.T) {
	tests := []struct {
		key, end []byte
		wrev     int64
		wN       int64
	}{
		{[]byte("foo"), nil, 5, 1},
		{[]byte("foo"), []byte("foo1"), 5, 1},
		{[]byte("foo"), []byte("foo2"), 5, 2},
		{[]byte("foo"), []byte("foo3"), 5, 3},
		{[]byte("foo3"), []byte("foo8"), 4, 0},
		{[]byte("foo3"), nil, 4, 0},
		{[]byte("foo1"), []byte{}, 5, 2}, // every key >= foo1
	}
	for i, tt := range tests {
		s := NewStore()
		put3TestKVs(s)
		n, rev := deleteRange(s, tt.key, tt.end)
		require.Equal(t, []int64{tt.wN, tt.wrev}, []int64{n, rev}, "#%d", i)
		require.Equal(t, tt.wrev, s.Rev(), "#%d", i)
	}
}

// etcd's TestKVTxnOperationInSequence: a txn's reads see its own writes,
// and everything in it has one main revision.
func TestKVTxnOperationInSequence(t *testing.T) {
	s := NewStore()
	for i := range int64(10) {
		txn := s.Write()
		base := i + 1
		require.Equal(t, base+1, txn.Put([]byte("foo"), []byte("bar"), 0))
		r, err := txn.Range([]byte("foo"), nil, RangeOptions{Rev: base + 1})
		require.NoError(t, err)
		requireKVs(t, []*mvccpb.KeyValue{kv("foo", "bar", base+1, base+1, 1, 0)}, r.KVs, i)
		require.Equal(t, base+1, r.Rev)

		n, rev := txn.DeleteRange([]byte("foo"), nil)
		require.Equal(t, []int64{1, base + 1}, []int64{n, rev})
		r, err = txn.Range([]byte("foo"), nil, RangeOptions{Rev: base + 1})
		require.NoError(t, err)
		require.Nil(t, r.KVs)
		require.Equal(t, base+1, r.Rev)
		txn.End()
	}
}

// A write txn with several changes takes one main revision with sub
// revisions 0, 1, 2; other readers see nothing of it until End; its
// events come out in (main, sub) order.
func TestTxnSharesOneRevision(t *testing.T) {
	s := NewStore()
	put(s, "a", "1", 0) // rev 2
	put(s, "b", "1", 0) // rev 3

	tw := s.Write()
	require.Equal(t, int64(4), tw.Put([]byte("c"), []byte("1"), 0))
	require.Equal(t, int64(4), tw.Put([]byte("a"), []byte("2"), 7))
	n, rev := tw.DeleteRange([]byte("b"), nil)
	require.Equal(t, []int64{1, 4}, []int64{n, rev})
	require.Equal(t, int64(4), tw.Put([]byte("b"), []byte("again"), 0))
	require.Len(t, tw.Changes(), 4)

	r, err := rangeRead(s, []byte("a"), []byte("z"), RangeOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(3), r.Rev, "a reader does not see an open write txn")
	require.Len(t, r.KVs, 2)
	tw.End()
	require.Equal(t, int64(4), s.Rev())

	r, err = rangeRead(s, []byte("a"), []byte("z"), RangeOptions{})
	require.NoError(t, err)
	requireKVs(t, []*mvccpb.KeyValue{
		kv("a", "2", 2, 4, 2, 7),
		kv("b", "again", 4, 4, 1, 0), // deleted and put again in one txn: a new life
		kv("c", "1", 4, 4, 1, 0),
	}, r.KVs)

	evs := s.Events(4, 5)
	require.Len(t, evs, 4)
	want := []*mvccpb.Event{
		{Type: mvccpb.Event_PUT, Kv: kv("c", "1", 4, 4, 1, 0)},
		{Type: mvccpb.Event_PUT, Kv: kv("a", "2", 2, 4, 2, 7)},
		{Type: mvccpb.Event_DELETE, Kv: &mvccpb.KeyValue{Key: []byte("b"), ModRevision: 4}},
		{Type: mvccpb.Event_PUT, Kv: kv("b", "again", 4, 4, 1, 0)},
	}
	for i := range want {
		require.True(t, proto.Equal(want[i], evs[i]), "event %d = %v", i, evs[i])
	}
	require.Len(t, s.Events(2, 5), 6)
	require.Empty(t, s.Events(5, 10))

	require.True(t, proto.Equal(kv("a", "1", 2, 2, 1, 0), s.KeyAt([]byte("a"), 3)), "prev_kv of a's change at 4")
	require.True(t, proto.Equal(kv("b", "1", 3, 3, 1, 0), s.KeyAt([]byte("b"), 3)))
	require.Nil(t, s.KeyAt([]byte("c"), 3))
	require.Nil(t, s.KeyAt([]byte("a"), 1))

	// A write txn that changes nothing does not advance the revision.
	tw = s.Write()
	n, rev = tw.DeleteRange([]byte("x"), []byte("y"))
	require.Equal(t, []int64{0, 4}, []int64{n, rev})
	tw.End()
	require.Equal(t, int64(4), s.Rev())
}

// etcd's TestKVCompactReserveLastValue: compaction keeps each key's
// version at the compacted revision.
func TestKVCompactReserveLastValue(t *testing.T) {
	s := NewStore()
	put(s, "foo", "bar0", 1)
	put(s, "foo", "bar1", 2)
	deleteRange(s, []byte("foo"), nil)
	put(s, "foo", "bar2", 3)
	tests := []struct {
		rev  int64
		wkvs []*mvccpb.KeyValue // right after the compacted rev
	}{
		{1, []*mvccpb.KeyValue{kv("foo", "bar0", 2, 2, 1, 1)}},
		{2, []*mvccpb.KeyValue{kv("foo", "bar1", 2, 3, 2, 2)}},
		{3, nil},
		{4, []*mvccpb.KeyValue{kv("foo", "bar2", 5, 5, 1, 3)}},
	}
	for i, tt := range tests {
		runCompaction(t, s, tt.rev)
		r, err := rangeRead(s, []byte("foo"), nil, RangeOptions{Rev: tt.rev + 1})
		require.NoError(t, err)
		requireKVs(t, tt.wkvs, r.KVs, i)
	}
}

// etcd's TestKVCompactBad.
func TestKVCompactBad(t *testing.T) {
	s := NewStore()
	put(s, "foo", "bar0", 0)
	put(s, "foo", "bar1", 0)
	put(s, "foo", "bar2", 0)
	tests := []struct {
		rev  int64
		werr error
	}{
		{0, nil},
		{1, nil},
		{1, ErrCompacted},
		{4, nil},
		{5, ErrFutureRev},
		{100, ErrFutureRev},
	}
	for i, tt := range tests {
		c, err := s.Compact(tt.rev)
		require.ErrorIs(t, err, tt.werr, "#%d", i)
		if err == nil {
			for c.Step() {
			}
			c.Finish()
		}
	}
}

func runCompaction(t *testing.T, s *Store, rev int64) KeyValueHash {
	t.Helper()
	c, err := s.Compact(rev)
	require.NoError(t, err)
	for c.Step() {
	}
	return c.Finish()
}

// history writes a deterministic mix of puts, overwrites and deletes.
func history(s *Store, n int) {
	for i := range n {
		key := fmt.Sprintf("k%02d", i%7)
		switch {
		case i%5 == 4:
			deleteRange(s, []byte(key), nil)
		case i%11 == 10:
			tw := s.Write()
			tw.Put([]byte(key), []byte("t"), 0)
			tw.DeleteRange([]byte("k03"), []byte("k05"))
			tw.Put([]byte("k04"), []byte(fmt.Sprint(i)), int64(i))
			tw.End()
		default:
			put(s, key, fmt.Sprint(i), 0)
		}
	}
}

// A compaction removes every revision at or below it that no key needs
// any more, in batches; reads below it fail as soon as Compact returns.
// Members that applied the same entries keep the same Hash however far
// their compactions got.
func TestCompactionInSteps(t *testing.T) {
	a, b := NewStore(), NewStore()
	history(a, 200)
	history(b, 200)
	require.Equal(t, a.Hash(), b.Hash())
	a.SetCompactionBatchLimit(10)
	before := len(a.bucket)

	c, err := a.Compact(150)
	require.NoError(t, err)
	require.Equal(t, int64(150), a.CompactRev())
	_, err = rangeRead(a, []byte("k"), []byte{}, RangeOptions{Rev: 149})
	require.ErrorIs(t, err, ErrCompacted, "compacted before any step")
	r, err := rangeRead(a, []byte("k"), []byte{}, RangeOptions{Rev: 150})
	require.NoError(t, err)
	wantAt150 := r.KVs

	bc := runCompaction(t, b, 150)
	atOrBelow := len(a.bucket) - int(countAbove(a, 150))
	steps := 1
	for c.Step() {
		steps++
		require.Equal(t, b.Hash(), a.Hash(), "mid-compaction (step %d) vs compacted", steps)
	}
	require.Equal(t, atOrBelow/10+1, steps, "each step scans a full batch of 10 until the last")
	h := c.Finish()
	require.Equal(t, bc, h)
	require.Equal(t, a.Hash(), b.Hash())
	require.Equal(t, before-len(a.bucket), c.Removed())

	r, err = rangeRead(a, []byte("k"), []byte{}, RangeOptions{Rev: 150})
	require.NoError(t, err)
	requireKVs(t, wantAt150, r.KVs)
	for _, e := range a.bucket {
		if e.rev.main <= 150 {
			_, ok := c.keep[e.rev]
			require.True(t, ok, "revision %v left but not kept", e.rev)
		}
	}
	require.Len(t, a.Events(151, 1000), int(countAbove(a, 150)))
}

func countAbove(s *Store, rev int64) int64 {
	var n int64
	for _, e := range s.bucket {
		if e.rev.main > rev {
			n++
		}
	}
	return n
}

// etcd's testCompactionHash: the hash a compaction computes is the one
// HashByRev gave for that revision before, and HashByRev answers it after.
func TestHashByRevAcrossCompaction(t *testing.T) {
	s := NewStore()
	history(s, 300)
	var revs []int64
	for rev := int64(20); rev < s.Rev(); rev += 37 {
		revs = append(revs, rev)
	}
	for _, rev := range revs {
		before, cur, err := s.HashByRev(rev)
		require.NoError(t, err)
		require.Equal(t, s.Rev(), cur)
		require.Equal(t, rev, before.Revision)
		h := runCompaction(t, s, rev)
		require.Equal(t, before, h, "compaction at %d", rev)
		after, _, err := s.HashByRev(rev)
		require.NoError(t, err)
		require.Equal(t, before, after, "after compaction at %d", rev)
	}
	_, _, err := s.HashByRev(revs[len(revs)-1] - 1)
	require.ErrorIs(t, err, ErrCompacted)
	_, cur, err := s.HashByRev(s.Rev() + 1)
	require.ErrorIs(t, err, ErrFutureRev)
	require.Equal(t, s.Rev(), cur)
	h, _, err := s.HashByRev(0)
	require.NoError(t, err)
	require.Equal(t, s.Rev(), h.Revision)

	// Another member with the same history, compacted once at the last of
	// those revisions, answers the same hash at the current revision (etcd
	// compares HashKV of members at the same compact revision only).
	o := NewStore()
	history(o, 300)
	runCompaction(t, o, revs[len(revs)-1])
	oh, _, err := o.HashByRev(0)
	require.NoError(t, err)
	require.Equal(t, h.Hash, oh.Hash)
}

func TestHashSeesEveryDifference(t *testing.T) {
	a, b := NewStore(), NewStore()
	put(a, "k", "v", 0)
	put(b, "k", "v", 0)
	require.Equal(t, a.Hash(), b.Hash())
	put(b, "k", "v", 0)
	require.NotEqual(t, a.Hash(), b.Hash(), "same value, another version")
	put(a, "k", "v", 5)
	require.NotEqual(t, a.Hash(), b.Hash(), "another lease")
}

// The backend file holds what Marshal returns; Unmarshal rebuilds the
// same store, index included.
func TestMarshalRoundTrip(t *testing.T) {
	s := NewStore()
	history(s, 120)
	first := s.Marshal()
	firstCopy := append([]byte(nil), first...)
	runCompaction(t, s, 60)
	history(s, 30)

	got, err := Unmarshal(s.Marshal())
	require.NoError(t, err)
	requireSameStore(t, s, got)
	require.Equal(t, firstCopy, first, "a returned image is never written again")

	old, err := Unmarshal(first)
	require.NoError(t, err)
	require.Equal(t, int64(-1), old.CompactRev())

	empty, err := Unmarshal(NewStore().Marshal())
	require.NoError(t, err)
	requireSameStore(t, NewStore(), empty)

	// Marshal costs what was written since the last call: two calls in a
	// row return the same image.
	m1 := got.Marshal()
	m2 := got.Marshal()
	require.Equal(t, len(m1), len(m2))
	put(got, "new", "v", 0)
	m3 := got.Marshal()
	require.Equal(t, m1, m3[:len(m1)], "writes only append")
}

// Rewrites tells a caller keeping a copy of the encoding (the backend
// file) when Marshal no longer extends the image before.
func TestRewritesCountsMarshalsThatStartAfresh(t *testing.T) {
	s := NewStore()
	history(s, 120)
	before, rewrites := s.Marshal(), s.Rewrites()
	put(s, "k", "v", 0)
	after := s.Marshal()
	require.Equal(t, rewrites, s.Rewrites())
	require.Equal(t, before, after[:len(before)], "the same encoding, appended to")

	runCompaction(t, s, 60)
	s.Marshal()
	require.Greater(t, s.Rewrites(), rewrites, "a compaction removed revisions: the encoding starts afresh")
}

func requireSameStore(t *testing.T, want, got *Store) {
	t.Helper()
	require.Equal(t, want.Hash(), got.Hash())
	require.Equal(t, want.Rev(), got.Rev())
	require.Equal(t, want.CompactRev(), got.CompactRev())
	for rev := max(want.CompactRev(), 1); rev <= want.Rev(); rev++ {
		w, err := rangeRead(want, []byte{0}, []byte{}, RangeOptions{Rev: rev})
		require.NoError(t, err)
		g, err := rangeRead(got, []byte{0}, []byte{}, RangeOptions{Rev: rev})
		require.NoError(t, err)
		requireKVs(t, w.KVs, g.KVs, "at", rev)
	}
	require.Len(t, got.Events(want.CompactRev()+1, want.Rev()+1), len(want.Events(want.CompactRev()+1, want.Rev()+1)))
	wh, _, err := want.HashByRev(0)
	require.NoError(t, err)
	gh, _, err := got.HashByRev(0)
	require.NoError(t, err)
	require.Equal(t, wh, gh)
}

// A restart in the middle of a compaction (etcd's restore with
// scheduledCompact > finishedCompact): the compacted revision is the last
// finished one, the unfinished one is resumed by the node, and the store
// ends as if the compaction had not been interrupted.
func TestUnfinishedCompactionResumes(t *testing.T) {
	s, done := NewStore(), NewStore()
	history(s, 200)
	history(done, 200)
	runCompaction(t, s, 50)
	runCompaction(t, done, 50)
	s.SetCompactionBatchLimit(10)

	c, err := s.Compact(120)
	require.NoError(t, err)
	require.True(t, c.Step())
	image := s.Marshal() // the commit after the first batch

	got, err := Unmarshal(image)
	require.NoError(t, err)
	require.Equal(t, int64(50), got.CompactRev(), "the last finished compaction")
	require.Equal(t, s.Rev(), got.Rev())
	rev, ok := got.Unfinished()
	require.True(t, ok)
	require.Equal(t, int64(120), rev)

	c, err = got.Compact(rev)
	require.NoError(t, err)
	for c.Step() {
	}
	c.Finish()
	runCompaction(t, done, 120)
	requireSameStore(t, done, got)
	_, ok = got.Unfinished()
	require.False(t, ok)

	again, err := Unmarshal(got.Marshal())
	require.NoError(t, err)
	_, ok = again.Unfinished()
	require.False(t, ok)
	requireSameStore(t, done, again)

	// A store whose every key was deleted and compacted keeps its
	// revision: it is the compacted one (etcd's restore).
	e := NewStore()
	put(e, "a", "1", 0)
	deleteRange(e, []byte("a"), nil)
	put(e, "b", "1", 0)
	deleteRange(e, []byte("b"), nil)
	runCompaction(t, e, 5)
	got, err = Unmarshal(e.Marshal())
	require.NoError(t, err)
	requireSameStore(t, e, got)
	require.Equal(t, int64(5), got.Rev())
}

func TestCorruptInputIsRefused(t *testing.T) {
	s := NewStore()
	history(s, 40)
	runCompaction(t, s, 20)
	b := s.Marshal()
	for cut := range len(b) {
		_, err := Unmarshal(b[:cut])
		require.ErrorIs(t, err, ErrCorrupt, "cut at %d", cut)
	}
	_, err := Unmarshal(append(append([]byte(nil), b...), 0))
	require.ErrorIs(t, err, ErrCorrupt, "bytes left over")
	_, err = Unmarshal([]byte("garbage"))
	require.ErrorIs(t, err, ErrCorrupt)
	// Random records after a good header are refused, never a panic.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		g := []byte(encodingHeader)
		for range rng.IntN(40) {
			g = append(g, []byte("PTSFC")[rng.IntN(5)], byte(rng.IntN(256)))
		}
		if _, err := Unmarshal(g); err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
		}
		c := append([]byte(nil), b...)
		for range 1 + rng.IntN(4) {
			c[len(encodingHeader)+rng.IntN(len(c)-len(encodingHeader))] = byte(rng.IntN(256))
		}
		if st, err := Unmarshal(c); err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
		} else {
			st.Hash() // a store that decodes can be read
			_, _, _ = st.HashByRev(0)
			_, err := rangeRead(st, []byte{}, []byte{}, RangeOptions{})
			require.NoError(t, err)
			if rev, ok := st.Unfinished(); ok {
				c, err := st.Compact(rev)
				require.NoError(t, err)
				for c.Step() {
				}
				c.Finish()
			}
		}
	}
	// Every single-byte change either decodes or is refused: never a panic.
	for i := range b {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			c := append([]byte(nil), b...)
			c[i] ^= x
			if _, err := Unmarshal(c); err != nil {
				require.ErrorIs(t, err, ErrCorrupt)
			}
		}
	}
}
