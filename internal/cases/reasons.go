package cases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Reason is one entry of the contact-reason taxonomy: why customers get in
// touch (delivery, shipping charges, billing, repair, ...). Codes are
// dotted paths, so "billing.refund" sits under "billing".
type Reason struct {
	Code        string `json:"code"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Position    int    `json:"position"`
	Disabled    bool   `json:"disabled"`
}

var reasonCode = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}(\.[a-z0-9][a-z0-9_-]{0,39}){0,3}$`)

// Reasons lists the taxonomy in display order.
func (s *Service) Reasons(ctx context.Context, includeDisabled bool) ([]Reason, error) {
	q := "SELECT code, name, description, position, disabled_at IS NOT NULL FROM contact_reasons"
	if !includeDisabled {
		q += " WHERE disabled_at IS NULL"
	}
	rows, err := s.db.Query(ctx, q+" ORDER BY position, code")
	if err != nil {
		return nil, fmt.Errorf("reading contact reasons: %w", err)
	}
	defer rows.Close()
	out := []Reason{}
	for rows.Next() {
		var r Reason
		if err := rows.Scan(&r.Code, &r.Name, &r.Description, &r.Position, &r.Disabled); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveReason adds a reason or changes the one with the same code.
func (s *Service) SaveReason(ctx context.Context, r Reason) (Reason, error) {
	r.Code = strings.TrimSpace(r.Code)
	if !reasonCode.MatchString(r.Code) {
		return r, errs.Invalidf("code", "must be lower-case letters, digits, - or _, in up to four dotted parts (e.g. billing.refund)")
	}
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return r, errs.Invalidf("name", "is required")
	}
	if err := checkText("name", r.Name, 100); err != nil {
		return r, err
	}
	if err := checkText("description", r.Description, 1000); err != nil {
		return r, err
	}
	now := s.now().UTC().UnixMicro()
	var disabled any
	if r.Disabled {
		disabled = now
	}
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO contact_reasons (code, name, description, position, disabled_at, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (code) DO UPDATE SET name = excluded.name, description = excluded.description, position = excluded.position,
			disabled_at = excluded.disabled_at`, r.Code, r.Name, r.Description, r.Position, disabled, now)
		return err
	})
	return r, err
}

// checkReason accepts "" (not known yet) or an enabled reason code.
func (s *Service) checkReason(ctx context.Context, q querier, code string) error {
	if code == "" {
		return nil
	}
	var disabled sql.NullInt64
	err := q.QueryRow(ctx, "SELECT disabled_at FROM contact_reasons WHERE code = ?", code).Scan(&disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.Invalidf("reason", "%q is not a contact reason; see GET /api/v1/reasons", code)
	}
	if err != nil {
		return err
	}
	if disabled.Valid {
		return errs.Invalidf("reason", "%q is no longer in use", code)
	}
	return nil
}
