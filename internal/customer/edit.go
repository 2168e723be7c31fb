package customer

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

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/identifier"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// RawIdentifier is an identifier as a client sent it, before normalization.
type RawIdentifier struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// NormalizeAll normalizes raw identifiers; blocked junk values (null,
// anonymous, all zeros...) are dropped silently, other bad values are an
// error naming field[i].
func (s *Service) NormalizeAll(field string, raw []RawIdentifier) ([]identifier.Identifier, error) {
	out := make([]identifier.Identifier, 0, len(raw))
	for i, r := range raw {
		ident, err := s.norm.Normalize(r.Kind, r.Value)
		if err != nil {
			var ie *identifier.Error
			if errors.As(err, &ie) && ie.Blocked {
				continue
			}
			return nil, errs.Invalidf(fmt.Sprintf("%s[%d]", field, i), "%v", err)
		}
		out = append(out, ident)
	}
	return out, nil
}

// Profile is what a person or integration sets on a customer. Nil fields stay.
type Profile struct {
	Kind         *string            `json:"kind"`
	Name         *string            `json:"name"`
	Traits       map[string]any     `json:"traits"`
	Consent      map[string]Consent `json:"consent"`
	JourneyStage *string            `json:"journey_stage"`
	Identifiers  []RawIdentifier    `json:"identifiers"`
}

// Channels on which consent can be recorded: the contact point kinds that reach a customer.
var ConsentChannels = []string{"email", "sms", "whatsapp", "phone", "mail", "social", "web_push", "app_push"}

// JourneyStages a customer can be in.
var JourneyStages = []string{"prospect", "first_purchase", "customer", "repeat", "at_risk", "lapsed"}

func validateProfile(p *Profile) error {
	if p.Kind != nil && *p.Kind != Person && *p.Kind != Business {
		return errs.Invalidf("kind", "must be %q or %q", Person, Business)
	}
	if p.Name != nil && len(*p.Name) > 200 {
		return errs.Invalidf("name", "must be at most 200 bytes")
	}
	if p.JourneyStage != nil && *p.JourneyStage != "" && !slices.Contains(JourneyStages, *p.JourneyStage) {
		return errs.Invalidf("journey_stage", "unknown stage %q; one of %s", *p.JourneyStage, strings.Join(JourneyStages, ", "))
	}
	if p.Traits != nil {
		b, err := json.Marshal(p.Traits)
		if err != nil || len(b) > 32<<10 {
			return errs.Invalidf("traits", "must be a JSON object of at most 32 KB")
		}
	}
	for ch, c := range p.Consent {
		if !slices.Contains(ConsentChannels, ch) {
			return errs.Invalidf("consent."+ch, "unknown channel; one of %s", strings.Join(ConsentChannels, ", "))
		}
		if c.Status != "opted_in" && c.Status != "opted_out" {
			return errs.Invalidf("consent."+ch+".status", `must be "opted_in" or "opted_out"`)
		}
		if c.QuietHours != "" && !validQuietHours(c.QuietHours) {
			return errs.Invalidf("consent."+ch+".quiet_hours", `must look like "21:00-08:00"`)
		}
	}
	return nil
}

func validQuietHours(s string) bool {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return false
	}
	for _, v := range []string{from, to} {
		if _, err := time.Parse("15:04", v); err != nil {
			return false
		}
	}
	return true
}

// Create makes a customer from a profile; its identifiers go through
// identity resolution, so creating a customer whose email is known returns
// (and updates) the existing one.
func (s *Service) Create(ctx context.Context, p Profile, source string) (*Customer, bool, error) {
	if err := validateProfile(&p); err != nil {
		return nil, false, err
	}
	idents, err := s.NormalizeAll("identifiers", p.Identifiers)
	if err != nil {
		return nil, false, err
	}
	if len(idents) == 0 {
		return nil, false, errs.Invalidf("identifiers", "at least one usable identifier is required")
	}
	var res Resolution
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		traits := maps.Clone(p.Traits)
		if traits == nil {
			traits = map[string]any{}
		}
		if p.Name != nil {
			traits["name"] = *p.Name
		}
		kind := ""
		if p.Kind != nil {
			kind = *p.Kind
		}
		var err error
		res, err = s.Resolve(ctx, tx, Evidence{Identifiers: idents, Traits: traits, Kind: kind, Source: source})
		if err != nil {
			return err
		}
		return s.setProfile(ctx, tx, res.CustomerID, p, false)
	})
	if err != nil {
		return nil, false, err
	}
	c, err := s.Get(ctx, res.CustomerID)
	return c, res.Created, err
}

