package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/secret"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Desk sign-in sessions. The browser holds a random token in a cookie; the
// store keeps only its SHA-256, like API tokens, so a copy of the database
// signs nobody in.
//
// Lifetime: a session ends after SessionIdleTimeout without a request, and in
// any case SessionMaxAge after sign-in, however busy the user is. Twelve hours
// of idleness covers a long shift with breaks without keeping a forgotten
// counter terminal signed in overnight; a week bounds what a stolen cookie is
// worth, at the price of one sign-in a week.
const (
	SessionIdleTimeout = 12 * time.Hour
	SessionMaxAge      = 7 * 24 * time.Hour

	// SessionPrefix starts every session token ("tp_" starts API tokens).
	SessionPrefix = "tps_"

	// sessionTouchEvery bounds the writes of the sliding expiry: a session's
	// last_seen_at and expires_at are moved on at most once a minute, not on
	// every request, so an idle expiry is exact to within a minute.
	sessionTouchEvery = time.Minute

	// sessionCacheTTL is how long a node trusts its memory of a session. An
	// end or a disabled user takes effect at once on the node that made the
	// change, and within this long on the others.
	sessionCacheTTL = 5 * time.Second
)

// Session is a signed-in desk user.
type Session struct {
	ID        id.ID     `json:"id"`
	User      *User     `json:"user"`
	CSRF      string    `json:"csrf_token"` // to echo in a header or form field of every unsafe request
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"` // moves on with use, never past CreatedAt+SessionMaxAge
}

// Principal is the session's user as the routes see it: Kind "user", and
// both ID and UserID the user's id, so that audit entries name the person.
func (s *Session) Principal() *Principal {
	return &Principal{Kind: "user", ID: s.User.ID, Name: s.User.Name, Role: s.User.Role, UserID: s.User.ID}
}

// ErrBadSession is returned for a session token that is unknown, ended or
// expired, or whose user is disabled.
var ErrBadSession = fmt.Errorf("not signed in, or the session has ended: %w", errs.ErrUnauthenticated)

