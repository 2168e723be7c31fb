package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

// The hero case is the first one an agent sees after signing in: Grace
// Whitman ordered a TV in the web shop, whose checkout showed no delivery
// charge. The TV came three days late, and her card was charged $59 for the
// delivery. Over three days she called, wrote, chatted, asked at the store
// counter and looked the order up on the kiosk — five contact points, one
// case, joined by the case service as the contacts came in.

const (
	heroName    = "Grace Whitman"
	heroFirst   = "Grace"
	heroEmail   = "grace.whitman@example.com"
	heroPhone   = "+1 332 555 0142" // New York, the fictional 555-01xx block; no demo customer has area code 332
	heroLoyalty = "VOLT 0777 1042"  // demo cards start at VOLT 1000
	heroUserID  = "vm-0999042"      // demo accounts start at vm-1000000
	heroAnon    = "5f3c9a1e7b2d4c60"
	heroOrder   = "W990417-1"
	heroReason  = reasonShippingCharges
	heroSubject = "Late TV delivery and a $59 delivery charge I never saw"
	heroAgent   = "agent@demo.example"
	heroPrefix  = "hero-"
)

// heroTimes are the moments of the story, before now.
type heroTimes struct {
	browse, call, email, chat, delivered, store, kiosk, reply, storeNote, note time.Time
}

// heroClock places the story in the last days before now, at hours a
// store in New York is open: the visit to the store is this afternoon, or
// yesterday evening when the demo starts early in the morning.
func heroClock(now time.Time) heroTimes {
	loc := countries[0].loc
	local := now.In(loc)
	anchor := local
	switch {
	case local.Hour() >= 20:
		anchor = time.Date(local.Year(), local.Month(), local.Day(), 19, 50, 0, 0, loc)
	case local.Hour() < 11:
		y := local.AddDate(0, 0, -1)
		anchor = time.Date(y.Year(), y.Month(), y.Day(), 19, 50, 0, 0, loc)
	}
	anchor = anchor.Truncate(time.Minute)
	if !anchor.Before(now) {
		anchor = now.Add(-time.Minute).Truncate(time.Minute)
	}
	day := func(back, h, m int) time.Time {
		d := anchor.AddDate(0, 0, -back)
		return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, loc).UTC()
	}
	return heroTimes{
		browse:    day(6, 21, 2),
		call:      day(2, 10, 5),
		email:     day(2, 19, 41),
		chat:      day(1, 9, 18),
		delivered: day(1, 17, 46),
		store:     anchor.Add(-52 * time.Minute).UTC(),
		kiosk:     anchor.Add(-38 * time.Minute).UTC(),
		storeNote: anchor.Add(-31 * time.Minute).UTC(),
		reply:     anchor.Add(-14 * time.Minute).UTC(),
		note:      anchor.Add(-6 * time.Minute).UTC(),
	}
}

