package scenarios

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/*.story from the current code")

// storyLine picks the trace lines that tell what a run was about: who was
// elected and who stepped down, what the nemesis did, crashes and
// restarts, and the verdicts.
var storyLine = regexp.MustCompile(`became leader|stepped down|s nemesis |crashed|restarted|died|exited|paused until|VIOLATION|run +verdict`)

// TestStories keeps one seed of each scenario as a readable story in
// testdata/, in the spirit of raft's testdata scripts: the file is what a
// student reads to see what the scenario does, and the test fails when a
// change alters it. After a deliberate change, regenerate with
//
//	go test ./scenarios -run TestStories -update
func TestStories(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			r, err := Run(name, 1, Options{KeepTrace: true})
			require.NoError(t, err)
			var b strings.Builder
			fmt.Fprintf(&b, "# %s, seed 1: %s\n", name, mustLookup(name).Summary)
			fmt.Fprintf(&b, "# go run ./cmd/etcdlab replay %s --seed 1\n", name)
			for _, line := range r.Trace {
				if storyLine.MatchString(line) {
					b.WriteString(line + "\n")
				}
			}
			path := filepath.Join("testdata", name+".story")
			if *update {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "regenerate with: go test ./scenarios -run TestStories -update")
			require.Equal(t, string(want), b.String(), "the story changed; if that was meant, regenerate with -update and review the diff")
		})
	}
}

func mustLookup(name string) Scenario {
	s, ok := Lookup(name)
	if !ok {
		panic(name)
	}
	return s
}
