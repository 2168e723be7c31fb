package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const schema = `
CREATE TABLE customers (id INTEGER PRIMARY KEY, root_id INTEGER NOT NULL, name TEXT NOT NULL DEFAULT '', traits TEXT NOT NULL DEFAULT '{}', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL);
CREATE TABLE identifiers (kind TEXT NOT NULL, value TEXT NOT NULL, customer_id INTEGER NOT NULL, source TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, PRIMARY KEY (kind, value)) WITHOUT ROWID;
CREATE TABLE interactions (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, contact_point_id INTEGER, kind TEXT NOT NULL, direction TEXT NOT NULL, occurred_at INTEGER NOT NULL, content TEXT NOT NULL DEFAULT '', properties TEXT NOT NULL DEFAULT '{}', campaign TEXT NOT NULL DEFAULT '', source TEXT NOT NULL, external_id TEXT, received_at INTEGER NOT NULL);
CREATE UNIQUE INDEX interactions_source_external ON interactions (source, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX interactions_timeline ON interactions (customer_id, occurred_at, id);
`

// The statements of the ingest path, indexed by the q* constants.
const (
	qLookup = iota
	qInsCustomer
	qInsIdentifier
	qInsInteraction
	numQueries
)

var queries = [numQueries]string{
	qLookup:         `SELECT customer_id FROM identifiers WHERE kind = ? AND value = ?`,
	qInsCustomer:    `INSERT INTO customers (id, root_id, name, traits, created_at, updated_at, last_seen_at) VALUES (?, ?, '', '{}', ?, ?, ?)`,
	qInsIdentifier:  `INSERT INTO identifiers (kind, value, customer_id, source, created_at) VALUES (?, ?, ?, ?, ?)`,
	qInsInteraction: `INSERT INTO interactions (id, customer_id, contact_point_id, kind, direction, occurred_at, content, properties, campaign, source, external_id, received_at) VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
}

const timelineQuery = `SELECT id, kind, direction, occurred_at, content, properties, campaign, source, external_id FROM interactions WHERE customer_id = ? ORDER BY occurred_at DESC, id DESC LIMIT 50`

const anonKind = "anonymous_id"

// baseTime is a fixed "now" (unix ms) so every driver gets identical data.
const baseTime int64 = 1_767_225_600_000 // 2026-01-01T00:00:00Z
const year int64 = 365 * 24 * 3600 * 1000

func knownAnon(i int) string { return "anon-" + strconv.Itoa(i) }

// event is one incoming interaction, generated before the clock starts.
type event struct {
	anon       string
	kind       string
	direction  string
	content    string
	props      string
	campaign   string
	source     string
	externalID string
	occurredAt int64
}

// pools of realistic field values; drawn from by index so that generating
// data costs next to nothing compared with the database work.
type pools struct {
	props    []string // ~300-byte JSON objects
	contents []string
}

var (
	kinds      = []string{"page_view", "email_open", "email_click", "message", "form_submit", "purchase"}
	directions = []string{"inbound", "inbound", "inbound", "outbound"}
	sources    = []string{"web", "email", "sms", "whatsapp", "shop"}
	campaigns  = []string{"", "", "", "spring-sale-2026", "newsletter-w14", "winback-q2", "onboarding"}
)

func newPools(rng *rand.Rand) *pools {
	p := &pools{}
	pages := []string{"/", "/pricing", "/products/aurora-lamp", "/products/nimbus-chair", "/blog/customer-stories", "/checkout", "/account/orders"}
	browsers := []string{"Firefox", "Chrome", "Safari", "Edge"}
	oses := []string{"Android", "iOS", "Windows", "macOS", "Linux"}
	locales := []string{"de-DE", "en-GB", "en-US", "fr-FR", "nl-NL"}
	for range 4096 {
		m := map[string]any{
			"page":       pages[rng.IntN(len(pages))],
			"referrer":   "https://www.example.com/search?q=" + strconv.Itoa(rng.IntN(1_000_000)),
			"utm_source": sources[rng.IntN(len(sources))],
			"utm_medium": "email",
			"browser":    browsers[rng.IntN(len(browsers))],
			"os":         oses[rng.IntN(len(oses))],
			"locale":     locales[rng.IntN(len(locales))],
			"screen":     "412x915",
			"session_id": fmt.Sprintf("s-%016x", rng.Uint64()),
			"cart_value": float64(rng.IntN(100_000)) / 100,
			"ab_bucket":  string(rune('A' + rng.IntN(3))),
		}
		b, _ := json.Marshal(m)
		// Pad to ~300 bytes (the size the brief asks for).
		if pad := 300 - len(b) - len(`,"note":""`); pad > 0 {
			m["note"] = strings.Repeat("x", pad)
			b, _ = json.Marshal(m)
		}
		p.props = append(p.props, string(b))
	}
	for i := range 512 {
		p.contents = append(p.contents, fmt.Sprintf("Customer %s event #%d: %s", []string{"viewed", "opened", "replied to", "clicked"}[i%4], i, strings.Repeat("lorem ipsum ", rng.IntN(4))))
	}
	return p
}

// genEvents makes n events: 80% for one of the known anonymous ids, 20% for a
// new one; every event has a unique external id.
func genEvents(rng *rand.Rand, p *pools, n, known int) []event {
	evs := make([]event, n)
	newAnon := 0
	for i := range evs {
		e := &evs[i]
		if rng.IntN(100) < 80 {
			e.anon = knownAnon(1 + rng.IntN(known))
		} else {
			newAnon++
			e.anon = "anon-new-" + strconv.Itoa(newAnon)
		}
		e.kind = kinds[rng.IntN(len(kinds))]
		e.direction = directions[rng.IntN(len(directions))]
		e.content = p.contents[rng.IntN(len(p.contents))]
		e.props = p.props[rng.IntN(len(p.props))]
		e.campaign = campaigns[rng.IntN(len(campaigns))]
		e.source = sources[rng.IntN(len(sources))]
		e.externalID = "evt-" + strconv.Itoa(i) + "-" + strconv.FormatUint(rng.Uint64()>>20, 36)
		e.occurredAt = baseTime - rng.Int64N(year)
	}
	return evs
}

func runChild(c config) error {
	d := thisDriver
	res := Result{Driver: d.Name, Module: d.Module, Version: moduleVersion(d.Module)}

	dir := c.Dir
	if dir == "" {
		var err error
		dir, err = os.MkdirTemp("", "sqlitedrivers-"+d.Name+"-")
		if err != nil {
			return err
		}
		if !c.Keep {
			defer os.RemoveAll(dir)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	ctx := context.Background()
	if !c.BackgroundCtx {
		// Touchpoint runs its queries with request contexts, which can be
		// cancelled; some drivers do extra work (a watcher goroutine, an
		// interrupt hook) only for such contexts, so measure with one.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
	}

	rng := rand.New(rand.NewPCG(c.Seed, 0x5eed))
	p := newPools(rng)
	evs := genEvents(rng, p, c.Events, c.Known)

	variants := []IngestResult{
		{Name: "prepared", Prepared: true, PerCommit: c.Batch},
		{Name: "exec", Prepared: false, PerCommit: c.Batch},
		{Name: "prepared, grouped", Prepared: true, PerCommit: c.Batch * c.Groups},
		{Name: "exec, grouped", Prepared: false, PerCommit: c.Batch * c.Groups},
	}
	for i, v := range variants {
		path := filepath.Join(dir, fmt.Sprintf("ingest-%d.db", i))
		logf("%s: ingest %q, %d events, %d per commit", d.Name, v.Name, len(evs), v.PerCommit)
		r, checks, err := runIngest(ctx, c, path, evs, v, i == 0)
		if err != nil {
			return fmt.Errorf("ingest %q: %w", v.Name, err)
		}
		if i == 0 {
			res.Checks = append(res.Checks, checks...)
		}
		res.Ingest = append(res.Ingest, r)
		logf("%s: ingest %q: %.0f events/s", d.Name, v.Name, r.EventsPerSec())
		if !c.Keep {
			removeDB(path)
		}
	}

	path := filepath.Join(dir, "read.db")
	if err := runReads(ctx, c, path, rng, p, &res); err != nil {
		return fmt.Errorf("reads: %w", err)
	}
	if !c.Keep {
		removeDB(path)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + suffix)
	}
}

func moduleVersion(module string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == module {
				if m.Replace != nil {
					return m.Replace.Version
				}
				return m.Version
			}
		}
	}
	return "?"
}

// openWriter opens the single-connection writer pool, as Touchpoint does.
func openWriter(ctx context.Context, c config, path string) (*sql.DB, error) {
	w, err := sql.Open(thisDriver.SQLName, withCache(c, thisDriver.WriterDSN(path)))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// withCache adds the -cachekib setting to a DSN.
func withCache(c config, dsn string) string {
	if c.CacheKiB <= 0 {
		return dsn
	}
	return dsn + "&" + thisDriver.CacheParam(c.CacheKiB)
}

// wantCache is the cache_size every connection should report.
func wantCache(c config) string {
	if c.CacheKiB > 0 {
		return strconv.Itoa(-c.CacheKiB)
	}
	return "-2000" // SQLite's default
}

// createAndSeed creates the schema and the known customers, each with one
// anonymous id (knownAnon(i) belongs to customer i).
func createAndSeed(ctx context.Context, w *sql.DB, known int) error {
	for stmt := range strings.SplitSeq(schema, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := w.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("schema: %w", err)
		}
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	insC, err := tx.PrepareContext(ctx, queries[qInsCustomer])
	if err != nil {
		return err
	}
	insI, err := tx.PrepareContext(ctx, queries[qInsIdentifier])
	if err != nil {
		return err
	}
	for i := 1; i <= known; i++ {
		ts := baseTime - year - int64(i)
		if _, err := insC.ExecContext(ctx, i, i, ts, ts, ts); err != nil {
			return err
		}
		if _, err := insI.ExecContext(ctx, anonKind, knownAnon(i), i, "web", ts); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// writerTx runs the ingest statements in one transaction, either through
// transaction-bound copies of statements prepared once (tx.Stmt) or with the
// SQL text each time (tx.Exec), which makes the driver prepare and finalize.
type writerTx struct {
	tx *sql.Tx
	st [numQueries]*sql.Stmt
}

func (w *writerTx) exec(ctx context.Context, q int, args ...any) error {
	var err error
	if w.st[q] != nil {
		_, err = w.st[q].ExecContext(ctx, args...)
	} else {
		_, err = w.tx.ExecContext(ctx, queries[q], args...)
	}
	return err
}

func (w *writerTx) queryRow(ctx context.Context, q int, args ...any) *sql.Row {
	if w.st[q] != nil {
		return w.st[q].QueryRowContext(ctx, args...)
	}
	return w.tx.QueryRowContext(ctx, queries[q], args...)
}

func runIngest(ctx context.Context, c config, path string, evs []event, v IngestResult, check bool) (IngestResult, []string, error) {
	w, err := openWriter(ctx, c, path)
	if err != nil {
		return v, nil, err
	}
	defer w.Close()
	if err := createAndSeed(ctx, w, c.Known); err != nil {
		return v, nil, err
	}
	var checks []string
	if check {
		checks = checkWriter(ctx, c, w, path)
	}

	var prepared [numQueries]*sql.Stmt
	if v.Prepared {
		for q := range prepared {
			if prepared[q], err = w.PrepareContext(ctx, queries[q]); err != nil {
				return v, nil, err
			}
			defer prepared[q].Close()
		}
	}

	nextCustomer := int64(c.Known + 1)
	nextInteraction := int64(1)
	newCustomers := 0
	process := func(wt *writerTx, e *event) error {
		var cid int64
		err := wt.queryRow(ctx, qLookup, anonKind, e.anon).Scan(&cid)
		if errors.Is(err, sql.ErrNoRows) {
			cid = nextCustomer
			nextCustomer++
			newCustomers++
			if err := wt.exec(ctx, qInsCustomer, cid, cid, e.occurredAt, e.occurredAt, e.occurredAt); err != nil {
				return err
			}
			if err := wt.exec(ctx, qInsIdentifier, anonKind, e.anon, cid, e.source, e.occurredAt); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		id := nextInteraction
		nextInteraction++
		return wt.exec(ctx, qInsInteraction, id, cid, e.kind, e.direction, e.occurredAt, e.content, e.props, e.campaign, e.source, e.externalID, e.occurredAt+1500)
	}

	grouped := v.PerCommit > c.Batch
	cpu0 := cpuTime()
	start := time.Now()
	for lo := 0; lo < len(evs); lo += v.PerCommit {
		hi := min(lo+v.PerCommit, len(evs))
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return v, nil, err
		}
		wt := writerTx{tx: tx}
		if v.Prepared {
			for q := range prepared {
				wt.st[q] = tx.StmtContext(ctx, prepared[q])
			}
		}
		for g := lo; g < hi; g += c.Batch {
			// As Touchpoint's writer does when it groups requests: each
			// request in its own savepoint, one COMMIT for all.
			if grouped {
				if _, err := tx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
					tx.Rollback()
					return v, nil, err
				}
			}
			for i := g; i < min(g+c.Batch, hi); i++ {
				if err := process(&wt, &evs[i]); err != nil {
					tx.Rollback()
					return v, nil, err
				}
			}
			if grouped {
				if _, err := tx.ExecContext(ctx, "RELEASE w"); err != nil {
					tx.Rollback()
					return v, nil, err
				}
			}
		}
		if err := tx.Commit(); err != nil {
			return v, nil, err
		}
	}
	v.Seconds = time.Since(start).Seconds()
	v.CPUSeconds = (cpuTime() - cpu0).Seconds()
	v.Events = len(evs)
	v.NewCustomers = newCustomers

	// The work must really have been done.
	var nInter, nCust, nIdent int
	if err := w.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM interactions), (SELECT count(*) FROM customers), (SELECT count(*) FROM identifiers)`).Scan(&nInter, &nCust, &nIdent); err != nil {
		return v, nil, err
	}
	if nInter != len(evs) || nCust != c.Known+newCustomers || nIdent != nCust {
		return v, nil, fmt.Errorf("after ingest: %d interactions, %d customers, %d identifiers; want %d, %d, %d",
			nInter, nCust, nIdent, len(evs), c.Known+newCustomers, c.Known+newCustomers)
	}
	return v, checks, nil
}

