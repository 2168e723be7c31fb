package journal

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// Cursor reads records in seq order through its own read-only file handles,
// so it never contends with appends. It never returns a record beyond Last:
// bytes written but not yet synced stay invisible. A Cursor is for one
// goroutine.
type Cursor struct {
	j    *Journal
	seg  segReader // its file is nil once closed
	r    *bufio.Reader
	path string
	off  int64  // byte offset of the next record in f
	next uint64 // seq of the next record
	hdr  [headerSize]byte
	buf  []byte
}

// Cursor returns a cursor over the records with seq > after. It fails when
// after is beyond Last or when the records after it were already released.
func (j *Journal) Cursor(after uint64) (*Cursor, error) {
	last := j.Last()
	if after > last {
		return nil, fmt.Errorf("journal: cursor after %d but the last record is %d", after, last)
	}
	j.mu.Lock()
	segs := slices.Clone(j.segs)
	closed := j.closed
	j.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if after+1 < segs[0] {
		return nil, fmt.Errorf("journal: cursor after %d but the oldest kept record is %d", after, segs[0])
	}
	i, found := slices.BinarySearch(segs, after+1)
	if !found {
		i--
	}
	c := &Cursor{j: j}
	if err := c.open(segs[i]); err != nil {
		return nil, fmt.Errorf("journal: cursor: %w", err)
	}
	for c.next <= after { // skip to after+1 within this segment
		if _, _, _, err := c.read(); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

func (c *Cursor) open(first uint64) error {
	path := filepath.Join(c.j.dir, segName(first))
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if c.seg.f != nil {
		c.seg.f.Close()
	}
	c.seg = segReader{j: c.j, f: f, first: first}
	if c.r == nil {
		c.r = bufio.NewReaderSize(&c.seg, 256<<10)
	} else {
		c.r.Reset(&c.seg)
	}
	c.path, c.off, c.next = path, 0, first
	return nil
}

// segReader reads a segment from the start, and in the segment being
// written no further than its durable records: past them lie zeros that a
// record will overwrite, which the cursor's buffer must not keep.
type segReader struct {
	j     *Journal
	f     *os.File
	first uint64
	pos   int64
}

func (r *segReader) Read(p []byte) (int, error) {
	if end := r.j.end.Load(); end.first == r.first {
		if end.off <= r.pos {
			return 0, io.EOF
		}
		p = p[:min(int64(len(p)), end.off-r.pos)]
	} else if end.first < r.first {
		return 0, io.EOF // nothing durable in it yet
	}
	n, err := r.f.ReadAt(p, r.pos)
	r.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (c *Cursor) corrupt(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("journal: %s at byte offset %d: record %d: %w", c.path, c.off, c.next, err)
}

// Next returns the next record, waiting until a durable one exists. It
// returns ctx.Err() when ctx ends, and ErrClosed once the journal is closed
// (records not yet read are there for the next Open). payload is valid until
// the next call.
func (c *Cursor) Next(ctx context.Context) (seq uint64, payload []byte, err error) {
	for {
		changed, closed := c.j.watch() // before reading Last, so no wake-up is missed
		if closed {
			return 0, nil, ErrClosed
		}
		seq, payload, ok, err := c.read()
		if ok || err != nil {
			return seq, payload, err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		}
	}
}

// TryNext is Next without waiting: ok is false when no durable record is
// past the cursor.
func (c *Cursor) TryNext() (seq uint64, payload []byte, ok bool, err error) {
	if _, closed := c.j.watch(); closed {
		return 0, nil, false, ErrClosed
	}
	return c.read()
}

func (c *Cursor) read() (uint64, []byte, bool, error) {
	if c.seg.f == nil {
		return 0, nil, false, errors.New("journal: cursor closed")
	}
	if c.next > c.j.Last() {
		return 0, nil, false, nil
	}
	// The record is durable, so it is either here or, at the end of this
	// segment, the first record of the next one. A finished segment ends
	// where its file does, or in zeros where a crash lost cutting it back.
	_, err := io.ReadFull(c.r, c.hdr[:])
	if err == io.EOF || (err == nil && c.hdr == [headerSize]byte{}) {
		if err = c.open(c.next); err == nil {
			_, err = io.ReadFull(c.r, c.hdr[:])
		}
	}
	size := binary.LittleEndian.Uint32(c.hdr[0:4])
	if err == nil && size > MaxRecord {
		err = fmt.Errorf("length %d exceeds MaxRecord", size)
	}
	if err != nil {
		return 0, nil, false, c.corrupt(err)
	}
	if cap(c.buf) < int(size) {
		c.buf = make([]byte, size)
	}
	p := c.buf[:size]
	if _, err := io.ReadFull(c.r, p); err != nil {
		return 0, nil, false, c.corrupt(err)
	}
	if crc32.Checksum(p, castagnoli) != binary.LittleEndian.Uint32(c.hdr[4:8]) {
		return 0, nil, false, c.corrupt(errors.New("CRC mismatch"))
	}
	seq := c.next
	c.off += headerSize + int64(size)
	c.next++
	return seq, p, true, nil
}

// Close releases the cursor's file handle.
func (c *Cursor) Close() error {
	if c.seg.f == nil {
		return nil
	}
	err := c.seg.f.Close()
	c.seg.f = nil
	return err
}
