package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// storyClock is the case service's clock while Fill tells the story
// (cases.Service.SetClock): it says what time it is in the story, so that
// cases are opened, answered, resolved and noted at the times the story
// says, and their SLA clocks count from those times.
type storyClock struct{ micros atomic.Int64 }

func (c *storyClock) now() time.Time  { return time.UnixMicro(c.micros.Load()).UTC() }
func (c *storyClock) set(t time.Time) { c.micros.Store(t.UnixMicro()) }

// historyLinker stands in for the case service as the case linker of the
// interactions while Fill records the history, months of contacts within
// seconds, in batches of a thousand. It hands the conversations to the case
// service, which joins them to open cases or opens new ones by its own
// rules in the recording transaction, as always. What differs from live
// traffic:
//
//   - One contact at a time, with the story clock at the contact's time:
//     the case service takes "now" for the time a case was opened or last
//     active, and its join rule compares a contact's time with that.
//   - Only conversations go on cases: inbound calls, emails, chats,
//     messages, posts and visits coded with a contact reason. The demo's
//     purchases, payments, returns handed in, kiosk look-ups, financing
//     decisions, survey answers and public posts stay on the timeline only,
//     so that the inbox shows what a contact center works on rather than a
//     case per receipt.
//   - A staff member's answer on the customer's channel (an email reply, a
//     technician's repair visit) joins the customer's open case about the
//     same reason, the way the desk's reply does, so that cases have their
//     first responses.
type historyLinker struct {
	cases *cases.Service
	clock *storyClock
}

// conversation are the kinds of contact in which a customer asks for
// something; a return handed in or a financing decision is recorded with
// its reason, but asks nothing of the desk.
var conversation = map[string]bool{"call": true, "callback": true, "voicemail": true, "email": true, "chat": true,
	"message": true, "sms": true, "social_post": true, "visit": true, "kiosk_session": true}

// joinWindow is how far back an answer looks for the case it answers, the
// join rule's default window.
const joinWindow = time.Duration(14*24) * time.Hour

func (h historyLinker) LinkCases(ctx context.Context, tx *store.Tx, stored []interaction.Recorded) error {
	var todo []int
	for i := range stored {
		in := stored[i].In
		switch {
		case stored[i].CaseID != 0, in.Direction == interaction.Inbound && in.Reason != "" && conversation[in.Kind],
			in.Direction == interaction.Outbound && in.Reason != "" && (in.StaffName != "" || in.StaffID != nil):
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	// A customer recorded early in the batch may have been merged into
	// another by a later interaction of the batch: the case service looks
	// for open cases by the root it is given, so give it today's.
	roots, err := currentRoots(ctx, tx, stored, todo)
	if err != nil {
		return err
	}
	slices.SortStableFunc(todo, func(a, b int) int { return stored[a].In.OccurredAt.Compare(stored[b].In.OccurredAt) })
	for _, i := range todo {
		rec := stored[i]
		if r, ok := roots[rec.CustomerID]; ok {
			rec.CustomerID = r
		}
		in := rec.In
		if rec.CaseID == 0 && in.Direction == interaction.Outbound {
			c, err := answeredCase(ctx, tx, rec.CustomerID, in)
			if err != nil {
				return err
			}
			if c == 0 {
				continue
			}
			rec.CaseID = c
		}
		h.clock.set(in.OccurredAt)
		one := []interaction.Recorded{rec}
		if err := h.cases.LinkCases(ctx, tx, one); err != nil {
			return err
		}
		stored[i].CaseID, stored[i].CaseOpened = one[0].CaseID, one[0].CaseOpened
	}
	return nil
}

// answeredCase is the customer's open case about the reason of an answer,
// active within the join window before it; 0 when there is none.
func answeredCase(ctx context.Context, tx *store.Tx, root id.ID, in *interaction.Input) (id.ID, error) {
	var caseID id.ID
	var updated int64
	err := tx.QueryRow(ctx, `SELECT c.id, c.updated_at FROM cases c JOIN customers m ON m.id = c.customer_id
		WHERE m.root_id = ? AND c.reason = ? AND c.status IN ('new', 'open', 'waiting_on_customer', 'waiting_on_us')
		AND c.merged_into IS NULL AND c.created_at <= ? ORDER BY c.updated_at DESC, c.id DESC LIMIT 1`,
		root, in.Reason, in.OccurredAt.UnixMicro()).Scan(&caseID, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("finding the case a demo answer belongs to: %w", err)
	}
	if in.OccurredAt.Sub(time.UnixMicro(updated)) > joinWindow {
		return 0, nil
	}
	return caseID, nil
}

// currentRoots maps the customers of stored[idx] to the roots of their
// groups now.
func currentRoots(ctx context.Context, tx *store.Tx, stored []interaction.Recorded, idx []int) (map[id.ID]id.ID, error) {
	var ids []any
	seen := map[id.ID]bool{}
	for _, i := range idx {
		if c := stored[i].CustomerID; !seen[c] {
			seen[c] = true
			ids = append(ids, c)
		}
	}
	rows, err := tx.Query(ctx, "SELECT id, root_id FROM customers WHERE id IN ("+store.Placeholders(len(ids))+")", ids...)
	if err != nil {
		return nil, fmt.Errorf("reading the customers of demo contacts: %w", err)
	}
	defer rows.Close()
	root := map[id.ID]id.ID{}
	for rows.Next() {
		var c, r id.ID
		if err := rows.Scan(&c, &r); err != nil {
			return nil, err
		}
		root[c] = r
	}
	return root, rows.Err()
}