// checkWriter verifies that the writer DSN's settings took effect.
func checkWriter(ctx context.Context, c config, w *sql.DB, path string) []string {
	var checks []string
	conn, err := w.Conn(ctx)
	if err != nil {
		return []string{"FAIL: writer conn: " + err.Error()}
	}
	checks = append(checks, checkPragmas(ctx, conn, "writer", map[string]string{
		"journal_mode": "wal", "busy_timeout": "10000", "synchronous": "1", "foreign_keys": "1", "query_only": "0",
		"cache_size": wantCache(c),
	})...)
	var version string
	if err := conn.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&version); err == nil {
		checks = append(checks, "info: sqlite_version "+version)
	}
	// The writer pool has one connection: give it back before BeginTx.
	conn.Close()

	// _txlock=immediate: while the writer's transaction is open, before it
	// has written anything, another connection must not get the write lock.
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return append(checks, "FAIL: txlock: begin: "+err.Error())
	}
	defer tx.Rollback()
	probe, err := sql.Open(thisDriver.SQLName, thisDriver.ProbeDSN(path))
	if err != nil {
		return append(checks, "FAIL: txlock: open probe: "+err.Error())
	}
	defer probe.Close()
	pc, err := probe.Conn(ctx)
	if err != nil {
		return append(checks, "FAIL: txlock: probe conn: "+err.Error())
	}
	defer pc.Close()
	if _, err := pc.ExecContext(ctx, "BEGIN IMMEDIATE"); err == nil {
		pc.ExecContext(ctx, "ROLLBACK")
		checks = append(checks, "FAIL: txlock: writer BeginTx does not take the write lock (deferred, not immediate)")
	} else if strings.Contains(strings.ToLower(err.Error()), "locked") || strings.Contains(strings.ToLower(err.Error()), "busy") {
		checks = append(checks, "ok: writer BeginTx is BEGIN IMMEDIATE (probe got: "+err.Error()+")")
	} else {
		checks = append(checks, "FAIL: txlock: unexpected probe error: "+err.Error())
	}
	return checks
}

