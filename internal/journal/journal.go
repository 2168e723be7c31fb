// Package journal is a durable, append-only log of opaque records on local
// disk. The event API acknowledges an event once Append returns, because by
// then the record has been written and fdatasync'd; a background applier reads
// the records back in order through a Cursor, applies them to the database and
// calls Release for the ones it no longer needs.
//
// On disk a journal is a directory of segment files named by the sequence
// number of their first record (00000000000000000001.seg) plus journal.id.
// A record is a 4-byte little-endian payload length, the 4-byte little-endian
// CRC-32C of the payload, then the payload; payloads are never empty, so a
// header of zeros marks the end of the records. Only the last segment is ever
// written to, so only it can end in a torn record; Open drops such a tail.
//
// Segments are zero-filled ahead of use (a spare file, prepared in the
// background once the current segment is a quarter full): a record written
// over zeros that are already on disk changes no file metadata, so its
// fdatasync flushes only the data, which takes half the time and half the
// CPU of syncing an append that grows the file. A finished segment is cut
// back to its last record.
package journal

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// ErrClosed is returned by Append and by cursors once the journal is closed.
var ErrClosed = errors.New("journal: closed")

// MaxRecord bounds a payload, so that a corrupt length field can never make
// a reader allocate or skip gigabytes.
const MaxRecord = 16 << 20

const (
	headerSize   = 8
	segSuffix    = ".seg"
	idFile       = "journal.id"
	spareFile    = "spare.seg.tmp" // the next segment, being zero-filled; not a segment until renamed
	queueLen     = 1024            // appends waiting for the committer; beyond this Append waits (backpressure)
	maxBatch     = 8 << 20         // bytes the committer gathers into one write before it syncs
	keepBufBytes = 32 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Options tune a journal; the zero value is usable.
type Options struct {
	// SegmentBytes: a segment is closed and a new one started once it
	// exceeds this, so that Release can free space in whole files. Default 64 MiB.
	SegmentBytes int64
	// Log receives the warning when Open drops a torn tail. May be nil.
	Log *slog.Logger
}

// Journal is safe for concurrent use.
type Journal struct {
	dir  string
	id   string
	opts Options
	log  *slog.Logger
	lock *os.File // holds the directory's exclusive lock while open

	last atomic.Uint64 // highest durable seq; cursors never read past it
	// end is where the durable records of the segment being written end:
	// cursors read no further in it, since past it lie zeros that a
	// record will overwrite. Stored before last moves.
	end atomic.Pointer[segEnd]
	// syncs counts file fsyncs, so a test can see that group commit works;
	// zeroedSegs the segments started zero-filled.
	syncs      atomic.Int64
	zeroedSegs atomic.Int64

	reqs chan *request
	quit chan struct{} // closed by Close once no Append is in flight
	done chan struct{} // closed when the committer exits

	mu       sync.Mutex
	closed   bool
	failed   error          // set once a write or sync failed; appends are refused after
	inflight sync.WaitGroup // Appends that got past the closed check
	segs     []uint64       // first seq of each segment on disk, ascending
	changed  chan struct{}  // closed and replaced whenever last moves (and on Close)

	// Owned by the committer goroutine (and by Open before it starts).
	f        *os.File   // the segment being appended to
	first    uint64     // the seq its name gives
	off      int64      // where its written records end
	size     int64      // off plus the bytes gathered but not yet written
	zeroed   bool       // it was zero-filled ahead
	spare    chan error // while a spare is prepared: its outcome
	spareOK  bool       // a zero-filled spare is ready
	spareErr bool       // preparing one for this segment failed
	warned   bool       // that was logged
	buf      []byte

	bg sync.WaitGroup // the spare's preparation, which Close waits for
}

// segEnd is the end of the durable records in the segment starting at seq first.
type segEnd struct {
	first uint64
	off   int64
}

type request struct {
	payload []byte // the caller's slice, held (not copied) until written: Append waits for it
	crc     uint32
	done    chan result
}

type result struct {
	seq uint64
	err error
}

// Open opens the journal in dir, creating dir (0o700) if missing, drops a
// torn tail of the last segment and starts the committer.
func Open(dir string, opts Options) (*Journal, error) {
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = 64 << 20
	}
	j := &Journal{dir: dir, opts: opts, log: opts.Log,
		reqs: make(chan *request, queueLen), quit: make(chan struct{}),
		done: make(chan struct{}), changed: make(chan struct{})}
	if j.log == nil {
		j.log = slog.New(slog.DiscardHandler)
	}
	if err := j.open(); err != nil {
		if j.lock != nil {
			j.lock.Close()
		}
		return nil, fmt.Errorf("journal: open %s: %w", dir, err)
	}
	go j.commit()
	return j, nil
}

