package mvcc

import "time"

// etcd's defaults for compaction batches (kvstore.go).
const (
	// DefaultCompactionBatchLimit is how many revisions one compaction
	// batch scans (etcd's defaultCompactionBatchLimit).
	DefaultCompactionBatchLimit = 1000
	// DefaultCompactionSleepInterval is the pause between two batches
	// (etcd's defaultCompactionSleepInterval).
	DefaultCompactionSleepInterval = 10 * time.Millisecond
)

// etcd's gofail names around compaction, in the order they are passed.
// The node passes them as etcd does:
//
//	Compact(rev)                          // sets scheduledCompact
//	compactBeforeCommitScheduledCompact
//	    (force a backend commit)
//	compactAfterCommitScheduledCompact
//	loop:
//	    compactAfterAcquiredBatchTxLock
//	    more := c.Step()
//	    if !more:
//	        compactBeforeSetFinishedCompact
//	        c.Finish()                    // same batch, no forced commit
//	        compactAfterSetFinishedCompact
//	        done
//	    compactBeforeCommitBatch
//	        (force a backend commit)
//	    compactAfterCommitBatch
//	    sleep DefaultCompactionSleepInterval
const (
	FailpointCompactBeforeCommitScheduledCompact = "compactBeforeCommitScheduledCompact"
	FailpointCompactAfterCommitScheduledCompact  = "compactAfterCommitScheduledCompact"
	FailpointCompactAfterAcquiredBatchTxLock     = "compactAfterAcquiredBatchTxLock"
	FailpointCompactBeforeCommitBatch            = "compactBeforeCommitBatch"
	FailpointCompactAfterCommitBatch             = "compactAfterCommitBatch"
	FailpointCompactBeforeSetFinishedCompact     = "compactBeforeSetFinishedCompact"
	FailpointCompactAfterSetFinishedCompact      = "compactAfterSetFinishedCompact"
)

// Compact is etcd's store.Compact up to the scheduling of the job
// (updateCompactRev, then the index half of scheduleCompaction): it checks
// rev, makes it the compacted revision at once (reads below it fail from
// now on), records it as scheduled (to be persisted by a forced commit)
// and compacts the index. The key bucket is cleaned by the returned job.
//
// Run one compaction at a time, in order, as etcd's FIFO scheduler does.
func (s *Store) Compact(rev int64) (*Compaction, error) {
	prevCompactionCompleted := s.checkPrevCompactionCompleted()
	if rev <= s.compactMainRev {
		return nil, ErrCompacted
	}
	if rev > s.currentRev {
		return nil, ErrFutureRev
	}
	prevCompactRev := s.compactMainRev
	s.compactMainRev = rev
	s.scheduledCompact, s.scheduledFound = rev, true
	s.enc.appendMeta(tagScheduledCompact, rev)

	keep := s.kvindex.Compact(rev)
	return &Compaction{
		s:                       s,
		rev:                     rev,
		keep:                    keep,
		hasher:                  newKVHasher(prevCompactRev, rev, keep),
		prevCompactionCompleted: prevCompactionCompleted,
	}, nil
}

// checkPrevCompactionCompleted is etcd's: the previous compaction's
// finished mark matches its scheduled one. Only then is the hash of the
// next compaction stored for HashByRev.
func (s *Store) checkPrevCompactionCompleted() bool {
	return s.scheduledCompact == s.finishedCompact && s.scheduledFound == s.finishedFound
}

// Unfinished is the revision of a compaction that was scheduled but not
// finished before the store was last marshaled. After Unmarshal, the node
// resumes it with Compact(rev), as etcd's restore does.
func (s *Store) Unfinished() (rev int64, ok bool) {
	if s.scheduledFound && s.scheduledCompact > s.compactMainRev {
		return s.scheduledCompact, true
	}
	return 0, false
}

// Compaction is etcd's scheduleCompaction loop over the key bucket, one
// batch per Step.
type Compaction struct {
	s                       *Store
	rev                     int64
	keep                    map[revision]struct{}
	last                    revision // the first revision the next Step scans
	hasher                  kvHasher
	prevCompactionCompleted bool
	removed                 int
	finished                bool
}

// Rev is the compaction's revision.
func (c *Compaction) Rev() int64 { return c.rev }

// Removed is how many revisions the steps so far removed.
func (c *Compaction) Removed() int { return c.removed }

// Step scans up to the batch limit of revisions at or below the
// compaction's revision, removes those the index no longer needs and
// hashes them all. It reports whether a full batch was scanned, so that
// more may remain (then the node commits, sleeps and steps again);
// otherwise the node calls Finish.
func (c *Compaction) Step() (more bool) {
	s := c.s
	b := s.bucket
	start := s.search(c.last)
	kept, scanned := start, 0
	j := start
	var last revision
	for ; j < len(b) && b[j].rev.main <= c.rev && scanned < s.batchLimit; j++ {
		e := b[j]
		scanned++
		last = e.rev
		if _, ok := c.keep[e.rev]; ok {
			b[kept] = e
			kept++
		}
		c.hasher.writeEntry(&s.enc, e)
	}
	if removed := j - kept; removed > 0 {
		n := copy(b[kept:], b[j:])
		clear(b[kept+n:])
		s.bucket = b[:kept+n]
		// The entries left still point into the encoding, which still
		// holds their records; the next Marshal rebuilds it.
		s.enc.invalidate()
		c.removed += removed
	}
	if scanned < s.batchLimit {
		return false
	}
	c.last = revision{main: last.main, sub: last.sub + 1}
	return true
}

// Finish records the compaction as finished (etcd's
// UnsafeSetFinishedCompact in the last batch) and returns its hash, which
// HashByRev(c.Rev()) answers from now on if the previous compaction had
// finished too.
func (c *Compaction) Finish() KeyValueHash {
	if c.finished {
		panic("mvcc: compaction finished twice")
	}
	c.finished = true
	s := c.s
	s.finishedCompact, s.finishedFound = c.rev, true
	s.enc.appendMeta(tagFinishedCompact, c.rev)
	h := c.hasher.Hash()
	if c.prevCompactionCompleted {
		s.storeHash(h)
	}
	return h
}
