package interaction

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/identifier"
	"github.com/touchpoint-hub/touchpoint/internal/jsonscan"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Service records interactions and reads timelines.
type Service struct {
	db        *store.DB
	customers *customer.Service
	now       func() time.Time

	linker   CaseLinker
	recorded []func(ctx context.Context, stored []Recorded)
}

// Recorded is an interaction just stored, as the case linker and the
// listeners see it.
type Recorded struct {
	ID         id.ID
	CustomerID id.ID // the root of the customer's group when recorded
	CaseID     id.ID // 0 when the interaction is on no case
	CaseOpened bool  // the interaction opened its case
	In         *Input
}

// CaseLinker puts newly stored interactions on cases inside the recording
// transaction, so that an interaction is never stored without the case it
// belongs to. It sets CaseID on the rows it links.
type CaseLinker interface {
	LinkCases(ctx context.Context, tx *store.Tx, stored []Recorded) error
}

// SetCaseLinker installs the case linker (the cases service); wiring in
// internal/app, since cases builds on interactions and not the reverse.
func (s *Service) SetCaseLinker(l CaseLinker) { s.linker = l }

// CaseLinker is the installed case linker, so that one who replaces it for
// a while (the demo's history) can put it back.
func (s *Service) CaseLinker() CaseLinker { return s.linker }

// OnRecorded adds a listener called after each commit with the interactions
// that were stored (duplicates excluded). Listeners run on the caller's
// goroutine and must be quick (publish an event, nothing more).
func (s *Service) OnRecorded(fn func(ctx context.Context, stored []Recorded)) {
	s.recorded = append(s.recorded, fn)
}

// NewService returns the interaction service.
func NewService(db *store.DB, customers *customer.Service) *Service {
	return &Service{db: db, customers: customers, now: time.Now}
}

// MaxBatch is the most inputs one Record call takes.
const MaxBatch = 1000

// prepared is a validated input: identifiers normalized, defaults filled.
type prepared struct {
	in     *Input
	idents []identifier.Identifier
	alias  *identifier.Identifier
	// promised is the customer the journaled ingest resolved the input to
	// before acknowledging it (see customer.Promises); 0 otherwise.
	promised id.ID
	// acked: the input was acknowledged already, so a contact point
	// disabled since does not refuse it.
	acked bool
}

// Record stores the inputs as one unit: either every input is stored (or
// found already stored) and resolved to its customer before Record returns,
// or nothing is and the error says which items were refused and why
// (*errs.Batch). It returns once the transaction is durable.
func (s *Service) Record(ctx context.Context, inputs []Input) ([]Result, error) {
	if len(inputs) == 0 {
		return []Result{}, nil
	}
	if len(inputs) > MaxBatch {
		return nil, errs.Invalidf("", "at most %d interactions per batch, got %d", MaxBatch, len(inputs))
	}
	now := s.now().UTC()
	preps := make([]prepared, len(inputs))
	bad := &errs.Batch{}
	for i := range inputs {
		p, err := s.prepare(&inputs[i], now)
		if err != nil {
			bad.AddItem(i, err)
			continue
		}
		preps[i] = p
	}
	if len(bad.Items) > 0 {
		return nil, bad
	}
	var results []Result
	var stored []Recorded
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		// Everything here is per attempt: PostgreSQL may run this again.
		var err error
		results, stored, err = s.recordIn(ctx, tx, preps, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, stored)
	return results, nil
}

// notify tells the listeners what a commit stored.
func (s *Service) notify(ctx context.Context, stored []Recorded) {
	if len(stored) == 0 {
		return
	}
	for _, fn := range s.recorded {
		fn(ctx, stored)
	}
}

