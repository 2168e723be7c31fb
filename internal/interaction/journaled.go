package interaction

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/identifier"
	"github.com/touchpoint-hub/touchpoint/internal/journal"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Journaled records event streams (the Segment-compatible event API) through
// a journal: a batch is validated, each event is resolved to its customer
// in memory (customer.Promises), and the batch is appended to the journal
// and synced to disk; then it is acknowledged. An applier goroutine stores
// the journal's batches in the database in large transactions, in order,
// with the same code as Record, and records how far it got in the same
// transaction. So an acknowledged event survives a crash (the journal is
// applied again from that point at the next start), the request does only
// sequential work, and the database's index work is done in bulk.
//
// What the journal cannot carry — traits, aliases, a known customer id,
// identify-only calls — is recorded at once with Record, before the
// journaled part of the same request.
type Journaled struct {
	s        *Service
	j        *journal.Journal
	promises *customer.Promises
	log      *slog.Logger
	// maxBacklog is how many journal records may wait for the applier
	// before Record waits for it: a bound on the disk and on how stale
	// timelines get under a flood.
	maxBacklog uint64

	// usable remembers contact points found enabled, and when (see usableFor).
	usable sync.Map

	applied atomic.Uint64
	mu      sync.Mutex
	moved   chan struct{} // closed when applied moves
	stop    context.CancelFunc
	done    chan struct{}

	lastAppend      atomic.Int64 // when a request was last journaled, in Unix nanoseconds
	journaledEvents atomic.Int64 // events journaled since the start
	appliedEvents   atomic.Int64
	rerouted        atomic.Int64 // stored on another customer than promised
	droppedAtApply  atomic.Int64
}

// JournalOptions tune the journaled ingest.
type JournalOptions struct {
	Log *slog.Logger
	// MaxBacklog: journal records (one per request) waiting to be stored
	// before requests wait; 0 means 50,000.
	MaxBacklog int
}

// OpenJournal opens (or creates) the ingest journal in dir and starts
// storing what it holds.
func (s *Service) OpenJournal(ctx context.Context, dir string, opts JournalOptions) (*Journaled, error) {
	r, cur, err := s.openJournal(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	r.start(cur)
	return r, nil
}

// start starts the applier at cur.
func (r *Journaled) start(cur *journal.Cursor) {
	actx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go r.run(actx, cur)
}

// openJournal opens the journal and finds where the store is, without
// storing anything yet (the benchmarks time acknowledging and storing apart).
func (s *Service) openJournal(ctx context.Context, dir string, opts JournalOptions) (*Journaled, *journal.Cursor, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	j, err := journal.Open(dir, journal.Options{Log: log})
	if err != nil {
		return nil, nil, fmt.Errorf("opening the ingest journal: %w", err)
	}
	var applied int64
	err = s.db.QueryRow(ctx, "SELECT applied_seq FROM ingest_journals WHERE journal_id = ?", j.ID()).Scan(&applied)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		j.Close()
		return nil, nil, err
	}
	if uint64(applied) > j.Last() {
		j.Close()
		return nil, nil, fmt.Errorf("the store has applied ingest journal %s up to record %d, but the journal in %s ends at %d: its files were changed",
			j.ID(), applied, dir, j.Last())
	}
	cur, err := j.Cursor(uint64(applied))
	if err != nil {
		j.Close()
		return nil, nil, fmt.Errorf("reading the ingest journal: %w", err)
	}
	r := &Journaled{s: s, j: j, promises: s.customers.NewPromises(), log: log, maxBacklog: 50000,
		moved: make(chan struct{}), done: make(chan struct{})}
	if opts.MaxBacklog > 0 {
		r.maxBacklog = uint64(opts.MaxBacklog)
	}
	r.applied.Store(uint64(applied))
	if backlog := j.Last() - uint64(applied); backlog > 0 {
		log.Info("ingest journal: storing what was acknowledged before the last stop", "records", backlog)
	}
	return r, cur, nil
}

// drainOnClose is how long Close lets the applier store what is waiting.
const drainOnClose = 10 * time.Second

