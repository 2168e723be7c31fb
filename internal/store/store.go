// Package store opens the database (embedded SQLite or PostgreSQL), runs the
// embedded migrations and gives domain packages transactions with one SQL
// spelling: queries are written with ? placeholders and rebound for PostgreSQL.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// Dialect says which database is behind a DB.
type Dialect int

const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Config says which database to open.
type Config struct {
	// URL is a postgres:// connection string; empty means SQLite in DataDir.
	URL string
	// DataDir holds touchpoint.db when URL is empty.
	DataDir string
	// Readers is the size of the SQLite read pool (default: 2×CPUs, at least 4).
	Readers int
	// CacheMB is the SQLite writer's page cache in MiB (default 32); each
	// reader gets a quarter of it. A large store ingests faster with more.
	CacheMB int
	// WALCatchUpMB is how large the SQLite WAL may grow before the writer
	// pauses to checkpoint it itself (default 256; see catchUpWAL).
	WALCatchUpMB int
	Logger       *slog.Logger
}

// DB is an open store. Reads may run concurrently; on SQLite all writes go
// through one connection, batched by a single writer goroutine (group commit).
type DB struct {
	Dialect Dialect
	IDs     *id.Generator

	read        *sql.DB
	write       *sql.DB
	checkpoints *sql.DB // SQLite: the connection that checkpoints the WAL
	// SQLite: WAL frames past which the writer checkpoints (catchUpWAL),
	// and whether the checkpointer saw the WAL past them.
	walCatchUpFrames int
	walBehind        atomic.Bool
	checkpointing    sync.Mutex // one checkpoint at a time: SQLite refuses a second
	log              *slog.Logger

	rebound   sync.Map // query with ? → query with $n
	stmts     sync.Map // SQLite: query → statement prepared on the writer connection
	toPrepare sync.Map // SQLite: queries waiting to be prepared by the writer
	nStmts    atomic.Int32
	readStmts sync.Map // SQLite: query → statement prepared on the readers
	readSeen  sync.Map // SQLite: queries the readers ran once, unprepared
	nSeen     atomic.Int32
	nRead     atomic.Int32

	writes     chan *writeReq // SQLite group commit; nil on PostgreSQL
	stop       chan struct{}
	writerDone chan struct{} // closed when the writer has returned
	writerWG   sync.WaitGroup
	closeOnce  sync.Once
}

// Open connects, applies the migrations and, on SQLite, starts the writer.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.URL != "" {
		if !strings.HasPrefix(cfg.URL, "postgres://") && !strings.HasPrefix(cfg.URL, "postgresql://") {
			return nil, fmt.Errorf("database url must start with postgres:// or postgresql://")
		}
		return openPostgres(ctx, cfg)
	}
	return openSQLite(ctx, cfg)
}