// recordIn stores validated inputs inside tx: resolves their customers,
// inserts the interactions (a duplicate is found, not stored again) and
// links them to cases. now is when they were received.
func (s *Service) recordIn(ctx context.Context, tx *store.Tx, preps []prepared, now time.Time) ([]Result, []Recorded, error) {
	bad := &errs.Batch{}
	results := make([]Result, len(preps))
	cps := map[id.ID]bool{}
	var all []identifier.Identifier
	for i := range preps {
		all = append(all, preps[i].idents...)
	}
	known, err := s.customers.Preload(ctx, tx, all)
	if err != nil {
		return nil, nil, err
	}
	ins := &inserts{}
	for i := range preps {
		r, err := s.recordOne(ctx, tx, &preps[i], cps, known, ins, now)
		if err != nil {
			var inv *errs.Invalid
			if !errors.As(err, &inv) {
				return nil, nil, err
			}
			bad.AddItem(i, err)
			continue
		}
		results[i] = r
	}
	if len(bad.Items) > 0 {
		return nil, nil, bad
	}
	// The interactions refer to their customers: those put off go first.
	if err := known.FlushCreated(ctx, tx); err != nil {
		return nil, nil, err
	}
	skipped, err := ins.flush(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	if err := known.Flush(ctx, tx); err != nil {
		return nil, nil, err
	}
	if err := tx.AddCounter(ctx, counterName, int64(len(ins.ids)-len(skipped))); err != nil {
		return nil, nil, err
	}
	var stored []Recorded
	for i := range results {
		r := &results[i]
		if r.ID == 0 || skipped[r.ID] {
			continue
		}
		in := preps[i].in
		var caseID id.ID
		if in.CaseID != nil {
			caseID = *in.CaseID
		}
		stored = append(stored, Recorded{ID: r.ID, CustomerID: r.CustomerID, CaseID: caseID, In: in})
	}
	if s.linker != nil && len(stored) > 0 {
		if err := s.linker.LinkCases(ctx, tx, stored); err != nil {
			return nil, nil, err
		}
		byID := make(map[id.ID]id.ID, len(stored))
		for _, st := range stored {
			if st.CaseID != 0 {
				byID[st.ID] = st.CaseID
			}
		}
		for i := range results {
			if c, ok := byID[results[i].ID]; ok {
				results[i].CaseID = &c
			}
		}
	}
	for _, st := range stored {
		if st.In.Then != nil {
			if err := st.In.Then(ctx, tx, st); err != nil {
				return nil, nil, err
			}
		}
	}
	// Rows already stored (a replay, or twice in this batch) answer with
	// the stored interaction and its customer.
	for i := range results {
		r := &results[i]
		if r.ID == 0 || !skipped[r.ID] {
			continue
		}
		in := preps[i].in
		r.Duplicate = true
		err := tx.QueryRow(ctx, `SELECT i.id, c.root_id FROM interactions i JOIN customers c ON c.id = i.customer_id
			WHERE i.source = ? AND i.external_id = ?`, in.Source, in.ExternalID).Scan(&r.ID, &r.CustomerID)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the stored duplicate: %w", err)
		}
	}
	return results, stored, nil
}

func (s *Service) recordOne(ctx context.Context, tx *store.Tx, p *prepared, cps map[id.ID]bool, known *customer.Known, ins *inserts, now time.Time) (Result, error) {
	in := p.in
	// Identify-only events are deduplicated here; interactions by the
	// unique index on insert (a replay resolves to the same customer, so
	// resolving it again is harmless and saves a lookup on every event).
	if in.ExternalID != "" && in.IdentifyOnly {
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM processed_events WHERE source = ? AND message_id = ?", in.Source, in.ExternalID).Scan(&n); err != nil {
			return Result{}, err
		}
		if n > 0 {
			return Result{Duplicate: true}, nil
		}
	}
	if in.ContactPointID != 0 && !cps[in.ContactPointID] && !p.acked {
		var disabled sql.NullInt64
		err := tx.QueryRow(ctx, "SELECT disabled_at FROM contact_points WHERE id = ?", in.ContactPointID).Scan(&disabled)
		if errors.Is(err, sql.ErrNoRows) {
			return Result{}, errs.Invalidf("contact_point_id", "no contact point %s", in.ContactPointID)
		}
		if err != nil {
			return Result{}, err
		}
		if disabled.Valid {
			return Result{}, errs.Invalidf("contact_point_id", "contact point %s is disabled", in.ContactPointID)
		}
		cps[in.ContactPointID] = true
	}
	res, err := s.customers.Resolve(ctx, tx, customer.Evidence{
		Identifiers: p.idents, CustomerID: in.CustomerID, Traits: in.Traits,
		Source: in.Source, At: in.OccurredAt, Alias: p.alias, Known: known, Promised: p.promised,
	})
	if err != nil {
		return Result{}, err
	}
	out := Result{CustomerID: res.CustomerID}
	if in.IdentifyOnly {
		if in.ExternalID != "" {
			_, err := tx.Exec(ctx, "INSERT INTO processed_events (source, message_id, at) VALUES (?, ?, ?)", in.Source, in.ExternalID, now.UnixMicro())
			if err != nil {
				return out, err
			}
		}
		return out, nil
	}
	out.ID = tx.NewID()
	var ext, cp, value, currency any
	if in.ExternalID != "" {
		ext = in.ExternalID
	}
	if in.ContactPointID != 0 {
		cp = in.ContactPointID
	}
	currency = ""
	if in.Value != nil {
		value, currency = in.Value.Minor, in.Value.Currency
	}
	ins.add(out.ID, res.CustomerID, cp, in.Kind, in.Direction, in.OccurredAt.UnixMicro(),
		in.DurationMS, in.StaffID, in.StaffName, in.CaseID, in.Reason, in.Outcome, in.Subject, in.Content, in.Summary,
		in.Sentiment, in.Rating, value, currency, in.Campaign.Name, in.Campaign.Source, in.Campaign.Medium,
		in.Campaign.Term, in.Campaign.Content, in.PromoCode, in.JourneyStage, propertiesColumn(in.Properties), in.Source, ext, now.UnixMicro(), in.DeliveryStatus)
	return out, nil
}

