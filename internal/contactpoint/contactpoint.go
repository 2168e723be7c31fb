// Package contactpoint is the registry of contact points: the configured
// instances of a channel kind ("Support line +1 555 0100", "Main Street store",
// "Airport kiosk 3", "Spring print campaign") that interactions happen on.
package contactpoint

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/secret"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Kind is a channel kind (DESIGN §3).
type Kind string

// Kinds lists every channel kind a contact point may have.
var Kinds = []Kind{
	"phone", "email", "web_chat", "sms", "whatsapp", "social", "website", "mobile_app",
	"kiosk", "store", "field_sales", "field_service", "delivery", "billing", "credit",
	"collections", "mail", "advertising", "review_site", "word_of_mouth", "api",
}

// IngestsEvents tells whether contact points of this kind receive events
// through the Segment-compatible event API, and so get a write key.
func (k Kind) IngestsEvents() bool {
	return k == "website" || k == "mobile_app" || k == "api"
}

// HasWidget tells whether contact points of this kind serve the chat widget,
// and so get a widget secret to sign visitors' user ids with.
func (k Kind) HasWidget() bool { return k == "web_chat" }

// WidgetSecretName is the secret (see Spec.Secrets) that signs the user ids
// of signed-in chat visitors (user_hash).
const WidgetSecretName = "widget_secret"

// OnlineByDefault is the usual online flag of a kind, used when none is given.
func (k Kind) OnlineByDefault() bool {
	switch k {
	case "email", "web_chat", "sms", "whatsapp", "social", "website", "mobile_app", "review_site", "api":
		return true
	}
	return false
}

// Journey stages a contact point can serve.
var Stages = []string{"pre_purchase", "purchase", "post_purchase"}

// Contact levels: personal and customised, or standardised and self-service.
const (
	HighContact = "high"
	LowContact  = "low"
)

