// Package interaction records touches — every contact between a customer and
// the company on any contact point — and reads a customer's timeline.
// Interactions are append-only and idempotent on (source, external id).
package interaction

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Directions of an interaction.
const (
	Inbound  = "inbound"  // the customer reached out
	Outbound = "outbound" // the company reached out
	Passive  = "passive"  // observed: a page view, an ad exposure, a bill issued
)

// Kinds lists the usual interaction kinds. Other kinds matching customKind are
// accepted too, so integrations can bring their own.
var Kinds = []string{
	"message", "email", "chat", "sms", "call", "callback", "voicemail", "visit", "kiosk_session",
	"page_view", "screen_view", "event", "purchase", "order", "return", "bill", "payment",
	"payment_reminder", "delivery", "installation", "repair", "review", "survey_answer",
	"ad_exposure", "referral", "note", "social_post",
}

var customKind = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// Interaction is one touch, as stored.
type Interaction struct {
	ID             id.ID           `json:"id"`
	CustomerID     id.ID           `json:"customer_id"`
	ContactPointID *id.ID          `json:"contact_point_id"`
	Kind           string          `json:"kind"`
	Direction      string          `json:"direction"`
	OccurredAt     time.Time       `json:"occurred_at"`
	DurationMS     *int64          `json:"duration_ms,omitempty"`
	StaffID        *id.ID          `json:"staff_id,omitempty"`
	StaffName      string          `json:"staff_name,omitempty"`
	CaseID         *id.ID          `json:"case_id,omitempty"`
	Reason         string          `json:"reason,omitempty"`
	Outcome        string          `json:"outcome,omitempty"`
	Subject        string          `json:"subject,omitempty"`
	Content        string          `json:"content,omitempty"`
	Summary        string          `json:"summary,omitempty"`
	Sentiment      *float64        `json:"sentiment,omitempty"`
	Rating         *int            `json:"rating,omitempty"`
	Value          *Money          `json:"value,omitempty"`
	Campaign       Campaign        `json:"campaign"`
	PromoCode      string          `json:"promo_code,omitempty"`
	JourneyStage   string          `json:"journey_stage,omitempty"`
	Properties     json.RawMessage `json:"properties"`
	Source         string          `json:"source"`
	ExternalID     string          `json:"external_id,omitempty"`
	ReceivedAt     time.Time       `json:"received_at"`
	// DeliveryStatus of an outbound message: queued, pending (no adapter for
	// its channel yet), sent, delivered, read, failed; empty otherwise.
	DeliveryStatus string `json:"delivery_status,omitempty"`
}

// Money is an amount in minor units (cents) of an ISO 4217 currency.
type Money struct {
	Minor    int64  `json:"minor"`
	Currency string `json:"currency"`
}

// Campaign is the marketing attribution of an interaction (UTM parameters).
type Campaign struct {
	Name    string `json:"name,omitempty"`
	Source  string `json:"source,omitempty"`
	Medium  string `json:"medium,omitempty"`
	Term    string `json:"term,omitempty"`
	Content string `json:"content,omitempty"`
}

// Input is an interaction to record, with what identifies its customer.
type Input struct {
	// Who: a known customer id, or identifiers resolved to a customer.
	CustomerID  id.ID                    `json:"customer_id"`
	Identifiers []customer.RawIdentifier `json:"identifiers"`
	// Traits learned with the contact, set on the customer.
	Traits map[string]any `json:"traits,omitempty"`

	ContactPointID id.ID           `json:"contact_point_id"`
	Kind           string          `json:"kind"`
	Direction      string          `json:"direction"`
	OccurredAt     time.Time       `json:"occurred_at"`
	DurationMS     *int64          `json:"duration_ms"`
	StaffID        *id.ID          `json:"staff_id"`
	StaffName      string          `json:"staff_name"`
	CaseID         *id.ID          `json:"case_id"`
	Reason         string          `json:"reason"`
	Outcome        string          `json:"outcome"`
	Subject        string          `json:"subject"`
	Content        string          `json:"content"`
	Summary        string          `json:"summary"`
	Sentiment      *float64        `json:"sentiment"`
	Rating         *int            `json:"rating"`
	Value          *Money          `json:"value"`
	Campaign       Campaign        `json:"campaign"`
	PromoCode      string          `json:"promo_code"`
	JourneyStage   string          `json:"journey_stage"`
	Properties     json.RawMessage `json:"properties"`
	// Source and ExternalID make the record idempotent: the same pair is stored once.
	Source     string `json:"source"`
	ExternalID string `json:"external_id"`

	// Alias (Segment alias): an earlier identifier of the same customer.
	Alias *customer.RawIdentifier `json:"-"`
	// IdentifyOnly resolves the customer and applies traits but records no
	// interaction (Segment identify, group and alias calls).
	IdentifyOnly bool `json:"-"`
	// DeliveryStatus is set by the desk on replies; not taken from the API.
	DeliveryStatus string `json:"-"`
	// NoCase keeps an inbound contact off cases: it neither joins nor
	// opens one (automatic mail: bounces, auto-replies, list mail). Not
	// taken from the API.
	NoCase bool `json:"-"`
	// Then runs inside the recording transaction once the interaction is
	// stored and linked to its case (not for a duplicate), so that a
	// channel's own rows (mail threads, attachments) commit with it.
	Then func(ctx context.Context, tx *store.Tx, r Recorded) error `json:"-"`
}

// Result says what became of one input.
type Result struct {
	ID         id.ID `json:"id,omitempty"`
	CustomerID id.ID `json:"customer_id"`
	// Duplicate is true when (source, external_id) was already stored; ID is then the stored one.
	Duplicate bool `json:"duplicate,omitempty"`
	// CaseID is the case the interaction joined or opened, if any.
	CaseID *id.ID `json:"case_id,omitempty"`
}

func knownKind(k string) bool { return slices.Contains(Kinds, k) || customKind.MatchString(k) }
