package lint

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The lint must catch each rule, or the repository test below proves
// nothing.
func TestLintCatchesEveryRule(t *testing.T) {
	findings, err := NewChecker().CheckDir("testdata/bad")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range findings {
		got = append(got, filepath.Base(f.Pos.Filename)+":"+strconv.Itoa(f.Pos.Line)+":"+f.Rule)
	}
	want := []string{
		"bad.go:41:exemption",
		"bad.go:12:goroutine",
		"bad.go:13:channel",
		"bad.go:14:wallclock",
		"bad.go:15:wallclock",
		"bad.go:16:globalrand",
		"bad.go:17:globalrand",
		"bad.go:18:maprange",
		"bad.go:22:maprange",
		"bad.go:24:wallclock",
		"bad.go:26:maprange",
		"bad.go:42:maprange",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDeterminism applies the rules to every package a simulation reaches.
func TestDeterminism(t *testing.T) {
	root := repoRoot(t)
	c := NewChecker()
	for _, dir := range []string{"sim", "network", "disk", "node", "checker", "scenarios"} {
		findings, err := c.CheckTree(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range findings {
			rel, _ := filepath.Rel(root, f.Pos.Filename)
			f.Pos.Filename = rel
			t.Error(f)
		}
	}
}

func repoRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
