// Package lint holds etcdlab's repository rules, run as ordinary Go tests
// (as Pebble keeps its own in internal/lint). The rules guard determinism:
// a run must be a pure function of its seed, so the code a simulation
// reaches may not use
//
//	goroutine   go statements
//	channel     channels and select (they only make sense with goroutines)
//	wallclock   time.Now, time.Sleep, timers and tickers
//	globalrand  math/rand's global functions, crypto/rand.Read and friends
//	maprange    range over a map, whose order Go randomizes
//
// A line may be exempted, with a reason, by a comment on it or on the line
// above:
//
//	for k := range m { //lint:allow maprange keys are sorted before use
//
// An exemption without a reason is itself a finding.
package lint

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Finding is one broken rule.
type Finding struct {
	Pos  token.Position
	Rule string
	Msg  string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", f.Pos.Filename, f.Pos.Line, f.Rule, f.Msg)
}

var wallclock = []string{"Now", "Sleep", "Since", "Until", "After", "AfterFunc", "NewTimer", "NewTicker", "Tick"}

// Checker checks packages. One Checker shares its importer across
// packages, so dependencies are type-checked once.
type Checker struct {
	fset     *token.FileSet
	importer types.Importer
}

// NewChecker returns a Checker that type-checks imports from source.
func NewChecker() *Checker {
	fset := token.NewFileSet()
	return &Checker{fset: fset, importer: importer.ForCompiler(fset, "source", nil)}
}

// CheckTree checks every package below root, skipping testdata and
// _test.go files. A missing root has nothing to check.
func (c *Checker) CheckTree(root string) ([]Finding, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var all []Finding
	for _, dir := range dirs {
		fs, err := c.CheckDir(dir)
		if err != nil {
			return nil, err
		}
		all = append(all, fs...)
	}
	return all, nil
}

// CheckDir checks the non-test Go files of one directory as a package.
// Type errors are ignored: the compiler reports those; the lint only needs
// the types it can resolve.
func (c *Checker) CheckDir(dir string) ([]Finding, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(c.fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, nil
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: c.importer, Error: func(error) {}}
	_, _ = conf.Check(files[0].Name.Name, c.fset, files, info) // errors ignored: see above

	var out []Finding
	for _, f := range files {
		out = append(out, c.checkFile(f, info)...)
	}
	return out, nil
}

func (c *Checker) checkFile(f *ast.File, info *types.Info) []Finding {
	allowed, findings := c.exemptions(f)
	report := func(n ast.Node, rule, msg string) {
		pos := c.fset.Position(n.Pos())
		for _, line := range []int{pos.Line, pos.Line - 1} {
			if slices.Contains(allowed[line], rule) {
				return
			}
		}
		findings = append(findings, Finding{Pos: pos, Rule: rule, Msg: msg})
	}
	// maps.Keys(m) and its kin yield in map order; the one safe use is
	// straight into a sort.
	sorted := map[ast.Node]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if path, name := pkgFunc(call, info); path == "slices" && strings.HasPrefix(name, "Sorted") {
				for _, arg := range call.Args {
					if inner, ok := arg.(*ast.CallExpr); ok {
						sorted[inner.Fun] = true
					}
				}
			}
		}
		return true
	})
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			report(n, "goroutine", "a go statement: a simulation runs on one goroutine")
		case *ast.ChanType:
			report(n, "channel", "a channel: a simulation runs on one goroutine")
		case *ast.SelectStmt:
			report(n, "channel", "a select: a simulation runs on one goroutine")
		case *ast.RangeStmt:
			if t, ok := info.Types[n.X]; ok && t.Type != nil {
				if _, isMap := t.Type.Underlying().(*types.Map); isMap {
					report(n, "maprange", "range over a map: its order is random; sort the keys")
				}
			}
		case *ast.SelectorExpr:
			// Every reference, not only calls: `now := time.Now` reads
			// the wall clock just as well, later.
			if rule, msg := c.badRef(n, info); rule != "" && !(rule == "maprange" && sorted[n]) {
				report(n, rule, msg)
			}
		}
		return true
	})
	return findings
}

// mapIterators are the maps functions whose sequences follow map order.
var mapIterators = []string{"All", "Keys", "Values"}

// pkgFunc names the package function that call calls, if it is one.
func pkgFunc(call *ast.CallExpr, info *types.Info) (path, name string) {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return "", ""
	}
	if id, ok := sel.X.(*ast.Ident); ok {
		if pkg, ok := info.Uses[id].(*types.PkgName); ok {
			return pkg.Imported().Path(), sel.Sel.Name
		}
	}
	return "", ""
}

// badRef recognizes references to package-level functions by the
// imported package's path, so renamed imports are caught and local names
// that shadow a package are not.
func (c *Checker) badRef(sel *ast.SelectorExpr, info *types.Info) (rule, msg string) {
	id, ok := sel.X.(*ast.Ident)
	if !ok {
		return "", ""
	}
	pkg, ok := info.Uses[id].(*types.PkgName)
	if !ok {
		return "", ""
	}
	name := sel.Sel.Name
	switch path := pkg.Imported().Path(); path {
	case "time":
		if slices.Contains(wallclock, name) {
			return "wallclock", fmt.Sprintf("time.%s reads the wall clock; use the simulation's virtual time", name)
		}
	case "math/rand", "math/rand/v2":
		if _, isFunc := info.Uses[sel.Sel].(*types.Func); isFunc && !strings.HasPrefix(name, "New") {
			return "globalrand", fmt.Sprintf("%s.%s draws from the global source; use a named stream from sim.Rand", path, name)
		}
	case "maps":
		if slices.Contains(mapIterators, name) {
			return "maprange", fmt.Sprintf("maps.%s yields in map order, which is random; sort first: slices.Sorted(maps.%s(m))", name, name)
		}
	case "crypto/rand":
		if name == "Read" || name == "Int" || name == "Prime" || name == "Text" {
			return "globalrand", fmt.Sprintf("crypto/rand.%s is not seeded; use a named stream from sim.Rand", name)
		}
	}
	return "", ""
}

// exemptions reads //lint:allow comments: the rules allowed on each line,
// and a finding for every exemption that gives no reason.
func (c *Checker) exemptions(f *ast.File) (map[int][]string, []Finding) {
	allowed := map[int][]string{}
	var findings []Finding
	for _, group := range f.Comments {
		for _, cm := range group.List {
			text, ok := strings.CutPrefix(cm.Text, "//lint:allow")
			if !ok {
				continue
			}
			fields := strings.Fields(text)
			pos := c.fset.Position(cm.Pos())
			if len(fields) < 2 {
				findings = append(findings, Finding{Pos: pos, Rule: "exemption", Msg: "//lint:allow needs a rule and a reason"})
				continue
			}
			allowed[pos.Line] = append(allowed[pos.Line], fields[0])
		}
	}
	return allowed, findings
}
