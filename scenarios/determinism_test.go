package scenarios

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A run is a pure function of (scenario, seed, code): the same seed gives
// the same trace, byte for byte.
// The fingerprint does not depend on whether the trace's text was kept,
// streamed or never formatted.
func TestSameSeedSameFingerprint(t *testing.T) {
	a, err := Run("partition", 7, Options{KeepTrace: true})
	require.NoError(t, err)
	b, err := Run("partition", 7, Options{KeepTrace: true})
	require.NoError(t, err)
	require.Equal(t, a.Fingerprint, b.Fingerprint)
	require.NotEmpty(t, a.Trace)
	require.Equal(t, a.Trace, b.Trace)

	plain, err := Run("partition", 7, Options{})
	require.NoError(t, err)
	require.Empty(t, plain.Trace, "a run formats no text unless asked")
	var streamed []string
	live, err := Run("partition", 7, Options{Trace: func(l string) { streamed = append(streamed, l) }})
	require.NoError(t, err)
	require.Equal(t, a.Fingerprint, plain.Fingerprint)
	require.Equal(t, a.Fingerprint, live.Fingerprint)
	require.Equal(t, a.Trace, streamed)

	// A run stopped at its fingerprint, for its trace alone, is the run:
	// no check writes to the trace before the fingerprint.
	only, err := Run("partition", 7, Options{KeepTrace: true, TraceOnly: true})
	require.NoError(t, err)
	require.Equal(t, a.Fingerprint, only.Fingerprint)
	require.Empty(t, only.Verdicts)
	require.Equal(t, a.Trace[:len(only.Trace)], only.Trace)
	require.Len(t, only.Trace, len(a.Trace)-len(a.Verdicts), "all but the verdict lines")
}

// Where reports go, and whether they can be written, is the machine's
// business: it must not reach the trace.
func TestReportDirDoesNotChangeTheFingerprint(t *testing.T) {
	bugs := Options{}.With("bug", "stale-reads") // so the checker writes a visualization
	bugs.ReportDir = t.TempDir()
	a, err := Run("partition", 7, bugs)
	require.NoError(t, err)
	blocked := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocked, nil, 0o644))
	bugs.ReportDir = filepath.Join(blocked, "reports")
	b, err := Run("partition", 7, bugs)
	require.NoError(t, err)
	require.Error(t, b.Verdicts[0].VisualizationErr)
	require.Equal(t, a.Fingerprint, b.Fingerprint)
}

// Different seeds draw different timings, elections and faults.
func TestDifferentSeedsDifferentFingerprints(t *testing.T) {
	seen := map[string]uint64{}
	for seed := uint64(1); seed <= 4; seed++ {
		r, err := Run("election", seed, Options{})
		require.NoError(t, err)
		prev, dup := seen[r.Fingerprint]
		require.False(t, dup, "seeds %d and %d gave the same fingerprint", prev, seed)
		seen[r.Fingerprint] = seed
	}
}

// The scheduler's parallelism must not leak into a run. The check runs
// this package's fingerprint helper in child processes under GOMAXPROCS=1
// and 2, since GOMAXPROCS is process-wide.
func TestFingerprintIgnoresGOMAXPROCS(t *testing.T) {
	if os.Getenv("ETCDLAB_PRINT_FINGERPRINT") != "" {
		t.Skip("child process")
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	fingerprint := func(procs string) string {
		cmd := exec.Command(exe, "-test.run=^TestPrintFingerprint$", "-test.v")
		cmd.Env = append(os.Environ(), "GOMAXPROCS="+procs, "ETCDLAB_PRINT_FINGERPRINT=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		for _, line := range strings.Split(string(out), "\n") {
			if f, ok := strings.CutPrefix(strings.TrimSpace(line), "fingerprint: "); ok {
				return f
			}
		}
		t.Fatalf("child with GOMAXPROCS=%s printed no fingerprint:\n%s", procs, out)
		return ""
	}
	here, err := gomaxprocsRun()
	require.NoError(t, err)
	require.Equal(t, here.Fingerprint, fingerprint("1"), "GOMAXPROCS=1 against this process (GOMAXPROCS=%d)", runtime.GOMAXPROCS(0))
	require.Equal(t, here.Fingerprint, fingerprint("2"), "GOMAXPROCS=2 against this process (GOMAXPROCS=%d)", runtime.GOMAXPROCS(0))
}

// TestPrintFingerprint is the child side of TestFingerprintIgnoresGOMAXPROCS.
func TestPrintFingerprint(t *testing.T) {
	if os.Getenv("ETCDLAB_PRINT_FINGERPRINT") == "" {
		t.Skip("only as a child of TestFingerprintIgnoresGOMAXPROCS")
	}
	r, err := gomaxprocsRun()
	require.NoError(t, err)
	t.Logf("\nfingerprint: %s", r.Fingerprint)
}

// gomaxprocsRun is the run both sides compare: a nemesis seed whose swarm
// crashes, pauses and restarts members, so most of the harness runs.
func gomaxprocsRun() (*Result, error) { return Run("nemesis", 56, Options{}) }

// Fingerprints pinned at the commit that made the trace canonical records
// (issue 16). A change that alters any of them changes what runs: a new
// seed's run is a different run, and every replay command printed before
// it replays something else. Change them only on purpose, in a commit
// that says so.
func TestPinnedFingerprints(t *testing.T) {
	for name, want := range map[string]string{
		"election":            "c300b0f83b8b9cbc1053a62d515465640364a50b1a74e582bce7a94b3b6da21d",
		"partition":           "c1bbe6d95ea3866576a1313bf07fb7d57523e088be664aa402f5b05ffd9e3c11",
		"flaky-network":       "82aa6175c2f5382ba432d620e27442dc001ab39dff2e5aed8a45bb39302d069e",
		"watch":               "5ae6acd47230849b3b4b45f69411f9248a3f8681fb90f7e5e0e0c8b5b4f9b103",
		"compaction-snapshot": "0de613f91d883876875b2f5824782066d935c510e3bfbca788d2404d5b975e35",
	} {
		r, err := Run(name, 1, Options{})
		require.NoError(t, err)
		require.Equal(t, want, r.Fingerprint, "%s seed 1", name)
	}
}
