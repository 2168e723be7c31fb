package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

const day = 24 * time.Hour

// storyRand is the random stream of one customer's history.
func storyRand(seed int64, idx int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed)*0x2545F4914F6CDD1D+7, uint64(idx)))
}

// live writes the customer's history over the window.
func (s *story) live() {
	p, r, w := s.p, s.r, s.w
	span := w.horizon.Sub(w.start)
	var first time.Time
	if p.existing {
		first = w.start.Add(time.Duration(r.Float64() * float64(20*day)))
	} else {
		// New customers arrive all through the window, a few more later on.
		first = w.start.Add(time.Duration(math.Pow(r.Float64(), 0.85) * 0.97 * float64(span)))
	}
	months := w.horizon.Sub(first).Hours() / 24 / 30.4
	n := 1 + poisson(r, months*0.48*p.engagement)
	if p.business() {
		n = 1 + int(months*0.9)
	}
	times := make([]time.Time, n)
	times[0] = first
	for i := 1; i < n; i++ {
		times[i] = first.Add(time.Duration(r.Float64() * float64(w.horizon.Sub(first))))
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })

	if !p.existing && r.Float64() < 0.15 {
		s.referral(first.Add(-time.Duration(r.IntN(72)) * time.Hour))
	}
	for _, t := range times {
		s.intent(t)
	}
	if p.account != "" && !p.business() {
		s.statements(first)
	}
	if p.business() {
		s.invoices(first)
	}
	if p.loyalty != "" && r.Float64() < 0.25 {
		at := storeHours.around(r, p.c, first.Add(time.Duration(r.Float64()*float64(w.horizon.Sub(first)))), 3)
		s.kiosk(at, p.c.kiosk, s.pickProduct())
	}
	if r.Float64() < 0.2 {
		// The spring catalog lands with the print campaign.
		at := batchRun.around(r, p.c, w.start.Add(time.Duration(0.44*float64(span))), 5)
		s.mailPiece(at, "Spring catalog")
	}
	if p.social != "" && r.Float64() < 0.5 {
		at := webHours.around(r, p.c, first.Add(time.Duration(r.Float64()*float64(w.horizon.Sub(first)))), 2)
		s.socialPost(at, s.pickProduct(), r.Float64() > 0.3*w.frac(at)+0.1)
	}
}

// intent is one reason to shop: it starts with an ad or a need, goes through
// the web shop, the app or a store, and may end in a purchase and all that follows.
func (s *story) intent(t time.Time) {
	p, r := s.p, s.r
	prod := s.pickProduct()
	c := s.campaignAt(t)
	if p.business() {
		if r.Float64() < 0.7 {
			at := officeHours.around(r, p.c, t, 5)
			buys := r.Float64() < 0.55
			s.salesVisit(at, prod, buys)
			if buys && prod.delivery {
				s.delivery(officeHours.around(r, p.c, at.Add(5*day), 5), prod, "", true)
			}
			return
		}
	}
	x := r.Float64()
	switch {
	case c != nil && c.cp == cpAdPrint && x < 0.5:
		// The flyer brings people to the store with the promo code.
		s.adExposure(batchRun.around(r, p.c, t.Add(-time.Duration(2+r.IntN(6))*day), 2), c, "")
		s.storeIntent(storeHours.around(r, p.c, t, 4), prod, c)
	case x < 0.56:
		s.webIntent(t, prod, c, false)
	case x < 0.70 && p.device != "":
		s.webIntent(t, prod, c, true)
	default:
		s.storeIntent(storeHours.around(r, p.c, t, 4), prod, c)
	}
}

// campaignAt returns the campaign that brought the customer, if one did.
func (s *story) campaignAt(t time.Time) *campaign {
	f := s.w.frac(t)
	var live []*campaign
	for i := range campaigns {
		c := &campaigns[i]
		if f >= c.start && f < c.end {
			live = append(live, c)
		}
	}
	// During the spring flights more people come through ads.
	share := 0.18 + 0.12*float64(len(live)-1)
	if len(live) == 0 || s.r.Float64() >= share {
		return nil
	}
	return live[s.r.IntN(len(live))]
}