// Update changes a customer's profile. New identifiers are linked to it;
// an identifier held by another customer is refused as invalid input naming
// it (merge the two customers instead).
func (s *Service) Update(ctx context.Context, customerID id.ID, p Profile, source string) (*Customer, error) {
	if err := validateProfile(&p); err != nil {
		return nil, err
	}
	idents, err := s.NormalizeAll("identifiers", p.Identifiers)
	if err != nil {
		return nil, err
	}
	var root id.ID
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT root_id FROM customers WHERE id = ?", customerID).Scan(&root); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errs.NotFoundf("customer %s", customerID)
			}
			return err
		}
		counts, err := kindCounts(ctx, tx, root)
		if err != nil {
			return err
		}
		now := s.now()
		for i, ident := range idents {
			f, ok, err := lookup(ctx, tx, ident)
			if err != nil {
				return err
			}
			if ok {
				if f.root != root {
					return errs.Invalidf(fmt.Sprintf("identifiers[%d]", i), "%s belongs to customer %s; merge the customers instead", ident, f.root)
				}
				continue
			}
			if counts[ident.Kind] >= identifier.Limit(ident.Kind) {
				return errs.Invalidf(fmt.Sprintf("identifiers[%d]", i), "a customer may have at most %d identifiers of kind %s", identifier.Limit(ident.Kind), ident.Kind)
			}
			if err := s.insertIdentifier(ctx, tx, ident, root, source, now); err != nil {
				return err
			}
			counts[ident.Kind]++
		}
		return s.setProfile(ctx, tx, root, p, true)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, root)
}

// setProfile writes the profile fields onto the root row.
func (s *Service) setProfile(ctx context.Context, tx *store.Tx, root id.ID, p Profile, withTraits bool) error {
	var traitsJSON, consentJSON, name, kind, stage string
	if err := tx.QueryRow(ctx, "SELECT traits, consent, name, kind, journey_stage FROM customers WHERE id = ?", root).
		Scan(&traitsJSON, &consentJSON, &name, &kind, &stage); err != nil {
		return err
	}
	traits := map[string]any{}
	consent := map[string]Consent{}
	if err := json.Unmarshal([]byte(traitsJSON), &traits); err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(consentJSON), &consent); err != nil {
		return err
	}
	now := s.now().UTC()
	if withTraits {
		for k, v := range p.Traits {
			if v == nil {
				delete(traits, k)
			} else {
				traits[k] = v
			}
		}
	}
	for ch, c := range p.Consent {
		c.UpdatedAt = now
		consent[ch] = c
	}
	newName := name
	if p.Name != nil {
		newName = strings.TrimSpace(*p.Name)
		traits["name"] = newName
	}
	if p.Kind != nil {
		kind = *p.Kind
	}
	if p.JourneyStage != nil {
		stage = *p.JourneyStage
	}
	tb, _ := json.Marshal(traits)
	cb, _ := json.Marshal(consent)
	if _, err := tx.Exec(ctx, "UPDATE customers SET traits = ?, consent = ?, name = ?, kind = ?, journey_stage = ?, updated_at = ? WHERE id = ?",
		string(tb), string(cb), newName, kind, stage, now.UnixMicro(), root); err != nil {
		return err
	}
	if newName != name {
		return setNameTokens(ctx, tx, root, newName)
	}
	return nil
}

// SetConsent records a customer's consent on one channel (used by channel
// adapters for STOP/START keywords and by the desk).
func (s *Service) SetConsent(ctx context.Context, tx *store.Tx, customerID id.ID, channel string, c Consent) error {
	var root id.ID
	if err := tx.QueryRow(ctx, "SELECT root_id FROM customers WHERE id = ?", customerID).Scan(&root); err != nil {
		return err
	}
	return s.setProfile(ctx, tx, root, Profile{Consent: map[string]Consent{channel: c}}, false)
}
