// Package atomicfile writes a file whole or not at all: a full disk or a
// crash leaves the old file, or none, never half of the new one.
package atomicfile

import (
	"os"
	"path/filepath"
)

// WriteFile writes b to a temporary file beside path, syncs it, and
// renames it over path.
func WriteFile(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename, nothing is left to remove
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp makes it private
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