func openSQLite(ctx context.Context, cfg Config) (*DB, error) {
	dir := cfg.DataDir
	if dir == "" {
		dir = "touchpoint-data"
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	path := filepath.Join(dir, "touchpoint.db")
	// synchronous=NORMAL in WAL mode: a commit survives a crash or SIGKILL of
	// the process (the WAL is written before COMMIT returns); only an OS crash
	// or power loss may lose the last transactions.
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)"
	// Page caches: by default 32 MiB for the writer, whose index pages are
	// hot, and 8 MiB for each reader (the OS page cache holds the rest). They
	// bound the memory a busy node uses; an idle one touches little of them.
	cacheMB := cfg.CacheMB
	if cacheMB <= 0 {
		cacheMB = 32
	}
	writerCache := fmt.Sprintf("&_pragma=cache_size(-%d)", cacheMB*1024)
	readerCache := fmt.Sprintf("&_pragma=cache_size(-%d)", max(2, cacheMB/4)*1024)
	// The writer does not checkpoint on commit: a checkpoint syncs the WAL
	// and the database file, and doing that inside a commit stalls every
	// queued write. A background checkpointer does it instead (checkpointer
	// below); the writer steps in only when that falls behind (catchUpWAL).
	// When the writer starts the WAL over after a checkpoint it cuts the
	// file back to 64 MiB (journal_size_limit), so the WAL cannot stay large.
	w, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(67108864)&_txlock=immediate&"+common+writerCache)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	readers := cfg.Readers
	if readers <= 0 {
		readers = max(4, 2*runtime.NumCPU())
	}
	r, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)&"+common+readerCache)
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	r.SetConnMaxIdleTime(5 * time.Minute)
	ck, err := sql.Open("sqlite", "file:"+path+"?"+common+readerCache)
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	ck.SetMaxOpenConns(1)
	db := &DB{Dialect: SQLite, read: r, write: w, checkpoints: ck, log: cfg.Logger, IDs: id.NewGenerator(0),
		writes: make(chan *writeReq, 1024), stop: make(chan struct{}), writerDone: make(chan struct{})}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	var pageSize int
	if err := w.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil || pageSize <= 0 {
		db.Close()
		return nil, fmt.Errorf("reading the page size of %s: %v", path, err)
	}
	catchUpMB := cfg.WALCatchUpMB
	if catchUpMB <= 0 {
		catchUpMB = 256
	}
	db.walCatchUpFrames = catchUpMB << 20 / pageSize
	db.writerWG.Add(2)
	go db.writer()
	go db.checkpointer()
	return db, nil
}

func openPostgres(ctx context.Context, cfg Config) (*DB, error) {
	p, err := sql.Open("pgx", cfg.URL)
	if err != nil {
		return nil, err
	}
	p.SetMaxOpenConns(max(8, 4*runtime.NumCPU()))
	p.SetMaxIdleConns(max(8, 4*runtime.NumCPU()))
	p.SetConnMaxIdleTime(5 * time.Minute)
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("connecting to postgres: %w", err)
	}
	db := &DB{Dialect: Postgres, read: p, write: p, log: cfg.Logger}
	if err := db.migrate(ctx); err != nil {
		p.Close()
		return nil, err
	}
	// Every node takes its own number for the id generator from a sequence.
	var n int64
	if err := p.QueryRowContext(ctx, "SELECT nextval('node_numbers')").Scan(&n); err != nil {
		p.Close()
		return nil, fmt.Errorf("taking a node number: %w", err)
	}
	db.IDs = id.NewGenerator(int(n % 1024))
	return db, nil
}

// Close stops the writer after the writes already queued and closes the pools.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		if db.stop != nil {
			close(db.stop)
			db.writerWG.Wait()
		}
		db.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
		db.readStmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
		if db.checkpoints != nil {
			db.checkpoints.Close()
		}
		db.read.Close()
		if db.write != db.read {
			db.write.Close()
		}
	})
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// Rebind turns ? placeholders into $1, $2... for PostgreSQL. Queries must not
// contain a literal question mark.
func (db *DB) Rebind(q string) string {
	if db.Dialect != Postgres {
		return q
	}
	if v, ok := db.rebound.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	out := b.String()
	db.rebound.Store(q, out)
	return out
}