// webIntent is a visit to the web shop or the app, and what follows it.
func (s *story) webIntent(t time.Time, prod *product, c *campaign, app bool) {
	p, r, w := s.p, s.r, s.w
	anon := pick(r, p.anon)
	signedIn := p.userID != "" && r.Float64() < 0.5
	at := webHours.around(r, p.c, t, 3)
	if c != nil {
		lead := time.Duration(1+r.IntN(20)) * time.Minute
		if c.cp == cpAdTV || c.cp == cpAdPrint {
			lead = time.Duration(2+r.IntN(60)) * time.Hour
		}
		s.adExposure(at.Add(-lead), c, anon)
	}
	step := func() { at = at.Add(time.Duration(20+r.IntN(160)) * time.Second) }
	if app {
		s.screenView(at, "Home", pre)
		step()
		s.screenView(at, "Product: "+prod.name, pre)
	} else {
		landing, title := "/", "Voltmart – electronics and appliances"
		if c != nil {
			landing, title = "/spring", "Spring deals"
		}
		s.pageView(at, anon, signedIn, landing, title, pre, c)
		step()
		if r.Float64() < 0.6 {
			s.pageView(at, anon, signedIn, "/c/"+prod.category, "Category: "+prod.category, pre, nil)
			step()
		}
		s.pageView(at, anon, signedIn, "/p/"+prod.slug, prod.name, pre, nil)
		step()
	}
	if r.Float64() > 0.62 {
		return // just looking
	}
	// Cart and checkout: where shipping charges and delivery times should be, and are not.
	if app {
		s.screenView(at, "Cart", buy)
	} else {
		s.pageView(at, anon, signedIn, "/cart", "Your cart", buy, nil)
		step()
		s.pageView(at, anon, signedIn, "/checkout", "Checkout", buy, nil)
	}
	step()
	if r.Float64() < w.shippingShare(at) {
		s.askAboutShipping(at, anon, prod, c, app)
		return
	}
	if r.Float64() < 0.8 {
		at = at.Add(time.Duration(1+r.IntN(5)) * time.Minute)
		order := s.webPurchase(at, anon, prod, c, app)
		s.afterPurchase(at, prod, order)
	}
}

// confirmation is the automatic order confirmation email.
func (s *story) confirmation(at time.Time, prod *product, order string) {
	s.add(cpEmail, interaction.Input{Identifiers: []customer.RawIdentifier{s.p.emailID()}, Kind: "email",
		Direction: interaction.Outbound, OccurredAt: at, JourneyStage: buy, Subject: "Your Voltmart order " + order,
		Content:    fmt.Sprintf("Hello %s,\n\nthank you for your order %s: %s. We will let you know when it ships.\n\nVoltmart", s.p.first, order, prod.name),
		Properties: props(map[string]any{"order_id": order, "automated": true})})
}

// askAboutShipping: the customer leaves the checkout to ask what delivery
// costs or how long it takes, on the phone, by email or in the chat.
func (s *story) askAboutShipping(at time.Time, anon string, prod *product, c *campaign, app bool) {
	p, r := s.p, s.r
	rs := reasons[reasonShippingCharges]
	if r.Float64() < 0.45 {
		rs = reasons[reasonDeliveryTime]
	}
	var key cpKey
	var asked time.Time
	switch x := r.Float64(); {
	case x < 0.62:
		key = p.c.line
		asked = callCenter.nextOpen(r, p.c, at.Add(time.Duration(2+r.IntN(40))*time.Minute))
	case x < 0.84:
		key = cpEmail
		asked = at.Add(time.Duration(3+r.IntN(50)) * time.Minute)
	default:
		// The chat while the agents are in, else a message to the mailbox.
		key = cpChat
		asked = at.Add(time.Duration(1+r.IntN(3)) * time.Minute)
		if !callCenter.open(p.c, asked) {
			key = cpEmail
		}
	}
	s.contact(key, asked, rs, prod, "")
	if key == cpEmail {
		// The answer comes when the agents get to the mailbox.
		s.agentReply(callCenter.nextOpen(r, p.c, asked.Add(time.Duration(1+r.IntN(20))*time.Hour)), cpEmail, rs, prod, "")
	}
	// Then: ordered after all, ordered in the store, or gone.
	switch x := r.Float64(); {
	case x < 0.55:
		then := webHours.around(r, p.c, asked.Add(time.Duration(r.IntN(30))*time.Minute), 2)
		if app {
			s.screenView(then, "Checkout", buy)
		} else {
			s.pageView(then, anon, true, "/checkout", "Checkout", buy, nil)
		}
		then = then.Add(time.Duration(1+r.IntN(4)) * time.Minute)
		order := s.webPurchase(then, anon, prod, c, app)
		s.afterPurchase(then, prod, order)
	case x < 0.72:
		order := s.storeVisit(storeHours.around(r, p.c, asked.Add(day), 4), p.c.store, prod, true, nil)
		s.afterPurchase(asked.Add(day), prod, order)
	}
	if p.social != "" && r.Float64() < 0.15 {
		s.socialPost(asked.Add(time.Duration(10+r.IntN(120))*time.Minute), prod, false)
	}
}

