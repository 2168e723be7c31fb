package demo

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

// Source is the source of every demo interaction; with the external ids it
// makes a re-run find what an earlier, interrupted run stored.
const Source = "demo"

// world is what every event builder needs: where the contact points are and
// the history window.
type world struct {
	cps []id.ID // by cpKey
	// The window: interactions happen in [start, end). Stories are laid out
	// up to horizon, the midnight after end, and start is a midnight too, so
	// that a re-run later the same day tells the same stories.
	start, horizon, end time.Time
}

func newWorld(cps []id.ID, now time.Time, months int) *world {
	now = now.UTC()
	start := now.AddDate(0, -months, 0)
	if t := start.Truncate(day); t.Before(start) {
		start = t.Add(day)
	}
	return &world{cps: cps, start: start, horizon: now.Truncate(day).Add(day), end: now}
}

// frac places t in the window: 0 at its start, 1 at its horizon.
func (w *world) frac(t time.Time) float64 {
	f := float64(t.Sub(w.start)) / float64(w.horizon.Sub(w.start))
	return min(1, max(0, f))
}

// shippingShare is THE STORY: the web shop shows neither shipping charges nor
// delivery times, so a growing share of the people who reach the cart or
// checkout page ask about them on another channel instead of ordering.
func (w *world) shippingShare(t time.Time) float64 { return 0.05 + 0.45*w.frac(t) }

// story builds the interactions of one customer.
type story struct {
	w      *world
	p      *person
	r      *rand.Rand
	prefix string // external id prefix
	seq    int
	evs    []interaction.Input
	clamp  bool // keep times inside the window instead of dropping events (generator)

	purchases int
	orderSeq  int
	lastAt    time.Time // the last contact, once link has sorted them
}

// add stamps the input with its contact point, source and external id and
// keeps it if it falls inside the window. The sequence number advances either
// way, so the external ids of a seed do not depend on "today".
func (s *story) add(key cpKey, in interaction.Input) {
	s.seq++
	if in.OccurredAt.Before(s.w.start) || !in.OccurredAt.Before(s.w.end) {
		if !s.clamp {
			return
		}
		if in.OccurredAt.Before(s.w.start) {
			in.OccurredAt = s.w.start.Add(time.Duration(s.r.IntN(3600)) * time.Second)
		} else {
			in.OccurredAt = s.w.end.Add(-time.Duration(1+s.r.IntN(3600)) * time.Second)
		}
	}
	if int(key) >= len(s.w.cps) {
		return
	}
	in.ContactPointID = s.w.cps[key]
	in.Source = Source
	in.ExternalID = s.prefix + strconv.Itoa(s.seq)
	if in.Properties == nil {
		in.Properties = json.RawMessage("{}")
	}
	s.evs = append(s.evs, in)
}

func (s *story) staff(in *interaction.Input, team []staffMember) {
	m := team[0]
	if len(team) > 1 && s.r.Float64() > 0.35 {
		m = team[1+s.r.IntN(len(team)-1)]
	}
	in.StaffName = m.name // the staff id of sign-ins is set when recording
}

func (s *story) money(prod *product) *interaction.Money {
	return &interaction.Money{Minor: s.p.c.price(prod.usd), Currency: s.p.c.currency}
}

func (s *story) minutes(lo, hi int) *int64 {
	ms := int64(lo)*60000 + s.r.Int64N(int64(hi-lo+1)*60000)
	return &ms
}

func (s *story) mood(lo, hi float64) *float64 {
	v := lo + s.r.Float64()*(hi-lo)
	v = min(1, max(-1, float64(int(v*100))/100))
	return &v
}

func (s *story) newOrder(prefix string) string {
	s.orderSeq++
	return fmt.Sprintf("%s%06d-%d", prefix, 100000+s.p.idx, s.orderSeq)
}

func (s *story) pickProduct() *product {
	// Small things sell more often than appliances.
	if s.r.Float64() < 0.55 {
		return &products[s.r.IntN(11)]
	}
	return &products[s.r.IntN(len(products))]
}