func (j *Journal) open() error {
	if _, err := os.Stat(j.dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(j.dir, 0o700); err != nil {
			return err
		}
		if err := syncDir(filepath.Dir(j.dir)); err != nil { // the new directory's name must be durable too
			return err
		}
	}
	// Two processes appending to one journal would interleave records:
	// the second one to open it is refused.
	lock, err := os.OpenFile(filepath.Join(j.dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return fmt.Errorf("another process has this journal open (%w)", err)
	}
	j.lock = lock
	segs, err := listSegments(j.dir)
	if err == nil {
		j.id, err = loadID(j.dir, len(segs) > 0)
	}
	if err == nil {
		err = j.recover(segs)
	}
	return err
}

func segName(first uint64) string { return fmt.Sprintf("%020d%s", first, segSuffix) }

func listSegments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var segs []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segSuffix)
		if !ok {
			continue
		}
		first, err := strconv.ParseUint(name, 10, 64)
		if err != nil || len(name) != 20 || first == 0 {
			return nil, fmt.Errorf("unexpected segment file %s", filepath.Join(dir, e.Name()))
		}
		segs = append(segs, first)
	}
	slices.Sort(segs)
	return segs, nil
}

// loadID reads journal.id, or makes it when the directory is new. Segments
// without an id are refused: a new id would tell consumers that these are
// records they have never seen.
func loadID(dir string, haveSegs bool) (string, error) {
	path := filepath.Join(dir, idFile)
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if _, herr := hex.DecodeString(id); herr != nil || len(id) != 32 {
			return "", fmt.Errorf("%s does not hold a 128-bit hex id", path)
		}
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if haveSegs {
		return "", fmt.Errorf("segments but no %s", idFile)
	}
	var raw [16]byte
	rand.Read(raw[:])
	id := hex.EncodeToString(raw[:])
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	_, err = f.WriteString(id + "\n")
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	return id, err
}

