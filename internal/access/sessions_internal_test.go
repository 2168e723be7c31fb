package access

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// clockedService is a Service whose clock the test moves.
func clockedService(db *store.DB, start time.Time) (*Service, func(time.Duration) time.Time) {
	s := NewService(db)
	now := start
	s.now = func() time.Time { return now }
	return s, func(d time.Duration) time.Time { now = now.Add(d); return now }
}

func lastSeen(t *testing.T, db *store.DB, sess *Session) (seen, expires time.Time) {
	t.Helper()
	var a, b int64
	if err := db.QueryRow(context.Background(), "SELECT last_seen_at, expires_at FROM user_sessions WHERE id = ?", sess.ID).Scan(&a, &b); err != nil {
		t.Fatal(err)
	}
	return time.UnixMicro(a).UTC(), time.UnixMicro(b).UTC()
}

func TestSessionIdleExpirySlidesAtMostOnceAMinute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		s, advance := clockedService(db, t0)
		u, err := s.CreateUser(ctx, "ann@example.com", "Ann", Agent, "correct horse battery", "test")
		if err != nil {
			t.Fatal(err)
		}
		token, sess, err := s.StartSession(ctx, u.ID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if !sess.ExpiresAt.Equal(t0.Add(SessionIdleTimeout)) {
			t.Fatalf("expires at %v", sess.ExpiresAt)
		}

		// Requests within a minute write nothing (the cache is 5 s, so the
		// later ones read the store).
		for range 5 {
			advance(10 * time.Second)
			if _, err := s.SessionByToken(ctx, token); err != nil {
				t.Fatal(err)
			}
		}
		if seen, _ := lastSeen(t, db, sess); !seen.Equal(t0) {
			t.Fatalf("last_seen_at moved to %v within the first minute", seen)
		}

		// After a minute the expiry moves on, once.
		at := advance(20 * time.Second) // t0 + 70 s
		got, err := s.SessionByToken(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		seen, expires := lastSeen(t, db, sess)
		if !seen.Equal(at) || !expires.Equal(at.Add(SessionIdleTimeout)) || !got.ExpiresAt.Equal(expires) {
			t.Fatalf("after a minute: last seen %v, expires %v (lookup says %v), want %v", seen, expires, got.ExpiresAt, at)
		}
		advance(time.Second)
		if _, err := s.SessionByToken(ctx, token); err != nil {
			t.Fatal(err)
		}
		if again, _ := lastSeen(t, db, sess); !again.Equal(at) {
			t.Fatalf("written again a second later: %v", again)
		}

		// Used past its first expiry, it lives on; idle for the timeout, it ends.
		advance(SessionIdleTimeout - time.Minute) // past t0 + 12 h
		if _, err := s.SessionByToken(ctx, token); err != nil {
			t.Fatalf("an active session expired at its first expiry: %v", err)
		}
		advance(SessionIdleTimeout)
		if _, err := s.SessionByToken(ctx, token); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("a session idle for %v still works: %v", SessionIdleTimeout, err)
		}
	})
}

func TestSessionEndsAtMaxAgeHoweverBusy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		s, advance := clockedService(db, t0)
		u, err := s.CreateUser(ctx, "ann@example.com", "Ann", Agent, "correct horse battery", "test")
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := s.StartSession(ctx, u.ID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		end := t0.Add(SessionMaxAge)
		now := t0
		for now.Add(11 * time.Hour).Before(end.Add(-2 * time.Second)) { // a request every 11 hours
			now = advance(11 * time.Hour)
			got, err := s.SessionByToken(ctx, token)
			if err != nil {
				t.Fatalf("at %v: %v", now, err)
			}
			if got.ExpiresAt.After(end) {
				t.Fatalf("expiry %v past the maximum age", got.ExpiresAt)
			}
		}
		// Close to the end: the expiry is capped at the maximum age.
		advance(end.Add(-2 * time.Second).Sub(now))
		got, err := s.SessionByToken(ctx, token)
		if err != nil || !got.ExpiresAt.Equal(end) {
			t.Fatalf("two seconds before the maximum age: %+v %v", got, err)
		}
		// The lookup is cached now; the cache must not outlive the session.
		advance(2 * time.Second)
		if _, err := s.SessionByToken(ctx, token); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("a session older than %v still works: %v", SessionMaxAge, err)
		}
	})
}