// ContactPoint is one configured contact point.
type ContactPoint struct {
	ID            id.ID           `json:"id"`
	Kind          Kind            `json:"kind"`
	Name          string          `json:"name"`
	Online        bool            `json:"online"`
	JourneyStages []string        `json:"journey_stages"`
	ContactLevel  string          `json:"contact_level"`
	Description   string          `json:"description"`
	Settings      json.RawMessage `json:"settings"`
	HasWriteKey   bool            `json:"has_write_key"`
	// SecretsSet names the secrets that are set (never their values).
	SecretsSet   []string  `json:"secrets_set"`
	WriteKeyHint string    `json:"write_key_hint,omitempty"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Spec is what a caller sets on create or update. Nil fields stay as they are on update.
type Spec struct {
	Kind          *Kind           `json:"kind"`
	Name          *string         `json:"name"`
	Online        *bool           `json:"online"`
	JourneyStages *[]string       `json:"journey_stages"`
	ContactLevel  *string         `json:"contact_level"`
	Description   *string         `json:"description"`
	Settings      json.RawMessage `json:"settings"`
	// Secrets are set by name (an empty value removes one) and never
	// returned: passwords and tokens the channel adapters use.
	Secrets  map[string]string `json:"secrets"`
	Disabled *bool             `json:"disabled"`
}

// Service manages contact points.
type Service struct {
	db  *store.DB
	now func() time.Time

	byKey *secret.Cache[*ContactPoint] // write-key hash → contact point
}

// NewService returns the registry on db.
func NewService(db *store.DB) *Service {
	return &Service{db: db, now: time.Now, byKey: secret.NewCache[*ContactPoint](5 * time.Second)}
}

const columns = `id, kind, name, online, journey_stages, contact_level, description, settings,
	write_key_hash IS NOT NULL, write_key_hint, disabled_at IS NOT NULL, created_at, updated_at, secrets`

func scan(row interface{ Scan(...any) error }) (*ContactPoint, error) {
	var cp ContactPoint
	var stages, settings, secrets string
	var created, updated int64
	if err := row.Scan(&cp.ID, &cp.Kind, &cp.Name, &cp.Online, &stages, &cp.ContactLevel, &cp.Description,
		&settings, &cp.HasWriteKey, &cp.WriteKeyHint, &cp.Disabled, &created, &updated, &secrets); err != nil {
		return nil, err
	}
	cp.SecretsSet = []string{}
	var sec map[string]string
	if json.Unmarshal([]byte(secrets), &sec) == nil {
		for k := range sec {
			cp.SecretsSet = append(cp.SecretsSet, k)
		}
		slices.Sort(cp.SecretsSet)
	}
	if err := json.Unmarshal([]byte(stages), &cp.JourneyStages); err != nil {
		return nil, fmt.Errorf("contact point %d journey stages: %w", cp.ID, err)
	}
	cp.Settings = json.RawMessage(settings)
	cp.CreatedAt = time.UnixMicro(created).UTC()
	cp.UpdatedAt = time.UnixMicro(updated).UTC()
	return &cp, nil
}

// Created is a new contact point and, for kinds that ingest events, its write
// key, which is shown only this once (the store keeps only its hash).
type Created struct {
	*ContactPoint
	WriteKey string `json:"write_key,omitempty"`
	// WidgetSecret (web_chat) signs visitors' user ids (user_hash); shown
	// only this once, like the write key.
	WidgetSecret string `json:"widget_secret,omitempty"`
}

// Create registers a contact point.
func (s *Service) Create(ctx context.Context, spec Spec) (*Created, error) {
	if spec.Kind == nil {
		return nil, errs.Invalidf("kind", "is required; one of %s", kindList())
	}
	if spec.Name == nil {
		return nil, errs.Invalidf("name", "is required")
	}
	cp := &ContactPoint{Kind: *spec.Kind, JourneyStages: []string{}, Settings: json.RawMessage("{}"), SecretsSet: []string{}}
	cp.Online = cp.Kind.OnlineByDefault()
	cp.ContactLevel = LowContact
	if !cp.Online {
		cp.ContactLevel = HighContact
	}
	if err := apply(cp, spec); err != nil {
		return nil, err
	}
	var widgetSecret string
	if cp.Kind.HasWidget() && spec.Secrets[WidgetSecretName] == "" {
		widgetSecret = secret.New("ws_")
		spec.Secrets = maps.Clone(spec.Secrets)
		if spec.Secrets == nil {
			spec.Secrets = map[string]string{}
		}
		spec.Secrets[WidgetSecretName] = widgetSecret
	}
	secrets, err := mergeSecrets("{}", spec.Secrets)
	if err != nil {
		return nil, err
	}
	cp.SecretsSet = secretNames(secrets)
	now := s.now()
	cp.CreatedAt, cp.UpdatedAt = now.UTC().Truncate(time.Microsecond), now.UTC().Truncate(time.Microsecond)
	out := &Created{ContactPoint: cp, WidgetSecret: widgetSecret}
	var keyHash any
	if cp.Kind.IngestsEvents() {
		out.WriteKey = secret.New("wk_")
		keyHash = secret.Hash(out.WriteKey)
		cp.HasWriteKey = true
		cp.WriteKeyHint = secret.Hint(out.WriteKey)
	}
	stages, _ := json.Marshal(cp.JourneyStages)
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		cp.ID = tx.NewID()
		_, err := tx.Exec(ctx, `INSERT INTO contact_points (id, kind, name, online, journey_stages, contact_level,
			description, settings, write_key_hash, write_key_hint, disabled_at, created_at, updated_at, secrets)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			cp.ID, string(cp.Kind), cp.Name, cp.Online, string(stages), cp.ContactLevel, cp.Description,
			string(cp.Settings), keyHash, cp.WriteKeyHint, disabledAt(cp.Disabled, now), now.UnixMicro(), now.UnixMicro(), secrets)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating contact point: %w", err)
	}
	return out, nil
}

func disabledAt(disabled bool, now time.Time) any {
	if disabled {
		return now.UnixMicro()
	}
	return nil
}