// syncDir makes a created, renamed or removed name durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// recover scans the segments, truncates a torn tail of the last one and
// opens it for appending (creating the first segment of a new journal).
func (j *Journal) recover(segs []uint64) error {
	// A spare left by the last run may be half filled.
	if err := os.Remove(filepath.Join(j.dir, spareFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if len(segs) == 0 {
		j.segs = []uint64{1}
		if err := j.createSegment(1); err != nil {
			return err
		}
		j.end.Store(&segEnd{1, 0})
		return nil
	}
	last := segs[0] - 1
	for i, first := range segs {
		path := filepath.Join(j.dir, segName(first))
		if first != last+1 {
			return fmt.Errorf("%s starts at %d but the previous segment ends at %d", path, first, last)
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		isLast := i == len(segs)-1
		n, good, reason, err := scan(f)
		if err == nil && reason != "" && !isLast {
			err = fmt.Errorf("%s is corrupt at byte offset %d: %s", path, good, reason)
		} else if err == nil && reason != "" {
			err = j.dropTail(f, path, good, reason)
		}
		if err != nil || !isLast {
			f.Close()
		}
		if err != nil {
			return err
		}
		last += n
		if isLast {
			st, err := f.Stat()
			if err != nil {
				f.Close()
				return err
			}
			j.f, j.first, j.off, j.size, j.zeroed = f, first, good, good, st.Size() > good
		}
	}
	j.segs = segs
	j.end.Store(&segEnd{j.first, j.off})
	j.last.Store(last)
	return nil
}

// dropTail cuts a torn or corrupt tail off the last segment: the process
// died while writing it, so no Append of it returned nil.
func (j *Journal) dropTail(f *os.File, path string, good int64, reason string) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	j.log.Warn("journal: dropping torn tail", "file", path, "offset", good,
		"dropped_bytes", st.Size()-good, "reason", reason)
	if err := f.Truncate(good); err != nil {
		return err
	}
	return f.Sync()
}

// scan reads a segment from the start and returns how many valid records it
// holds and where they end. reason is non-empty when a bad record follows
// them; err is only for I/O failures.
func scan(f *os.File) (n uint64, good int64, reason string, err error) {
	r := bufio.NewReaderSize(f, 1<<20)
	var hdr [headerSize]byte
	h := crc32.New(castagnoli)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err == io.EOF {
			return n, good, "", nil
		} else if err == io.ErrUnexpectedEOF {
			return n, good, "short header", nil
		} else if err != nil {
			return n, good, "", err
		}
		if hdr == [headerSize]byte{} {
			// The end of the records; what follows must be the zeros the
			// segment was filled with, or a record torn before its header
			// reached the disk.
			if zeros, err := onlyZeros(r); err != nil || zeros {
				return n, good, "", err
			}
			return n, good, "data after the end of the records", nil
		}
		size := binary.LittleEndian.Uint32(hdr[0:4])
		if size > MaxRecord {
			return n, good, fmt.Sprintf("length %d exceeds MaxRecord", size), nil
		}
		h.Reset()
		if c, err := io.CopyN(h, r, int64(size)); err == io.EOF {
			return n, good, fmt.Sprintf("short payload (%d of %d bytes)", c, size), nil
		} else if err != nil {
			return n, good, "", err
		}
		if h.Sum32() != binary.LittleEndian.Uint32(hdr[4:8]) {
			return n, good, "CRC mismatch", nil
		}
		n++
		good += headerSize + int64(size)
	}
}

// onlyZeros reads r to its end and tells whether every byte was zero.
func onlyZeros(r *bufio.Reader) (bool, error) {
	for {
		b, err := r.Peek(r.Size())
		for _, c := range b {
			if c != 0 {
				return false, nil
			}
		}
		if _, derr := r.Discard(len(b)); derr != nil {
			return false, derr
		}
		if err == io.EOF {
			return true, nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return false, err
		}
	}
}

// createSegment starts the segment whose first record is first: the spare
// when one is ready, else an empty file. Its name is durable before any
// record is written to it.
func (j *Journal) createSegment(first uint64) error {
	path := filepath.Join(j.dir, segName(first))
	zeroed := j.spareOK
	if zeroed {
		j.spareOK = false
		if err := os.Rename(filepath.Join(j.dir, spareFile), path); err != nil {
			return err
		}
	}
	flags := os.O_RDWR
	if !zeroed {
		flags |= os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return err
	}
	if err := syncDir(j.dir); err != nil {
		f.Close()
		return err
	}
	j.f, j.first, j.off, j.size, j.zeroed, j.spareErr = f, first, 0, 0, zeroed, false
	if zeroed {
		j.zeroedSegs.Add(1)
	}
	return nil
}

// prepareSpare has the next segment zero-filled in the background once the
// current one is a quarter full (a journal that sees little traffic never
// takes the space).
func (j *Journal) prepareSpare() {
	if j.spare != nil {
		select {
		case err := <-j.spare:
			j.spare = nil
			if err == nil {
				j.spareOK = true
			} else {
				j.spareErr = true // tried again for the next segment
				if !j.warned {
					j.warned = true
					j.log.Info("journal: segments are not zero-filled ahead; records are synced as appends", "err", err)
				}
			}
		default:
		}
	}
	if j.spare != nil || j.spareOK || j.spareErr || j.size < j.opts.SegmentBytes/4 {
		return
	}
	done := make(chan error, 1)
	j.spare = done
	j.bg.Add(1)
	go func() {
		defer j.bg.Done()
		done <- zeroFill(filepath.Join(j.dir, spareFile), j.opts.SegmentBytes)
	}()
}

// alignOffset is how far into b its first directAlign-aligned byte is.
func alignOffset(b []byte) int {
	return int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (directAlign - 1))
}