// CSRFToken is the anti-forgery token of the session whose cookie holds
// sessionToken. It is derived, not stored: a page of another site cannot
// compute it without the cookie, and every session has its own.
func CSRFToken(sessionToken string) string {
	sum := sha256.Sum256([]byte("csrf\x00" + sessionToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// CheckCSRF tells, in constant time, whether presented is the CSRF token of
// the session whose cookie holds sessionToken.
func CheckCSRF(sessionToken, presented string) bool {
	if sessionToken == "" || presented == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(CSRFToken(sessionToken)), []byte(presented)) == 1
}

// sessionExpiry is when a session started at created and last seen at seen ends.
func sessionExpiry(created, seen time.Time) time.Time {
	idle, absolute := seen.Add(SessionIdleTimeout), created.Add(SessionMaxAge)
	if idle.Before(absolute) {
		return idle
	}
	return absolute
}

// StartSession signs a user in (after SignIn has checked the password) and
// returns the token for the cookie; only here is it ever seen.
func (s *Service) StartSession(ctx context.Context, userID id.ID, userAgent, ip string) (string, *Session, error) {
	token := secret.New(SessionPrefix)
	now := s.now().UTC().Truncate(time.Microsecond)
	expires := sessionExpiry(now, now)
	userAgent, ip = clip(userAgent, 512), clip(ip, 64)
	var sess *Session
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, disabled, err := userInTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		if disabled {
			return fmt.Errorf("user %s is disabled: %w", userID, errs.ErrUnauthenticated)
		}
		sess = &Session{ID: tx.NewID(), User: u, CreatedAt: now, ExpiresAt: expires}
		if _, err := tx.Exec(ctx, `INSERT INTO user_sessions (id, token_hash, user_id, user_agent, ip, created_at, last_seen_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, sess.ID, secret.Hash(token), userID, userAgent, ip,
			now.UnixMicro(), now.UnixMicro(), expires.UnixMicro()); err != nil {
			return err
		}
		return audit(ctx, tx, now, userActor(u), "session.start", "user_session", sess.ID,
			map[string]any{"user_id": userID, "ip": ip, "user_agent": userAgent})
	})
	if err != nil {
		return "", nil, fmt.Errorf("starting session: %w", err)
	}
	sess.CSRF = CSRFToken(token)
	return token, sess, nil
}

// SessionByToken finds the session of a cookie's token. It runs on every desk
// request, so lookups are remembered for a few seconds and the sliding expiry
// is written at most once a minute per session.
func (s *Service) SessionByToken(ctx context.Context, token string) (*Session, error) {
	if !strings.HasPrefix(token, SessionPrefix) || len(token) > 200 {
		return nil, ErrBadSession
	}
	h := secret.Hash(token)
	now := s.now()
	st := s.sessionState()
	if e, ok, fresh := st.cache.Get(h, now); fresh {
		if !ok {
			return nil, ErrBadSession
		}
		if now.Before(e.expires) && now.Sub(e.lastSeen) < sessionTouchEvery {
			return e.session(token), nil
		}
		// Expired, or due to move its expiry on: ask the store.
	}
	gen := st.generation()
	e, err := s.loadSession(ctx, h)
	if err != nil {
		return nil, err
	}
	if e != nil && !now.Before(e.expires) {
		e = nil
	}
	if e != nil && now.Sub(e.lastSeen) >= sessionTouchEvery {
		if e, err = s.touchSession(ctx, h, e, now); err != nil {
			return nil, err
		}
	}
	st.put(gen, h, e, now)
	if e == nil {
		return nil, ErrBadSession
	}
	return e.session(token), nil
}

// sessionEntry is what a node remembers of a live session.
type sessionEntry struct {
	id                         id.ID
	user                       User
	created, lastSeen, expires time.Time
}

// session returns a copy, so that callers cannot change what is remembered.
func (e *sessionEntry) session(token string) *Session {
	u := e.user
	return &Session{ID: e.id, User: &u, CSRF: CSRFToken(token), CreatedAt: e.created, ExpiresAt: e.expires}
}

// loadSession reads a live session of an enabled user, or nil.
func (s *Service) loadSession(ctx context.Context, tokenHash string) (*sessionEntry, error) {
	var e sessionEntry
	var role string
	var created, seen, expires, userCreated int64
	err := s.db.QueryRow(ctx, `SELECT s.id, s.created_at, s.last_seen_at, s.expires_at, u.id, u.email, u.name, u.role, u.created_at
		FROM user_sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.ended_at IS NULL AND u.disabled_at IS NULL`, tokenHash).
		Scan(&e.id, &created, &seen, &expires, &e.user.ID, &e.user.Email, &e.user.Name, &role, &userCreated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading session: %w", err)
	}
	e.user.Role, e.user.CreatedAt = Role(role), time.UnixMicro(userCreated).UTC()
	e.created, e.lastSeen, e.expires = time.UnixMicro(created).UTC(), time.UnixMicro(seen).UTC(), time.UnixMicro(expires).UTC()
	return &e, nil
}

// touchSession moves a session's expiry on. Of concurrent requests (or
// nodes) only one writes; the others read what it wrote.
func (s *Service) touchSession(ctx context.Context, tokenHash string, e *sessionEntry, now time.Time) (*sessionEntry, error) {
	now = now.UTC().Truncate(time.Microsecond)
	expires := sessionExpiry(e.created, now)
	var n int64
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		r, err := tx.Exec(ctx, "UPDATE user_sessions SET last_seen_at = ?, expires_at = ? WHERE id = ? AND ended_at IS NULL AND last_seen_at <= ?",
			now.UnixMicro(), expires.UnixMicro(), e.id, now.Add(-sessionTouchEvery).UnixMicro())
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("extending session: %w", err)
	}
	if n == 0 { // ended meanwhile, or touched by another request
		current, err := s.loadSession(ctx, tokenHash)
		if err != nil || current == nil || !now.Before(current.expires) {
			return nil, err
		}
		return current, nil
	}
	touched := *e
	touched.lastSeen, touched.expires = now, expires
	return &touched, nil
}

// EndSession signs out. Ending a session that has already ended, or an
// unknown token, is not an error.
func (s *Service) EndSession(ctx context.Context, token string) error {
	if !strings.HasPrefix(token, SessionPrefix) || len(token) > 200 {
		return nil
	}
	h := secret.Hash(token)
	defer s.invalidateSessions()
	return s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := s.now().UTC()
		var sessionID id.ID
		var u User
		err := tx.QueryRow(ctx, `SELECT s.id, u.id, u.name FROM user_sessions s JOIN users u ON u.id = s.user_id
			WHERE s.token_hash = ? AND s.ended_at IS NULL`, h).Scan(&sessionID, &u.ID, &u.Name)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE user_sessions SET ended_at = ? WHERE id = ?", now.UnixMicro(), sessionID); err != nil {
			return err
		}
		return audit(ctx, tx, now, userActor(&u), "session.end", "user_session", sessionID, nil)
	})
}

// EndSessionsOf ends every session of a user but except (0: all of them).
// Password changes and disabling a user do this within their own change.
func (s *Service) EndSessionsOf(ctx context.Context, userID id.ID, except id.ID) error {
	defer s.invalidateSessions()
	return s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := s.now().UTC()
		n, err := endSessionsOf(ctx, tx, now, userID, except)
		if err != nil || n == 0 {
			return err
		}
		detail := map[string]any{"sessions_ended": n}
		if except != 0 {
			detail["kept_session"] = except
		}
		return audit(ctx, tx, now, "system", "session.end_all", "user", userID, detail)
	})
}

// endSessionsOf ends a user's sessions but except, inside a change's transaction.
func endSessionsOf(ctx context.Context, tx *store.Tx, now time.Time, userID, except id.ID) (int64, error) {
	r, err := tx.Exec(ctx, "UPDATE user_sessions SET ended_at = ? WHERE user_id = ? AND id <> ? AND ended_at IS NULL",
		now.UnixMicro(), userID, except)
	if err != nil {
		return 0, fmt.Errorf("ending sessions: %w", err)
	}
	return r.RowsAffected()
}

// userInTx reads a user inside a transaction; disabled tells whether the user is.
func userInTx(ctx context.Context, tx *store.Tx, userID id.ID) (*User, bool, error) {
	var u User
	var role string
	var disabled sql.NullInt64
	var created int64
	err := tx.QueryRow(ctx, "SELECT id, email, name, role, disabled_at, created_at FROM users WHERE id = ?", userID).
		Scan(&u.ID, &u.Email, &u.Name, &role, &disabled, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, errs.NotFoundf("user %s", userID)
	}
	if err != nil {
		return nil, false, err
	}
	u.Role, u.Disabled, u.CreatedAt = Role(role), disabled.Valid, time.UnixMicro(created).UTC()
	return &u, disabled.Valid, nil
}

// userActor names a user in audit entries as a session principal would.
func userActor(u *User) string {
	return (&Principal{Kind: "user", ID: u.ID, Name: u.Name}).Actor()
}

// clip makes s storable text (valid UTF-8, no NUL, which PostgreSQL refuses)
// of at most max bytes.
func clip(s string, max int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// sessionCache is a Service's memory of sessions. Invalidation bumps gen, and
// a lookup stores what it read only if gen has not moved since it began
// reading: a read that raced an end cannot put the ended session back.
type sessionCache struct {
	mu    sync.Mutex
	gen   uint64
	cache *secret.Cache[*sessionEntry]
}

func (c *sessionCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *sessionCache) put(gen uint64, tokenHash string, e *sessionEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.cache.Put(tokenHash, e, e != nil, now)
	}
}

// invalidateSessions forgets every remembered session; it runs after any
// change that ends a session or changes a user.
func (s *Service) invalidateSessions() {
	c := s.sessionState()
	c.mu.Lock()
	c.gen++
	c.cache.Clear()
	c.mu.Unlock()
}

func (s *Service) sessionState() *sessionCache { return s.sessions }
