package access_test

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

const goodPassword = "correct horse battery"

func newUser(t *testing.T, s *access.Service, email string, role access.Role) *access.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), email, strings.Split(email, "@")[0], role, goodPassword, "test")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func fieldOf(err error) string {
	var inv *errs.Invalid
	if errors.As(err, &inv) {
		return inv.Field
	}
	return ""
}

func auditCount(t *testing.T, db *store.DB, action string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_log WHERE action = ?", action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSessionSignInLookupAndSignOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := access.NewService(db)
		u := newUser(t, s, "ann@example.com", access.Agent)

		token, sess, err := s.StartSession(ctx, u.ID, "Mozilla/5.0 \xff\x00test", "192.0.2.7")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(token, access.SessionPrefix) || len(token) < 40 {
			t.Fatalf("token %q is not a long random secret", token)
		}
		if sess.User.ID != u.ID || sess.User.Email != "ann@example.com" || sess.User.Role != access.Agent || sess.CSRF != access.CSRFToken(token) {
			t.Fatalf("started session %+v user %+v", sess, sess.User)
		}
		if got := sess.ExpiresAt.Sub(sess.CreatedAt); got != access.SessionIdleTimeout {
			t.Fatalf("a new session lasts %v, want the idle timeout %v", got, access.SessionIdleTimeout)
		}

		// Only the SHA-256 of the token is stored.
		var stored, ua string
		if err := db.QueryRow(ctx, "SELECT token_hash, user_agent FROM user_sessions WHERE id = ?", sess.ID).Scan(&stored, &ua); err != nil {
			t.Fatal(err)
		}
		if _, err := hex.DecodeString(stored); err != nil || len(stored) != 64 || strings.Contains(stored, token[len(access.SessionPrefix):]) {
			t.Fatalf("stored token form %q must be a SHA-256 hex digest, not the token", stored)
		}
		if ua != "Mozilla/5.0 \uFFFDtest" {
			t.Fatalf("user agent stored as %q", ua)
		}

		for range 2 { // the second lookup comes from the cache
			got, err := s.SessionByToken(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != sess.ID || got.User.ID != u.ID || got.User.Name != "ann" || got.CSRF != sess.CSRF {
				t.Fatalf("looked up %+v", got)
			}
			p := got.Principal()
			if p.Kind != "user" || p.ID != u.ID || p.UserID != u.ID || p.Role != access.Agent || p.Actor() != "user:"+u.ID.String()+":ann" {
				t.Fatalf("principal %+v", p)
			}
			got.User.Role = access.Admin // a caller's change must not leak into the cache
		}

		for _, bad := range []string{"", "tps_", "tps_unknown", token + "x", "tp_" + token[4:], strings.Repeat("a", 300)} {
			if _, err := s.SessionByToken(ctx, bad); !errors.Is(err, errs.ErrUnauthenticated) {
				t.Fatalf("token %q: %v", bad, err)
			}
		}

		if err := s.EndSession(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, token); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("signed-out session still works: %v", err)
		}
		if err := s.EndSession(ctx, token); err != nil {
			t.Fatalf("signing out twice: %v", err)
		}
		if n := auditCount(t, db, "session.start"); n != 1 {
			t.Fatalf("%d session.start entries", n)
		}
		if n := auditCount(t, db, "session.end"); n != 1 {
			t.Fatalf("%d session.end entries", n)
		}

		if _, _, err := s.StartSession(ctx, 12345, "", ""); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("session for an unknown user: %v", err)
		}
	})
}

func TestCSRFTokenIsPerSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := access.NewService(db)
		u := newUser(t, s, "ann@example.com", access.Agent)
		tokA, a, err := s.StartSession(ctx, u.ID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		tokB, b, err := s.StartSession(ctx, u.ID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if a.CSRF == b.CSRF || a.CSRF == "" || strings.Contains(a.CSRF, tokA[len(access.SessionPrefix):]) {
			t.Fatalf("CSRF tokens %q and %q", a.CSRF, b.CSRF)
		}
		looked, err := s.SessionByToken(ctx, tokA)
		if err != nil || looked.CSRF != a.CSRF {
			t.Fatalf("CSRF token on lookup: %v %v", looked, err)
		}
		if !access.CheckCSRF(tokA, a.CSRF) || !access.CheckCSRF(tokB, b.CSRF) {
			t.Fatal("a session's own CSRF token is refused")
		}
		if access.CheckCSRF(tokA, b.CSRF) || access.CheckCSRF(tokB, a.CSRF) {
			t.Fatal("another session's CSRF token is accepted")
		}
		if access.CheckCSRF(tokA, "") || access.CheckCSRF(tokA, a.CSRF[1:]) || access.CheckCSRF(tokA, tokA) || access.CheckCSRF("", access.CSRFToken("")) {
			t.Fatal("a missing or wrong CSRF token is accepted")
		}
	})
}

func TestDisablingAUserEndsTheirSessionsAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := access.NewService(db)
		newUser(t, s, "boss@example.com", access.Admin)
		u := newUser(t, s, "ann@example.com", access.Agent)
		token, _, err := s.StartSession(ctx, u.ID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, token); err != nil { // now cached
			t.Fatal(err)
		}

		// A role change shows on the very next request.
		sup := access.Supervisor
		if _, err := s.UpdateUser(ctx, u.ID, access.UserUpdate{Role: &sup}, "test"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.SessionByToken(ctx, token); err != nil || got.User.Role != access.Supervisor || got.Principal().Role != access.Supervisor {
			t.Fatalf("after the role change: %+v %v", got, err)
		}

		yes, no := true, false
		got, err := s.UpdateUser(ctx, u.ID, access.UserUpdate{Disabled: &yes}, "test")
		if err != nil || !got.Disabled {
			t.Fatalf("disable: %+v %v", got, err)
		}
		if _, err := s.SessionByToken(ctx, token); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("a disabled user's session still works: %v", err)
		}
		if _, _, err := s.StartSession(ctx, u.ID, "", ""); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("a disabled user got a session: %v", err)
		}
		if _, err := s.SignIn(ctx, "ann@example.com", goodPassword); err == nil {
			t.Fatal("a disabled user signed in")
		}

		// Enabling the user again does not bring the old session back.
		if _, err := s.UpdateUser(ctx, u.ID, access.UserUpdate{Disabled: &no}, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, token); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("an ended session came back: %v", err)
		}
		if _, _, err := s.StartSession(ctx, u.ID, "", ""); err != nil {
			t.Fatalf("an enabled user cannot sign in: %v", err)
		}
		if n := auditCount(t, db, "user.update"); n != 3 {
			t.Fatalf("%d user.update entries, want 3", n)
		}
	})
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := access.NewService(db)
		u := newUser(t, s, "ann@example.com", access.Agent)
		here, cur, err := s.StartSession(ctx, u.ID, "desk", "")
		if err != nil {
			t.Fatal(err)
		}
		there, _, err := s.StartSession(ctx, u.ID, "phone", "")
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{here, there} {
			if _, err := s.SessionByToken(ctx, tok); err != nil { // cached
				t.Fatal(err)
			}
		}

		const next = "a much better passphrase"
		if err := s.ChangePassword(ctx, u.ID, "wrong horse battery", next, cur.ID); fieldOf(err) != "current_password" {
			t.Fatalf("wrong current password: %v", err)
		}
		if err := s.ChangePassword(ctx, u.ID, goodPassword, "short", cur.ID); fieldOf(err) != "new_password" {
			t.Fatalf("short new password: %v", err)
		}
		if err := s.ChangePassword(ctx, u.ID, goodPassword, "Ann@Example.com", cur.ID); fieldOf(err) != "new_password" {
			t.Fatalf("email as new password: %v", err)
		}
		if _, err := s.SessionByToken(ctx, there); err != nil {
			t.Fatalf("a refused change ended a session: %v", err)
		}
		if _, err := s.SignIn(ctx, "ann@example.com", goodPassword); err != nil {
			t.Fatalf("a refused change changed the password: %v", err)
		}

		if err := s.ChangePassword(ctx, u.ID, goodPassword, next, cur.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, here); err != nil {
			t.Fatalf("the session that changed the password ended: %v", err)
		}
		if _, err := s.SessionByToken(ctx, there); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("another session survived the password change: %v", err)
		}
		if _, err := s.SignIn(ctx, "ann@example.com", goodPassword); err == nil {
			t.Fatal("the old password still works")
		}
		if _, err := s.SignIn(ctx, "ann@example.com", next); err != nil {
			t.Fatalf("the new password does not work: %v", err)
		}
		if n := auditCount(t, db, "user.password_change"); n != 1 {
			t.Fatalf("%d user.password_change entries", n)
		}

		// An administrator's reset signs the user out everywhere.
		if err := s.SetPassword(ctx, u.ID, "reset by the admin", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, here); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("a session survived the password reset: %v", err)
		}

		// EndSessionsOf keeps only the session named.
		a, sa, _ := s.StartSession(ctx, u.ID, "", "")
		b, _, _ := s.StartSession(ctx, u.ID, "", "")
		s.SessionByToken(ctx, b)
		if err := s.EndSessionsOf(ctx, u.ID, sa.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, a); err != nil {
			t.Fatalf("the kept session ended: %v", err)
		}
		if _, err := s.SessionByToken(ctx, b); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("EndSessionsOf left a session: %v", err)
		}
	})
}

