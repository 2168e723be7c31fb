package cases

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Note is an internal note on a case: seen by staff, never by the customer.
type Note struct {
	ID         id.ID     `json:"id"`
	CaseID     id.ID     `json:"case_id"`
	AuthorID   *id.ID    `json:"author_id"`
	AuthorName string    `json:"author_name"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// AddNote adds an internal note.
func (s *Service) AddNote(ctx context.Context, actor Actor, caseID id.ID, body string) (*Note, error) {
	var n *Note
	var c *Case
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		c, err = lockCase(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if c.MergedInto != nil {
			// Its notes went to the other case; one written here would be lost from view.
			return errs.Conflictf("case %s was merged into case %s; add the note there", c.ID, *c.MergedInto)
		}
		now := s.now().UTC()
		n, err = s.noteTx(ctx, tx, actor, caseID, body, now)
		if err != nil {
			return err
		}
		c.Version++
		_, err = tx.Exec(ctx, "UPDATE cases SET updated_at = ?, version = ? WHERE id = ?", now.UnixMicro(), c.Version, caseID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "case.note", c, map[string]any{"note_id": n.ID})
	return n, nil
}

func (s *Service) noteTx(ctx context.Context, tx *store.Tx, actor Actor, caseID id.ID, body string, now time.Time) (*Note, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return nil, errs.Invalidf("body", "is required")
	}
	if err := checkText("body", body, maxNote); err != nil {
		return nil, err
	}
	n := &Note{ID: tx.NewID(), CaseID: caseID, AuthorName: actor.Name, Body: body, CreatedAt: now}
	if actor.UserID != 0 {
		a := actor.UserID
		n.AuthorID = &a
	}
	_, err := tx.Exec(ctx, "INSERT INTO case_notes (id, case_id, author_id, author_name, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		n.ID, caseID, nullID(n.AuthorID), n.AuthorName, body, now.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("storing a note: %w", err)
	}
	if err := event(ctx, tx, caseID, now, actor, "note", map[string]any{"note_id": n.ID}); err != nil {
		return nil, err
	}
	return n, nil
}

// Notes lists a case's notes, oldest first.
func (s *Service) Notes(ctx context.Context, caseID id.ID) ([]*Note, error) {
	rows, err := s.db.Query(ctx, "SELECT id, case_id, author_id, author_name, body, created_at FROM case_notes WHERE case_id = ? ORDER BY created_at, id LIMIT 1000", caseID)
	if err != nil {
		return nil, fmt.Errorf("reading notes of case %s: %w", caseID, err)
	}
	defer rows.Close()
	out := []*Note{}
	for rows.Next() {
		var n Note
		var author sql.NullInt64
		var at int64
		if err := rows.Scan(&n.ID, &n.CaseID, &author, &n.AuthorName, &n.Body, &at); err != nil {
			return nil, err
		}
		n.AuthorID, n.CreatedAt = optID(author), micros(at)
		out = append(out, &n)
	}
	return out, rows.Err()
}
