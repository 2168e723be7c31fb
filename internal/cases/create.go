package cases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// NewCase is what opening a case by hand takes.
type NewCase struct {
	CustomerID     id.ID    `json:"customer_id"`
	Subject        string   `json:"subject"`
	Reason         string   `json:"reason"`
	Status         string   `json:"status"`
	Priority       string   `json:"priority"`
	TeamID         *id.ID   `json:"team_id"`
	OwnerID        *id.ID   `json:"owner_id"`
	ContactPointID *id.ID   `json:"contact_point_id"`
	Tags           []string `json:"tags"`
	// InteractionIDs are moved onto the new case.
	InteractionIDs []id.ID `json:"interaction_ids"`
	// Note is an optional first internal note.
	Note string `json:"note"`
}

// Create opens a case by hand.
func (s *Service) Create(ctx context.Context, actor Actor, in NewCase) (*Case, error) {
	if in.CustomerID == 0 {
		return nil, errs.Invalidf("customer_id", "is required")
	}
	var c *Case
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var root id.ID
		if err := tx.QueryRow(ctx, "SELECT root_id FROM customers WHERE id = ?", in.CustomerID).Scan(&root); err != nil {
			return errs.Invalidf("customer_id", "no customer %s", in.CustomerID)
		}
		in.CustomerID = root
		var err error
		c, err = s.createTx(ctx, tx, actor, in, s.now().UTC())
		if err != nil {
			return err
		}
		if len(in.InteractionIDs) > 0 {
			// moveTx names the field interaction_ids itself.
			if err := s.moveTx(ctx, tx, actor, in.InteractionIDs, c, s.now().UTC()); err != nil {
				return err
			}
		}
		if in.Note != "" {
			if _, err := s.noteTx(ctx, tx, actor, c.ID, in.Note, s.now().UTC()); err != nil {
				var inv *errs.Invalid
				if errors.As(err, &inv) {
					return errs.Invalidf("note", "%s", inv.Reason)
				}
				return err
			}
		}
		c, err = get(ctx, tx, c.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "case.created", c, nil)
	return c, nil
}