// heroInputs are Grace's contacts, in the order they happened. Her email
// ties the channels together: she signs in at checkout, gives it to the
// agent on the phone and in the chat form, and to the clerk for the receipt.
func heroInputs(cps []id.ID, now time.Time) []interaction.Input {
	t := heroClock(now)
	email := ident("email", heroEmail)
	traits := map[string]any{"first_name": heroFirst, "last_name": "Whitman", "name": heroName, "country": "US",
		"language": "en-US", "city": "Brooklyn", "segment": "consumer", "loyalty_tier": "gold"}
	web := []customer.RawIdentifier{ident("anonymous_id", heroAnon), ident("user_id", heroUserID)}
	tv := &products[12] // 65" OLED TV
	var out []interaction.Input
	add := func(key cpKey, in interaction.Input) {
		in.ContactPointID = cps[key]
		in.Source = Source
		in.ExternalID = fmt.Sprintf("%s%d", heroPrefix, len(out)+1)
		if in.Properties == nil {
			in.Properties = props(map[string]any{"order_id": heroOrder})
		}
		out = append(out, in)
	}
	page := func(at time.Time, path, title, stage string) {
		add(cpWeb, interaction.Input{Identifiers: web, Kind: "page_view", Direction: interaction.Passive, OccurredAt: at,
			Subject: title, JourneyStage: stage, Properties: props(map[string]any{"url": "https://voltmart.example" + path, "path": path})})
	}
	mood := func(v float64) *float64 { return &v }
	mins := func(m int64) *int64 { v := m * 60000; return &v }

	page(t.browse, "/p/"+tv.slug, tv.name, pre)
	page(t.browse.Add(5*time.Minute), "/cart", "Your cart", buy)
	page(t.browse.Add(7*time.Minute), "/checkout", "Checkout", buy)
	add(cpWeb, interaction.Input{Identifiers: append([]customer.RawIdentifier{email}, web...), Traits: traits, Kind: "purchase",
		Direction: interaction.Inbound, OccurredAt: t.browse.Add(11 * time.Minute), JourneyStage: buy,
		Subject: "Order " + heroOrder + ": " + tv.name, Value: &interaction.Money{Minor: countries[0].price(tv.usd), Currency: "USD"},
		Properties: props(map[string]any{"order_id": heroOrder, "shipping": "two-person delivery", "promised": "3 to 5 working days",
			"items": []map[string]any{{"name": tv.name, "category": tv.category, "quantity": 1}}})})
	add(cpEmail, interaction.Input{Identifiers: []customer.RawIdentifier{email}, Kind: "email", Direction: interaction.Outbound,
		OccurredAt: t.browse.Add(13 * time.Minute), JourneyStage: buy, Subject: "Your Voltmart order " + heroOrder,
		Content:    "Hello Grace,\n\nthank you for your order " + heroOrder + ": " + tv.name + ". It will be delivered in 3 to 5 working days.\n\nVoltmart",
		Properties: props(map[string]any{"order_id": heroOrder, "automated": true})})
	add(cpLineUS, interaction.Input{Identifiers: []customer.RawIdentifier{ident("phone", heroPhone), email}, Kind: "call",
		Direction: interaction.Inbound, OccurredAt: t.call, DurationMS: mins(11), StaffName: "Alex Morgan",
		Reason: heroReason, JourneyStage: post, Outcome: "escalated", Sentiment: mood(-0.62),
		Subject: heroSubject,
		Summary: "TV order " + heroOrder + " not delivered on the promised day; card charged $59 for delivery that the checkout never showed.",
		Content: "Order " + heroOrder + " (" + tv.name + ") was promised in 3 to 5 working days and has not arrived. Her card statement shows " +
			"$59.00 'two-person delivery', which she did not see anywhere before paying. Carrier: held at the depot, new date not known yet. " +
			"Told her I would chase the carrier and ask billing about the charge."})
	add(cpEmail, interaction.Input{Identifiers: []customer.RawIdentifier{email}, Kind: "email", Direction: interaction.Inbound,
		OccurredAt: t.email, Reason: heroReason, JourneyStage: post, Sentiment: mood(-0.55),
		Subject: "My TV order " + heroOrder + " - the $59 charge",
		Content: "Hello,\n\nas I said on the phone this morning: my TV still has not arrived, and my card was charged $59 for delivery. " +
			"Nowhere in your checkout did it say delivery costs anything - I have a screenshot of the checkout page. " +
			"Please refund the $59, and please tell me when the TV will come.\n\nGrace Whitman"})
	add(cpChat, interaction.Input{Identifiers: []customer.RawIdentifier{ident("anonymous_id", heroAnon), email}, Kind: "chat",
		Direction: interaction.Inbound, OccurredAt: t.chat, DurationMS: mins(9), StaffName: "Maria Lopez",
		Reason: heroReason, JourneyStage: post, Sentiment: mood(-0.4), Subject: "Chat: where is my TV?",
		Content: "Visitor: The tracking page still says 'delayed at depot'. Is my TV coming today? And nobody answered my email about the $59.\n" +
			"Agent: I'm sorry, Grace. The carrier confirms delivery today between 14:00 and 18:00. Your refund request is on your case; a colleague will answer it."})
	add(cpDelivery, interaction.Input{Identifiers: []customer.RawIdentifier{email}, Kind: "delivery", Direction: interaction.Outbound,
		OccurredAt: t.delivered, StaffName: "Marco Rossi", JourneyStage: post, Outcome: "delivered",
		Subject: "Delivered " + tv.name, Summary: "Delivered and set up, three working days after the promised date."})
	add(cpStoreMain, interaction.Input{Identifiers: []customer.RawIdentifier{ident("loyalty_card", heroLoyalty), email}, Kind: "visit",
		Direction: interaction.Inbound, OccurredAt: t.store, DurationMS: mins(12), StaffName: "Tom Baker",
		Reason: heroReason, JourneyStage: post, Sentiment: mood(-0.5), Subject: "At the counter about the $59 delivery charge",
		Content: "Came to the counter with her card statement: the TV was delivered yesterday, three days late, and she was charged $59 for " +
			"delivery that the checkout did not show. Web orders cannot be refunded at the counter; added a note to her case for the contact center."})
	add(cpKioskMain, interaction.Input{Identifiers: []customer.RawIdentifier{ident("loyalty_card", heroLoyalty)}, Kind: "kiosk_session",
		Direction: interaction.Inbound, OccurredAt: t.kiosk, DurationMS: mins(3), Reason: heroReason, JourneyStage: post,
		Subject:    "Order look-up " + heroOrder,
		Content:    "Looked up order " + heroOrder + ": 'Delivery (two-person): $59.00, charged'. Printed the order summary.",
		Properties: props(map[string]any{"order_id": heroOrder, "screens": []string{"Loyalty card", "My orders", "Order " + heroOrder, "Print"}})})
	return out
}

// recordHero records Grace's contacts (again, harmlessly, on a resumed
// Fill) and returns her case.
func recordHero(ctx context.Context, s *app.Services, cps []id.ID, now time.Time) (id.ID, error) {
	ins := heroInputs(cps, now)
	if _, err := s.Interactions.Record(ctx, ins); err != nil {
		return 0, fmt.Errorf("recording the hero story: %w", err)
	}
	return heroCase(ctx, s)
}

// heroCase is the case of Grace's call, 0 when there is none.
func heroCase(ctx context.Context, s *app.Services) (id.ID, error) {
	var c sql.NullInt64
	err := s.DB.QueryRow(ctx, "SELECT case_id FROM interactions WHERE source = ? AND external_id = ?", Source, heroCallID()).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("finding the hero case: %w", err)
	}
	return id.ID(c.Int64), nil
}

// heroCallID is the external id of Grace's call, the contact that opened her case.
func heroCallID() string {
	for _, in := range heroInputs(make([]id.ID, numContactPoints), time.Now()) {
		if in.Kind == "call" {
			return in.ExternalID
		}
	}
	return ""
}
