package journal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain runs the SIGKILL child when JOURNAL_CHILD names a directory.
func TestMain(m *testing.M) {
	if dir := os.Getenv("JOURNAL_CHILD"); dir != "" {
		runChild(dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func open(t testing.TB, dir string, opts Options) *Journal {
	t.Helper()
	j, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// closeJ closes j and checks that the committer goroutine exited.
func closeJ(t testing.TB, j *Journal) {
	t.Helper()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-j.done:
	default:
		t.Fatal("committer still running after Close")
	}
}

func appendT(t testing.TB, j *Journal, p []byte) uint64 {
	t.Helper()
	seq, err := j.Append(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

type rec struct {
	seq     uint64
	payload []byte
}

// readAll reads every durable record after after.
func readAll(t testing.TB, j *Journal, after uint64) []rec {
	t.Helper()
	c, err := j.Cursor(after)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []rec
	for {
		seq, p, ok, err := c.TryNext()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, rec{seq, bytes.Clone(p)})
	}
}

func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

func TestRoundTrip(t *testing.T) {
	j := open(t, t.TempDir(), Options{})
	big := make([]byte, 100<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	payloads := [][]byte{{0}, {42}, big, []byte("hello"), {0, 0, 0, 0, 0, 0, 0, 0, 0}, bytes.Repeat([]byte("x"), 5000)}
	for i, p := range payloads {
		if seq := appendT(t, j, p); seq != uint64(i+1) {
			t.Fatalf("append %d: seq %d", i, seq)
		}
	}
	if j.Last() != uint64(len(payloads)) {
		t.Fatalf("Last %d", j.Last())
	}
	got := readAll(t, j, 0)
	if len(got) != len(payloads) {
		t.Fatalf("read %d records, want %d", len(got), len(payloads))
	}
	for i, r := range got {
		if r.seq != uint64(i+1) || !bytes.Equal(r.payload, payloads[i]) {
			t.Fatalf("record %d: seq %d, %d bytes; want %d bytes", i, r.seq, len(r.payload), len(payloads[i]))
		}
	}
	if got := readAll(t, j, 3); len(got) != 3 || got[0].seq != 4 || !bytes.Equal(got[0].payload, payloads[3]) {
		t.Fatalf("Cursor(3) read %v", got)
	}
	if _, err := j.Cursor(7); err == nil {
		t.Fatal("Cursor past Last succeeded")
	}
	if _, err := j.Append(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty append: %v", err)
	}
	_, err := j.Append(context.Background(), make([]byte, MaxRecord+1))
	if err == nil || !strings.Contains(err.Error(), strconv.Itoa(MaxRecord+1)) {
		t.Fatalf("oversized append: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := j.Append(ctx, []byte("late")); !errors.Is(err, context.Canceled) {
		t.Fatalf("append with cancelled ctx: %v", err)
	}
	closeJ(t, j)
	if _, err := j.Append(context.Background(), []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after Close: %v", err)
	}
}

func TestConcurrentAppends(t *testing.T) {
	const workers, each = 8, 500
	j := open(t, t.TempDir(), Options{SegmentBytes: 64 << 10})
	seqs := make([][]uint64, workers)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range each {
				seq, err := j.Append(context.Background(), []byte(fmt.Sprintf("g%d-i%d", g, i)))
				if err != nil {
					t.Error(err)
					return
				}
				seqs[g] = append(seqs[g], seq)
			}
		})
	}
	wg.Wait()
	want := map[string]uint64{}
	var all []uint64
	for g := range workers {
		for i, seq := range seqs[g] {
			want[fmt.Sprintf("g%d-i%d", g, i)] = seq
			all = append(all, seq)
		}
	}
	slices.Sort(all)
	for i, seq := range all {
		if seq != uint64(i+1) {
			t.Fatalf("seqs are not 1..%d: position %d holds %d", workers*each, i, seq)
		}
	}
	if len(all) != workers*each {
		t.Fatalf("%d seqs", len(all))
	}
	seen := map[string]bool{}
	for _, r := range readAll(t, j, 0) {
		p := string(r.payload)
		if seen[p] || want[p] != r.seq {
			t.Fatalf("record %d %q: seen before %v, appended as %d", r.seq, p, seen[p], want[p])
		}
		seen[p] = true
	}
	if len(seen) != workers*each {
		t.Fatalf("read back %d records", len(seen))
	}
	syncs := j.syncs.Load()
	t.Logf("%d appends, %d fsyncs", workers*each, syncs)
	if syncs > workers*each/2 {
		t.Fatalf("%d fsyncs for %d appends: no group commit", syncs, workers*each)
	}
	closeJ(t, j)
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir, Options{})
	id := j.ID()
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		t.Fatalf("ID %q", id)
	}
	for i := range 10 {
		appendT(t, j, []byte{byte(i)})
	}
	closeJ(t, j)
	b, err := os.ReadFile(filepath.Join(dir, "journal.id"))
	if err != nil || strings.TrimSpace(string(b)) != id {
		t.Fatalf("journal.id holds %q (%v), want %s", b, err, id)
	}

	j = open(t, dir, Options{})
	if j.ID() != id || j.Last() != 10 {
		t.Fatalf("reopened: ID %s Last %d; want %s 10", j.ID(), j.Last(), id)
	}
	if seq := appendT(t, j, []byte{10}); seq != 11 {
		t.Fatalf("append after reopen: seq %d", seq)
	}
	got := readAll(t, j, 0)
	for i, r := range got {
		if r.seq != uint64(i+1) || !bytes.Equal(r.payload, []byte{byte(i)}) {
			t.Fatalf("record %d: %v", i, r)
		}
	}
	if len(got) != 11 {
		t.Fatalf("%d records", len(got))
	}
	if other := open(t, t.TempDir(), Options{}); other.ID() == id {
		t.Fatal("two journals share an ID")
	}
	if err := os.Remove(filepath.Join(dir, "journal.id")); err != nil {
		t.Fatal(err)
	}
	closeJ(t, j)
	if _, err := Open(dir, Options{}); err == nil {
		t.Fatal("opened segments without a journal.id")
	}
}

func TestRotationAndRelease(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentBytes: 4 << 10}
	j := open(t, dir, opts)
	const n = 300
	payload := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 150+i%100) }
	for i := range n {
		appendT(t, j, payload(i))
	}
	files := segFiles(t, dir)
	if len(files) < 10 {
		t.Fatalf("%d segment files", len(files))
	}
	// Finished segments are cut back to their records. The one being
	// written may be a zero-filled spare, padded to whole pages past
	// SegmentBytes (TestZeroFilledSegments checks it).
	for _, f := range files[:len(files)-1] {
		if st, _ := os.Stat(f); st.Size() > opts.SegmentBytes+258 {
			t.Fatalf("%s is %d bytes", f, st.Size())
		}
	}
	got := readAll(t, j, 0)
	if len(got) != n {
		t.Fatalf("read %d records", len(got))
	}
	for i, r := range got {
		if r.seq != uint64(i+1) || !bytes.Equal(r.payload, payload(i)) {
			t.Fatalf("record %d: seq %d", i, r.seq)
		}
	}

	if err := j.Release(150); err != nil {
		t.Fatal(err)
	}
	kept := segFiles(t, dir)
	first := func(path string) uint64 {
		v, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(path), ".seg"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if first(kept[0]) > 151 || first(kept[1]) <= 151 || len(kept) >= len(files) {
		t.Fatalf("after Release(150) kept %d of %d files, starting at %d, %d", len(kept), len(files), first(kept[0]), first(kept[1]))
	}
	_, err := j.Cursor(0)
	if err == nil || !strings.Contains(err.Error(), " 0 ") || !strings.Contains(err.Error(), strconv.FormatUint(first(kept[0]), 10)) {
		t.Fatalf("Cursor(0) after release: %v", err)
	}
	if got := readAll(t, j, 150); len(got) != n-150 || got[0].seq != 151 {
		t.Fatalf("Cursor(150) read %d records", len(got))
	}

	if err := j.Release(n); err != nil {
		t.Fatal(err)
	}
	if kept := segFiles(t, dir); len(kept) != 1 {
		t.Fatalf("Release(Last) kept %v", kept)
	}
	if seq := appendT(t, j, []byte("after")); seq != n+1 {
		t.Fatalf("seq %d", seq)
	}
	closeJ(t, j)
	j = open(t, dir, opts)
	if j.Last() != n+1 {
		t.Fatalf("reopened Last %d", j.Last())
	}
	if got := readAll(t, j, n); len(got) != 1 || string(got[0].payload) != "after" {
		t.Fatalf("read %v", got)
	}
}

