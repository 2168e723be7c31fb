package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
)

// demoFacts are Voltmart's short answers, named so that articles, replies
// and the kiosk can show them. THE STORY: shipping.fee says only what the
// web shop says, that the charge is "calculated at checkout", and the
// checkout shows it too late; so customers call and write to ask. The
// fix the demo waits for is an administrator publishing the real charges
// as a new version of the fact (README, "Try the knowledge base"): every
// channel shows it at once, and the consistency report names the
// customers given the old answer.
var demoFacts = [][2]string{
	{"shipping.fee", shippingFeeBefore},
	{"delivery.time.standard", "2–4 working days"},
	{"delivery.time.express", "next working day when ordered by 14:00"},
	{"returns.window", "30 days"},
	{"store.main-street.hours", "Mo–Sa 09:00–20:00"},
	{"store.harbour-mall.hours", "Mo–Sa 10:00–21:00, Su 12:00–18:00"},
	{"store.airport.hours", "daily 06:00–22:00"},
}

type demoArticle struct{ slug, title, category, audience, body string }

var demoArticles = []demoArticle{
	{"shipping-charges", "Shipping charges", "Delivery", "public",
		"**Shipping:** {{fact \"shipping.fee\"}}.\n\nOrders are delivered by our courier partners to your door or to a pick-up point."},
	{"delivery-times", "How long does delivery take?", "Delivery", "public",
		"Standard delivery takes {{fact \"delivery.time.standard\"}}. Express delivery arrives {{fact \"delivery.time.express\"}}.\n\nYou get a tracking link by email and SMS as soon as the parcel leaves our warehouse."},
	{"track-your-order", "Tracking your order", "Delivery", "public",
		"Open the tracking link in your shipping confirmation, or sign in to your account and choose **Orders**."},
	{"returns", "Returning an order", "Returns and refunds", "public",
		"You can return any item within {{fact \"returns.window\"}} of delivery. Print the return label from your account, or bring the item to any Voltmart store."},
	{"refunds", "When do I get my refund?", "Returns and refunds", "public",
		"We refund to the original payment method within 5 working days of receiving the return."},
	{"store-hours", "Store opening hours", "Stores", "public",
		"| Store | Hours |\n|---|---|\n| Main Street | {{fact \"store.main-street.hours\"}} |\n| Harbour Mall | {{fact \"store.harbour-mall.hours\"}} |\n| Airport | {{fact \"store.airport.hours\"}} |"},
	{"warranty-repairs", "Warranty and repairs", "Repairs", "public",
		"Every product has a two-year warranty. Book a repair in a store or request a callback, and a technician will contact you."},
	{"kiosk-pickup", "Picking up an order at the kiosk", "Stores", "kiosk",
		"Scan the QR code from your pick-up email at the kiosk, or type your order number."},
	{"goodwill-shipping-refund", "Goodwill: refunding shipping on late deliveries", "Delivery", "agents",
		"Agents may refund the shipping fee ({{fact \"shipping.fee\"}}) when a standard delivery is more than two days late. Note the case reason *late delivery*."},
}

// shippingFeeBefore is the demo's first (and unhelpful) shipping.fee.
const shippingFeeBefore = "calculated at checkout"

// fillKnowledge publishes the demo facts and help articles once (an
// existing slug or fact name is left as it is).
func fillKnowledge(ctx context.Context, kb *knowledge.Service) error {
	const actor = "demo"
	for _, f := range demoFacts {
		if _, err := kb.FactByName(ctx, f[0], ""); err == nil {
			continue
		} else if !errors.Is(err, errs.ErrNotFound) {
			return err
		}
		name, value := f[0], f[1]
		fact, err := kb.CreateFact(ctx, knowledge.FactSpec{Name: &name, Value: &value}, actor)
		if err != nil {
			return fmt.Errorf("demo fact %s: %w", name, err)
		}
		if err := kb.SubmitFact(ctx, fact.ID, 1, actor); err != nil {
			return err
		}
		if err := kb.PublishFact(ctx, fact.ID, 1, actor); err != nil {
			return err
		}
	}
	for _, a := range demoArticles {
		if _, err := kb.ArticleBySlug(ctx, a.slug, "en"); err == nil {
			continue
		} else if !errors.Is(err, errs.ErrNotFound) {
			return err
		}
		a := a
		art, err := kb.CreateArticle(ctx, knowledge.ArticleSpec{Slug: &a.slug, Title: &a.title, Body: &a.body, Category: &a.category, Audience: &a.audience}, actor)
		if err != nil {
			return fmt.Errorf("demo article %s: %w", a.slug, err)
		}
		if err := kb.SubmitArticle(ctx, art.ID, 1, actor); err != nil {
			return err
		}
		if err := kb.PublishArticle(ctx, art.ID, 1, actor); err != nil {
			return err
		}
	}
	return nil
}

// citeHistory records that the shipping questions of the last 30 days were
// answered with the first shipping.fee: the calls, chats and visits asking
// about the charge and the email answers to them. (The demo's history is
// written in bulk before the knowledge base exists.) Only on a fact still
// at version 1, so a second start adds nothing.
func citeHistory(ctx context.Context, s *app.Services, now time.Time) error {
	f, err := s.Knowledge.FactByName(ctx, "shipping.fee", "")
	if err != nil || f.Published == nil || f.Published.Version != 1 {
		return err
	}
	refs := []knowledge.Ref{{Kind: "fact", ID: f.ID, Version: 1}}
	rows, err := s.DB.Query(ctx, `SELECT id FROM interactions WHERE reason = 'shipping_charges' AND occurred_at >= ? AND occurred_at <= ?
		AND ((direction = 'inbound' AND kind IN ('call', 'chat', 'visit', 'kiosk_session')) OR (direction = 'outbound' AND kind IN ('email', 'chat', 'sms')))
		ORDER BY id LIMIT 2000`, now.AddDate(0, 0, -30).UnixMicro(), now.UnixMicro())
	if err != nil {
		return err
	}
	var ids []id.ID
	for rows.Next() {
		var x id.ID
		if err := rows.Scan(&x); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		for _, x := range ids {
			if err := s.Knowledge.CiteTx(ctx, tx, x, refs); err != nil {
				return fmt.Errorf("demo citation on interaction %s: %w", x, err)
			}
		}
		return nil
	})
}
