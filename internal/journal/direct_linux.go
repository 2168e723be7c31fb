package journal

import (
	"os"
	"syscall"
)

// directAlign is the alignment O_DIRECT asks of buffers, offsets and sizes.
const directAlign = 4096

// createDirect creates path for writing around the page cache.
func createDirect(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_DIRECT, 0o600)
}

// datasync flushes f's data and the metadata needed to read it back
// (fdatasync): over zero-filled blocks that is the data alone.
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err == nil {
			return nil
		}
		if err != syscall.EINTR {
			return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
		}
	}
}
