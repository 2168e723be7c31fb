package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
)

// Queue names of the kiosk's work. Queues that take a channel are chosen by
// name order, so "Callbacks" (callback requests from anywhere) comes before
// the store's walk-in queue, which only the kiosk fills, by id.
const (
	callbackQueue = "Callbacks"
	walkInQueue   = "Main Street store walk-ins"
)

// kioskArticles are product information for the kiosk's screen only.
var kioskArticles = []demoArticle{
	{"kiosk-loyalty-points", "Your loyalty points", "Products", "kiosk",
		"Sign in at this kiosk with your phone or loyalty card to see your open requests, bills and orders.\n\nPoints are added to your card with every purchase in a store or the web shop."},
	{"kiosk-washer-wm800", "WM-800 washing machine", "Products", "kiosk",
		"**8 kg, 1400 rpm, energy class A.** On display in aisle 3. Delivery takes {{fact \"delivery.time.standard\"}}; ask a member of staff for installation."},
	{"kiosk-walk-in", "Talking to a member of staff", "Stores", "kiosk",
		"Sign in and choose **Check in** to join the queue: you see your place on the screen and we call you by name."},
}

// setUpKiosk makes the callback and walk-in queues, points the Main Street
// kiosk at its walk-in queue, and publishes the kiosk's own articles.
func setUpKiosk(ctx context.Context, s *app.Services, cps []id.ID) error {
	have, err := s.Routing.ListQueues(ctx)
	if err != nil {
		return err
	}
	byName := map[string]id.ID{}
	for _, q := range have {
		byName[q.Name] = q.ID
	}
	for _, dq := range []struct {
		name   string
		target time.Duration
	}{{callbackQueue, 4 * time.Hour}, {walkInQueue, 10 * time.Minute}} {
		if byName[dq.name] != 0 {
			continue
		}
		q := engine.Queue{Channels: []engine.Channel{engine.ChannelTask}, Target: engine.ServiceLevel{Percent: 80, Within: dq.target}}
		made, err := s.Routing.UpsertQueue(ctx, 0, routing.QueueInput{Name: dq.name, Queue: q})
		if err != nil {
			return fmt.Errorf("demo queue %q: %w", dq.name, err)
		}
		byName[dq.name] = made.ID
	}
	settings, _ := json.Marshal(map[string]any{"walk_in_queue_id": byName[walkInQueue]})
	if _, err := s.ContactPoints.Update(ctx, cps[cpKioskMain], contactpoint.Spec{Settings: settings}); err != nil {
		return fmt.Errorf("demo kiosk settings: %w", err)
	}
	for _, a := range kioskArticles {
		if _, err := s.Knowledge.ArticleBySlug(ctx, a.slug, "en"); err == nil {
			continue
		} else if !errors.Is(err, errs.ErrNotFound) {
			return err
		}
		art, err := s.Knowledge.CreateArticle(ctx, knowledge.ArticleSpec{Slug: &a.slug, Title: &a.title, Body: &a.body,
			Category: &a.category, Audience: &a.audience}, "demo")
		if err != nil {
			return fmt.Errorf("demo article %s: %w", a.slug, err)
		}
		if err := s.Knowledge.SubmitArticle(ctx, art.ID, 1, "demo"); err != nil {
			return err
		}
		if err := s.Knowledge.PublishArticle(ctx, art.ID, 1, "demo"); err != nil {
			return err
		}
	}
	return nil
}