const insertColumns = `id, customer_id, contact_point_id, kind, direction, occurred_at,
	duration_ms, staff_id, staff_name, case_id, reason, outcome, subject, content, summary, sentiment, rating,
	value_minor, currency, campaign, campaign_source, campaign_medium, campaign_term, campaign_content, promo_code,
	journey_stage, properties, source, external_id, received_at, delivery_status`

// nInsertColumns is the number of columns in insertColumns.
const nInsertColumns = 31

// rowsPerInsert bounds one multi-row INSERT (31 × 100 parameters is far
// below both databases' limits).
const rowsPerInsert = 100

// inserts gathers a batch's interaction rows so that they go to the
// database in a few multi-row INSERTs instead of one statement a row: one
// round trip per hundred rows on PostgreSQL, and less per-statement work on
// SQLite.
type inserts struct {
	args []any
	ids  []id.ID
}

func (b *inserts) add(args ...any) {
	b.ids = append(b.ids, args[0].(id.ID))
	b.args = append(b.args, args...)
}

// flush inserts the rows and returns the ids of those that were not stored
// because their (source, external_id) already was.
func (b *inserts) flush(ctx context.Context, tx *store.Tx) (map[id.ID]bool, error) {
	skipped := map[id.ID]bool{}
	for start := 0; start < len(b.ids); start += rowsPerInsert {
		end := min(start+rowsPerInsert, len(b.ids))
		n := end - start
		row := "(" + strings.TrimSuffix(strings.Repeat("?, ", nInsertColumns), ", ") + ")"
		q := "INSERT INTO interactions (" + insertColumns + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") +
			" ON CONFLICT (source, external_id) WHERE external_id IS NOT NULL DO NOTHING RETURNING id"
		rows, err := tx.Query(ctx, q, b.args[start*nInsertColumns:end*nInsertColumns]...)
		if err != nil {
			return nil, fmt.Errorf("storing interactions: %w", err)
		}
		stored := make(map[id.ID]bool, n)
		for rows.Next() {
			var v id.ID
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return nil, err
			}
			stored[v] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("storing interactions: %w", err)
		}
		for _, v := range b.ids[start:end] {
			if !stored[v] {
				skipped[v] = true
			}
		}
	}
	return skipped, nil
}

// Limits on one interaction's fields.
const (
	maxContent    = 256 << 10
	maxText       = 2000
	maxProperties = 32 << 10
)