// Close lets the applier store what is waiting, for up to drainOnClose
// (a node that is replaced rather than restarted should leave nothing in
// its journal), then stops it and closes the journal; what is left is
// stored at the next start.
func (r *Journaled) Close() error {
	if r.stop != nil {
		ctx, cancel := context.WithTimeout(context.Background(), drainOnClose)
		if err := r.WaitStored(ctx); err != nil {
			r.log.Warn("ingest journal: stopping with events not yet stored; they are stored at the next start", "records", r.Backlog())
		}
		cancel()
		r.stop()
		<-r.done
	}
	return r.j.Close()
}

// Backlog is how many journal records are acknowledged and not stored yet.
func (r *Journaled) Backlog() uint64 {
	last, applied := r.j.Last(), r.applied.Load()
	if applied > last {
		return 0
	}
	return last - applied
}

// JournalStats are counts since the start, for metrics.
type JournalStats struct {
	Backlog       uint64 // records acknowledged and not stored yet
	Stored        int64  // events stored by the applier
	Rerouted      int64  // stored on another customer than promised
	DroppedAtSave int64  // refused by the store after acknowledgement (logged)
}

// Stats returns the journal's counts.
func (r *Journaled) Stats() JournalStats {
	return JournalStats{Backlog: r.Backlog(), Stored: r.appliedEvents.Load(), Rerouted: r.rerouted.Load(),
		DroppedAtSave: r.droppedAtApply.Load()}
}

// WaitStored waits until everything acknowledged before the call is stored.
func (r *Journaled) WaitStored(ctx context.Context) error {
	return r.waitApplied(ctx, r.j.Last())
}

func (r *Journaled) waitApplied(ctx context.Context, seq uint64) error {
	return r.waitUntil(ctx, func() bool { return r.applied.Load() >= seq })
}