func apply(cp *ContactPoint, spec Spec) error {
	if spec.Kind != nil {
		if !slices.Contains(Kinds, *spec.Kind) {
			return errs.Invalidf("kind", "unknown kind %q; one of %s", *spec.Kind, kindList())
		}
		if cp.ID != 0 && *spec.Kind != cp.Kind {
			return errs.Invalidf("kind", "cannot be changed; create a new contact point instead")
		}
		cp.Kind = *spec.Kind
	}
	if spec.Name != nil {
		n := strings.TrimSpace(*spec.Name)
		if n == "" || utf8.RuneCountInString(n) > 200 || !utf8.ValidString(n) {
			return errs.Invalidf("name", "must be 1 to 200 characters")
		}
		cp.Name = n
	}
	if spec.Online != nil {
		cp.Online = *spec.Online
	}
	if spec.JourneyStages != nil {
		st := []string{}
		for i, v := range *spec.JourneyStages {
			if !slices.Contains(Stages, v) {
				return errs.Invalidf(fmt.Sprintf("journey_stages[%d]", i), "unknown stage %q; one of %s", v, strings.Join(Stages, ", "))
			}
			if !slices.Contains(st, v) {
				st = append(st, v)
			}
		}
		cp.JourneyStages = st
	}
	if spec.ContactLevel != nil {
		if *spec.ContactLevel != HighContact && *spec.ContactLevel != LowContact {
			return errs.Invalidf("contact_level", "must be %q or %q", HighContact, LowContact)
		}
		cp.ContactLevel = *spec.ContactLevel
	}
	if spec.Description != nil {
		if len(*spec.Description) > 4000 {
			return errs.Invalidf("description", "must be at most 4000 bytes")
		}
		cp.Description = *spec.Description
	}
	if len(spec.Settings) > 0 && string(spec.Settings) != "null" {
		var m map[string]any
		if err := json.Unmarshal(spec.Settings, &m); err != nil {
			return errs.Invalidf("settings", "must be a JSON object")
		}
		if len(spec.Settings) > 16<<10 {
			return errs.Invalidf("settings", "must be at most 16 KB")
		}
		cp.Settings = append(json.RawMessage(nil), spec.Settings...)
	}
	if spec.Disabled != nil {
		cp.Disabled = *spec.Disabled
	}
	return nil
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Get returns one contact point.
func (s *Service) Get(ctx context.Context, cpID id.ID) (*ContactPoint, error) {
	cp, err := scan(s.db.QueryRow(ctx, "SELECT "+columns+" FROM contact_points WHERE id = ?", cpID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("contact point %s", cpID)
	}
	return cp, err
}

// List returns the contact points, enabled first, by name.
func (s *Service) List(ctx context.Context, includeDisabled bool) ([]*ContactPoint, error) {
	q := "SELECT " + columns + " FROM contact_points"
	if !includeDisabled {
		q += " WHERE disabled_at IS NULL"
	}
	rows, err := s.db.Query(ctx, q+" ORDER BY disabled_at IS NOT NULL, name, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*ContactPoint{}
	for rows.Next() {
		cp, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, cp)
	}
	return out, rows.Err()
}

// Update changes the fields set in spec. Disabling keeps the history but
// refuses new events on the contact point's write key.
func (s *Service) Update(ctx context.Context, cpID id.ID, spec Spec) (*ContactPoint, error) {
	var out *ContactPoint
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		cp, err := scan(tx.QueryRow(ctx, "SELECT "+columns+" FROM contact_points WHERE id = ?", cpID))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFoundf("contact point %s", cpID)
		}
		if err != nil {
			return err
		}
		wasDisabled := cp.Disabled
		if err := apply(cp, spec); err != nil {
			return err
		}
		now := s.now()
		cp.UpdatedAt = now.UTC().Truncate(time.Microsecond)
		stages, _ := json.Marshal(cp.JourneyStages)
		q := `UPDATE contact_points SET name = ?, online = ?, journey_stages = ?, contact_level = ?, description = ?,
			settings = ?, updated_at = ?`
		args := []any{cp.Name, cp.Online, string(stages), cp.ContactLevel, cp.Description, string(cp.Settings), now.UnixMicro()}
		if spec.Secrets != nil {
			var old string
			if err := tx.QueryRow(ctx, "SELECT secrets FROM contact_points WHERE id = ?", cpID).Scan(&old); err != nil {
				return err
			}
			merged, err := mergeSecrets(old, spec.Secrets)
			if err != nil {
				return err
			}
			cp.SecretsSet = secretNames(merged)
			q += ", secrets = ?"
			args = append(args, merged)
		}
		if cp.Disabled != wasDisabled {
			q += ", disabled_at = ?"
			args = append(args, disabledAt(cp.Disabled, now))
		}
		_, err = tx.Exec(ctx, q+" WHERE id = ?", append(args, cpID)...)
		out = cp
		return err
	})
	if err != nil {
		return nil, err
	}
	s.forgetKeys()
	return out, nil
}