func TestTheLastEnabledAdminStays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := access.NewService(db)
		a := newUser(t, s, "a@example.com", access.Admin)
		agent, yes, no := access.Agent, true, false
		admin, integration := access.Admin, access.Integration

		if _, err := s.UpdateUser(ctx, a.ID, access.UserUpdate{Role: &agent}, "test"); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("demoting the only admin: %v", err)
		}
		if _, err := s.UpdateUser(ctx, a.ID, access.UserUpdate{Disabled: &yes}, "test"); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("disabling the only admin: %v", err)
		}
		if got, err := s.GetUser(ctx, a.ID); err != nil || got.Role != access.Admin || got.Disabled {
			t.Fatalf("refused changes were applied: %+v %v", got, err)
		}

		b := newUser(t, s, "b@example.com", access.Admin)
		if _, err := s.UpdateUser(ctx, a.ID, access.UserUpdate{Role: &agent}, "test"); err != nil {
			t.Fatalf("demoting one of two admins: %v", err)
		}
		if _, err := s.UpdateUser(ctx, b.ID, access.UserUpdate{Disabled: &yes}, "test"); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("disabling the last admin: %v", err)
		}
		// A disabled admin does not count.
		if _, err := s.UpdateUser(ctx, a.ID, access.UserUpdate{Role: &admin, Disabled: &yes}, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateUser(ctx, b.ID, access.UserUpdate{Role: &agent}, "test"); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("demoting the last enabled admin beside a disabled one: %v", err)
		}
		if _, err := s.UpdateUser(ctx, a.ID, access.UserUpdate{Disabled: &no}, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateUser(ctx, b.ID, access.UserUpdate{Role: &agent}, "test"); err != nil {
			t.Fatalf("demoting one of two enabled admins: %v", err)
		}

		name := "  Anna Admin "
		got, err := s.UpdateUser(ctx, a.ID, access.UserUpdate{Name: &name}, "test")
		if err != nil || got.Name != "Anna Admin" || got.Email != "a@example.com" || got.Role != access.Admin {
			t.Fatalf("rename: %+v %v", got, err)
		}
		if again, err := s.GetUser(ctx, a.ID); err != nil || again.Name != "Anna Admin" {
			t.Fatalf("rename not stored: %+v %v", again, err)
		}
		empty := " "
		if _, err := s.UpdateUser(ctx, a.ID, access.UserUpdate{Name: &empty}, "test"); fieldOf(err) != "name" {
			t.Fatalf("empty name: %v", err)
		}
		if _, err := s.UpdateUser(ctx, a.ID, access.UserUpdate{Role: &integration}, "test"); fieldOf(err) != "role" {
			t.Fatalf("integration role for a person: %v", err)
		}
		if _, err := s.UpdateUser(ctx, 12345, access.UserUpdate{Name: &name}, "test"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		if _, err := s.GetUser(ctx, 12345); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
	})
}
