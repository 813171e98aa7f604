package compactor

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcdlab/etcdlab/node/mvcc"
)

// fakeLoop drives a compactor as etcd's tests do with a fake clock: each
// advance fires the compactor's timer once, and every read of the store's
// revision gets the next one (etcd's fakeRevGetter), unless the test holds
// it. Every compaction asked for succeeds at once, unless fail is set.
type fakeLoop struct {
	c    Compactor
	now  time.Duration
	rev  int64 // the last revision read
	hold bool  // every read returns rev+1 without moving rev on
	fail error // the outcome the next compactions report

	compacted []int64 // the revisions asked for, in order
}

func newFakeLoop(c Compactor) *fakeLoop {
	l := &fakeLoop{c: c}
	l.c.Tick(l.now, l.read()) // etcd's Run
	return l
}

func (l *fakeLoop) read() int64 {
	if l.hold {
		return l.rev + 1
	}
	l.rev++
	return l.rev
}

// advance moves the clock on by d, n times, and returns the compactions
// asked for meanwhile. A periodic compactor reads the revision once per
// firing: in Tick, or in Done right after a compaction.
func (l *fakeLoop) advance(d time.Duration, n int) []int64 {
	var got []int64
	for range n {
		l.now += d
		rev := l.read()
		if compactRev, ok := l.c.Tick(l.now, rev); ok {
			got = append(got, compactRev)
			l.compacted = append(l.compacted, compactRev)
			l.c.Done(l.now, rev, l.fail)
		}
	}
	return got
}

func expect(t *testing.T, what string, got []int64, want ...int64) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: compacted to %v, want %v", what, got, want)
	}
}

// etcd's TestPeriodicHourly: a 2h retention samples every 6 minutes,
// compacts first at 2h to the first sample, then every hour.
func TestPeriodicHourly(t *testing.T) {
	pc := NewPeriodic(2 * time.Hour)
	l := newFakeLoop(pc)
	r, n := pc.RetryInterval(), pc.Retentions()
	if r != 6*time.Minute || n != 21 {
		t.Fatalf("retry interval %v, retentions %d; want 6m0s, 21", r, n)
	}

	// compaction doesn't happen til 2 hours elapse
	expect(t, "before 2h", l.advance(r, n-2))
	// very first compaction
	expect(t, "at 2h", l.advance(r, 1), 1)

	// now compactor kicks in, every hour
	for i := range 3 {
		expect(t, "within the hour", l.advance(r, 9))
		expect(t, "on the hour", l.advance(r, 1), int64((i+1)*10))
	}
}

// etcd's TestPeriodicMinutes: a 5m retention samples every 30s and
// compacts every 5 minutes.
func TestPeriodicMinutes(t *testing.T) {
	pc := NewPeriodic(5 * time.Minute)
	l := newFakeLoop(pc)
	r, n := pc.RetryInterval(), pc.Retentions()
	if r != 30*time.Second || n != 11 {
		t.Fatalf("retry interval %v, retentions %d; want 30s, 11", r, n)
	}

	expect(t, "before 5m", l.advance(r, n-2))
	expect(t, "at 5m", l.advance(r, 1), 1)
	for i := range 5 {
		expect(t, "within 5m", l.advance(r, 9))
		expect(t, "every 5m", l.advance(r, 1), int64((i+1)*10))
	}
}

// etcd's TestPeriodicPause: a paused compactor keeps sampling but does not
// compact; once resumed it compacts at its next firing to the oldest sample
// in its ring.
func TestPeriodicPause(t *testing.T) {
	pc := NewPeriodic(time.Hour)
	l := newFakeLoop(pc)
	pc.Pause()
	r, n := pc.RetryInterval(), pc.Retentions()

	// it collects 3 hours of revisions but does not compact since paused
	expect(t, "paused", l.advance(r, 3*n))
	// revs = [24 25 ... 34]
	pc.Resume()
	expect(t, "resumed", l.advance(r, 1), int64(1+2*n+1))
}

// etcd's TestPeriodicSkipRevNotChange: a revision already compacted to is
// not compacted to again.
func TestPeriodicSkipRevNotChange(t *testing.T) {
	pc := NewPeriodic(5 * time.Minute)
	l := &fakeLoop{c: pc, rev: 100, hold: true} // every read is 101
	pc.Tick(0, l.read())
	r, n := pc.RetryInterval(), pc.Retentions()

	expect(t, "first", l.advance(r, n-1), 101)
	// compaction doesn't happen at every interval since revision not change
	expect(t, "unchanged", l.advance(r, 5*10))

	// when revision changed, compaction is normal: 102 reaches the front
	// of the ring of 11 samples, all 101, at the 12th firing.
	l.rev, l.hold = 101, false
	expect(t, "changing", l.advance(r, n))
	expect(t, "changed", l.advance(r, 1), 102)
}