// Secrets returns a contact point's secrets, for the channel adapters; no
// API returns them.
func (s *Service) Secrets(ctx context.Context, cpID id.ID) (map[string]string, error) {
	var v string
	err := s.db.QueryRow(ctx, "SELECT secrets FROM contact_points WHERE id = ?", cpID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("contact point %s", cpID)
	}
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		return nil, fmt.Errorf("contact point %s secrets: %w", cpID, err)
	}
	return out, nil
}

// mergeSecrets applies set (an empty value removes the name) to the stored
// JSON object and returns the new one.
func mergeSecrets(stored string, set map[string]string) (string, error) {
	m := map[string]string{}
	if err := json.Unmarshal([]byte(stored), &m); err != nil {
		m = map[string]string{}
	}
	for k, v := range set {
		if k == "" || len(k) > 40 || strings.Trim(k, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return "", errs.Invalidf("secrets", "name %q: use 1 to 40 lower-case letters, digits and _", k)
		}
		if len(v) > 4096 || !utf8.ValidString(v) {
			return "", errs.Invalidf("secrets."+k, "must be valid UTF-8 of at most 4096 bytes")
		}
		if v == "" {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	if len(m) > 20 {
		return "", errs.Invalidf("secrets", "at most 20 secrets")
	}
	b, _ := json.Marshal(m)
	return string(b), nil
}

func secretNames(stored string) []string {
	var m map[string]string
	_ = json.Unmarshal([]byte(stored), &m)
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// RotateWidgetSecret issues a new widget secret (also for a web_chat
// contact point made without one); user_hash values made with the old one
// stop matching at once.
func (s *Service) RotateWidgetSecret(ctx context.Context, cpID id.ID) (string, error) {
	cp, err := s.Get(ctx, cpID)
	if err != nil {
		return "", err
	}
	if !cp.Kind.HasWidget() {
		return "", errs.Invalidf("kind", "contact points of kind %s have no chat widget", cp.Kind)
	}
	key := secret.New("ws_")
	if _, err := s.Update(ctx, cpID, Spec{Secrets: map[string]string{WidgetSecretName: key}}); err != nil {
		return "", err
	}
	return key, nil
}

// RotateWriteKey issues a new write key; the old one stops working at once.
func (s *Service) RotateWriteKey(ctx context.Context, cpID id.ID) (string, error) {
	cp, err := s.Get(ctx, cpID)
	if err != nil {
		return "", err
	}
	if !cp.Kind.IngestsEvents() {
		return "", errs.Invalidf("kind", "contact points of kind %s do not take events and have no write key", cp.Kind)
	}
	key := secret.New("wk_")
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE contact_points SET write_key_hash = ?, write_key_hint = ?, updated_at = ? WHERE id = ?",
			secret.Hash(key), secret.Hint(key), s.now().UnixMicro(), cpID)
		return err
	})
	s.forgetKeys()
	return key, err
}

// ErrBadWriteKey is returned for a write key that matches no enabled contact point.
var ErrBadWriteKey = fmt.Errorf("unknown or disabled write key: %w", errs.ErrUnauthenticated)

// ByWriteKey finds the enabled contact point a write key belongs to. Results
// are cached briefly: this runs on every event API request.
func (s *Service) ByWriteKey(ctx context.Context, key string) (*ContactPoint, error) {
	if key == "" {
		return nil, ErrBadWriteKey
	}
	h := secret.Hash(key)
	now := s.now()
	if cp, ok, fresh := s.byKey.Get(h, now); fresh {
		if !ok {
			return nil, ErrBadWriteKey
		}
		return cp, nil
	}
	cp, err := scan(s.db.QueryRow(ctx, "SELECT "+columns+" FROM contact_points WHERE write_key_hash = ? AND disabled_at IS NULL", h))
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	s.byKey.Put(h, cp, cp != nil, now)
	if cp == nil {
		return nil, ErrBadWriteKey
	}
	return cp, nil
}

func (s *Service) forgetKeys() { s.byKey.Clear() }