func props(m map[string]any) json.RawMessage {
	b, err := json.Marshal(m)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

func utm(c *campaign) interaction.Campaign {
	if c == nil {
		return interaction.Campaign{}
	}
	return interaction.Campaign{Name: c.utm, Source: c.source, Medium: c.medium, Term: c.term}
}

func withEmail(ids []customer.RawIdentifier, p *person) []customer.RawIdentifier {
	for _, i := range ids {
		if i.Kind == "email" {
			return ids
		}
	}
	return append(ids, p.emailID())
}

// ---- web shop and app ----

func (s *story) pageView(at time.Time, anon string, signedIn bool, path, title, stage string, c *campaign) {
	s.add(cpWeb, interaction.Input{
		Identifiers: s.p.webIDs(anon, signedIn), Kind: "page_view", Direction: interaction.Passive,
		OccurredAt: at, Subject: title, JourneyStage: stage, Campaign: utm(c),
		Properties: props(map[string]any{"path": path, "url": "https://voltmart.example" + path, "title": title}),
	})
}

func (s *story) screenView(at time.Time, screen, stage string) {
	s.add(cpApp, interaction.Input{
		Identifiers: s.p.appIDs(), Kind: "screen_view", Direction: interaction.Passive,
		OccurredAt: at, Subject: screen, JourneyStage: stage,
		Properties: props(map[string]any{"screen": screen}),
	})
}

func (s *story) adExposure(at time.Time, c *campaign, anon string) {
	in := interaction.Input{Kind: "ad_exposure", Direction: interaction.Passive, OccurredAt: at,
		Campaign: utm(c), JourneyStage: pre, PromoCode: c.promo}
	switch c.cp {
	case cpAdSearch:
		in.Identifiers = s.p.webIDs(anon, false)
		in.Subject = "Search ad: Voltmart – electronics & appliances"
		in.Properties = props(map[string]any{"query": pick(s.r, []string{"voltmart", "voltmart washing machine", "voltmart tv deals", "voltmart opening hours"}), "clicked": true})
	case cpAdBanner:
		in.Identifiers = s.p.webIDs(anon, false)
		in.Subject = "Banner: spring deals on appliances"
		in.Properties = props(map[string]any{"placement": pick(s.r, []string{"news site", "weather site", "recipe blog", "video platform"}), "clicked": true})
	case cpAdPrint:
		// Flyers go to loyalty members' homes; the exposure is the drop date.
		in.Identifiers = s.p.storeIDs()
		in.Subject = "Spring flyer: 15% off with SPRING15"
		in.Properties = props(map[string]any{"format": pick(s.r, []string{"flyer", "newspaper insert"}), "region": s.p.city})
	case cpAdTV:
		// Addressable TV: the household is matched by the panel's email hash.
		in.Identifiers = []customer.RawIdentifier{s.p.emailID()}
		in.Subject = "TV spot \"Switch on spring\" (30 s)"
		in.Properties = props(map[string]any{"channel": pick(s.r, []string{"Channel 1", "Channel 4", "Sport 2", "Movies+"}), "slot": "prime time"})
	}
	s.add(c.cp, in)
}

// webPurchase is a checkout: it links the browser to the account and the email.
func (s *story) webPurchase(at time.Time, anon string, prod *product, c *campaign, app bool) string {
	order := s.newOrder("W")
	ids := s.p.webIDs(anon, true)
	key := cpWeb
	if app {
		ids, key = s.p.appIDs(), cpApp
	}
	in := interaction.Input{
		Identifiers: withEmail(ids, s.p), Kind: "purchase", Direction: interaction.Inbound, OccurredAt: at,
		Subject: "Order " + order + ": " + prod.name, Value: s.money(prod), JourneyStage: buy, Campaign: utm(c),
		Properties: props(map[string]any{"order_id": order, "items": []map[string]any{{"name": prod.name, "category": prod.category, "quantity": 1}},
			"shipping": map[bool]string{true: "two-person delivery", false: "parcel"}[prod.delivery]}),
	}
	if c != nil {
		in.PromoCode = c.promo
	}
	s.add(key, in)
	s.purchases++
	return order
}

// ---- people talking to people ----

// contact is a customer contact about a reason on a channel.
func (s *story) contact(key cpKey, at time.Time, rs *reason, prod *product, order string) {
	p := s.p
	in := interaction.Input{
		Direction: interaction.Inbound, OccurredAt: at, Reason: rs.code, JourneyStage: rs.stage,
		Summary: p.fill(rs.summary, prod, order), Outcome: pick(s.r, rs.outcomes),
		Sentiment: s.mood(rs.mood[0], rs.mood[1]),
	}
	switch catalog[key].kind {
	case "phone":
		in.Kind = "call"
		in.Identifiers = p.phoneIDs()
		in.Subject = p.fill(rs.subject, prod, order)
		in.Content = p.fill(rs.notes, prod, order)
		in.DurationMS = s.minutes(rs.minutes[0], rs.minutes[1])
		s.staff(&in, catalog[key].agents())
	case "email":
		in.Kind = "email"
		in.Identifiers = []customer.RawIdentifier{p.emailID()}
		in.Subject = p.fill(rs.subject, prod, order)
		in.Content = p.fill(rs.words, prod, order)
		s.staff(&in, p.c.agents)
	case "web_chat":
		in.Kind = "chat"
		in.Identifiers = withEmail(p.webIDs(pick(s.r, p.anon), false), p) // pre-chat form asks for the email
		in.Subject = "Chat: " + p.fill(rs.subject, prod, order)
		in.Content = "Visitor: " + p.fill(rs.words, prod, order) + "\nAgent: " + p.fill(rs.notes, prod, order)
		in.DurationMS = s.minutes(2, rs.minutes[1])
		s.staff(&in, p.c.agents)
	case "sms", "whatsapp":
		in.Kind = "message"
		if catalog[key].kind == "sms" {
			in.Kind = "sms"
		}
		in.Identifiers = p.messagingIDs()
		in.Content = p.fill(rs.words, prod, order)
		s.staff(&in, p.c.agents)
	case "social":
		in.Kind = "social_post"
		in.Identifiers = p.socialIDs()
		in.Content = "@voltmart " + p.fill(rs.words, prod, order)
		in.Properties = props(map[string]any{"visibility": pick(s.r, []string{"public", "direct_message"})})
	case "store":
		in.Kind = "visit"
		in.Identifiers = p.storeIDs()
		in.Subject = p.fill(rs.subject, prod, order)
		in.Content = p.fill(rs.notes, prod, order)
		in.DurationMS = s.minutes(5, 20)
		s.staff(&in, catalog[key].clerks())
	default:
		in.Kind = "message"
		in.Identifiers = []customer.RawIdentifier{p.emailID()}
		in.Content = p.fill(rs.words, prod, order)
	}
	s.add(key, in)
}

func (d *cpDef) agents() []staffMember {
	switch d.key {
	case cpLineUK:
		return agentsUK
	case cpLineDE:
		return agentsDE
	}
	return agentsUS
}

func (d *cpDef) clerks() []staffMember {
	switch d.key {
	case cpStoreHarbour:
		return clerksHarbour
	case cpStoreAirport:
		return clerksAirport
	}
	return clerksMain
}

// supportChannel picks where a customer turns with a question.
func (s *story) supportChannel() cpKey {
	p := s.p
	switch x := s.r.Float64(); {
	case x < 0.46:
		return p.c.line
	case x < 0.66:
		return cpEmail
	case x < 0.78:
		return cpChat
	case x < 0.85 && p.phone != "":
		return cpWhatsApp
	case x < 0.88 && p.phone != "":
		return cpSMS
	case x < 0.93 && p.social != "":
		if p.social[0] == 'i' {
			return cpInstagram
		}
		return cpX
	case x < 0.97:
		return p.c.store
	}
	return p.c.line
}

// agentReply is the answer to a written contact.
func (s *story) agentReply(at time.Time, key cpKey, rs *reason, prod *product, order string) {
	p := s.p
	in := interaction.Input{Direction: interaction.Outbound, OccurredAt: at, Reason: rs.code, JourneyStage: rs.stage,
		Subject: "Re: " + p.fill(rs.subject, prod, order), Content: "Hello " + p.first + ",\n\n" + p.fill(rs.notes, prod, order) + "\n\nKind regards,\nVoltmart customer service"}
	switch key {
	case cpEmail:
		in.Kind = "email"
		in.Identifiers = []customer.RawIdentifier{p.emailID()}
	case cpWhatsApp:
		in.Kind = "message"
		in.Identifiers = p.messagingIDs()
	case cpSMS:
		in.Kind = "sms"
		in.Identifiers = p.messagingIDs()
	default:
		return
	}
	s.staff(&in, p.c.agents)
	s.add(key, in)
}

// ---- stores and kiosks ----

func (s *story) storeVisit(at time.Time, store cpKey, prod *product, buys bool, c *campaign) string {
	p := s.p
	in := interaction.Input{Identifiers: p.storeIDs(), Direction: interaction.Inbound, OccurredAt: at,
		DurationMS: s.minutes(8, 45)}
	s.staff(&in, catalog[store].clerks())
	order := ""
	if buys {
		order = s.newOrder("S")
		in.Kind = "purchase"
		in.Subject = "Bought " + prod.name
		in.Value = s.money(prod)
		in.JourneyStage = buy
		in.Summary = "Advised on the " + prod.category + " range; bought the " + prod.name + "."
		payment := pick(s.r, []string{"card", "card", "card", "cash", "mobile wallet"})
		if prod.usd > 50000 && p.account != "" {
			payment = "voltmart credit"
		}
		in.Properties = props(map[string]any{"order_id": order, "payment": payment, "items": []map[string]any{{"name": prod.name, "quantity": 1}}})
		if c != nil && c.promo != "" {
			in.PromoCode = c.promo
			in.Campaign = utm(c)
		}
		s.purchases++
	} else {
		in.Kind = "visit"
		in.Subject = "Looked at " + prod.name
		in.JourneyStage = pre
		in.Summary = "Compared models in the " + prod.category + " range; will decide later."
		in.Outcome = "no_purchase"
	}
	s.add(store, in)
	return order
}

func (s *story) kiosk(at time.Time, key cpKey, prod *product) {
	p := s.p
	what := pick(s.r, []string{"stock_check", "loyalty_balance", "order_pickup"})
	subject := map[string]string{"stock_check": "Stock check: " + prod.name, "loyalty_balance": "Loyalty points balance",
		"order_pickup": "Picked up a web order"}[what]
	s.add(key, interaction.Input{Identifiers: p.storeIDs(), Kind: "kiosk_session", Direction: interaction.Inbound,
		OccurredAt: at, Subject: subject, DurationMS: s.minutes(1, 4), JourneyStage: pre,
		Properties: props(map[string]any{"task": what})})
}

// ---- after the sale ----

func (s *story) deliveryNotice(at time.Time, prod *product, order string) {
	p := s.p
	if p.phone == "" {
		return
	}
	s.add(cpSMS, interaction.Input{Identifiers: p.messagingIDs(), Kind: "sms", Direction: interaction.Outbound,
		OccurredAt: at, JourneyStage: post, Subject: "Delivery tomorrow",
		Content: fmt.Sprintf("Voltmart: your %s (order %s) arrives tomorrow between 8:00 and 12:00. Reply 1 to confirm, 2 to reschedule.", prod.name, order)})
}

func (s *story) delivery(at time.Time, prod *product, order string, ok bool) {
	in := interaction.Input{Identifiers: s.p.phoneIDs(), Kind: "delivery", Direction: interaction.Outbound,
		OccurredAt: at, JourneyStage: post, Subject: "Delivery of " + prod.name, DurationMS: s.minutes(10, 35),
		Properties: props(map[string]any{"order_id": order})}
	if ok {
		in.Outcome = "delivered"
		in.Summary = "Delivered the " + prod.name + " and took the packaging away."
	} else {
		in.Outcome = "not_delivered"
		in.Summary = "Nobody home; card left, delivery rescheduled."
	}
	s.staff(&in, drivers)
	s.add(cpDelivery, in)
}

func (s *story) technician(at time.Time, kind string, prod *product, order string) {
	in := interaction.Input{Identifiers: s.p.phoneIDs(), Kind: kind, Direction: interaction.Outbound,
		OccurredAt: at, JourneyStage: post, DurationMS: s.minutes(40, 130),
		Properties: props(map[string]any{"order_id": order})}
	if kind == "installation" {
		in.Subject = "Installation of " + prod.name
		in.Summary = "Installed and tested the " + prod.name + "; showed the customer the main programmes; old appliance taken away."
		in.Outcome = "installed"
	} else {
		in.Subject = "Repair of " + prod.name
		in.Summary = pick(s.r, []string{"Replaced the drain pump; tested a full cycle.", "Replaced the control board under warranty.",
			"Cleared a blocked filter; no parts needed.", "Part ordered; second visit needed."})
		in.Outcome = pick(s.r, []string{"fixed", "fixed", "fixed", "parts_ordered"})
		in.Reason = reasonRepair
	}
	s.staff(&in, technicians)
	s.add(cpFieldService, in)
}

func (s *story) survey(at time.Time, about string, rating int) {
	p := s.p
	key := cpEmail
	ids := []customer.RawIdentifier{p.emailID()}
	if p.phone != "" && s.r.IntN(3) == 0 {
		key, ids = cpSMS, p.messagingIDs()
	}
	comment := map[bool]string{true: pick(s.r, []string{"Quick and friendly.", "Great service, thank you!", "Everything went smoothly.", ""}),
		false: pick(s.r, []string{"Took too long.", "I had to ask twice.", "The website should tell you this up front.", "Nobody called back."})}[rating >= 4]
	r := rating
	s.add(key, interaction.Input{Identifiers: ids, Kind: "survey_answer", Direction: interaction.Inbound, OccurredAt: at,
		JourneyStage: post, Subject: "CSAT: " + about, Rating: &r, Content: comment,
		Properties: props(map[string]any{"survey": "csat", "about": about, "scale": "1-5"})})
}

func (s *story) review(at time.Time, prod *product, rating int) {
	texts := map[int][]string{
		5: {"Great prices and the delivery crew were brilliant.", "Staff in store really knew their stuff."},
		4: {"Good range, fair prices. Website could be clearer.", "Happy with my " + prod.name + "."},
		3: {"Product fine, but I had to call to find out what delivery costs.", "OK experience, nothing special."},
		2: {"No shipping costs or delivery times on the website – had to phone to find out.", "Delivery was late and nobody called."},
		1: {"Hidden delivery charges only mentioned on the phone. Never again.", "Waited weeks for a repair."},
	}
	r := rating
	s.add(cpReviews, interaction.Input{Identifiers: []customer.RawIdentifier{s.p.emailID()}, Kind: "review", Direction: interaction.Inbound,
		OccurredAt: at, JourneyStage: post, Rating: &r, Subject: fmt.Sprintf("%d stars", rating), Content: pick(s.r, texts[rating]),
		Sentiment: s.mood(float64(rating-3)/2-0.2, float64(rating-3)/2+0.2), Properties: props(map[string]any{"site": "StarRate", "scale": "1-5"})})
}

func (s *story) socialPost(at time.Time, prod *product, happy bool) {
	p := s.p
	if p.social == "" {
		return
	}
	key := cpX
	if p.social[0] == 'i' {
		key = cpInstagram
	}
	text := "Picked up my new " + prod.name + " at @voltmart today, love it!"
	mood := s.mood(0.4, 0.9)
	if !happy {
		text = "@voltmart why can't your website just say what delivery costs? Had to call you for the " + prod.name + "."
		mood = s.mood(-0.8, -0.3)
	}
	s.add(key, interaction.Input{Identifiers: p.socialIDs(), Kind: "social_post", Direction: interaction.Inbound,
		OccurredAt: at, JourneyStage: post, Content: text, Sentiment: mood,
		Properties: props(map[string]any{"visibility": "public"})})
}

func (s *story) referral(at time.Time) {
	s.add(cpWordOfMouth, interaction.Input{Identifiers: []customer.RawIdentifier{s.p.emailID()}, Kind: "referral",
		Direction: interaction.Inbound, OccurredAt: at, JourneyStage: pre, Subject: "Recommended by a friend",
		Summary: "Signed up with a refer-a-friend code.", Properties: props(map[string]any{"code": fmt.Sprintf("FRIEND-%05d", s.r.IntN(100000))})})
}

func (s *story) mailPiece(at time.Time, subject string) {
	s.add(cpMail, interaction.Input{Identifiers: s.p.accountOrEmail(), Kind: "message", Direction: interaction.Outbound,
		OccurredAt: at, JourneyStage: pre, Subject: subject, Properties: props(map[string]any{"format": "printed"})})
}

func (p *person) accountOrEmail() []customer.RawIdentifier {
	if p.account != "" {
		return p.accountIDs()
	}
	return []customer.RawIdentifier{p.emailID()}
}

// ---- money ----

func (s *story) bill(at time.Time, amount int64, period string) {
	s.add(cpBilling, interaction.Input{Identifiers: s.p.accountIDs(), Kind: "bill", Direction: interaction.Passive,
		OccurredAt: at, JourneyStage: post, Subject: "Statement " + period,
		Value: &interaction.Money{Minor: amount, Currency: s.p.c.currency}, Properties: props(map[string]any{"period": period, "due_days": 14})})
}

func (s *story) payment(at time.Time, amount int64, period string, key cpKey) {
	s.add(key, interaction.Input{Identifiers: s.p.accountIDs(), Kind: "payment", Direction: interaction.Inbound,
		OccurredAt: at, JourneyStage: post, Subject: "Payment for " + period,
		Value:      &interaction.Money{Minor: amount, Currency: s.p.c.currency},
		Properties: props(map[string]any{"method": pick(s.r, []string{"direct_debit", "bank_transfer", "card"})})})
}

func (s *story) reminder(at time.Time, period string, level int) {
	key := cpBilling
	if level > 1 {
		key = cpCollections
	}
	s.add(key, interaction.Input{Identifiers: s.p.accountIDs(), Kind: "payment_reminder", Direction: interaction.Outbound,
		OccurredAt: at, JourneyStage: post, Subject: fmt.Sprintf("Reminder %d: statement %s overdue", level, period),
		Reason: reasonOverdue, Properties: props(map[string]any{"level": level, "channel": pick(s.r, []string{"email", "letter", "sms"})})})
}

func (s *story) collectionsCall(at time.Time, period string) string {
	outcome := pick(s.r, []string{"promise_to_pay", "payment_plan_agreed", "no_answer", "promise_to_pay"})
	in := interaction.Input{Identifiers: s.p.phoneIDs(), Kind: "call", Direction: interaction.Outbound, OccurredAt: at,
		JourneyStage: post, Reason: reasonOverdue, Outcome: outcome, Subject: "Overdue statement " + period,
		Sentiment: s.mood(-0.6, 0)}
	switch outcome {
	case "no_answer":
		ms := int64(25000 + s.r.IntN(20000))
		in.DurationMS = &ms
		in.Summary = "No answer; voicemail left asking to call the collections desk."
	case "payment_plan_agreed":
		in.DurationMS = s.minutes(8, 18)
		in.Summary = "Customer lost hours at work; agreed a three-month payment plan."
	default:
		in.DurationMS = s.minutes(4, 10)
		in.Summary = "Customer promised to pay the overdue amount by Friday."
	}
	s.staff(&in, collectors)
	s.add(cpCollections, in)
	return outcome
}

func (s *story) financing(at time.Time, prod *product) {
	months := pick(s.r, []int{6, 12, 12, 24})
	in := interaction.Input{Identifiers: withEmail(s.p.accountIDs(), s.p), Kind: "event", Direction: interaction.Inbound,
		OccurredAt: at, JourneyStage: buy, Subject: fmt.Sprintf("Financing approved: %s over %d months at 0%%", prod.name, months),
		Value: s.money(prod), Outcome: "approved", Reason: reasonFinancing,
		Properties: props(map[string]any{"event": "financing_approved", "months": months, "rate": 0})}
	s.staff(&in, creditAdvisor)
	s.add(cpCredit, in)
}

func (s *story) salesVisit(at time.Time, prod *product, orders bool) {
	p := s.p
	in := interaction.Input{Identifiers: p.accountIDs(), Kind: "visit", Direction: interaction.Outbound, OccurredAt: at,
		DurationMS: s.minutes(30, 90), JourneyStage: pre,
		Subject: "Account review at " + p.company}
	qty := 2 + s.r.IntN(20)
	if !p.business() {
		// Consumers get a home visit for kitchen and home-cinema planning.
		in.Subject = "Home consultation: " + prod.category
		qty = 1
	}
	if orders {
		in.Kind = "order"
		in.JourneyStage = buy
		in.Subject = fmt.Sprintf("Order: %d × %s", qty, prod.name)
		in.Summary = fmt.Sprintf("Met %s %s; ordered %d × %s for the new office, delivery and set-up included.", p.first, p.last, qty, prod.name)
		in.Value = &interaction.Money{Minor: int64(qty) * p.c.price(prod.usd) * 92 / 100, Currency: p.c.currency}
		in.Properties = props(map[string]any{"order_id": s.newOrder("B"), "quantity": qty, "discount_pct": 8})
		s.purchases++
	} else {
		in.Summary = fmt.Sprintf("Met %s %s; reviewed last quarter's orders and quoted %d × %s.", p.first, p.last, qty, prod.name)
		in.Outcome = "quote_sent"
	}
	s.staff(&in, salespeople)
	s.add(cpFieldSales, in)
}

// periodName names a statement period by its month.
func periodName(t time.Time) string { return t.Format("January 2006") }
