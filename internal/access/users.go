package access

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// User is a person who signs in to the desk.
type User struct {
	ID        id.ID     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// Password hashing: argon2id with the RFC 9106 second recommended option
// scaled to a server that hashes only at sign-in.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns a PHC-formatted argon2id hash.
func HashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPassword compares in constant time.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || m > 1<<20 || t > 10 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// MinPasswordLength is enforced on new passwords (demo passwords are set directly).
const MinPasswordLength = 10

// CreateUser adds a user.
func (s *Service) CreateUser(ctx context.Context, email, name string, role Role, password, actor string) (*User, error) {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" {
		return nil, errs.Invalidf("email", "is not an email address")
	}
	email = strings.ToLower(addr.Address)
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return nil, errs.Invalidf("name", "must be 1 to 100 characters")
	}
	if _, ok := ParseRole(string(role)); !ok || role == Integration {
		return nil, errs.Invalidf("role", "must be one of admin, supervisor, agent, staff, analyst")
	}
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return nil, errs.Invalidf("password", "must be at least %d characters", MinPasswordLength)
	}
	return s.insertUser(ctx, email, name, role, HashPassword(password), actor)
}

// CreateDemoUser adds a user with any password, for the demo only.
func (s *Service) CreateDemoUser(ctx context.Context, email, name string, role Role, password string) (*User, error) {
	return s.insertUser(ctx, strings.ToLower(email), name, role, HashPassword(password), "demo")
}

