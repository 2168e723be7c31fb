//go:build !linux

package journal

import (
	"errors"
	"os"
)

const directAlign = 4096

// createDirect is not available here: segments are appends.
func createDirect(path string) (*os.File, error) {
	return nil, errors.ErrUnsupported
}

func datasync(f *os.File) error { return f.Sync() }
