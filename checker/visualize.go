package checker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/etcdlab/etcdlab/internal/atomicfile"
)

// Annotation marks a window (or, with End equal to Start, a moment) of a
// run on porcupine's page: a fault, a leader change.
type Annotation struct {
	Tag        string // the row it goes on: "faults", "leaders"
	Start, End time.Duration
	Text       string
	Details    string
	Color      string // a CSS colour for its background, "" for porcupine's
}

// Visualize writes porcupine's page for the operations on keys (every
// key if none), for any run, failed or not: the linearization porcupine
// found, or the longest partial ones, with the annotations on rows of
// their own and the member that served each operation in its
// description. The page is titled title. Beside it, path without .html
// plus .linearizations.json holds the partial linearizations as data: per
// key, each a list of operation descriptions in linearization order.
func Visualize(ops []Operation, keys []string, notes []Annotation, title, path string) error {
	history, _ := porcupineHistory(ops)
	if len(keys) > 0 {
		history = slices.DeleteFunc(history, func(op porcupine.Operation) bool {
			return !slices.Contains(keys, op.Input.(kvInput).key)
		})
	}
	if len(history) == 0 {
		return fmt.Errorf("no operation on %s", strings.Join(keys, ", "))
	}
	_, info := porcupine.CheckOperationsVerbose(kvModel, history, VisualizationTimeout)
	var anns []porcupine.Annotation
	for _, n := range notes {
		anns = append(anns, porcupine.Annotation{Tag: n.Tag, Start: int64(n.Start), End: int64(max(n.End, n.Start+time.Microsecond)),
			Description: n.Text, Details: n.Details, BackgroundColor: n.Color})
	}
	info.AddAnnotations(anns)
	var page bytes.Buffer
	if err := porcupine.Visualize(kvModel, info, &page); err != nil {
		return err
	}
	b := bytes.Replace(page.Bytes(), []byte("<title>Porcupine</title>"), []byte("<title>"+html.EscapeString(title)+"</title>"), 1)
	if err := atomicfile.WriteFile(path, b); err != nil {
		return err
	}
	data, err := json.MarshalIndent(partialLinearizations(info), "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(strings.TrimSuffix(path, filepath.Ext(path))+".linearizations.json", data)
}

// partialLinearizations are porcupine's longest partial linearizations,
// per partition (key), each as the operations' descriptions in order.
func partialLinearizations(info porcupine.LinearizationInfo) []map[string]any {
	var out []map[string]any
	for _, part := range info.PartialLinearizationsOperations() {
		if len(part) == 0 || len(part[0]) == 0 {
			continue
		}
		key := part[0][0].Input.(kvInput).key
		var lins [][]string
		for _, lin := range part {
			var descs []string
			for _, op := range lin {
				descs = append(descs, describe(op.Input.(kvInput), op.Output.(kvOutput)))
			}
			lins = append(lins, descs)
		}
		out = append(out, map[string]any{"key": key, "partial_linearizations": lins})
	}
	return out
}