// waitUntil waits until ok holds, looking again each time the applier
// moves on.
func (r *Journaled) waitUntil(ctx context.Context, ok func() bool) error {
	for {
		r.mu.Lock()
		ch := r.moved
		r.mu.Unlock()
		if ok() {
			return nil
		}
		select {
		case <-ch:
		case <-r.done:
			return errors.New("the ingest journal is closed")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Record validates the inputs, records those the journal cannot carry at
// once, and journals the others, each resolved to its customer. Results
// carry the customer of each input; the id of a journaled interaction is
// not known yet and is left 0. Refusals are reported as Record reports
// them, before anything is stored.
func (r *Journaled) Record(ctx context.Context, inputs []Input) ([]Result, error) {
	if len(inputs) == 0 {
		return []Result{}, nil
	}
	if len(inputs) > MaxBatch {
		return nil, errs.Invalidf("", "at most %d interactions per batch, got %d", MaxBatch, len(inputs))
	}
	now := r.s.now().UTC().Truncate(time.Microsecond)
	bad := &errs.Batch{}
	var direct, journaled []int
	preps := make([]prepared, len(inputs))
	for i := range inputs {
		p, err := r.s.prepare(&inputs[i], now)
		if err != nil {
			bad.AddItem(i, err)
			continue
		}
		preps[i] = p
		if journalable(&inputs[i]) {
			journaled = append(journaled, i)
		} else {
			direct = append(direct, i)
		}
	}
	if len(bad.Items) == 0 {
		if err := r.checkContactPoints(ctx, inputs, journaled, bad); err != nil {
			return nil, err
		}
	}
	if len(bad.Items) > 0 {
		return nil, bad
	}
	results := make([]Result, len(inputs))
	if len(direct) > 0 {
		sub := make([]Input, len(direct))
		for k, i := range direct {
			sub[k] = inputs[i]
		}
		res, err := r.s.Record(ctx, sub)
		if err != nil {
			var b *errs.Batch
			if errors.As(err, &b) {
				for k := range b.Items {
					b.Items[k].Index = direct[b.Items[k].Index]
				}
			}
			return nil, err
		}
		for k, i := range direct {
			results[i] = res[k]
		}
	}
	if len(journaled) == 0 {
		return results, nil
	}
	if err := r.waitRoom(ctx); err != nil {
		return nil, err
	}
	contacts := make([][]identifier.Identifier, len(journaled))
	for k, i := range journaled {
		contacts[k] = preps[i].idents
	}
	e := &entry{at: now, inputs: inputs}
	if len(journaled) < len(inputs) {
		// Inputs are large: copied only when some were recorded at once.
		e.inputs = make([]Input, len(journaled))
		for k, i := range journaled {
			e.inputs[k] = inputs[i]
		}
	}
	token, promises, err := r.promises.Promise(ctx, contacts)
	if err != nil {
		return nil, err
	}
	e.token, e.promised = token, promises
	for k, c := range promises {
		results[journaled[k]].CustomerID = c
	}
	buf := entryBufs.Get().(*[]byte)
	*buf = appendEntry((*buf)[:0], e)
	_, err = r.j.Append(ctx, *buf)
	// Append is done with the bytes once it returns.
	if cap(*buf) <= 4<<20 {
		entryBufs.Put(buf)
	}
	if err != nil {
		r.promises.Release(token)
		return nil, fmt.Errorf("journaling the events: %w", err)
	}
	r.lastAppend.Store(time.Now().UnixNano())
	r.journaledEvents.Add(int64(len(journaled)))
	return results, nil
}

// checkContactPoints refuses inputs for contact points that do not exist or
// are disabled, as Record does inside its transaction; the error is the
// store's.
func (r *Journaled) checkContactPoints(ctx context.Context, inputs []Input, idx []int, bad *errs.Batch) error {
	seen := map[id.ID]error{}
	now := time.Now()
	for _, i := range idx {
		cp := inputs[i].ContactPointID
		err, ok := seen[cp]
		if !ok {
			if at, fine := r.usable.Load(cp); fine && now.Sub(at.(time.Time)) < usableFor {
				seen[cp] = nil
				continue
			}
			var disabled sql.NullInt64
			err = r.s.db.QueryRow(ctx, "SELECT disabled_at FROM contact_points WHERE id = ?", cp).Scan(&disabled)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				err = errs.Invalidf("contact_point_id", "no contact point %s", cp)
			case err != nil:
				return err
			case disabled.Valid:
				err = errs.Invalidf("contact_point_id", "contact point %s is disabled", cp)
			default:
				r.usable.Store(cp, now)
			}
			seen[cp] = err
		}
		if err != nil {
			bad.AddItem(i, err)
		}
	}
	return nil
}

// entryBufs are encoding buffers: a batch's entry is about as large as its
// request, and allocating one a request kept the collector busy.
var entryBufs = sync.Pool{New: func() any { return new([]byte) }}

// usableFor is how long a contact point found enabled is taken to be so;
// write keys are cached as long (contactpoint.ByWriteKey).
const usableFor = 5 * time.Second

// waitRoom waits while the backlog is at its bound.
func (r *Journaled) waitRoom(ctx context.Context) error {
	return r.waitUntil(ctx, func() bool { return r.Backlog() < r.maxBacklog })
}

// applyBatch is about how many events one applying transaction stores: big
// enough that the database's per-commit cost is spread thin, small enough
// that other writers wait little.
const applyBatch = 5000

// pending is a run of journal records read and checked, ready to store.
type pending struct {
	entries []*entry
	preps   [][]prepared
	last    uint64 // the sequence number of the run's last record
	events  int    // inputs in entries, before any is dropped as invalid
}

// run stores the journal's records in order until ctx ends. A reader
// goroutine decodes and checks the next run of records while the current
// one is stored, so that storing, which is one goroutine's work, has the
// writer to itself.
func (r *Journaled) run(ctx context.Context, cur *journal.Cursor) {
	defer close(r.done)
	runs := make(chan pending, 1)
	read := make(chan struct{})
	go func() {
		defer close(read)
		r.read(ctx, cur, runs)
	}()
	// The journal is closed after done: the reader must be gone by then.
	defer func() { <-read }()
	// The arrival rate is measured over each cycle of storing and resting.
	since, arrivedBefore := time.Now(), r.journaledEvents.Load()
	for p := range runs {
		started := time.Now()
		for {
			err := r.apply(ctx, p)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			r.log.Error("ingest journal: storing failed; trying again", "seq", p.last, "err", err)
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return
			}
		}
		if err := r.j.Release(p.last); err != nil {
			r.log.Warn("ingest journal: removing stored segments", "err", err)
		}
		took := time.Since(started)
		arrived := r.journaledEvents.Load()
		r.giveWay(ctx, restAfter(took, p.events, arrived-arrivedBefore, time.Since(since)))
		since, arrivedBefore = time.Now(), r.journaledEvents.Load()
	}
}

// read hands runs of up to about applyBatch events to the applier, in
// journal order, until ctx ends or the journal cannot be read.
func (r *Journaled) read(ctx context.Context, cur *journal.Cursor, runs chan<- pending) {
	defer close(runs)
	defer cur.Close()
	for {
		seq, payload, err := cur.Next(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, journal.ErrClosed) {
				r.log.Error("ingest journal: reading failed; events are no longer stored", "err", err)
			}
			return
		}
		var p pending
		for {
			e, err := decodeEntry(payload)
			if err != nil {
				// The journal checks every record's checksum, so this is a
				// record of another version, not damage.
				r.log.Error("ingest journal: a record cannot be read and is skipped", "seq", seq, "err", err)
			} else {
				p.entries = append(p.entries, e)
				p.preps = append(p.preps, r.prepareAcked(e))
				p.events += len(e.inputs)
			}
			p.last = seq
			if p.events >= applyBatch {
				break
			}
			var ok bool
			if seq, payload, ok, err = cur.TryNext(); err != nil || !ok {
				break
			}
		}
		select {
		case runs <- p:
		case <-ctx.Done():
			return
		}
	}
}

