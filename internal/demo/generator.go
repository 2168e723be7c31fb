package demo

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

// Generator yields Voltmart-like interactions in batches, for benchmarks at
// any scale: each is a contact of a random customer of the pool, with the
// identifiers its channel sees, a kind that fits the contact point's kind,
// and a unique external id under Source "demo". It writes no sign-ins, no
// profiles and no stories across contacts; the same seed yields the same
// sequence. A Generator is not safe for concurrent use.
type Generator struct {
	seed      int64
	customers int
	cps       []id.ID
	keys      []cpKey // the catalog entry each contact point stands for
	w         *world
	r         *rand.Rand
	n         int
	prefix    string
}

// NewGenerator returns a generator over a pool of customers (default 2000)
// with six months of history up to now. contactPoints are the ids that
// CreateContactPoints returned, in that order: the i-th id is taken to be of
// the kind of the i-th catalog entry (cycling when more are given); for
// other contact points say their kinds with WithKinds.
func NewGenerator(seed int64, customers int, now time.Time, contactPoints []id.ID) *Generator {
	if customers <= 0 {
		customers = 2000
	}
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	// Builders stamp contact points by catalog key; Next puts the real id in.
	placeholder := make([]id.ID, numContactPoints)
	for i := range placeholder {
		placeholder[i] = 1
	}
	keys := make([]cpKey, len(contactPoints))
	for i := range keys {
		keys[i] = cpKey(i % int(numContactPoints))
	}
	return &Generator{
		seed: seed, customers: customers, cps: contactPoints, keys: keys,
		w:      &world{cps: placeholder, start: now.AddDate(0, -6, 0), horizon: now, end: now},
		r:      rand.New(rand.NewPCG(uint64(seed), 0x6765_6e65_7261_746f)),
		prefix: "g" + strconv.FormatInt(seed, 10) + "-",
	}
}

// WithKinds tells the generator the kind of each of its contact points
// (kinds[i] of contactPoints[i]), for contact points that were not made by
// CreateContactPoints. Each then gets interactions typical of its kind.
func (g *Generator) WithKinds(kinds []contactpoint.Kind) *Generator {
	for i := range g.keys {
		if i >= len(kinds) {
			break
		}
		g.keys[i] = cpWeb // "api" and unknown kinds: events like the web shop's
		for k := range catalog {
			if catalog[k].kind == kinds[i] {
				g.keys[i] = cpKey(k)
				break
			}
		}
	}
	return g
}

// Next returns n more interactions (none when the generator has no contact points).
func (g *Generator) Next(n int) []interaction.Input {
	if len(g.cps) == 0 || n <= 0 {
		return nil
	}
	out := make([]interaction.Input, 0, n)
	for len(out) < n {
		j := g.r.IntN(len(g.cps))
		key := g.keys[j]
		p := newPerson(g.seed, g.r.IntN(g.customers))
		at := g.w.start.Add(time.Duration(g.r.Int64N(int64(g.w.end.Sub(g.w.start)))))
		st := &story{w: g.w, p: p, r: g.r, clamp: true}
		st.one(key, at)
		for _, in := range st.evs {
			g.n++
			in.ContactPointID = g.cps[j]
			in.ExternalID = g.prefix + strconv.Itoa(g.n)
			if g.r.Float64() < 0.1 {
				for _, i := range in.Identifiers {
					if i.Kind != "anonymous_id" && i.Kind != "device_id" {
						in.Traits = p.traits()
						break
					}
				}
			}
			out = append(out, in)
		}
	}
	return out[:n]
}