func (s *Service) insertUser(ctx context.Context, email, name string, role Role, hash, actor string) (*User, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	u := &User{Email: email, Name: name, Role: role, CreatedAt: now}
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM users WHERE email = ?", email).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errs.Conflictf("a user with email %s exists", email)
		}
		u.ID = tx.NewID()
		if _, err := tx.Exec(ctx, `INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, u.ID, email, name, string(role), hash, now.UnixMicro(), now.UnixMicro()); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, "user.create", "user", u.ID, map[string]any{"email": email, "role": role})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// ErrBadSignIn is the one answer to a wrong email or password, so as not to tell which.
var ErrBadSignIn = fmt.Errorf("wrong email or password: %w", errs.ErrUnauthenticated)

// SignIn checks a user's email and password.
func (s *Service) SignIn(ctx context.Context, email, password string) (*User, error) {
	var u User
	var hash, role string
	var disabled sql.NullInt64
	var created int64
	err := s.db.QueryRow(ctx, "SELECT id, email, name, role, password_hash, disabled_at, created_at FROM users WHERE email = ?",
		strings.ToLower(strings.TrimSpace(email))).Scan(&u.ID, &u.Email, &u.Name, &role, &hash, &disabled, &created)
	if errors.Is(err, sql.ErrNoRows) {
		CheckPassword(dummyHash(), password) // same work either way
		return nil, ErrBadSignIn
	}
	if err != nil {
		return nil, err
	}
	if !CheckPassword(hash, password) || disabled.Valid {
		return nil, ErrBadSignIn
	}
	u.Role, u.CreatedAt = Role(role), time.UnixMicro(created).UTC()
	return &u, nil
}

// dummyHash is hashed on first use, not at start-up: argon2id takes 19 MiB
// and tens of milliseconds, which every start would pay otherwise.
var dummyHash = sync.OnceValue(func() string { return HashPassword("not a real password") })

// SetPassword sets a user's password (an administrator's reset) and ends
// all of the user's sessions: whoever knew the old password is signed out.
func (s *Service) SetPassword(ctx context.Context, userID id.ID, password, actor string) error {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return errs.Invalidf("password", "must be at least %d characters", MinPasswordLength)
	}
	hash := HashPassword(password)
	defer s.invalidateSessions()
	return s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := s.now()
		r, err := tx.Exec(ctx, "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", hash, now.UnixMicro(), userID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errs.NotFoundf("user %s", userID)
		}
		ended, err := endSessionsOf(ctx, tx, now, userID, 0)
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, "user.password", "user", userID, map[string]any{"sessions_ended": ended})
	})
}

// ChangePassword is a signed-in user changing their own password. The
// current password must be given again; every session of the user but
// keepSession (the one making the change; 0 for none) ends.
func (s *Service) ChangePassword(ctx context.Context, userID id.ID, current, next string, keepSession id.ID) error {
	var email, name, hash string
	var disabled sql.NullInt64
	err := s.db.QueryRow(ctx, "SELECT email, name, password_hash, disabled_at FROM users WHERE id = ?", userID).
		Scan(&email, &name, &hash, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.NotFoundf("user %s", userID)
	}
	if err != nil {
		return err
	}
	if disabled.Valid {
		return fmt.Errorf("user %s is disabled: %w", userID, errs.ErrUnauthenticated)
	}
	if !CheckPassword(hash, current) {
		return errs.Invalidf("current_password", "is not your current password")
	}
	if utf8.RuneCountInString(next) < MinPasswordLength {
		return errs.Invalidf("new_password", "must be at least %d characters", MinPasswordLength)
	}
	if strings.EqualFold(strings.TrimSpace(next), email) {
		return errs.Invalidf("new_password", "must not be your email address")
	}
	newHash := HashPassword(next)
	defer s.invalidateSessions()
	return s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := s.now()
		// Only over the hash just checked: a concurrent change wins, not this one.
		r, err := tx.Exec(ctx, "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?",
			newHash, now.UnixMicro(), userID, hash)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errs.Conflictf("the password was changed meanwhile; sign in again")
		}
		ended, err := endSessionsOf(ctx, tx, now, userID, keepSession)
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, userActor(&User{ID: userID, Name: name}), "user.password_change", "user", userID,
			map[string]any{"sessions_ended": ended})
	})
}

// UserUpdate changes some of a user's fields; nil leaves a field as it is.
type UserUpdate struct {
	Name     *string `json:"name,omitempty"`
	Role     *Role   `json:"role,omitempty"`
	Disabled *bool   `json:"disabled,omitempty"`
}

// GetUser returns one user.
func (s *Service) GetUser(ctx context.Context, userID id.ID) (*User, error) {
	var u User
	var role string
	var created int64
	err := s.db.QueryRow(ctx, "SELECT id, email, name, role, disabled_at IS NOT NULL, created_at FROM users WHERE id = ?", userID).
		Scan(&u.ID, &u.Email, &u.Name, &role, &u.Disabled, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("user %s", userID)
	}
	if err != nil {
		return nil, err
	}
	u.Role, u.CreatedAt = Role(role), time.UnixMicro(created).UTC()
	return &u, nil
}

// UpdateUser renames a user, changes their role, or disables or enables
// them. Disabling ends the user's sessions at once. The last enabled admin
// can be neither demoted nor disabled: nobody could manage access then.
func (s *Service) UpdateUser(ctx context.Context, userID id.ID, up UserUpdate, actor string) (*User, error) {
	var name string
	if up.Name != nil {
		name = strings.TrimSpace(*up.Name)
		if name == "" || utf8.RuneCountInString(name) > 100 {
			return nil, errs.Invalidf("name", "must be 1 to 100 characters")
		}
	}
	if up.Role != nil {
		if r, ok := ParseRole(string(*up.Role)); !ok || r == Integration {
			return nil, errs.Invalidf("role", "must be one of admin, supervisor, agent, staff, analyst")
		}
	}
	var out *User
	defer s.invalidateSessions()
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := s.now().UTC()
		if tx.Dialect() == store.Postgres {
			// Lock the row, so that concurrent updates of one user apply in turn.
			if _, err := tx.Exec(ctx, "SELECT id FROM users WHERE id = ? FOR UPDATE", userID); err != nil {
				return err
			}
		}
		u, _, err := userInTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		before := *u
		changes := map[string]any{}
		if up.Name != nil && name != u.Name {
			u.Name, changes["name"] = name, name
		}
		if up.Role != nil {
			if r, _ := ParseRole(string(*up.Role)); r != u.Role {
				u.Role, changes["role"], changes["previous_role"] = r, r, before.Role
			}
		}
		if up.Disabled != nil && *up.Disabled != u.Disabled {
			u.Disabled, changes["disabled"] = *up.Disabled, *up.Disabled
		}
		out = u
		if len(changes) == 0 {
			return nil
		}
		if before.Role == Admin && !before.Disabled && (u.Role != Admin || u.Disabled) {
			n, err := enabledAdmins(ctx, tx)
			if err != nil {
				return err
			}
			if n <= 1 {
				return errs.Conflictf("%s is the last enabled admin; make another user admin first", u.Email)
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET name = ?, role = ?, updated_at = ? WHERE id = ?",
			u.Name, string(u.Role), now.UnixMicro(), userID); err != nil {
			return err
		}
		if u.Disabled != before.Disabled {
			var disabledAt any // NULL: enabled again
			if u.Disabled {
				disabledAt = now.UnixMicro()
			}
			if _, err := tx.Exec(ctx, "UPDATE users SET disabled_at = ? WHERE id = ?", disabledAt, userID); err != nil {
				return err
			}
		}
		if u.Disabled && !before.Disabled {
			ended, err := endSessionsOf(ctx, tx, now, userID, 0)
			if err != nil {
				return err
			}
			changes["sessions_ended"] = ended
		}
		return audit(ctx, tx, now, actor, "user.update", "user", userID, changes)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// enabledAdmins counts the enabled admins. On PostgreSQL it locks their
// rows, so that two admins demoting each other at once cannot both succeed.
func enabledAdmins(ctx context.Context, tx *store.Tx) (int, error) {
	q := "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL"
	if tx.Dialect() == store.Postgres {
		q += " FOR UPDATE"
	}
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// ListUsers lists users by name.
func (s *Service) ListUsers(ctx context.Context) ([]*User, error) {
	rows, err := s.db.Query(ctx, "SELECT id, email, name, role, disabled_at IS NOT NULL, created_at FROM users ORDER BY name, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*User{}
	for rows.Next() {
		var u User
		var created int64
		if err := rows.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Disabled, &created); err != nil {
			return nil, err
		}
		u.CreatedAt = time.UnixMicro(created).UTC()
		out = append(out, &u)
	}
	return out, rows.Err()
}

// audit appends to the audit log inside the change's own transaction, so
// that a change and its record stand or fall together.
func audit(ctx context.Context, tx *store.Tx, at time.Time, actor, action, kind string, subject id.ID, detail map[string]any) error {
	b := []byte("{}")
	if detail != nil {
		b, _ = json.Marshal(detail)
	}
	_, err := tx.Exec(ctx, "INSERT INTO audit_log (id, at, actor, action, subject_kind, subject_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
		tx.NewID(), at.UnixMicro(), actor, action, kind, subject, string(b))
	return err
}

// Audit records an action taken outside this package.
func Audit(ctx context.Context, tx *store.Tx, actor, action, kind string, subject id.ID, detail map[string]any) error {
	return audit(ctx, tx, time.Now(), actor, action, kind, subject, detail)
}