// zeroFill writes a file of size zeros (rounded up to whole pages) and
// syncs it. It writes around the page cache, which makes filling cheap in
// CPU, and fails where the file system cannot (tmpfs): there a segment is an
// append.
func zeroFill(path string, size int64) error {
	f, err := createDirect(path)
	if err != nil {
		return err
	}
	const chunk = 1 << 20
	mem := make([]byte, chunk+directAlign)
	zeros := mem[alignOffset(mem):][:chunk]
	size = (size + directAlign - 1) &^ (directAlign - 1)
	for off := int64(0); off < size && err == nil; off += chunk {
		_, err = f.Write(zeros[:min(chunk, size-off)])
	}
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		os.Remove(path)
	}
	return err
}

// ID returns the journal's random id, made when its directory was first
// created. A consumer stores (ID, applied seq) so that a wiped journal
// directory, which starts again at seq 1, is never mistaken for the old one.
func (j *Journal) ID() string { return j.id }

// Last returns the highest durable seq, 0 when nothing was ever appended.
func (j *Journal) Last() uint64 { return j.last.Load() }

// Append stores payload durably and returns its seq. Concurrent callers share
// one write and one fdatasync (group commit). The payload is not copied:
// Append holds it until it is written, so the caller must not change it
// during the call but may reuse it as soon as Append returns.
//
// ctx is honoured only while waiting for a place in the queue. Once queued,
// the record is written and Append waits for the outcome, so a nil error is
// never lost. The reverse is not exact: a caller whose own deadline passed
// meanwhile may give up on a record that is stored, and a record whose write
// or sync failed may still be on disk. Consumers must therefore tolerate
// seeing an event they never acknowledged (at-least-once).
//
// After a failed write or sync every later Append fails: the kernel may have
// dropped the dirty pages, so a later successful fsync proves nothing about
// them. Reopening the journal rescans the files and starts afresh.
func (j *Journal) Append(ctx context.Context, payload []byte) (uint64, error) {
	if len(payload) > MaxRecord {
		return 0, fmt.Errorf("journal: record of %d bytes exceeds MaxRecord (%d)", len(payload), MaxRecord)
	}
	if len(payload) == 0 {
		return 0, errors.New("journal: empty record (a header of zeros ends the records)")
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	j.mu.Lock()
	err := j.failed
	if j.closed {
		err = ErrClosed
	}
	if err == nil {
		j.inflight.Add(1) // Close waits for it
	}
	j.mu.Unlock()
	if err != nil {
		return 0, err
	}
	defer j.inflight.Done()

	r := &request{payload: payload, crc: crc32.Checksum(payload, castagnoli), done: make(chan result, 1)}
	select {
	case j.reqs <- r:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	res := <-r.done
	return res.seq, res.err
}

// commit is the one goroutine that writes: it takes everything queued,
// writes it and syncs once, then answers all those callers.
func (j *Journal) commit() {
	defer close(j.done)
	var batch []*request
	for {
		select {
		case r := <-j.reqs:
			batch = append(batch[:0], r)
			bytes := len(r.payload)
		gather:
			for bytes < maxBatch {
				select {
				case r := <-j.reqs:
					batch = append(batch, r)
					bytes += len(r.payload) + headerSize
				default:
					break gather
				}
			}
			j.write(batch)
			clear(batch)
		case <-j.quit:
			return
		}
	}
}

func (j *Journal) write(batch []*request) {
	if j.failed != nil {
		for _, r := range batch {
			r.done <- result{err: j.failed}
		}
		return
	}
	j.prepareSpare()
	buf, start := j.buf[:0], 0
	for i, r := range batch {
		// A segment that is an append moves to the zero-filled spare as
		// soon as there is one.
		if j.size >= j.opts.SegmentBytes || (j.spareOK && !j.zeroed && j.size > 0) {
			if err := j.flush(buf, batch[start:i]); err != nil {
				j.fail(err, batch[start:])
				return
			}
			buf, start = buf[:0], i
			if err := j.rotate(); err != nil {
				j.fail(err, batch[i:])
				return
			}
		}
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(r.payload)))
		buf = binary.LittleEndian.AppendUint32(buf, r.crc)
		buf = append(buf, r.payload...)
		j.size += headerSize + int64(len(r.payload))
	}
	if err := j.flush(buf, batch[start:]); err != nil {
		j.fail(err, batch[start:])
		return
	}
	if cap(buf) <= keepBufBytes { // else drop a burst's big buffer
		j.buf = buf
	}
}