// one adds a single typical contact on the contact point key at about at.
func (s *story) one(key cpKey, at time.Time) {
	p, r, w := s.p, s.r, s.w
	prod := s.pickProduct()
	switch catalog[key].kind {
	case "store":
		at = storeHours.around(r, p.c, at, 1)
		if r.Float64() < 0.75 {
			s.storeVisit(at, key, prod, r.Float64() < 0.7, nil)
		} else {
			s.contact(key, at, everydayReason(r), prod, "")
		}
	case "phone", "email", "web_chat", "whatsapp", "social":
		rs := everydayReason(r)
		if r.Float64() < 0.5*w.shippingShare(at) {
			rs = reasons[reasonShippingCharges]
			if r.Float64() < 0.45 {
				rs = reasons[reasonDeliveryTime]
			}
		}
		if catalog[key].kind == "phone" {
			at = callCenter.around(r, p.c, at, 1)
		} else {
			at = webHours.around(r, p.c, at, 1)
		}
		s.contact(key, at, rs, prod, "")
	case "sms":
		if p.phone != "" && r.Float64() < 0.6 {
			s.deliveryNotice(officeHours.around(r, p.c, at, 1), prod, s.newOrder("W"))
		} else {
			s.contact(key, webHours.around(r, p.c, at, 1), everydayReason(r), prod, "")
		}
	case "website":
		at = webHours.around(r, p.c, at, 1)
		anon := pick(r, p.anon)
		switch x := r.Float64(); {
		case x < 0.08:
			s.webPurchase(at, anon, prod, s.campaignAt(at), false)
		case x < 0.2:
			s.pageView(at, anon, true, "/checkout", "Checkout", buy, nil)
		case x < 0.35:
			s.pageView(at, anon, r.Float64() < 0.5, "/cart", "Your cart", buy, nil)
		case x < 0.5:
			s.pageView(at, anon, r.Float64() < 0.5, "/", "Voltmart – electronics and appliances", pre, s.campaignAt(at))
		default:
			s.pageView(at, anon, r.Float64() < 0.5, "/p/"+prod.slug, prod.name, pre, nil)
		}
	case "mobile_app":
		if p.device == "" {
			p.device = "android-" + p.anon[0][:12]
		}
		at = webHours.around(r, p.c, at, 1)
		if r.Float64() < 0.1 {
			s.webPurchase(at, p.anon[0], prod, nil, true)
		} else {
			s.screenView(at, pick(r, []string{"Home", "Product: " + prod.name, "Cart", "Orders", "Loyalty card"}), pre)
		}
	case "kiosk":
		s.kiosk(storeHours.around(r, p.c, at, 1), key, prod)
	case "delivery":
		s.delivery(officeHours.around(r, p.c, at, 1), &products[11+r.IntN(len(products)-11)], s.newOrder("W"), r.Float64() < 0.93)
	case "field_service":
		kind := "installation"
		if r.Float64() < 0.4 {
			kind = "repair"
		}
		s.technician(officeHours.around(r, p.c, at, 1), kind, &products[12+r.IntN(len(products)-12)], s.newOrder("W"))
	case "field_sales":
		s.salesVisit(officeHours.around(r, p.c, at, 1), prod, r.Float64() < 0.5)
	case "billing":
		amount := int64(30+r.IntN(90))*100 + 99
		if r.Float64() < 0.5 {
			s.bill(batchRun.at(r, p.c, at), amount, periodName(at))
		} else {
			s.payment(webHours.around(r, p.c, at, 1), amount, periodName(at.AddDate(0, -1, 0)), key)
		}
	case "credit":
		s.financing(storeHours.around(r, p.c, at, 1), &products[11+r.IntN(len(products)-11)])
	case "collections":
		if r.Float64() < 0.5 {
			s.reminder(batchRun.at(r, p.c, at), periodName(at.AddDate(0, -1, 0)), 2)
		} else {
			s.collectionsCall(callCenter.around(r, p.c, at, 1), periodName(at.AddDate(0, -1, 0)))
		}
	case "mail":
		s.mailPiece(batchRun.at(r, p.c, at), pick(r, []string{"Spring catalog", "Loyalty points statement", "Warranty certificate"}))
	case "advertising":
		c := &campaigns[3]
		for i := range campaigns {
			if campaigns[i].cp == key {
				c = &campaigns[i]
			}
		}
		s.adExposure(webHours.around(r, p.c, at, 1), c, pick(r, p.anon))
	case "review_site":
		s.review(webHours.around(r, p.c, at, 1), prod, 1+r.IntN(5))
	case "word_of_mouth":
		s.referral(webHours.around(r, p.c, at, 1))
	default:
		s.contact(key, at, everydayReason(r), prod, "")
	}
}