// Above an hour the ring still samples every 6 minutes, and compactions
// come every hour after the first at one whole retention.
func TestPeriodicDaily(t *testing.T) {
	pc := NewPeriodic(24 * time.Hour)
	l := newFakeLoop(pc)
	r, n := pc.RetryInterval(), pc.Retentions()
	if r != 6*time.Minute || n != 241 || pc.CompactInterval() != time.Hour {
		t.Fatalf("retry interval %v, retentions %d, compact interval %v; want 6m0s, 241, 1h0m0s", r, n, pc.CompactInterval())
	}
	expect(t, "before 24h", l.advance(r, n-2))
	expect(t, "at 24h", l.advance(r, 1), 1)
	for i := range 3 {
		expect(t, "within the hour", l.advance(r, 9))
		// the sample taken 24h6m ago
		expect(t, "on the hour", l.advance(r, 1), int64((i+1)*10))
	}
}

// periodic.go's Run keeps lastRevision and lastSuccess only on success: a
// failed compaction is retried at the next firing, to the oldest sample
// then, and ErrCompacted counts as a success.
func TestPeriodicRetry(t *testing.T) {
	pc := NewPeriodic(5 * time.Minute)
	l := newFakeLoop(pc)
	r := pc.RetryInterval()

	l.fail = rpctypes.ErrTimeout
	expect(t, "first fails", l.advance(r, 10), 1)
	// the ring is not full yet: its oldest sample is still the first
	expect(t, "retry fails", l.advance(r, 1), 1)
	l.fail = nil
	expect(t, "retry succeeds", l.advance(r, 1), 2)
	expect(t, "within 5m", l.advance(r, 9))
	l.fail = errors.New("proposal dropped")
	expect(t, "fails", l.advance(r, 1), 12)
	l.fail = mvcc.ErrCompacted
	expect(t, "retried to the oldest sample then", l.advance(r, 1), 13)
	l.fail = rpctypes.ErrCompacted
	expect(t, "ErrCompacted waits a whole interval", l.advance(r, 9))
	expect(t, "then compacts", l.advance(r, 1), 23)
	l.fail = nil
	expect(t, "and again", l.advance(r, 10), 33)
}

// tick is a compaction asked for: when, and to which revision.
type tick struct {
	now time.Duration
	rev int64
}

// On the member's 100 ms heartbeat ticks a timer fires at the first tick
// at or after its deadline; while a compaction is in flight nothing fires,
// and the next timer counts from the moment it is reported.
func TestPeriodicHeartbeatTicks(t *testing.T) {
	const heartbeat = 100 * time.Millisecond
	pc := NewPeriodic(time.Minute)                                             // samples every 6s
	revAt := func(now time.Duration) int64 { return 1 + int64(now/heartbeat) } // one write per tick

	var got []tick
	var inflight bool
	var doneAt time.Duration
	for now := time.Duration(0); now <= 181*time.Second; now += heartbeat {
		if inflight && now == doneAt {
			pc.Done(now, revAt(now), nil)
			inflight = false
		}
		if compactRev, ok := pc.Tick(now, revAt(now)); ok {
			if inflight {
				t.Fatalf("at %v: compaction asked for while one is in flight", now)
			}
			got = append(got, tick{now, compactRev})
			inflight, doneAt = true, now+300*time.Millisecond // raft takes 3 ticks
		}
	}
	want := []tick{
		{60 * time.Second, 1}, // the sample at start
		// samples at 0, 6s, ..., 54s, then 60.3s (Done), 66.3s, ...:
		// the oldest of the 11 at 120.3s is the one at 54s
		{120*time.Second + 300*time.Millisecond, revAt(54 * time.Second)},
		{180*time.Second + 600*time.Millisecond, revAt(114*time.Second + 300*time.Millisecond)},
	}
	if !slices.Equal(got, want) {
		t.Errorf("compactions %v, want %v", got, want)
	}
}

// etcd's TestRevision: every 5 minutes, compact to the current revision
// minus the retention when that is positive and new.
func TestRevision(t *testing.T) {
	rc := NewRevision(10)
	rc.Tick(0, 0)
	steps := []struct {
		rev  int64
		want []int64
	}{
		{1, nil}, // nothing happens
		{100, []int64{90}},
		{100, nil}, // skip the same revision
		{200, []int64{190}},
	}
	now := time.Duration(0)
	for i, s := range steps {
		if _, ok := rc.Tick(now+RevInterval-time.Nanosecond, s.rev); ok {
			t.Fatalf("#%d: compacted before %v", i, RevInterval)
		}
		now += RevInterval
		var got []int64
		if compactRev, ok := rc.Tick(now, s.rev); ok {
			got = append(got, compactRev)
			rc.Done(now, s.rev, nil)
		}
		expect(t, "step", got, s.want...)
	}
}

// etcd's TestRevisionPause: nothing while paused; on resume, the next
// firing compacts.
func TestRevisionPause(t *testing.T) {
	rc := NewRevision(10)
	rc.Tick(0, 100)
	rc.Pause()
	now := time.Duration(0)
	for range 3 * int(time.Hour/RevInterval) {
		now += RevInterval
		if compactRev, ok := rc.Tick(now, 100); ok {
			t.Fatalf("at %v: paused compactor compacted to %d", now, compactRev)
		}
	}
	rc.Resume()
	now += RevInterval
	if compactRev, ok := rc.Tick(now, 100); !ok || compactRev != 90 {
		t.Errorf("resumed: compacted to %d, %v; want 90, true", compactRev, ok)
	}
}