// storeIntent is a trip to a store.
func (s *story) storeIntent(at time.Time, prod *product, c *campaign) {
	p, r := s.p, s.r
	store := p.c.store
	if r.Float64() < 0.08 {
		store = pick(r, []cpKey{cpStoreMain, cpStoreHarbour, cpStoreAirport}) // travelling
	}
	if p.loyalty != "" && r.Float64() < 0.3 {
		s.kiosk(at.Add(-time.Duration(3+r.IntN(15))*time.Minute), kioskOf(store), prod)
	}
	buys := r.Float64() < 0.72
	if buys && prod.usd > 50000 && p.account != "" && r.Float64() < 0.5 {
		s.financing(at.Add(-time.Duration(5+r.IntN(10))*time.Minute), prod)
	}
	order := s.storeVisit(at, store, prod, buys, c)
	if buys {
		s.afterPurchase(at, prod, order)
	}
}

func kioskOf(store cpKey) cpKey {
	switch store {
	case cpStoreHarbour:
		return cpKioskHarbour
	case cpStoreAirport:
		return cpKioskAirport
	}
	return cpKioskMain
}

// afterPurchase: delivery, installation, questions, surveys, reviews, repairs.
func (s *story) afterPurchase(at time.Time, prod *product, order string) {
	p, r := s.p, s.r
	last := at
	happy := true
	if order != "" && order[0] == 'W' && r.Float64() < 0.7 {
		s.confirmation(at.Add(time.Duration(20+r.IntN(100))*time.Second), prod, order)
	}
	if prod.delivery {
		when := officeHours.around(r, p.c, at.Add(2*day), 6)
		if r.Float64() < 0.7 {
			s.deliveryNotice(time.Date(when.Year(), when.Month(), when.Day(), 16, r.IntN(60), 0, 0, time.UTC).Add(-day), prod, order)
		}
		if r.Float64() < 0.08 {
			s.delivery(when, prod, order, false)
			when = officeHours.around(r, p.c, when.Add(2*day), 3)
			happy = false
		}
		s.delivery(when, prod, order, true)
		last = when
		if prod.install && r.Float64() < 0.75 {
			inst := when.Add(time.Duration(30+r.IntN(60)) * time.Minute)
			if r.Float64() < 0.3 {
				inst = officeHours.around(r, p.c, when.Add(day), 4)
			}
			s.technician(inst, "installation", prod, order)
			last = inst
		}
	}
	if r.Float64() < 0.3*p.engagement {
		rs := everydayReason(r)
		key := s.supportChannel()
		when := at.Add(time.Duration(1+r.IntN(20)) * day)
		switch catalog[key].kind {
		case "phone":
			when = callCenter.around(r, p.c, when, 3)
		case "store":
			when = storeHours.around(r, p.c, when, 3)
		default:
			when = webHours.around(r, p.c, when, 2)
		}
		s.contact(key, when, rs, prod, order)
		if key == cpEmail || key == cpWhatsApp {
			s.agentReply(callCenter.nextOpen(r, p.c, when.Add(time.Duration(1+r.IntN(8))*time.Hour)), key, rs, prod, order)
		}
		if rs.code == reasonComplaint {
			happy = false
		}
		if rs.code == reasonRepair && prod.delivery {
			s.technician(officeHours.around(r, p.c, when.Add(2*day), 4), "repair", prod, order)
		}
		last = when
	}
	if r.Float64() < 0.25 {
		rating := 3 + r.IntN(3)
		if !happy || r.Float64() < 0.1 {
			rating = 1 + r.IntN(3)
		}
		about := "purchase"
		if prod.delivery {
			about = "delivery"
		}
		s.survey(last.Add(time.Duration(2+r.IntN(30))*time.Hour), about, rating)
	}
	if r.Float64() < 0.06 {
		rating := 4 + r.IntN(2)
		if !happy || r.Float64() < 0.35 {
			rating = 1 + r.IntN(3)
		}
		s.review(webHours.around(r, p.c, last.Add(day), 7), prod, rating)
	}
	if prod.install && r.Float64() < 0.08 {
		// A repair months later.
		when := callCenter.around(r, p.c, at.Add(time.Duration(30+r.IntN(90))*day), 5)
		s.contact(p.c.line, when, reasons[reasonRepair], prod, order)
		s.technician(officeHours.around(r, p.c, when.Add(2*day), 4), "repair", prod, order)
	}
	if r.Float64() < 0.04 {
		when := storeHours.around(r, p.c, at.Add(time.Duration(3+r.IntN(20))*day), 3)
		in := interaction.Input{Identifiers: p.storeIDs(), Kind: "return", Direction: interaction.Inbound, OccurredAt: when,
			JourneyStage: post, Subject: "Returned " + prod.name, Reason: reasonReturn, Outcome: "refunded",
			Value: s.money(prod), Properties: props(map[string]any{"order_id": order})}
		s.staff(&in, catalog[p.c.store].clerks())
		s.add(p.c.store, in)
	}
}

