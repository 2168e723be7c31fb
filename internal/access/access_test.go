package access_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

func TestTokensAreHashedRevocableAndExpire(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := access.NewService(db)
		plain, tok, err := s.CreateToken(ctx, "crm", access.Integration, 0, "test")
		if err != nil {
			t.Fatal(err)
		}
		var stored string
		db.QueryRow(ctx, "SELECT token_hash FROM api_tokens WHERE id = ?", tok.ID).Scan(&stored)
		if stored == "" || strings.Contains(stored, plain) || len(stored) != 64 {
			t.Fatalf("stored token form %q must be a SHA-256 hex digest, not the token", stored)
		}
		p, err := s.AuthenticateToken(ctx, plain)
		if err != nil || p.Role != access.Integration || p.Name != "crm" {
			t.Fatalf("authenticate: %+v %v", p, err)
		}
		if err := s.RevokeToken(ctx, tok.ID, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthenticateToken(ctx, plain); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("revoked token still works: %v", err)
		}
		short, _, err := s.CreateToken(ctx, "short", access.Analyst, time.Millisecond, "test")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		if _, err := s.AuthenticateToken(ctx, short); err == nil {
			t.Fatal("expired token still works")
		}
		if _, _, err := s.CreateToken(ctx, "x", "wizard", 0, "test"); err == nil {
			t.Fatal("unknown role accepted")
		}
		var n int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action IN ('token.create', 'token.revoke')").Scan(&n)
		if n != 3 {
			t.Fatalf("%d audit entries, want 3", n)
		}
	})
}

func TestUsersSignInWithArgon2id(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := access.NewService(db)
		if _, err := s.CreateUser(ctx, "Ann@Example.com", "Ann", access.Agent, "short", "test"); err == nil {
			t.Fatal("short password accepted")
		}
		u, err := s.CreateUser(ctx, "Ann@Example.com", "Ann", access.Agent, "correct horse battery", "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, "ann@example.com", "Ann 2", access.Agent, "correct horse battery", "test"); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("duplicate email: %v", err)
		}
		var hash string
		db.QueryRow(ctx, "SELECT password_hash FROM users WHERE id = ?", u.ID).Scan(&hash)
		if !strings.HasPrefix(hash, "$argon2id$") {
			t.Fatalf("password stored as %q", hash)
		}
		if _, err := s.SignIn(ctx, "ANN@example.com", "correct horse battery"); err != nil {
			t.Fatalf("sign in: %v", err)
		}
		if _, err := s.SignIn(ctx, "ann@example.com", "wrong horse battery"); !errors.Is(err, access.ErrBadSignIn) {
			t.Fatalf("wrong password: %v", err)
		}
		if _, err := s.SignIn(ctx, "nobody@example.com", "correct horse battery"); !errors.Is(err, access.ErrBadSignIn) {
			t.Fatalf("unknown user: %v", err)
		}
		if err := s.SetPassword(ctx, u.ID, "another long password", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SignIn(ctx, "ann@example.com", "correct horse battery"); err == nil {
			t.Fatal("old password still works")
		}
	})
}

func TestRolesGrantOnlyTheirPermissions(t *testing.T) {
	if access.Analyst.Can(access.WriteInteractions) || access.Agent.Can(access.ManageAccess) || access.Staff.Can(access.MergeCustomers) {
		t.Fatal("a role has a permission it must not have")
	}
	if !access.Admin.Can(access.ManageAccess) || !access.Integration.Can(access.WriteInteractions) {
		t.Fatal("a role lacks a permission it needs")
	}
}