func (s *Service) prepare(in *Input, now time.Time) (prepared, error) {
	p := prepared{in: in}
	var err error
	p.idents, err = s.customers.NormalizeAll("identifiers", in.Identifiers)
	if err != nil {
		return p, err
	}
	if len(p.idents) == 0 && in.CustomerID == 0 {
		if len(in.Identifiers) > 0 {
			return p, errs.Invalidf("identifiers", "every identifier given is a placeholder value (like null or anonymous); give a real one or customer_id")
		}
		return p, errs.Invalidf("identifiers", "give customer_id or at least one identifier")
	}
	if in.Alias != nil {
		a, err := s.customers.NormalizeAll("previousId", []customer.RawIdentifier{*in.Alias})
		if err != nil {
			return p, errs.Invalidf("previousId", "%v", err)
		}
		if len(a) == 1 {
			p.alias = &a[0]
		}
	}
	if in.Source == "" {
		in.Source = "api"
	}
	if len(in.Source) > 200 || len(in.ExternalID) > 200 {
		return p, errs.Invalidf("external_id", "source and external_id must be at most 200 bytes")
	}
	if in.OccurredAt.IsZero() {
		in.OccurredAt = now
	}
	in.OccurredAt = in.OccurredAt.UTC().Truncate(time.Microsecond)
	if in.OccurredAt.Year() < 1990 || in.OccurredAt.After(now.Add(24*time.Hour)) {
		return p, errs.Invalidf("occurred_at", "must be between 1990 and tomorrow, got %s", in.OccurredAt.Format(time.RFC3339))
	}
	if in.IdentifyOnly {
		return p, nil
	}
	if in.ContactPointID == 0 {
		return p, errs.Invalidf("contact_point_id", "is required")
	}
	if in.Kind == "" {
		return p, errs.Invalidf("kind", "is required, e.g. %s", strings.Join(Kinds[:6], ", "))
	}
	if !knownKind(in.Kind) {
		return p, errs.Invalidf("kind", "%q is not a kind: use lower-case letters, digits and _ (e.g. call, visit, purchase)", in.Kind)
	}
	switch in.Direction {
	case Inbound, Outbound, Passive:
	case "":
		in.Direction = Inbound
	default:
		return p, errs.Invalidf("direction", "must be inbound, outbound or passive")
	}
	if in.DurationMS != nil && *in.DurationMS < 0 {
		return p, errs.Invalidf("duration_ms", "must not be negative")
	}
	if in.Sentiment != nil && (*in.Sentiment < -1 || *in.Sentiment > 1) {
		return p, errs.Invalidf("sentiment", "must be between -1 and 1")
	}
	if in.Rating != nil && (*in.Rating < 0 || *in.Rating > 10) {
		return p, errs.Invalidf("rating", "must be between 0 and 10")
	}
	if in.Value != nil {
		if len(in.Value.Currency) != 3 || strings.ToUpper(in.Value.Currency) != in.Value.Currency {
			return p, errs.Invalidf("value.currency", "must be an ISO 4217 code like EUR or USD")
		}
	}
	if len(in.Content) > maxContent {
		return p, errs.Invalidf("content", "must be at most %d bytes", maxContent)
	}
	for _, f := range [...]struct{ name, v string }{{"subject", in.Subject}, {"summary", in.Summary}, {"reason", in.Reason},
		{"outcome", in.Outcome}, {"staff_name", in.StaffName}, {"campaign.name", in.Campaign.Name},
		{"campaign.source", in.Campaign.Source}, {"campaign.medium", in.Campaign.Medium}, {"promo_code", in.PromoCode},
		{"journey_stage", in.JourneyStage}} {
		if len(f.v) > maxText {
			return p, errs.Invalidf(f.name, "must be at most %d bytes", maxText)
		}
		if !utf8.ValidString(f.v) {
			return p, errs.Invalidf(f.name, "must be valid UTF-8")
		}
	}
	if !utf8.ValidString(in.Content) {
		return p, errs.Invalidf("content", "must be valid UTF-8")
	}
	if !noProperties(in.Properties) {
		if len(in.Properties) > maxProperties {
			return p, errs.Invalidf("properties", "must be at most %d bytes", maxProperties)
		}
		// Checked, not decoded: decoding into a map cost more than the
		// rest of the ingest path together, and encoding/json's checker
		// alone a tenth of the event API's CPU.
		if t := bytes.TrimLeft(in.Properties, " \t\r\n"); len(t) == 0 || t[0] != '{' || !jsonscan.Valid(t) {
			return p, errs.Invalidf("properties", "must be a JSON object")
		}
	}
	return p, nil
}

// propertiesColumn is what the properties column holds for checked
// properties: made when stored, since the journaled ingest checks a request
// well before it stores it.
func propertiesColumn(props json.RawMessage) string {
	if noProperties(props) {
		return "{}"
	}
	return string(props)
}

// noProperties tells whether an input came without properties.
func noProperties(props json.RawMessage) bool { return len(props) == 0 || string(props) == "null" }