// revision.go's Run keeps prev only on success: a failure retries the same
// revision at the next interval, counted from when the failure is reported.
func TestRevisionRetry(t *testing.T) {
	rc := NewRevision(10)
	rc.Tick(0, 50)
	if compactRev, ok := rc.Tick(RevInterval, 50); !ok || compactRev != 40 {
		t.Fatalf("compacted to %d, %v; want 40, true", compactRev, ok)
	}
	if _, ok := rc.Tick(RevInterval+time.Hour, 50); ok {
		t.Fatal("compacted while a compaction is in flight")
	}
	failedAt := RevInterval + 2*time.Second
	rc.Done(failedAt, 50, rpctypes.ErrTimeout)
	if _, ok := rc.Tick(failedAt+RevInterval-time.Nanosecond, 50); ok {
		t.Fatal("retried before an interval passed")
	}
	if compactRev, ok := rc.Tick(failedAt+RevInterval, 50); !ok || compactRev != 40 {
		t.Fatalf("retry: compacted to %d, %v; want 40, true", compactRev, ok)
	}
	rc.Done(failedAt+RevInterval, 50, mvcc.ErrCompacted) // as good as done
	if _, ok := rc.Tick(failedAt+2*RevInterval, 50); ok {
		t.Fatal("compacted to 40 twice")
	}
}

func TestDoneWithoutCompactionPanics(t *testing.T) {
	for _, c := range []Compactor{NewPeriodic(time.Hour), NewRevision(10)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%T: Done without a compaction in flight did not panic", c)
				}
			}()
			c.Tick(0, 1)
			c.Done(time.Second, 1, nil)
		}()
	}
}

// etcd's TestAutoCompactionModeParse and TestAutoCompactionModeInvalid,
// with etcd's Validate in front as etcd runs it, and New's stricter cases.
func TestNew(t *testing.T) {
	tests := []struct {
		mode, retention string
		period          time.Duration // want a Periodic
		revisions       int64         // want a Revision
		werr            string        // want an error containing this
	}{
		// revision
		{mode: "revision", retention: "1", revisions: 1},
		{mode: "revision", retention: "1000", revisions: 1000},
		{mode: "revision", retention: "1h", werr: "needs a number of revisions"}, // etcd: 3.6e12 revisions
		{mode: "revision", retention: "a", werr: "needs a number of revisions"},
		{mode: "revision", retention: "-1", werr: "needs a number of revisions"},
		// periodic
		{mode: "periodic", retention: "1", period: time.Hour},
		{mode: "periodic", retention: "24", period: 24 * time.Hour},
		{mode: "periodic", retention: "5m", period: 5 * time.Minute},
		{mode: "periodic", retention: "1h30m", period: 90 * time.Minute},
		{mode: "periodic", retention: "a", werr: "error parsing CompactionRetention"},
		{mode: "periodic", retention: "-1", werr: "is negative"},
		{mode: "periodic", retention: "2562048", werr: "longer than Go's durations reach"}, // hours past int64 nanoseconds
		{mode: "periodic", retention: "-1h", werr: "is negative"},                          // etcd: a negative period
		{mode: "periodic", retention: "5ns", werr: "too short"},                            // etcd: divides by zero
		// off
		{mode: "periodic", retention: "0"},
		{mode: "periodic", retention: ""},
		{mode: "periodic", retention: "0s"},
		{mode: "revision", retention: "0"},
		// err mode
		{mode: "errmode", retention: "1", werr: `unknown auto-compaction-mode "errmode"`},
		{mode: "period", retention: "1h", werr: `unknown auto-compaction-mode "period"`},
		// empty mode
		{mode: "", retention: "1", werr: "undefined auto-compaction-mode"},
		{mode: "", retention: "1h", werr: "undefined auto-compaction-mode"},
	}
	for _, tt := range tests {
		c, err := New(tt.mode, tt.retention)
		name := tt.mode + " " + tt.retention
		switch {
		case tt.werr != "":
			if err == nil || !strings.Contains(err.Error(), tt.werr) {
				t.Errorf("%s: error %v, want one containing %q", name, err, tt.werr)
			}
		case err != nil:
			t.Errorf("%s: %v", name, err)
		case tt.period != 0:
			if pc, ok := c.(*Periodic); !ok || pc.period != tt.period {
				t.Errorf("%s: %#v, want a periodic compactor of %v", name, c, tt.period)
			}
		case tt.revisions != 0:
			if rc, ok := c.(*Revision); !ok || rc.retention != tt.revisions {
				t.Errorf("%s: %#v, want a revision compactor of %d", name, c, tt.revisions)
			}
		case c != nil:
			t.Errorf("%s: %#v, want nil (auto-compaction off)", name, c)
		}
	}
}