// While requests arrive faster than the applier stores them, storing gives
// way to acknowledging: after each transaction the applier rests
// restPerStore times as long as the transaction took. Storing during such a
// burst cannot keep timelines current anyway, and on a small machine it
// takes the CPU that acknowledging needs; so the burst is acknowledged at
// the rate the machine can journal, and stored when it ends. Under a load
// that storing keeps up with, the applier does not rest, so timelines stay
// current. It stops giving way once requests have stopped for quietAfter,
// or when the backlog reaches half its bound: then storing sets the pace,
// as it must when the flood does not end.
const (
	restPerStore = 8
	quietAfter   = 250 * time.Millisecond
)

// restAfter is how long the applier rests after storing stored events in
// took, when arrived events were journaled over the last elapsed: a rest
// only when they arrived faster than it stores.
func restAfter(took time.Duration, stored int, arrived int64, elapsed time.Duration) time.Duration {
	if stored <= 0 || took <= 0 || elapsed <= 0 {
		return 0
	}
	// arrived/elapsed > stored/took, without division.
	if float64(arrived)*float64(took) <= float64(stored)*float64(elapsed) {
		return 0
	}
	return restPerStore * took
}

// giveWay rests for rest, as long as requests keep coming.
func (r *Journaled) giveWay(ctx context.Context, rest time.Duration) {
	until := time.Now().Add(rest)
	for r.busy() && time.Now().Before(until) {
		select {
		case <-time.After(min(time.Until(until), quietAfter/5)):
		case <-ctx.Done():
			return
		}
	}
}

// busy tells whether the applier should give way: requests were journaled
// within quietAfter and the backlog is under half its bound.
func (r *Journaled) busy() bool {
	return time.Since(time.Unix(0, r.lastAppend.Load())) < quietAfter && r.Backlog() < r.maxBacklog/2
}

