package demo

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
)

// ArrivalsSource marks the contacts Arrivals makes up.
const ArrivalsSource = "demo-live"

// liveChannels are where live demo contacts come in, weighted by how often.
var liveChannels = []cpKey{cpLineUS, cpLineUS, cpEmail, cpEmail, cpChat, cpChat, cpSMS, cpWhatsApp, cpStoreMain, cpInstagram}

// Arrivals keeps the demo alive: every so often (every/2 to 3×every/2) a
// Voltmart customer gets in touch on a conversational channel, through the
// same recording path as real contacts. Open desks see the contact arrive,
// join the customer's open case or open a new one. It runs until ctx ends.
func Arrivals(ctx context.Context, s *app.Services, every time.Duration, customers int, log *slog.Logger) {
	if every <= 0 {
		return
	}
	if customers <= 0 {
		customers = 2000
	}
	cps, err := CreateContactPoints(ctx, s.ContactPoints)
	if err != nil {
		log.Warn("demo arrivals: contact points", "err", err)
		return
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	for n := 0; ; n++ {
		wait := every/2 + time.Duration(r.Int64N(int64(every)))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		now := time.Now().UTC()
		w := &world{cps: cps, start: now.Add(-time.Hour), horizon: now.Add(time.Hour), end: now.Add(time.Hour)}
		// The same seed as Fill: the person is a known customer with the
		// identifiers stored for them.
		st := &story{w: w, p: newPerson(1, r.IntN(customers)), r: r,
			prefix: "live-" + strconv.FormatInt(now.UnixNano(), 36) + "-"}
		rs := everydayReason(r)
		if r.Float64() < 0.35 { // the story: questions the web shop should answer
			rs = reasons[pick(r, []string{reasonShippingCharges, reasonDeliveryTime})]
		}
		st.contact(pick(r, liveChannels), now, rs, st.pickProduct(), st.newOrder("W"))
		for i := range st.evs {
			in := &st.evs[i]
			// A new contact has not been served yet: no staff, no outcome.
			in.StaffID, in.StaffName, in.Outcome, in.Summary = nil, "", "", ""
			in.Source = ArrivalsSource
			// Known customers: the contact also carries the email of their
			// account, so a number or handle they never used before links to
			// them instead of starting a stranger.
			if !slices.ContainsFunc(in.Identifiers, func(x customer.RawIdentifier) bool { return x.Kind == "email" }) {
				in.Identifiers = append(in.Identifiers, st.p.emailID())
			}
			if in.Kind == "call" || in.Kind == "visit" {
				in.Content, in.DurationMS = "", nil
			}
		}
		res, err := s.Interactions.Record(ctx, st.evs)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("demo arrivals: recording a contact", "err", err)
			}
			continue
		}
		if len(res) > 0 {
			log.Debug("demo arrival", "kind", st.evs[0].Kind, "customer", res[0].CustomerID, "case", res[0].CaseID)
		}
	}
}
