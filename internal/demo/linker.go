package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// historyLinker stands in for the case service as the case linker of the
// interactions while Fill records the history (months of contacts recorded
// within seconds), and hands the conversations to the case service, which
// joins them to open cases or opens new ones by its own rules, in the
// recording transaction as always. Three things differ from live traffic:
//
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
//   - The case service stamps cases with the clock, and so would give months
//     of history one creation time and make every old case look fresh to the
//     join rule (which compares a contact's time with the case's last
//     activity). Demo data only: the linker sets created_at, updated_at and
//     the history entries of the cases it touched to the times of their
//     interactions, directly in SQL in the same transaction.
type historyLinker struct {
	cases *cases.Service
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
	var talk, answers []int
	for i := range stored {
		in := stored[i].In
		switch {
		case stored[i].CaseID != 0, in.Direction == interaction.Inbound && in.Reason != "" && conversation[in.Kind]:
			talk = append(talk, i)
		case in.Direction == interaction.Outbound && in.Reason != "" && (in.StaffName != "" || in.StaffID != nil):
			answers = append(answers, i)
		}
	}
	// The case service takes a case opened in this batch as active now, so
	// a batch spanning months would join a customer's contacts across the
	// join window. Contacts go to it a week at a time, each week's cases
	// dated before the next.
	slices.SortStableFunc(talk, func(a, b int) int { return stored[a].In.OccurredAt.Compare(stored[b].In.OccurredAt) })
	for len(talk) > 0 {
		n := 1
		for n < len(talk) && stored[talk[n]].In.OccurredAt.Sub(stored[talk[0]].In.OccurredAt) < 7*24*time.Hour {
			n++
		}
		if err := h.link(ctx, tx, stored, talk[:n]); err != nil {
			return err
		}
		talk = talk[n:]
	}
	// Answers after the contacts they answer (same batch or earlier).
	var found []int
	for _, i := range answers {
		in := stored[i].In
		var caseID id.ID
		var updated int64
		err := tx.QueryRow(ctx, `SELECT c.id, c.updated_at FROM cases c JOIN customers m ON m.id = c.customer_id
			WHERE m.root_id = (SELECT root_id FROM customers WHERE id = ?) AND c.reason = ? AND c.status IN ('new', 'open', 'waiting_on_customer', 'waiting_on_us')
			AND c.merged_into IS NULL AND c.created_at <= ? ORDER BY c.updated_at DESC, c.id DESC LIMIT 1`,
			stored[i].CustomerID, in.Reason, in.OccurredAt.UnixMicro()).Scan(&caseID, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("finding the case a demo answer belongs to: %w", err)
		}
		if in.OccurredAt.Sub(time.UnixMicro(updated)) > joinWindow {
			continue
		}
		stored[i].CaseID = caseID
		found = append(found, i)
	}
	return h.link(ctx, tx, stored, found)
}

// link hands stored[idx] to the case service and moves the cases it touched
// to the times of their interactions.
func (h historyLinker) link(ctx context.Context, tx *store.Tx, stored []interaction.Recorded, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	sub := make([]interaction.Recorded, len(idx))
	for k, i := range idx {
		sub[k] = stored[i]
	}
	// A customer recorded early in the batch may have been merged into
	// another by a later interaction of the batch: the case service looks
	// for open cases by the root it is given, so give it today's.
	if err := currentRoots(ctx, tx, sub); err != nil {
		return err
	}
	began := time.Now().UTC()
	if err := h.cases.LinkCases(ctx, tx, sub); err != nil {
		return err
	}
	opened := map[id.ID]bool{}
	var touched []id.ID
	for k, i := range idx {
		stored[i].CaseID, stored[i].CaseOpened = sub[k].CaseID, sub[k].CaseOpened
		c := sub[k].CaseID
		if c == 0 {
			continue
		}
		if _, seen := opened[c]; !seen {
			touched = append(touched, c)
			opened[c] = false
		}
		if sub[k].CaseOpened {
			opened[c] = true
		}
	}
	return backdateCases(ctx, tx, touched, opened, began)
}

// currentRoots replaces the customer of each interaction by the root of
// its group now.
func currentRoots(ctx context.Context, tx *store.Tx, recs []interaction.Recorded) error {
	var ids []any
	seen := map[id.ID]bool{}
	for _, r := range recs {
		if !seen[r.CustomerID] {
			seen[r.CustomerID] = true
			ids = append(ids, r.CustomerID)
		}
	}
	root := map[id.ID]id.ID{}
	rows, err := tx.Query(ctx, "SELECT id, root_id FROM customers WHERE id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+")", ids...)
	if err != nil {
		return fmt.Errorf("reading the customers of demo contacts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c, r id.ID
		if err := rows.Scan(&c, &r); err != nil {
			return err
		}
		root[c] = r
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range recs {
		if r, ok := root[recs[i].CustomerID]; ok {
			recs[i].CustomerID = r
		}
	}
	return nil
}

// backdateCases sets the last activity of the cases (and the creation of
// those just opened) to the times of their interactions, and their history
// entries written since began to the same times.
func backdateCases(ctx context.Context, tx *store.Tx, caseIDs []id.ID, opened map[id.ID]bool, began time.Time) error {
	if len(caseIDs) == 0 {
		return nil
	}
	all := make([]any, len(caseIDs))
	var fresh []any
	for i, c := range caseIDs {
		all[i] = c
		if opened[c] {
			fresh = append(fresh, c)
		}
	}
	in := func(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }
	if len(fresh) > 0 {
		_, err := tx.Exec(ctx, `UPDATE cases SET created_at = (SELECT MIN(i.occurred_at) FROM interactions i WHERE i.case_id = cases.id)
			WHERE id IN (`+in(len(fresh))+")", fresh...)
		if err != nil {
			return fmt.Errorf("dating demo cases: %w", err)
		}
	}
	_, err := tx.Exec(ctx, `UPDATE cases SET updated_at = (SELECT MAX(i.occurred_at) FROM interactions i WHERE i.case_id = cases.id)
		WHERE id IN (`+in(len(all))+")", all...)
	if err != nil {
		return fmt.Errorf("dating demo cases: %w", err)
	}
	// The service looked at the clocks at the wall clock, months after the
	// contacts: its warnings and breaches say nothing about the story. The
	// clocks of the cases that stay open are set when the cases are worked.
	_, err = tx.Exec(ctx, "DELETE FROM case_events WHERE case_id IN ("+in(len(all))+") AND at >= ? AND kind IN ('sla_warning', 'sla_breach')",
		append(all, began.UnixMicro())...)
	if err != nil {
		return fmt.Errorf("dating the history of demo cases: %w", err)
	}
	_, err = tx.Exec(ctx, `UPDATE case_events SET at = (SELECT CASE WHEN case_events.kind = 'created' THEN c.created_at ELSE c.updated_at END
		FROM cases c WHERE c.id = case_events.case_id) WHERE case_id IN (`+in(len(all))+") AND at >= ?", append(all, began.UnixMicro())...)
	if err != nil {
		return fmt.Errorf("dating the history of demo cases: %w", err)
	}
	return nil
}