// Query runs a read on the reader pool.
func (db *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := db.readPrepared(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.read.QueryContext(ctx, db.Rebind(q), args...)
}

// readPrepared returns a statement for q prepared on the SQLite readers, or
// nil (PostgreSQL, the first time q is seen, or the cache is full). Parsing
// the holder lookup of the event API cost a third of running it. A query is
// prepared when it comes a second time, so that one-off texts (searches,
// lists of keys of every length) do not fill the cache.
func (db *DB) readPrepared(ctx context.Context, q string) *sql.Stmt {
	if db.Dialect != SQLite {
		return nil
	}
	if v, ok := db.readStmts.Load(q); ok {
		return v.(*sql.Stmt)
	}
	if db.nRead.Load() >= maxStmts {
		return nil
	}
	if _, again := db.readSeen.LoadOrStore(q, true); !again {
		if db.nSeen.Add(1) > 4*maxStmts { // forget one-offs now and then
			db.readSeen.Clear()
			db.nSeen.Store(0)
		}
		return nil
	}
	st, err := db.read.PrepareContext(ctx, q)
	if err != nil {
		return nil // the unprepared path reports the error
	}
	if v, loaded := db.readStmts.LoadOrStore(q, st); loaded {
		st.Close()
		return v.(*sql.Stmt)
	}
	db.nRead.Add(1)
	return st
}

// QueryPlannedEach is Query planned for each execution on PostgreSQL (see
// Tx.QueryPlannedEach): for reads whose best plan depends on the values,
// such as a text search, where a cached generic plan scanned the whole
// index for a word the specific plan would find in a few rows.
func (db *DB) QueryPlannedEach(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if db.Dialect == Postgres {
		args = append([]any{pgx.QueryExecModeExec}, args...)
	}
	return db.Query(ctx, q, args...)
}

// QueryRowPlannedEach is QueryRow planned for each execution on PostgreSQL.
func (db *DB) QueryRowPlannedEach(ctx context.Context, q string, args ...any) *sql.Row {
	if db.Dialect == Postgres {
		args = append([]any{pgx.QueryExecModeExec}, args...)
	}
	return db.QueryRow(ctx, q, args...)
}

// ReadIndexed runs fn's reads in a read-only transaction in which
// PostgreSQL plans no sequential scan and plans each statement for its
// values: for searches an index answers cheaply but whose row estimates
// lead the planner to scan the table (a word it cannot know is rare). On
// SQLite the reads run on the reader pool as they are.
func (db *DB) ReadIndexed(ctx context.Context, fn func(query func(q string, args ...any) (*sql.Rows, error)) error) error {
	if db.Dialect != Postgres {
		return fn(func(q string, args ...any) (*sql.Rows, error) { return db.Query(ctx, q, args...) })
	}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
		return err
	}
	return fn(func(q string, args ...any) (*sql.Rows, error) {
		return tx.QueryContext(ctx, db.Rebind(q), append([]any{pgx.QueryExecModeExec}, args...)...)
	})
}

// QueryRow runs a single-row read on the reader pool.
func (db *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := db.readPrepared(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.read.QueryRowContext(ctx, db.Rebind(q), args...)
}

// ExecAlone runs one write statement in a transaction of its own. On
// PostgreSQL that is one round trip instead of three (BEGIN, the statement,
// COMMIT); on SQLite it goes through the writer like any write.
func (db *DB) ExecAlone(ctx context.Context, q string, args ...any) error {
	if db.Dialect == Postgres {
		_, err := db.write.ExecContext(ctx, db.Rebind(q), args...)
		return err
	}
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.Exec(ctx, q, args...)
		return err
	})
}

// Tx is a write transaction. Its methods take ? placeholders.
type Tx struct {
	db *DB
	tx *sql.Tx
	// shard is the counter shard this transaction adds to, plus one (0:
	// none chosen yet). One per transaction: a transaction that locked
	// several shards of a counter could deadlock with another.
	shard int
}

func (t *Tx) Dialect() Dialect { return t.db.Dialect }

// NewID hands out the next id.
func (t *Tx) NewID() id.ID { return t.db.IDs.New() }

func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.db.prepared(ctx, q); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.db.Rebind(q), args...)
}

func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.db.prepared(ctx, q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, t.db.Rebind(q), args...)
}

func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.db.prepared(ctx, q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, t.db.Rebind(q), args...)
}

// QueryPlannedEach runs a read whose best plan depends on how large the
// tables are now, such as a batch lookup by a list of keys. PostgreSQL plans
// it for each execution: a plan cached while the tables were young stays a
// table scan when they have grown (until the next ANALYZE), and a batch of
// events paid for that on every request.
func (t *Tx) QueryPlannedEach(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if t.db.Dialect == Postgres {
		return t.tx.QueryContext(ctx, t.db.Rebind(q), append([]any{pgx.QueryExecModeExec}, args...)...)
	}
	return t.Query(ctx, q, args...)
}

