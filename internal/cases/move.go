package cases

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// MoveInteractions moves interactions onto another case of the same customer.
func (s *Service) MoveInteractions(ctx context.Context, actor Actor, interactionIDs []id.ID, toCase id.ID) (*Case, error) {
	if len(interactionIDs) == 0 {
		return nil, errs.Invalidf("interaction_ids", "name at least one interaction")
	}
	var c *Case
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		c, err = lockCase(ctx, tx, toCase)
		if err != nil {
			return err
		}
		if err := s.moveTx(ctx, tx, actor, interactionIDs, c, s.now().UTC()); err != nil {
			return err
		}
		c, err = get(ctx, tx, toCase)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "case.updated", c, map[string]any{"changes": []string{"interactions"}})
	return c, nil
}

func (s *Service) moveTx(ctx context.Context, tx *store.Tx, actor Actor, interactionIDs []id.ID, target *Case, now time.Time) error {
	if target.MergedInto != nil {
		return errs.Conflictf("case %s was merged into case %s", target.ID, *target.MergedInto)
	}
	if len(interactionIDs) > 500 {
		return errs.Invalidf("interaction_ids", "at most 500 at once")
	}
	var targetRoot id.ID
	if err := tx.QueryRow(ctx, "SELECT root_id FROM customers WHERE id = ?", target.CustomerID).Scan(&targetRoot); err != nil {
		return err
	}
	args := make([]any, len(interactionIDs))
	for i, v := range interactionIDs {
		args[i] = v
	}
	rows, err := tx.Query(ctx, `SELECT i.id, i.case_id, m.root_id FROM interactions i JOIN customers m ON m.id = i.customer_id
		WHERE i.id IN (`+store.Placeholders(len(args))+")", args...)
	if err != nil {
		return err
	}
	from := map[id.ID]id.ID{}
	sources := map[id.ID]bool{}
	for rows.Next() {
		var iid, root id.ID
		var cur sql.NullInt64
		if err := rows.Scan(&iid, &cur, &root); err != nil {
			rows.Close()
			return err
		}
		if root != targetRoot {
			rows.Close()
			return errs.Invalidf("interaction_ids", "interaction %s belongs to another customer than case %s", iid, target.ID)
		}
		from[iid] = id.ID(cur.Int64)
		if cur.Valid && id.ID(cur.Int64) != target.ID {
			sources[id.ID(cur.Int64)] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, v := range interactionIDs {
		if _, ok := from[v]; !ok {
			return errs.Invalidf("interaction_ids", "no interaction %s", v)
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE interactions SET case_id = ? WHERE id IN ("+store.Placeholders(len(args))+")", append([]any{target.ID}, args...)...); err != nil {
		return fmt.Errorf("moving interactions: %w", err)
	}
	for _, v := range interactionIDs {
		if from[v] == target.ID {
			continue
		}
		d := map[string]any{"interaction_id": v, "to": target.ID}
		if from[v] != 0 {
			d["from"] = from[v]
			if err := event(ctx, tx, from[v], now, actor, "interaction_moved_out", d); err != nil {
				return err
			}
		}
		if err := event(ctx, tx, target.ID, now, actor, "interaction_moved_in", d); err != nil {
			return err
		}
	}
	for src := range sources {
		if err := refreshCounts(ctx, tx, src, now); err != nil {
			return err
		}
	}
	return refreshCounts(ctx, tx, target.ID, now)
}

// refreshCounts recomputes a case's interaction count and last contacts
// after interactions moved.
func refreshCounts(ctx context.Context, tx *store.Tx, caseID id.ID, now time.Time) error {
	var n int
	var in, out sql.NullInt64
	err := tx.QueryRow(ctx, `SELECT COUNT(*), MAX(CASE WHEN direction = 'inbound' THEN occurred_at END),
		MAX(CASE WHEN direction = 'outbound' THEN occurred_at END) FROM interactions WHERE case_id = ?`, caseID).Scan(&n, &in, &out)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "UPDATE cases SET interaction_count = ?, last_inbound_at = ?, last_outbound_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
		n, nullInt(in), nullInt(out), now.UnixMicro(), caseID)
	return err
}

func nullInt(v sql.NullInt64) any {
	if !v.Valid {
		return nil
	}
	return v.Int64
}

// Merge folds case from into case into: its interactions, notes and tags
// move, and it is closed pointing at the case it was merged into.
func (s *Service) Merge(ctx context.Context, actor Actor, from, into id.ID) (*Case, error) {
	if from == into {
		return nil, errs.Invalidf("into", "a case cannot be merged into itself")
	}
	var target, source *Case
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		// Lock in id order so two opposite merges cannot deadlock.
		first, second := min(from, into), max(from, into)
		a, err := lockCase(ctx, tx, first)
		if err != nil {
			return err
		}
		b, err := lockCase(ctx, tx, second)
		if err != nil {
			return err
		}
		source, target = a, b
		if a.ID != from {
			source, target = b, a
		}
		if source.MergedInto != nil || target.MergedInto != nil {
			return errs.Conflictf("one of the cases was already merged")
		}
		var rootA, rootB id.ID
		if err := tx.QueryRow(ctx, "SELECT root_id FROM customers WHERE id = ?", source.CustomerID).Scan(&rootA); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "SELECT root_id FROM customers WHERE id = ?", target.CustomerID).Scan(&rootB); err != nil {
			return err
		}
		if rootA != rootB {
			return errs.Invalidf("into", "cases of different customers cannot be merged; merge the customers first")
		}
		now := s.now().UTC()
		if _, err := tx.Exec(ctx, "UPDATE interactions SET case_id = ? WHERE case_id = ?", target.ID, source.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE case_notes SET case_id = ? WHERE case_id = ?", target.ID, source.ID); err != nil {
			return err
		}
		tags, err := normalizeTags(append(slices.Clone(target.Tags), source.Tags...))
		if err != nil {
			tags = target.Tags
		}
		if _, err := s.updateTx(ctx, tx, actor, target, Patch{Tags: &tags}, now); err != nil {
			return err
		}
		closed, resolution := Closed, fmt.Sprintf("Merged into case %s", target.ID)
		if _, err := s.updateTx(ctx, tx, actor, source, Patch{Status: &closed, Resolution: &resolution}, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE cases SET merged_into = ? WHERE id = ?", target.ID, source.ID); err != nil {
			return err
		}
		if err := event(ctx, tx, source.ID, now, actor, "merged_into", map[string]any{"case_id": target.ID}); err != nil {
			return err
		}
		if err := event(ctx, tx, target.ID, now, actor, "merged_from", map[string]any{"case_id": source.ID, "subject": source.Subject}); err != nil {
			return err
		}
		if err := refreshCounts(ctx, tx, source.ID, now); err != nil {
			return err
		}
		if err := refreshCounts(ctx, tx, target.ID, now); err != nil {
			return err
		}
		if source, err = get(ctx, tx, source.ID); err != nil {
			return err
		}
		target, err = get(ctx, tx, target.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "case.updated", source, map[string]any{"changes": []string{"merged_into"}})
	s.publish(ctx, "case.updated", target, map[string]any{"changes": []string{"merged_from"}})
	return target, nil
}

// Split moves some interactions of a case onto a new case of the same
// customer, with the same reason, priority, team and owner.
func (s *Service) Split(ctx context.Context, actor Actor, caseID id.ID, interactionIDs []id.ID, subject string) (*Case, error) {
	if len(interactionIDs) == 0 {
		return nil, errs.Invalidf("interaction_ids", "name at least one interaction to split off")
	}
	var c *Case
	var orig *Case
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		orig, err = lockCase(ctx, tx, caseID)
		if err != nil {
			return err
		}
		for _, v := range interactionIDs {
			var cur sql.NullInt64
			if err := tx.QueryRow(ctx, "SELECT case_id FROM interactions WHERE id = ?", v).Scan(&cur); err != nil || id.ID(cur.Int64) != caseID {
				return errs.Invalidf("interaction_ids", "interaction %s is not on case %s", v, caseID)
			}
		}
		now := s.now().UTC()
		c, err = s.createTx(ctx, tx, actor, NewCase{CustomerID: orig.CustomerID, Subject: subject, Reason: orig.Reason,
			Priority: orig.Priority, TeamID: orig.TeamID, OwnerID: orig.OwnerID, ContactPointID: orig.ContactPointID, Tags: orig.Tags, Status: Open}, now)
		if err != nil {
			return err
		}
		if err := s.moveTx(ctx, tx, actor, interactionIDs, c, now); err != nil {
			return err
		}
		if err := event(ctx, tx, caseID, now, actor, "split", map[string]any{"case_id": c.ID, "interactions": len(interactionIDs)}); err != nil {
			return err
		}
		if err := event(ctx, tx, c.ID, now, actor, "split_from", map[string]any{"case_id": caseID}); err != nil {
			return err
		}
		if c, err = get(ctx, tx, c.ID); err != nil {
			return err
		}
		orig, err = get(ctx, tx, caseID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "case.created", c, nil)
	s.publish(ctx, "case.updated", orig, map[string]any{"changes": []string{"interactions"}})
	return c, nil
}