func checkPragmas(ctx context.Context, conn *sql.Conn, who string, want map[string]string) []string {
	var out []string
	names := make([]string, 0, len(want))
	for k := range want {
		names = append(names, k)
	}
	slices.Sort(names)
	var got []string
	ok := true
	for _, name := range names {
		var v string
		if err := conn.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			out = append(out, fmt.Sprintf("FAIL: %s PRAGMA %s: %v", who, name, err))
			ok = false
			continue
		}
		if !strings.EqualFold(v, want[name]) {
			out = append(out, fmt.Sprintf("FAIL: %s %s=%s, want %s", who, name, v, want[name]))
			ok = false
		}
		got = append(got, name+"="+v)
	}
	if ok {
		out = append(out, "ok: "+who+" "+strings.Join(got, " "))
	}
	return out
}

// runReads loads the read database and measures the timeline query and the
// identifier lookup on a read-only pool.
func runReads(ctx context.Context, c config, path string, rng *rand.Rand, p *pools, res *Result) error {
	w, err := openWriter(ctx, c, path)
	if err != nil {
		return err
	}
	defer w.Close()
	if err := createAndSeed(ctx, w, c.Known); err != nil {
		return err
	}
	hot := int64(c.Known + 1)
	if _, err := w.ExecContext(ctx, queries[qInsCustomer], hot, hot, baseTime, baseTime, baseTime); err != nil {
		return err
	}
	if _, err := w.ExecContext(ctx, queries[qInsIdentifier], anonKind, "anon-hot", hot, "web", baseTime); err != nil {
		return err
	}

	// Bulk load: the hot customer's rows are spread evenly through the
	// others', so its timeline is scattered over the table as in real life.
	total := c.ReadRows + c.HotRows
	every := max(1, total/max(1, c.HotRows))
	logf("%s: loading %d interactions (%d for the timeline customer)", thisDriver.Name, total, c.HotRows)
	ins, err := w.PrepareContext(ctx, queries[qInsInteraction])
	if err != nil {
		return err
	}
	defer ins.Close()
	cpu0 := cpuTime()
	start := time.Now()
	const perTx = 10_000
	hotLeft, otherLeft := c.HotRows, c.ReadRows
	id := int64(0)
	for otherLeft+hotLeft > 0 {
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		st := tx.StmtContext(ctx, ins)
		for n := 0; n < perTx && otherLeft+hotLeft > 0; n++ {
			id++
			cid := int64(1 + rng.IntN(c.Known))
			if hotLeft > 0 && (id%int64(every) == 0 || otherLeft == 0) {
				cid = hot
				hotLeft--
			} else {
				otherLeft--
			}
			occurred := baseTime - rng.Int64N(year)
			src := sources[rng.IntN(len(sources))]
			if _, err := st.ExecContext(ctx, id, cid, kinds[rng.IntN(len(kinds))], directions[rng.IntN(len(directions))], occurred,
				p.contents[rng.IntN(len(p.contents))], p.props[rng.IntN(len(p.props))], campaigns[rng.IntN(len(campaigns))],
				src, "load-"+strconv.FormatInt(id, 10), occurred+1500); err != nil {
				tx.Rollback()
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	res.LoadRows = total
	res.LoadSeconds = time.Since(start).Seconds()
	res.LoadCPU = (cpuTime() - cpu0).Seconds()
	logf("%s: loaded at %.0f rows/s", thisDriver.Name, float64(total)/res.LoadSeconds)
	var hotCount int
	if err := w.QueryRowContext(ctx, `SELECT count(*) FROM interactions WHERE customer_id = ?`, hot).Scan(&hotCount); err != nil {
		return err
	}
	if hotCount != c.HotRows {
		return fmt.Errorf("timeline customer has %d interactions, want %d", hotCount, c.HotRows)
	}
	if _, err := w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return err
	}

	r, err := sql.Open(thisDriver.SQLName, withCache(c, thisDriver.ReaderDSN(path)))
	if err != nil {
		return err
	}
	defer r.Close()
	r.SetMaxOpenConns(c.Readers)
	r.SetMaxIdleConns(c.Readers)
	res.Checks = append(res.Checks, checkReaders(ctx, c, r, c.Readers)...)
	for _, ch := range res.Checks {
		if v, ok := strings.CutPrefix(ch, "info: sqlite_version "); ok {
			res.SQLiteVersion = v
		}
	}

	want := min(50, c.HotRows)
	timeline := func(_ *rand.Rand) error {
		rows, err := r.QueryContext(ctx, timelineQuery, hot)
		if err != nil {
			return err
		}
		defer rows.Close()
		n := 0
		var (
			iid, occurred                            int64
			kind, dir, content, props, campaign, src string
			ext                                      sql.NullString
		)
		for rows.Next() {
			if err := rows.Scan(&iid, &kind, &dir, &occurred, &content, &props, &campaign, &src, &ext); err != nil {
				return err
			}
			n++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if n != want {
			return fmt.Errorf("timeline returned %d rows, want %d", n, want)
		}
		return nil
	}
	logf("%s: timeline query, %d runs on %d goroutines", thisDriver.Name, c.TimelineRuns, c.Goroutines)
	if res.Timeline, err = measure(c.Goroutines, c.TimelineRuns, c.Seed, timeline); err != nil {
		return fmt.Errorf("timeline: %w", err)
	}

	lookup := func(rng *rand.Rand) error {
		i := 1 + rng.IntN(c.Known)
		var cid int64
		if err := r.QueryRowContext(ctx, queries[qLookup], anonKind, knownAnon(i)).Scan(&cid); err != nil {
			return err
		}
		if cid != int64(i) {
			return fmt.Errorf("lookup %s = %d, want %d", knownAnon(i), cid, i)
		}
		return nil
	}
	logf("%s: identifier lookup, %d runs on %d goroutines", thisDriver.Name, c.LookupRuns, c.Goroutines)
	if res.Lookup, err = measure(c.Goroutines, c.LookupRuns, c.Seed, lookup); err != nil {
		return fmt.Errorf("lookup: %w", err)
	}
	if c.SerialRuns > 0 {
		logf("%s: timeline and lookup on one goroutine", thisDriver.Name)
		if res.Timeline1, err = measure(1, c.SerialRuns, c.Seed, timeline); err != nil {
			return fmt.Errorf("timeline: %w", err)
		}
		if res.Lookup1, err = measure(1, 10*c.SerialRuns, c.Seed, lookup); err != nil {
			return fmt.Errorf("lookup: %w", err)
		}
	}
	return nil
}

// checkReaders pins every connection of the read pool and checks its pragmas.
func checkReaders(ctx context.Context, c config, r *sql.DB, n int) []string {
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var out []string
	allOK := true
	for i := range n {
		conn, err := r.Conn(ctx)
		if err != nil {
			return append(out, "FAIL: reader conn: "+err.Error())
		}
		conns = append(conns, conn)
		got := checkPragmas(ctx, conn, fmt.Sprintf("reader %d/%d", i+1, n), map[string]string{
			"query_only": "1", "busy_timeout": "10000", "synchronous": "1", "foreign_keys": "1", "journal_mode": "wal",
			"cache_size": wantCache(c),
		})
		for _, g := range got {
			if strings.HasPrefix(g, "FAIL") {
				allOK = false
				out = append(out, g)
			}
		}
		if i == n-1 && allOK {
			out = append(out, strings.Replace(got[0], fmt.Sprintf("reader %d/%d", i+1, n), fmt.Sprintf("all %d readers", n), 1))
		}
	}
	if _, err := conns[0].ExecContext(ctx, `INSERT INTO customers (id, root_id, created_at, updated_at, last_seen_at) VALUES (-1, -1, 0, 0, 0)`); err == nil {
		out = append(out, "FAIL: reader could write")
	} else {
		out = append(out, "ok: reader write refused ("+err.Error()+")")
	}
	return out
}

// measure runs fn runs times in total over g goroutines (after a short
// warm-up) and returns the latency distribution of single calls.
func measure(g, runs int, seed uint64, fn func(*rand.Rand) error) (Latency, error) {
	per := max(1, runs/g)
	warm := max(10, per/20)
	all := make([][]time.Duration, g)
	errs := make([]error, g)
	var ready, done sync.WaitGroup
	startGate := make(chan struct{})
	var begin time.Time
	ready.Add(g)
	done.Add(g)
	for k := range g {
		go func() {
			defer done.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(k)))
			for range warm {
				if err := fn(rng); err != nil {
					errs[k] = err
					ready.Done()
					return
				}
			}
			ready.Done()
			<-startGate
			lat := make([]time.Duration, 0, per)
			for range per {
				t := time.Now()
				if err := fn(rng); err != nil {
					errs[k] = err
					return
				}
				lat = append(lat, time.Since(t))
			}
			all[k] = lat
		}()
	}
	ready.Wait()
	cpu0 := cpuTime()
	begin = time.Now()
	close(startGate)
	done.Wait()
	wall := time.Since(begin)
	cpu := cpuTime() - cpu0
	if err := errors.Join(errs...); err != nil {
		return Latency{}, err
	}
	lat := slices.Concat(all...)
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	pct := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	return Latency{Runs: len(lat), P50: pct(0.50), P99: pct(0.99), Mean: sum / time.Duration(len(lat)), Seconds: wall.Seconds(), CPU: cpu.Seconds()}, nil
}
