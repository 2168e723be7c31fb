package cases

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Reply is an answer to the customer on a case.
type Reply struct {
	// ContactPointID is where the reply goes out; 0 means the contact
	// point of the customer's latest contact on the case.
	ContactPointID id.ID  `json:"contact_point_id"`
	Subject        string `json:"subject"`
	Body           string `json:"body"`
	// Status, when set, is the case's status after the reply (usually
	// waiting_on_customer, or resolved).
	Status string `json:"status"`
	// IdempotencyKey makes a resubmitted reply (a double click, a retry)
	// count once.
	IdempotencyKey string `json:"idempotency_key"`
	// Then runs inside the transaction that records the reply (not for a
	// resubmitted duplicate), so that what the reply cited commits with it.
	Then func(ctx context.Context, tx *store.Tx, r interaction.Recorded) error `json:"-"`
}

// DeliveryPending marks a reply on a channel that has no adapter yet: it is
// on the timeline, and goes out when the channel is connected.
const DeliveryPending = "pending"

// replyKind is the interaction kind of a reply on a channel.
func replyKind(channel string) string {
	switch channel {
	case "email", "mail":
		return "email"
	case "web_chat":
		return "chat"
	case "sms":
		return "sms"
	case "phone":
		return "call"
	case "store", "field_sales", "field_service", "delivery":
		return "visit"
	}
	return "message"
}

// ConsentChannel is the consent a reply on a contact point of this kind needs
// when the customer did not start there ("" = the kind cannot carry a reply).
func ConsentChannel(kind string) string {
	switch kind {
	case "email", "sms", "whatsapp", "phone", "mail", "social":
		return kind
	}
	return ""
}

// Reply records an answer to the customer as an outbound interaction on the
// case. Replying on a channel the customer did not use on this case needs
// their consent on that channel.
func (s *Service) Reply(ctx context.Context, actor Actor, caseID id.ID, r Reply) (*interaction.Result, error) {
	body := strings.TrimSpace(r.Body)
	if body == "" {
		return nil, errs.Invalidf("body", "is required")
	}
	if err := checkText("body", body, 64<<10); err != nil {
		return nil, err
	}
	if err := checkText("subject", r.Subject, maxSubject); err != nil {
		return nil, err
	}
	if r.Status != "" && !slices.Contains(Statuses, r.Status) {
		return nil, errs.Invalidf("status", "must be one of %v", Statuses)
	}
	if len(r.IdempotencyKey) > 100 {
		return nil, errs.Invalidf("idempotency_key", "is longer than 100 characters")
	}
	c, err := s.Get(ctx, caseID)
	if err != nil {
		return nil, err
	}
	if c.MergedInto != nil {
		return nil, errs.Conflictf("case %s was merged into case %s; reply there", c.ID, *c.MergedInto)
	}
	used, err := s.channelsUsed(ctx, caseID)
	if err != nil {
		return nil, err
	}
	cpID := r.ContactPointID
	if cpID == 0 {
		if len(used) == 0 {
			if c.ContactPointID == nil {
				return nil, errs.Invalidf("contact_point_id", "the case has no contact to answer; choose the channel to reply on")
			}
			cpID = *c.ContactPointID
		} else {
			cpID = used[0]
		}
	}
	info, err := s.contactPoint(ctx, s.db, cpID)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(used, cpID) {
		cust, err := s.customers.Get(ctx, c.CustomerID)
		if err != nil {
			return nil, err
		}
		ch := ConsentChannel(info.kind)
		if ch == "" {
			return nil, errs.Invalidf("contact_point_id", "%s (%s) cannot carry a reply", info.name, info.kind)
		}
		if cust.Consent[ch].Status != "opted_in" {
			return nil, errs.Invalidf("contact_point_id", "the customer has not agreed to be contacted by %s; reply on a channel they used", ch)
		}
	}
	staff := actor.UserID
	in := interaction.Input{
		CustomerID: c.CustomerID, ContactPointID: cpID, Kind: replyKind(info.kind), Direction: interaction.Outbound,
		StaffName: actor.Name, CaseID: &caseID, Subject: r.Subject, Content: body, Reason: c.Reason,
		Source: "desk", DeliveryStatus: DeliveryPending, Then: r.Then,
		// The case's clock says when it was answered (SLA targets follow it).
		OccurredAt: s.now(),
	}
	if staff != 0 {
		in.StaffID = &staff
	}
	if r.IdempotencyKey != "" {
		in.ExternalID = "reply:" + caseID.String() + ":" + r.IdempotencyKey
	}
	res, err := s.interactions.Record(ctx, []interaction.Input{in})
	if err != nil {
		return nil, fmt.Errorf("recording the reply: %w", err)
	}
	if r.Status != "" && r.Status != c.Status && !res[0].Duplicate {
		st := r.Status
		if _, err := s.Update(ctx, actor, caseID, Patch{Status: &st}); err != nil {
			return &res[0], err
		}
	}
	return &res[0], nil
}

// channelsUsed lists the contact points the customer used on a case, the
// most recent first.
func (s *Service) channelsUsed(ctx context.Context, caseID id.ID) ([]id.ID, error) {
	rows, err := s.db.Query(ctx, `SELECT contact_point_id FROM interactions WHERE case_id = ? AND direction = 'inbound'
		AND contact_point_id IS NOT NULL ORDER BY occurred_at DESC LIMIT 200`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []id.ID
	for rows.Next() {
		var v id.ID
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, rows.Err()
}

// ChannelsUsed is channelsUsed for the desk's composer.
func (s *Service) ChannelsUsed(ctx context.Context, caseID id.ID) ([]id.ID, error) {
	return s.channelsUsed(ctx, caseID)
}