// createTx validates and inserts a case for a customer root.
func (s *Service) createTx(ctx context.Context, tx *store.Tx, actor Actor, in NewCase, now time.Time) (*Case, error) {
	in.Subject = strings.TrimSpace(in.Subject)
	if in.Subject == "" {
		return nil, errs.Invalidf("subject", "is required")
	}
	if err := checkText("subject", in.Subject, maxSubject); err != nil {
		return nil, err
	}
	if in.Status == "" {
		in.Status = New
	}
	if !slices.Contains(OpenStatuses, in.Status) {
		return nil, errs.Invalidf("status", "a new case must be one of %v", OpenStatuses)
	}
	if in.Priority == "" {
		in.Priority = DefaultPriority
	}
	if !slices.Contains(Priorities, in.Priority) {
		return nil, errs.Invalidf("priority", "must be one of %v", Priorities)
	}
	if err := s.checkReason(ctx, tx, in.Reason); err != nil {
		return nil, err
	}
	tags, err := normalizeTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if in.TeamID != nil && *in.TeamID == 0 {
		in.TeamID = nil
	}
	if in.OwnerID != nil && *in.OwnerID == 0 {
		in.OwnerID = nil
	}
	if in.TeamID != nil {
		if err := exists(ctx, tx, "teams", *in.TeamID, "team_id"); err != nil {
			return nil, err
		}
	}
	if in.OwnerID != nil {
		if err := activeUser(ctx, tx, *in.OwnerID); err != nil {
			return nil, err
		}
	}
	channel := ""
	if in.ContactPointID != nil && *in.ContactPointID != 0 {
		info, err := s.contactPoint(ctx, tx, *in.ContactPointID)
		if err != nil {
			return nil, err
		}
		channel = info.kind
	} else {
		in.ContactPointID = nil
	}
	c := &Case{
		ID: tx.NewID(), CustomerID: in.CustomerID, Subject: in.Subject, Reason: in.Reason, Status: in.Status,
		Priority: in.Priority, TeamID: in.TeamID, OwnerID: in.OwnerID, ContactPointID: in.ContactPointID,
		Channel: channel, Tags: tags, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	r, err := s.rules(ctx, tx)
	if err != nil {
		return nil, err
	}
	p, cal := r.policyFor(c.Priority, c.TeamID)
	startClocks(c, p, cal)
	if c.Status == WaitingCustomer {
		pauseClocks(c, now)
	}
	checkAt, _ := evaluate(c, p, cal, now)
	tagsJSON, _ := json.Marshal(tags)
	_, err = tx.Exec(ctx, `INSERT INTO cases (id, customer_id, subject, reason, status, priority, team_id, owner_id, contact_point_id,
		channel, tags, created_at, updated_at, sla_policy_id, first_response_due, next_response_due, resolution_due, sla_state,
		sla_paused_at, sla_check_at, is_open) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.CustomerID, c.Subject, c.Reason, c.Status, c.Priority, nullID(c.TeamID), nullID(c.OwnerID),
		nullID(c.ContactPointID), c.Channel, string(tagsJSON), now.UnixMicro(), now.UnixMicro(), nullID(c.SLA.PolicyID),
		nullTime(c.SLA.FirstResponseDue), nullTime(c.SLA.NextResponseDue), nullTime(c.SLA.ResolutionDue), c.SLA.State,
		nullTime(c.SLA.PausedAt), nullTime(checkAt), openFlag(c.Status))
	if err != nil {
		return nil, fmt.Errorf("storing a case: %w", err)
	}
	if err := writeTags(ctx, tx, c.ID, nil, tags); err != nil {
		return nil, err
	}
	if err := count(ctx, tx, caseShape{}, shapeOf(c)); err != nil {
		return nil, err
	}
	detail := map[string]any{"subject": c.Subject, "status": c.Status, "priority": c.Priority}
	if c.Reason != "" {
		detail["reason"] = c.Reason
	}
	if c.Channel != "" {
		detail["channel"] = c.Channel
	}
	if err := event(ctx, tx, c.ID, now, actor, "created", detail); err != nil {
		return nil, err
	}
	if c.OwnerID != nil {
		if err := event(ctx, tx, c.ID, now, actor, "assigned", map[string]any{"to": *c.OwnerID}); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func activeUser(ctx context.Context, tx *store.Tx, userID id.ID) error {
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM users WHERE id = ? AND disabled_at IS NULL", userID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.Invalidf("owner_id", "no active user %s", userID)
	}
	return nil
}

func writeTags(ctx context.Context, tx *store.Tx, caseID id.ID, old, next []string) error {
	for _, t := range old {
		if !slices.Contains(next, t) {
			if _, err := tx.Exec(ctx, "DELETE FROM case_tags WHERE tag = ? AND case_id = ?", t, caseID); err != nil {
				return err
			}
		}
	}
	for _, t := range next {
		if !slices.Contains(old, t) {
			if _, err := tx.Exec(ctx, "INSERT INTO case_tags (tag, case_id) VALUES (?, ?)", t, caseID); err != nil {
				return err
			}
		}
	}
	return nil
}

// lockCase reads a case for change; on PostgreSQL the row stays locked
// until the transaction ends, so concurrent changes apply one after the other.
func lockCase(ctx context.Context, tx *store.Tx, caseID id.ID) (*Case, error) {
	q := "SELECT " + caseColumns + " FROM cases c WHERE c.id = ?"
	if tx.Dialect() == store.Postgres {
		q += " FOR UPDATE"
	}
	c, err := scanCase(tx.QueryRow(ctx, q, caseID))
	if err != nil {
		if errors.Is(err, errNoRows) {
			return nil, errs.NotFoundf("case %s", caseID)
		}
		return nil, fmt.Errorf("reading case %s: %w", caseID, err)
	}
	return c, nil
}