// statements: monthly statements and payments of a financing or account
// customer; those in trouble get reminders and a call from collections.
func (s *story) statements(first time.Time) {
	p, r, w := s.p, s.r, s.w
	amount := int64(30+r.IntN(90))*100 + 99 // the monthly instalment, 30.99 to 119.99
	lateFrom := w.start.Add(time.Duration((0.3 + 0.5*r.Float64()) * float64(w.horizon.Sub(w.start))))
	for t := first.Add(time.Duration(5+r.IntN(20)) * day); t.Before(w.horizon); t = t.AddDate(0, 1, 0) {
		billAt := batchRun.at(r, p.c, t)
		period := periodName(t)
		s.bill(billAt, amount, period)
		if p.troubled && t.After(lateFrom) {
			s.reminder(batchRun.at(r, p.c, billAt.Add(19*day)), period, 1)
			outcome := ""
			if r.Float64() < 0.7 {
				s.reminder(batchRun.at(r, p.c, billAt.Add(26*day)), period, 2)
				outcome = s.collectionsCall(callCenter.around(r, p.c, billAt.Add(28*day), 3), period)
			}
			if outcome != "no_answer" || r.Float64() < 0.5 {
				s.payment(webHours.around(r, p.c, billAt.Add(30*day), 5), amount, period, cpCollections)
			}
			continue
		}
		s.payment(billAt.Add(time.Duration(3+r.IntN(10))*day), amount, period, cpBilling)
		if r.Float64() < 0.05 {
			s.contact(p.c.line, callCenter.around(r, p.c, billAt.Add(3*day), 4), reasons[reasonBilling], s.pickProduct(), "")
		}
	}
}

// invoices: business customers pay monthly invoices by transfer.
func (s *story) invoices(first time.Time) {
	p, r, w := s.p, s.r, s.w
	for t := first.Add(time.Duration(10+r.IntN(15)) * day); t.Before(w.horizon); t = t.AddDate(0, 1, 0) {
		amount := int64(50000+r.IntN(400000))/100*100 + 99
		period := periodName(t)
		s.bill(batchRun.at(r, p.c, t), amount, period)
		s.payment(officeHours.around(r, p.c, t.Add(time.Duration(10+r.IntN(18))*day), 2), amount, period, cpBilling)
	}
}

// link makes sure every identifier the customer showed is tied to their
// email on at least one contact, the way it happens in life: the agent asks
// for the email on the first call, the browser signs in at checkout, and so
// on. Without it some anonymous visitors would stay strangers for ever.
// Then the customer's traits go on their first identified contact.
func (s *story) link() {
	slices.SortStableFunc(s.evs, func(a, b interaction.Input) int { return a.OccurredAt.Compare(b.OccurredAt) })
	if len(s.evs) > 0 {
		s.lastAt = s.evs[len(s.evs)-1].OccurredAt
	}
	email := s.p.emailID()
	// Union-find over identifiers, one event at a time.
	parent := map[customer.RawIdentifier]customer.RawIdentifier{}
	var find func(x customer.RawIdentifier) customer.RawIdentifier
	find = func(x customer.RawIdentifier) customer.RawIdentifier {
		px, ok := parent[x]
		if !ok {
			parent[x] = x
			return x
		}
		if px == x {
			return x
		}
		root := find(px)
		parent[x] = root
		return root
	}
	for i := range s.evs {
		ids := s.evs[i].Identifiers
		for j := range ids {
			a, b := find(ids[0]), find(ids[j])
			if a != b {
				parent[b] = a
			}
		}
	}
	find(email)
	done := map[customer.RawIdentifier]bool{}
	for i := range s.evs {
		ids := s.evs[i].Identifiers
		if len(ids) == 0 {
			continue
		}
		root := find(ids[0])
		if root == find(email) || done[root] {
			continue
		}
		// Anonymous browsing is tied at its last page (the sign-in); anything
		// else at its first contact (the agent asks for the email).
		at := i
		if ids[0].Kind == "anonymous_id" {
			for k := len(s.evs) - 1; k > i; k-- {
				if len(s.evs[k].Identifiers) > 0 && find(s.evs[k].Identifiers[0]) == root {
					at = k
					break
				}
			}
		}
		s.evs[at].Identifiers = append(slices.Clone(s.evs[at].Identifiers), email)
		done[root] = true
		parent[root] = find(email)
	}
	for i := range s.evs {
		for _, id := range s.evs[i].Identifiers {
			if id.Kind != "anonymous_id" && id.Kind != "device_id" {
				s.evs[i].Traits = s.p.traits()
				return
			}
		}
	}
}

// poisson draws a count with mean m (Knuth's method; m is small here).
func poisson(r *rand.Rand, m float64) int {
	if m <= 0 {
		return 0
	}
	l := math.Exp(-m)
	k := 0
	for prod := r.Float64(); prod > l; prod *= r.Float64() {
		k++
	}
	return k
}