// maxStmts bounds the SQLite statement cache; queries past it run unprepared.
const maxStmts = 512

// prepared returns the cached statement for q on the SQLite writer, or nil.
// Parsing SQL costs more than running a point query, and the writer's
// statements are few and repeated. A query seen for the first time runs
// unprepared and is queued: the writer connection is busy with the
// transaction now, so the writer prepares it between transactions.
// PostgreSQL (pgx) caches statements per connection by itself.
func (db *DB) prepared(ctx context.Context, q string) *sql.Stmt {
	if db.Dialect != SQLite {
		return nil
	}
	if v, ok := db.stmts.Load(q); ok {
		return v.(*sql.Stmt)
	}
	if db.nStmts.Load() < maxStmts {
		db.toPrepare.Store(q, true)
	}
	return nil
}

// prepareQueued prepares the queries queued by prepared; the writer calls it
// while no transaction holds the connection.
func (db *DB) prepareQueued() {
	db.toPrepare.Range(func(k, _ any) bool {
		q := k.(string)
		db.toPrepare.Delete(q)
		if db.nStmts.Load() >= maxStmts {
			return false
		}
		st, err := db.write.PrepareContext(context.Background(), q)
		if err != nil {
			return true // the unprepared path reports the error to its caller
		}
		db.stmts.Store(q, st)
		db.nStmts.Add(1)
		return true
	})
}

// Write runs fn in a write transaction and returns once it is committed (or
// has failed). fn may run more than once on PostgreSQL when a concurrent
// transaction conflicts with it, so it must not have side effects outside tx.
//
// On SQLite concurrent Writes are grouped into one transaction, each fn in its
// own savepoint: a failing fn rolls back only itself, and all callers return
// after the single COMMIT. This is what makes many small acknowledged writes cheap.
func (db *DB) Write(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	if db.Dialect == Postgres {
		return db.writePostgres(ctx, fn)
	}
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.writes <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.stop:
		return errors.New("store is closed")
	}
	// Once queued the write will be decided; wait for it even if ctx ends so
	// that the caller never reports failure for something that was committed.
	select {
	case err := <-req.done:
		return err
	case <-db.writerDone:
		// Queued after the writer's last drain (a Write racing Close).
		select {
		case err := <-req.done:
			return err
		default:
			return errors.New("store is closed")
		}
	}
}

func (db *DB) writePostgres(ctx context.Context, fn func(context.Context, *Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := db.runTx(ctx, fn)
		if err == nil || attempt >= 8 || !retryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 3 * time.Millisecond)
	}
}

func (db *DB) runTx(ctx context.Context, fn func(context.Context, *Tx) error) error {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(ctx, &Tx{db: db, tx: sqlTx}); err != nil {
		sqlTx.Rollback()
		return err
	}
	return sqlTx.Commit()
}

// retryable is true for PostgreSQL serialization failures and deadlocks.
// Unique races are the caller's to handle (INSERT ... ON CONFLICT).
func retryable(err error) bool {
	if errors.Is(err, ErrRetry) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01":
			return true
		}
	}
	return false
}

// ErrRetry, wrapped in the error of a Write function, asks for the whole
// transaction to run again: a concurrent transaction changed what it read.
var ErrRetry = errors.New("concurrent change, retry")

// IsUniqueViolation tells whether err is a unique-constraint violation on either database.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

type writeReq struct {
	ctx  context.Context
	fn   func(context.Context, *Tx) error
	done chan error
}

// maxGroup bounds how many writes share one SQLite transaction.
const maxGroup = 256