// frame encodes one record.
func frame(p []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(p)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(p, castagnoli))
	return append(b, p...)
}

func TestTornTail(t *testing.T) {
	const n = 20
	payload := func(i int) []byte { return bytes.Repeat([]byte{'a' + byte(i)}, 50) }
	cases := []struct {
		name   string
		damage func(b []byte) []byte
		keep   int // records that must survive
		drop   int // bytes the warning must report
	}{
		{"garbage", func(b []byte) []byte { return append(b, 1, 2, 3, 4, 5) }, n, 5},
		{"partial record", func(b []byte) []byte { return append(b, frame(make([]byte, 100))[:38]...) }, n, 38},
		{"short last payload", func(b []byte) []byte { return b[:len(b)-10] }, n - 1, 48},
		{"flipped payload byte", func(b []byte) []byte { b[len(b)-1] ^= 0x40; return b }, n - 1, 58},
		{"data after zeros", func(b []byte) []byte { return append(append(b, make([]byte, 300)...), 9, 0, 0) }, n, 303},
		{"huge length", func(b []byte) []byte {
			return append(binary.LittleEndian.AppendUint32(b, MaxRecord+1), make([]byte, 12)...)
		}, n, 16},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			j := open(t, dir, Options{})
			for i := range n {
				appendT(t, j, payload(i))
			}
			closeJ(t, j)
			seg := segFiles(t, dir)[0]
			b, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(seg, tc.damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			j = open(t, dir, Options{Log: slog.New(slog.NewTextHandler(&logs, nil))})
			if j.Last() != uint64(tc.keep) {
				t.Fatalf("Last %d, want %d", j.Last(), tc.keep)
			}
			offset := fmt.Sprintf("offset=%d", tc.keep*58)
			if !strings.Contains(logs.String(), offset) || !strings.Contains(logs.String(), fmt.Sprintf("dropped_bytes=%d", tc.drop)) ||
				!strings.Contains(logs.String(), filepath.Base(seg)) {
				t.Fatalf("warning %q lacks file, %s or dropped_bytes=%d", logs.String(), offset, tc.drop)
			}
			if seq := appendT(t, j, []byte("next")); seq != uint64(tc.keep+1) {
				t.Fatalf("next append got seq %d, want %d", seq, tc.keep+1)
			}
			got := readAll(t, j, 0)
			if len(got) != tc.keep+1 || string(got[tc.keep].payload) != "next" {
				t.Fatalf("read %d records", len(got))
			}
			for i, r := range got[:tc.keep] {
				if !bytes.Equal(r.payload, payload(i)) {
					t.Fatalf("record %d changed", r.seq)
				}
			}
		})
	}
}

// Segments are zero-filled ahead: records land in the zeros, a cursor that
// follows the writer never takes the zeros for records, a finished segment
// is cut back to its records, and a reopened journal goes on where its
// records end.
func TestZeroFilledSegments(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	opts := Options{SegmentBytes: 64 << 10, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	j := open(t, dir, opts)
	c, err := j.Cursor(0)
	if err != nil {
		t.Fatal(err)
	}
	payload := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i%26)}, 100+i*7%900) }
	const n = 2000
	for i := range n {
		seq := appendT(t, j, payload(i))
		// Right behind the writer: the cursor reads up to the durable end
		// of a segment whose rest is zeros.
		got, p, err := c.Next(context.Background())
		if err != nil || got != seq || !bytes.Equal(p, payload(i)) {
			t.Fatalf("record %d: cursor read seq %d, %d bytes, %v", seq, got, len(p), err)
		}
	}
	c.Close()
	if strings.Contains(logs.String(), "not zero-filled") {
		t.Skipf("this file system cannot zero-fill segments ahead: %s", logs.String())
	}
	if z := j.zeroedSegs.Load(); z < 5 {
		t.Fatalf("%d segments were zero-filled ahead", z)
	}
	files := segFiles(t, dir)
	for k, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		_, good, reason, err := scan(f)
		st, _ := f.Stat()
		f.Close()
		if err != nil || reason != "" {
			t.Fatalf("%s: %s %v", path, reason, err)
		}
		if k < len(files)-1 && st.Size() != good {
			t.Fatalf("finished segment %s is %d bytes, its records end at %d", path, st.Size(), good)
		}
		if k == len(files)-1 && st.Size() <= good {
			t.Fatalf("the segment being written (%d bytes) is not zero-filled past its records (%d)", st.Size(), good)
		}
	}
	closeJ(t, j)
	j = open(t, dir, opts)
	if j.Last() != n || strings.Contains(logs.String(), "torn") {
		t.Fatalf("reopened: Last %d; log %s", j.Last(), logs.String())
	}
	if seq := appendT(t, j, []byte("after")); seq != n+1 {
		t.Fatalf("append after reopening: seq %d", seq)
	}
	got := readAll(t, j, n-1)
	if len(got) != 2 || !bytes.Equal(got[0].payload, payload(n-1)) || string(got[1].payload) != "after" {
		t.Fatalf("read after reopening: %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, spareFile)); err == nil {
		closeJ(t, j)
		j = open(t, dir, opts)
		if _, err := os.Stat(filepath.Join(dir, spareFile)); !errors.Is(err, os.ErrNotExist) || j.Last() != n+1 {
			t.Fatalf("reopened with a spare left behind: Last %d, spare %v", j.Last(), err)
		}
	}
}

func TestCorruptEarlierSegment(t *testing.T) {
	for _, damage := range []string{"flip", "truncate"} {
		t.Run(damage, func(t *testing.T) {
			dir := t.TempDir()
			j := open(t, dir, Options{SegmentBytes: 1 << 10})
			for range 50 {
				appendT(t, j, bytes.Repeat([]byte("z"), 100))
			}
			closeJ(t, j)
			files := segFiles(t, dir)
			if len(files) < 3 {
				t.Fatalf("%d segments", len(files))
			}
			// Segment sizes depend on when the zero-filled spare was ready
			// (the first segment moves to it early), so pick an earlier
			// segment that holds at least two records.
			var victim string
			var b []byte
			for _, path := range files[:len(files)-1] {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if len(data) >= 2*108 {
					victim, b = path, data
					break
				}
			}
			if victim == "" {
				t.Fatalf("no finished segment holds two records: %v", files)
			}
			if damage == "flip" {
				b[108+20] ^= 1 // in the second record's payload
			} else {
				b = b[:len(b)-3]
			}
			if err := os.WriteFile(victim, b, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir, Options{})
			if err == nil || !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "offset") {
				t.Fatalf("Open: %v", err)
			}
		})
	}
}

func TestNextWaits(t *testing.T) {
	j := open(t, t.TempDir(), Options{})
	c, err := j.Cursor(0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, ok, err := c.TryNext(); ok || err != nil {
		t.Fatalf("TryNext on empty journal: %v %v", ok, err)
	}
	type next struct {
		seq uint64
		p   string
		err error
	}
	wait := func(ctx context.Context) chan next {
		ch := make(chan next, 1)
		go func() {
			seq, p, err := c.Next(ctx)
			ch <- next{seq, string(p), err}
		}()
		return ch
	}
	ch := wait(context.Background())
	select {
	case r := <-ch:
		t.Fatalf("Next returned before any append: %v", r)
	case <-time.After(50 * time.Millisecond):
	}
	appendT(t, j, []byte("one"))
	if r := <-ch; r.seq != 1 || r.p != "one" || r.err != nil {
		t.Fatalf("Next: %v", r)
	}

	ctx, cancel := context.WithCancel(context.Background())
	ch = wait(ctx)
	time.Sleep(20 * time.Millisecond)
	cancel()
	if r := <-ch; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Next after cancel: %v", r)
	}

	ch = wait(context.Background())
	time.Sleep(20 * time.Millisecond)
	closeJ(t, j)
	select {
	case r := <-ch:
		if !errors.Is(r.err, ErrClosed) {
			t.Fatalf("Next after Close: %v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next still waiting after Close")
	}
	if _, _, _, err := c.TryNext(); !errors.Is(err, ErrClosed) {
		t.Fatalf("TryNext after Close: %v", err)
	}
}

// childPayload is what the SIGKILL child appends as record i of goroutine g.
func childPayload(g, i int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("%d:%d;", g, i)), 1+i%60)
}

// runChild appends from 4 goroutines forever and prints "seq g i" for each
// acknowledged record, until the parent kills it.
func runChild(dir string) {
	j, err := Open(dir, Options{SegmentBytes: 8 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	for g := range 4 {
		go func() {
			for i := 0; ; i++ {
				seq, err := j.Append(context.Background(), childPayload(g, i))
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "%d %d %d\n", seq, g, i) // one write: atomic on a pipe
				mu.Unlock()
			}
		}()
	}
	select {}
}

func TestSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "JOURNAL_CHILD="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		s := bufio.NewScanner(out)
		for s.Scan() {
			lines <- s.Text()
		}
	}()
	acked := map[uint64][2]int{}
	parse := func(line string) {
		var seq uint64
		var g, i int
		if _, err := fmt.Sscanf(line, "%d %d %d", &seq, &g, &i); err != nil {
			t.Fatalf("child printed %q: %v", line, err)
		}
		acked[seq] = [2]int{g, i}
	}
	timeout := time.After(60 * time.Second)
	for len(acked) < 400 {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("child exited early: %s", stderr.String())
			}
			parse(line)
		case <-timeout:
			t.Fatalf("child acknowledged only %d records", len(acked))
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	for line := range lines { // acknowledged before the kill, still in the pipe
		parse(line)
	}
	cmd.Wait()

	j := open(t, dir, Options{SegmentBytes: 8 << 10})
	stored := map[uint64][]byte{}
	for _, r := range readAll(t, j, 0) {
		stored[r.seq] = r.payload
	}
	var maxAcked uint64
	for seq, gi := range acked {
		maxAcked = max(maxAcked, seq)
		if !bytes.Equal(stored[seq], childPayload(gi[0], gi[1])) {
			t.Fatalf("acknowledged seq %d (g%d i%d) lost or wrong after SIGKILL: %q", seq, gi[0], gi[1], stored[seq])
		}
	}
	t.Logf("%d acknowledged, %d stored, %d segments", len(acked), j.Last(), len(segFiles(t, dir)))
	if uint64(len(stored)) != j.Last() || j.Last() < maxAcked {
		t.Fatalf("stored %d records, Last %d, highest acknowledged %d", len(stored), j.Last(), maxAcked)
	}
	if seq := appendT(t, j, []byte("after")); seq != j.Last() || seq != uint64(len(stored))+1 {
		t.Fatalf("append after recovery: seq %d", seq)
	}
}

func FuzzScan(f *testing.F) {
	f.Add(append(frame([]byte("one")), frame(nil)...))
	f.Add(frame([]byte("torn"))[:9])
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		seg := filepath.Join(dir, segName(1))
		if err := os.WriteFile(seg, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "journal.id"), []byte("00112233445566778899aabbccddeeff\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := Open(dir, Options{})
		if err != nil {
			return
		}
		defer j.Close()
		// What Open kept must be whole records with valid CRCs, then
		// nothing or zeros, and a prefix of what was written.
		kept, err := os.ReadFile(seg)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, kept) {
			t.Fatalf("kept %d bytes that are not a prefix of the input", len(kept))
		}
		var n uint64
		for b := kept; len(b) > 0; n++ {
			if len(b) >= headerSize && binary.LittleEndian.Uint64(b) == 0 {
				if bytes.ContainsFunc(b, func(r rune) bool { return r != 0 }) {
					t.Fatalf("kept data after the end of the records at %d", len(kept)-len(b))
				}
				break
			}
			if len(b) < headerSize {
				t.Fatalf("kept a short header at %d", len(kept)-len(b))
			}
			size := binary.LittleEndian.Uint32(b)
			if uint64(size) > uint64(len(b)-headerSize) || crc32.Checksum(b[headerSize:headerSize+size], castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
				t.Fatalf("kept a bad record at %d", len(kept)-len(b))
			}
			b = b[headerSize+size:]
		}
		if j.Last() != n {
			t.Fatalf("Last %d, file holds %d records", j.Last(), n)
		}
		if got := readAll(t, j, 0); uint64(len(got)) != n {
			t.Fatalf("cursor read %d of %d records", len(got), n)
		}
		if seq := appendT(t, j, []byte("x")); seq != n+1 {
			t.Fatalf("append got %d, want %d", seq, n+1)
		}
	})
}

func BenchmarkAppend100KB4(b *testing.B) {
	const workers, size = 4, 115 << 10
	j := open(b, b.TempDir(), Options{})
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(rand.IntN(256))
	}
	b.SetBytes(size)
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < b.N; i += workers {
				if _, err := j.Append(context.Background(), payload); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/float64(j.syncs.Load()), "appends/fsync")
}

// A second process (here: a second Open) cannot append to a journal that is
// open, and can once it is closed.
func TestOpenLocksTheDirectory(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if j2, err := Open(dir, Options{}); err == nil {
		j2.Close()
		t.Fatal("a second Open of an open journal succeeded")
	} else if !strings.Contains(err.Error(), "another process") {
		t.Fatalf("second Open: %v, want it to say another process has it open", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	j2.Close()
}