// flush writes buf (the records of reqs), syncs, publishes the new Last and
// answers reqs.
func (j *Journal) flush(buf []byte, reqs []*request) error {
	if len(reqs) == 0 {
		return nil
	}
	n := len(buf)
	if j.zeroed {
		// Write whole pages: a page that is partly written and not in the
		// page cache (the zeros were written around it) must first be read
		// from disk. The padding is zeros over zeros.
		pad := int(-(j.off + int64(n)) & (directAlign - 1))
		buf = append(buf, make([]byte, pad)...)
	}
	if _, err := j.f.WriteAt(buf, j.off); err != nil {
		return err
	}
	buf = buf[:n]
	j.syncs.Add(1)
	if err := datasync(j.f); err != nil {
		return err
	}
	j.off += int64(n)
	j.end.Store(&segEnd{j.first, j.off})
	first := j.last.Load() + 1
	j.last.Store(first + uint64(len(reqs)) - 1)
	j.mu.Lock()
	close(j.changed)
	j.changed = make(chan struct{})
	j.mu.Unlock()
	for k, r := range reqs {
		r.done <- result{seq: first + uint64(k)}
	}
	return nil
}

// rotate closes the full segment (already synced) and starts the next one.
// A zero-filled segment is cut back to its records first, and that is
// synced, so that readers and Open find its end where the file ends.
func (j *Journal) rotate() error {
	next := j.last.Load() + 1
	var err error
	if j.zeroed {
		err = j.f.Truncate(j.off)
		if err == nil {
			err = j.f.Sync()
		}
	}
	err = errors.Join(err, j.f.Close())
	j.f = nil
	if err != nil {
		return err
	}
	if err := j.createSegment(next); err != nil {
		return err
	}
	j.mu.Lock()
	j.segs = append(j.segs, next)
	j.mu.Unlock()
	return nil
}

func (j *Journal) fail(err error, reqs []*request) {
	err = fmt.Errorf("journal: write failed, appends refused until reopen: %w", err)
	j.mu.Lock()
	j.failed = err
	j.mu.Unlock()
	for _, r := range reqs {
		r.done <- result{err: err}
	}
}

// Release tells the journal that records with seq <= upTo are no longer
// needed. It deletes whole segment files all of whose records are <= upTo,
// oldest first, never the segment being appended to. Cursors must already be
// past upTo: that is the caller's contract (on Linux a cursor holding a
// deleted file open can still read it).
func (j *Journal) Release(upTo uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	removed := 0
	for len(j.segs) > 1 && j.segs[1]-1 <= upTo {
		if err := os.Remove(filepath.Join(j.dir, segName(j.segs[0]))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("journal: release: %w", err)
		}
		j.segs = j.segs[1:]
		removed++
	}
	if removed == 0 {
		return nil
	}
	if err := syncDir(j.dir); err != nil {
		return fmt.Errorf("journal: release: %w", err)
	}
	return nil
}

// Close waits for appends in flight, closes the files and stops the
// committer. Later Appends return ErrClosed, and so do waiting cursors.
// After a failed write or sync, Close returns that failure.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	j.mu.Unlock()
	j.inflight.Wait()
	close(j.quit)
	<-j.done
	j.bg.Wait()
	j.mu.Lock()
	close(j.changed)
	j.mu.Unlock()
	defer j.lock.Close() // releases the directory lock
	// Nothing is left to sync: every write was synced before its Append returned.
	if j.failed != nil {
		if j.f != nil {
			j.f.Close()
		}
		return j.failed
	}
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("journal: close: %w", err)
	}
	return nil
}

// watch returns a channel closed at the next change of Last (or Close).
func (j *Journal) watch() (<-chan struct{}, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.changed, j.closed
}
