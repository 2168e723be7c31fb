package customer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/identifier"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Merge is the record of one merge.
type Merge struct {
	ID         id.ID                  `json:"id"`
	SurvivorID id.ID                  `json:"survivor_id"`
	MergedID   id.ID                  `json:"merged_id"`
	Cause      string                 `json:"cause"` // identifier, alias, manual
	Identifier *identifier.Identifier `json:"identifier,omitempty"`
	Source     string                 `json:"source,omitempty"`
	Actor      string                 `json:"actor,omitempty"`
	MergedAt   time.Time              `json:"merged_at"`
	UndoneAt   *time.Time             `json:"undone_at,omitempty"`
	UndoneBy   string                 `json:"undone_by,omitempty"`
}

// MergeManually merges customer b into customer a on a person's word. Limits
// do not apply (a person checked), blocks from an earlier undo do: undo is
// the way back, not a loop.
func (s *Service) MergeManually(ctx context.Context, a, b id.ID, actor string) (*Merge, error) {
	var mergeID id.ID
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var ra, rb id.ID
		if err := tx.QueryRow(ctx, "SELECT root_id FROM customers WHERE id = ?", a).Scan(&ra); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errs.NotFoundf("customer %s", a)
			}
			return err
		}
		if err := tx.QueryRow(ctx, "SELECT root_id FROM customers WHERE id = ?", b).Scan(&rb); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errs.Invalidf("customer_id", "no customer %s", b)
			}
			return err
		}
		if ra == rb {
			return errs.Conflictf("customers %s and %s are already one", a, b)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM customer_merge_blocks WHERE (a = ? AND b = ?) OR (a = ? AND b = ?)", ra, rb, rb, ra); err != nil {
			return err
		}
		if err := s.merge(ctx, tx, ra, rb, "manual", identifier.Identifier{}, "", actor, s.now()); err != nil {
			return err
		}
		if err := tx.AddCounter(ctx, counterName, -1); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT MAX(id) FROM customer_merges WHERE survivor_id = ? AND merged_id = ?", ra, rb).Scan(&mergeID)
	})
	if err != nil {
		return nil, err
	}
	return s.getMerge(ctx, mergeID)
}

// Merges lists the merges that made the customer's group, newest first,
// including undone ones.
func (s *Service) Merges(ctx context.Context, customerID id.ID) ([]*Merge, error) {
	_, members, err := s.Members(ctx, customerID)
	if err != nil {
		return nil, err
	}
	in := store.Placeholders(len(members))
	args := make([]any, 0, 2*len(members))
	for _, m := range members {
		args = append(args, m)
	}
	args = append(args, args...)
	rows, err := s.db.Query(ctx, "SELECT "+mergeColumns+" FROM customer_merges WHERE survivor_id IN ("+in+") OR merged_id IN ("+in+") ORDER BY id DESC", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Merge{}
	for rows.Next() {
		mg, err := scanMerge(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, mg)
	}
	return out, rows.Err()
}

const mergeColumns = "id, survivor_id, merged_id, cause, cause_kind, cause_value, source, actor, merged_at, undone_at, undone_by"

func scanMerge(r interface{ Scan(...any) error }) (*Merge, error) {
	var m Merge
	var kind, value string
	var at int64
	var undone sql.NullInt64
	if err := r.Scan(&m.ID, &m.SurvivorID, &m.MergedID, &m.Cause, &kind, &value, &m.Source, &m.Actor, &at, &undone, &m.UndoneBy); err != nil {
		return nil, err
	}
	if kind != "" {
		m.Identifier = &identifier.Identifier{Kind: identifier.Kind(kind), Value: value}
	}
	m.MergedAt = time.UnixMicro(at).UTC()
	if undone.Valid {
		t := time.UnixMicro(undone.Int64).UTC()
		m.UndoneAt = &t
	}
	return &m, nil
}

func (s *Service) getMerge(ctx context.Context, mergeID id.ID) (*Merge, error) {
	m, err := scanMerge(s.db.QueryRow(ctx, "SELECT "+mergeColumns+" FROM customer_merges WHERE id = ?", mergeID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("merge %s", mergeID)
	}
	return m, err
}

// UndoMerge separates the customers a merge joined. Each keeps its own
// identifiers, traits and interactions, as before the merge; those merged
// into the separated customer since go with it. The pair is blocked from
// merging again automatically.
func (s *Service) UndoMerge(ctx context.Context, mergeID id.ID, actor string) (*Merge, error) {
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		m, err := scanMerge(tx.QueryRow(ctx, "SELECT "+mergeColumns+" FROM customer_merges WHERE id = ?", mergeID))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFoundf("merge %s", mergeID)
		}
		if err != nil {
			return err
		}
		if m.UndoneAt != nil {
			return errs.Conflictf("merge %s was already undone", mergeID)
		}
		now := s.now()
		r, err := tx.Exec(ctx, "UPDATE customers SET merged_into = NULL, merged_at = NULL, updated_at = ? WHERE id = ? AND merged_into = ?",
			now.UnixMicro(), m.MergedID, m.SurvivorID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return errs.Conflictf("customer %s is no longer merged into %s", m.MergedID, m.SurvivorID)
		}
		if err := tx.AddCounter(ctx, counterName, 1); err != nil {
			return err
		}
		// The separated customer and everything merged into it since become a group of their own again.
		if _, err := tx.Exec(ctx, `WITH RECURSIVE sub(id) AS (
				SELECT CAST(? AS BIGINT)
				UNION ALL SELECT c.id FROM customers c JOIN sub ON c.merged_into = sub.id)
			UPDATE customers SET root_id = ? WHERE id IN (SELECT id FROM sub)`, m.MergedID, m.MergedID); err != nil {
			return fmt.Errorf("separating customer %s: %w", m.MergedID, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO customer_merge_blocks (a, b, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			m.SurvivorID, m.MergedID, now.UnixMicro()); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE customer_merges SET undone_at = ?, undone_by = ? WHERE id = ?", now.UnixMicro(), actor, mergeID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.getMerge(ctx, mergeID)
}