func (db *DB) writer() {
	defer db.writerWG.Done()
	defer close(db.writerDone)
	group := make([]*writeReq, 0, maxGroup)
	for {
		var first *writeReq
		select {
		case first = <-db.writes:
		case <-db.stop:
			// Drain what was queued before the stop.
			for {
				select {
				case r := <-db.writes:
					db.commitGroup([]*writeReq{r})
				default:
					return
				}
			}
		}
		group = append(group[:0], first)
	fill:
		for len(group) < maxGroup {
			select {
			case r := <-db.writes:
				group = append(group, r)
			default:
				break fill
			}
		}
		db.commitGroup(group)
		db.prepareQueued()
		if db.walBehind.Swap(false) {
			db.catchUpWAL()
		}
	}
}

// catchUpWAL checkpoints from the writer's connection, between
// transactions. The checkpointer's passive checkpoints never finish while
// the writer keeps appending, and the WAL is started over only after one
// has: under a steady load it grew without end (70 GB, until the disk was
// full, filling a large store). While the writer waits here nothing is
// appended, so the checkpoint finishes unless a reader still needs old
// frames, and the next transaction starts the WAL over (cut back to 64 MiB).
// It runs at most once for each time the checkpointer sees the WAL past
// walCatchUpFrames, about once a second under such a load.
func (db *DB) catchUpWAL() {
	db.checkpointing.Lock()
	defer db.checkpointing.Unlock()
	var busy, frames, done int
	if err := db.write.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done); err != nil {
		db.log.Warn("checkpoint by the writer failed", "err", err)
		return
	}
	if done < frames {
		db.log.Debug("checkpoint by the writer left frames a reader still uses", "frames", frames, "done", done)
	}
}

func (db *DB) commitGroup(group []*writeReq) {
	ctx := context.Background()
	if len(group) == 1 {
		r := group[0]
		r.done <- db.runTx(r.ctx, r.fn)
		return
	}
	errs := make([]error, len(group))
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range group {
			r.done <- fmt.Errorf("beginning transaction: %w", err)
		}
		return
	}
	tx := &Tx{db: db, tx: sqlTx}
	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			errs[i] = err
			continue
		}
		if err := r.fn(r.ctx, tx); err != nil {
			errs[i] = err
			if _, rbErr := sqlTx.ExecContext(ctx, "ROLLBACK TO w"); rbErr != nil {
				// The transaction is unusable: fail the whole group, each
				// caller retries on its own.
				sqlTx.Rollback()
				db.retrySeparately(group)
				return
			}
		}
		sqlTx.ExecContext(ctx, "RELEASE w")
	}
	if err := sqlTx.Commit(); err != nil {
		db.retrySeparately(group)
		return
	}
	for i, r := range group {
		r.done <- errs[i]
	}
}

// checkpointer copies the WAL back into the database file every second
// (PASSIVE: it never blocks the writer or readers). It leaves starting the
// WAL over to the writer: a checkpoint that truncates the WAL from this
// connection changes the WAL's header under the writer, which then throws
// its whole page cache away (measured: a tenth of the CPU under ingest).
// When the WAL has grown past walCatchUpFrames it asks the writer to
// checkpoint (catchUpWAL).
func (db *DB) checkpointer() {
	defer db.writerWG.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			db.checkpointing.Lock()
			db.checkpoints.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
			db.checkpointing.Unlock()
			return
		case <-t.C:
		}
		var busy, frames, done int
		db.checkpointing.Lock()
		err := db.checkpoints.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done)
		db.checkpointing.Unlock()
		if err != nil {
			db.log.Warn("checkpoint failed", "err", err)
			continue
		}
		if frames > db.walCatchUpFrames {
			db.walBehind.Store(true)
		}
	}
}

// retrySeparately runs each write of a failed group in its own transaction.
func (db *DB) retrySeparately(group []*writeReq) {
	for _, r := range group {
		r.done <- db.runTx(r.ctx, r.fn)
	}
}

// Placeholders is n comma-separated ? placeholders, for IN lists.
func Placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }
