package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/secret"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Token is an API token as listed; the secret itself is never stored.
type Token struct {
	ID        id.ID      `json:"id"`
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	Hint      string     `json:"hint"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Service holds users, tokens and the audit log.
type Service struct {
	db  *store.DB
	now func() time.Time

	tokens   *secret.Cache[*Principal] // token hash → principal
	sessions *sessionCache             // desk sessions by token hash
}

// NewService returns the access service.
func NewService(db *store.DB) *Service {
	return &Service{db: db, now: time.Now, tokens: secret.NewCache[*Principal](5 * time.Second),
		sessions: &sessionCache{cache: secret.NewCache[*sessionEntry](sessionCacheTTL)}}
}

// TokenPrefix starts every API token, so that secret scanners can find leaked ones.
const TokenPrefix = "tp_"

// CreateToken issues a token. The secret is returned only here.
func (s *Service) CreateToken(ctx context.Context, name string, role Role, ttl time.Duration, actor string) (string, *Token, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return "", nil, errs.Invalidf("name", "must be 1 to 100 characters")
	}
	if _, ok := ParseRole(string(role)); !ok {
		return "", nil, errs.Invalidf("role", "unknown role %q; one of admin, supervisor, agent, staff, analyst, integration", role)
	}
	plain := secret.New(TokenPrefix)
	now := s.now().UTC().Truncate(time.Microsecond)
	t := &Token{Name: name, Role: role, Hint: secret.Hint(plain), CreatedAt: now}
	var expires any
	if ttl > 0 {
		e := now.Add(ttl)
		t.ExpiresAt = &e
		expires = e.UnixMicro()
	}
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		t.ID = tx.NewID()
		if _, err := tx.Exec(ctx, `INSERT INTO api_tokens (id, name, role, token_hash, hint, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, t.ID, name, string(role), secret.Hash(plain), t.Hint, now.UnixMicro(), expires); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, "token.create", "api_token", t.ID, map[string]any{"name": name, "role": role})
	})
	if err != nil {
		return "", nil, fmt.Errorf("creating token: %w", err)
	}
	return plain, t, nil
}

// ErrBadToken is returned for a token that is unknown, revoked or expired.
var ErrBadToken = fmt.Errorf("invalid, revoked or expired API token: %w", errs.ErrUnauthenticated)

// AuthenticateToken finds the principal of a bearer token. Lookups are cached
// for a few seconds: this runs on every API request.
func (s *Service) AuthenticateToken(ctx context.Context, plain string) (*Principal, error) {
	if !strings.HasPrefix(plain, TokenPrefix) || len(plain) > 200 {
		return nil, ErrBadToken
	}
	h := secret.Hash(plain)
	now := s.now()
	if p, ok, fresh := s.tokens.Get(h, now); fresh {
		if !ok {
			return nil, ErrBadToken
		}
		return p, nil
	}
	var p Principal
	var role string
	var expires sql.NullInt64
	err := s.db.QueryRow(ctx, `SELECT id, name, role, expires_at FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL`, h).
		Scan(&p.ID, &p.Name, &role, &expires)
	var found *Principal
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, err
	case expires.Valid && now.UnixMicro() >= expires.Int64:
	default:
		p.Kind, p.Role = "token", Role(role)
		found = &p
	}
	s.tokens.Put(h, found, found != nil, now)
	if found == nil {
		return nil, ErrBadToken
	}
	return found, nil
}

// ListTokens lists the tokens, newest first.
func (s *Service) ListTokens(ctx context.Context) ([]*Token, error) {
	rows, err := s.db.Query(ctx, "SELECT id, name, role, hint, created_at, expires_at, revoked_at FROM api_tokens ORDER BY id DESC")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Token{}
	for rows.Next() {
		var t Token
		var created int64
		var exp, rev sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Name, &t.Role, &t.Hint, &created, &exp, &rev); err != nil {
			return nil, err
		}
		t.CreatedAt = time.UnixMicro(created).UTC()
		t.ExpiresAt, t.RevokedAt = optTime(exp), optTime(rev)
		out = append(out, &t)
	}
	return out, rows.Err()
}

func optTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMicro(v.Int64).UTC()
	return &t
}

// RevokeToken stops a token from working (within the cache's few seconds on other nodes, at once on this one).
func (s *Service) RevokeToken(ctx context.Context, tokenID id.ID, actor string) error {
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := s.now()
		r, err := tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now.UnixMicro(), tokenID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errs.NotFoundf("active token %s", tokenID)
		}
		return audit(ctx, tx, now, actor, "token.revoke", "api_token", tokenID, nil)
	})
	if err == nil {
		s.tokens.Clear()
	}
	return err
}