// apply stores a run of records and marks the journal applied up to its
// last, in one transaction.
func (r *Journaled) apply(ctx context.Context, p pending) error {
	entries, preps, last := p.entries, p.preps, p.last
	var stored []Recorded
	var rerouted int64
	var overtaken map[int]bool // entries with an event stored elsewhere than promised
	for attempt := 0; ; attempt++ {
		var refused *refusal
		err := r.s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			stored, rerouted, overtaken = stored[:0], 0, map[int]bool{}
			for k, e := range entries {
				res, st, err := r.s.recordIn(ctx, tx, preps[k], e.at)
				if err != nil {
					var b *errs.Batch
					if errors.As(err, &b) {
						refused = &refusal{entry: k, batch: b}
					}
					return err
				}
				for i := range res {
					if !res[i].Duplicate && res[i].CustomerID != preps[k][i].promised && !r.sameGroup(ctx, tx, res[i].CustomerID, preps[k][i].promised) {
						rerouted++
						overtaken[k] = true
					}
				}
				stored = append(stored, st...)
			}
			_, err := tx.Exec(ctx, `INSERT INTO ingest_journals (journal_id, applied_seq, updated_at) VALUES (?, ?, ?)
				ON CONFLICT (journal_id) DO UPDATE SET applied_seq = excluded.applied_seq, updated_at = excluded.updated_at`,
				r.j.ID(), int64(last), time.Now().UnixMicro())
			return err
		})
		if err == nil {
			break
		}
		var taken *customer.PromiseTaken
		if errors.As(err, &taken) && attempt <= MaxBatch {
			// Customers have some promised ids (a record stored twice
			// by another route): those contacts get new customers.
			for k := range preps {
				for n := range preps[k] {
					if slices.Contains(taken.IDs, preps[k][n].promised) {
						preps[k][n].promised = 0
					}
				}
			}
			continue
		}
		if refused == nil || attempt > MaxBatch {
			return err
		}
		// The store refused what was acknowledged: it was valid when
		// received, and something changed since. Keep the rest.
		k := refused.entry
		drop := map[int]bool{}
		for _, it := range refused.batch.Items {
			drop[it.Index] = true
			r.log.Error("ingest journal: an acknowledged event was refused when stored and is dropped",
				"source", preps[k][it.Index].in.Source, "external_id", preps[k][it.Index].in.ExternalID, "field", it.Field, "reason", it.Reason)
		}
		kept := preps[k][:0]
		for i, p := range preps[k] {
			if !drop[i] {
				kept = append(kept, p)
			}
		}
		preps[k] = kept
		r.droppedAtApply.Add(int64(len(drop)))
	}
	n := 0
	for k, e := range entries {
		if overtaken[k] || len(preps[k]) != len(e.inputs) {
			// Not all stored as promised: what was is asked of the store
			// again when it is next needed.
			r.promises.Release(e.token)
		} else {
			r.promises.Stored(e.token)
		}
		n += len(preps[k])
	}
	r.appliedEvents.Add(int64(n))
	r.rerouted.Add(rerouted)
	r.applied.Store(last)
	r.mu.Lock()
	close(r.moved)
	r.moved = make(chan struct{})
	r.mu.Unlock()
	r.s.notify(ctx, stored)
	return nil
}

type refusal struct {
	entry int
	batch *errs.Batch
}

// sameGroup tells whether customer a is b or in b's group (b promised, a
// the root the store resolved to).
func (r *Journaled) sameGroup(ctx context.Context, tx *store.Tx, a, b id.ID) bool {
	var root id.ID
	if err := tx.QueryRow(ctx, "SELECT root_id FROM customers WHERE id = ?", b).Scan(&root); err != nil {
		return false
	}
	return root == a
}

// prepareAcked validates an entry's inputs again (the rules may have
// changed with an upgrade) and marks them acknowledged.
func (r *Journaled) prepareAcked(e *entry) []prepared {
	out := make([]prepared, 0, len(e.inputs))
	for i := range e.inputs {
		p, err := r.s.prepare(&e.inputs[i], e.at)
		if err != nil {
			r.droppedAtApply.Add(1)
			r.log.Error("ingest journal: an acknowledged event no longer passes the checks and is dropped",
				"source", e.inputs[i].Source, "external_id", e.inputs[i].ExternalID, "err", err)
			continue
		}
		p.promised, p.acked = e.promised[i], true
		out = append(out, p)
	}
	return out
}
