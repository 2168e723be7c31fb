package desk

import (
	"net/http"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/webhook"
)

// Administration of outgoing webhooks: subscriptions, their signing secret
// (shown once, on the answer that made it), test pings and the delivery log
// with replays.

var webhookDone = map[string]string{
	"saved":       "Saved.",
	"activated":   "Activated: events are sent again.",
	"deactivated": "Deactivated: no events are sent until it is activated.",
	"pinged":      "Test ping sent; its answer is at the top of the delivery log.",
	"replayed":    "Queued again; the new delivery is at the top of the log.",
}

// webhookForm is the subscription form as stored or as sent.
type webhookForm struct {
	Name, URL string
	Events    []string
}

// needWebhooks answers the nodes that run no webhook service.
func (d *Desk) needWebhooks(w http.ResponseWriter, r *http.Request, v *viewer) bool {
	if d.Webhooks == nil {
		d.fail(w, r, v, errs.Conflictf("outgoing webhooks are not available on this node"))
		return false
	}
	return true
}

// webhookID reads the subscription of a form's path, or answers why not.
func (d *Desk) webhookID(w http.ResponseWriter, r *http.Request, v *viewer) (id.ID, bool) {
	subID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return 0, false
	}
	return subID, d.needWebhooks(w, r, v)
}

func (d *Desk) adminWebhooks(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.showWebhooks(w, r, v, http.StatusOK, map[string]any{"Done": webhookDone[r.URL.Query().Get("done")]})
}

func (d *Desk) showWebhooks(w http.ResponseWriter, r *http.Request, v *viewer, status int, data map[string]any) {
	if !d.needWebhooks(w, r, v) {
		return
	}
	subs, err := d.Webhooks.List(r.Context())
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if data["New"] == nil {
		data["New"] = webhookForm{Events: []string{webhook.AllEvents}}
	}
	if data["Errors"] == nil {
		data["Errors"] = map[string]string{}
	}
	data["Subs"] = subs
	data["EventTypes"] = webhook.EventTypes
	data["AdminNav"] = adminNav(v, "/admin/webhooks")
	d.renderStatus(w, r, "admin_webhooks", v, status, data)
}

func sentWebhook(r *http.Request) webhookForm {
	_ = r.ParseForm()
	return webhookForm{Name: r.PostFormValue("name"), URL: r.PostFormValue("url"), Events: r.PostForm["events"]}
}

func (d *Desk) adminCreateWebhook(w http.ResponseWriter, r *http.Request, v *viewer) {
	if !d.needWebhooks(w, r, v) {
		return
	}
	f := sentWebhook(r)
	created, err := d.Webhooks.Create(r.Context(), webhook.Spec{Name: &f.Name, URL: &f.URL, Events: f.Events})
	if err != nil {
		d.formFailed(w, r, v, err, func(status int, data map[string]any) {
			data["Errors"], data["New"] = fieldErrors(err), f
			d.showWebhooks(w, r, v, status, data)
		})
		return
	}
	// The secret is on this answer only: no redirect, and no-store (set on
	// every desk page) keeps it out of the browser's cache.
	d.showWebhook(w, r, v, created.ID, http.StatusOK, map[string]any{"Secret": created.Secret, "Done": "Subscription added."})
}

func (d *Desk) adminWebhook(w http.ResponseWriter, r *http.Request, v *viewer) {
	subID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	d.showWebhook(w, r, v, subID, http.StatusOK, map[string]any{"Done": webhookDone[r.URL.Query().Get("done")]})
}

// showWebhook renders a subscription's page with a page of its delivery
// log (?state=, ?cursor=).
func (d *Desk) showWebhook(w http.ResponseWriter, r *http.Request, v *viewer, subID id.ID, status int, data map[string]any) {
	if !d.needWebhooks(w, r, v) {
		return
	}
	ctx := r.Context()
	sub, err := d.Webhooks.Get(ctx, subID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	state := r.URL.Query().Get("state")
	deliveries, next, err := d.Webhooks.Deliveries(ctx, subID, webhook.DeliveryQuery{State: state, Cursor: r.URL.Query().Get("cursor"), Limit: 50})
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if data["Form"] == nil {
		data["Form"] = webhookForm{Name: sub.Name, URL: sub.URL, Events: sub.Events}
	}
	if data["Errors"] == nil {
		data["Errors"] = map[string]string{}
	}
	if next != "" {
		data["Older"] = "/admin/webhooks/" + subID.String() + "?state=" + state + "&cursor=" + next
	}
	data["Sub"] = sub
	data["Deliveries"] = deliveries
	data["State"] = state
	data["States"] = []string{webhook.Pending, webhook.Failed, webhook.Delivered, webhook.Dead}
	data["EventTypes"] = webhook.EventTypes
	data["AdminNav"] = adminNav(v, "/admin/webhooks")
	d.renderStatus(w, r, "admin_webhook", v, status, data)
}

func (d *Desk) adminSaveWebhook(w http.ResponseWriter, r *http.Request, v *viewer) {
	subID, ok := d.webhookID(w, r, v)
	if !ok {
		return
	}
	f := sentWebhook(r)
	if f.Events == nil {
		f.Events = []string{} // none ticked: refused by the service, not "unchanged"
	}
	if _, err := d.Webhooks.Update(r.Context(), subID, webhook.Spec{Name: &f.Name, URL: &f.URL, Events: f.Events}); err != nil {
		d.formFailed(w, r, v, err, func(status int, data map[string]any) {
			data["Errors"], data["Form"] = fieldErrors(err), f
			d.showWebhook(w, r, v, subID, status, data)
		})
		return
	}
	http.Redirect(w, r, "/admin/webhooks/"+subID.String()+"?done=saved", http.StatusSeeOther)
}

func (d *Desk) adminWebhookActive(w http.ResponseWriter, r *http.Request, v *viewer) {
	subID, ok := d.webhookID(w, r, v)
	if !ok {
		return
	}
	active := r.PostFormValue("active") == "true"
	if _, err := d.Webhooks.Update(r.Context(), subID, webhook.Spec{Active: &active}); err != nil {
		d.fail(w, r, v, err)
		return
	}
	done := "deactivated"
	if active {
		done = "activated"
	}
	http.Redirect(w, r, "/admin/webhooks/"+subID.String()+"?done="+done, http.StatusSeeOther)
}

func (d *Desk) adminRotateWebhookSecret(w http.ResponseWriter, r *http.Request, v *viewer) {
	subID, ok := d.webhookID(w, r, v)
	if !ok {
		return
	}
	rotated, err := d.Webhooks.RotateSecret(r.Context(), subID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	d.showWebhook(w, r, v, subID, http.StatusOK, map[string]any{"Secret": rotated.Secret,
		"Done": "New secret made. The old one keeps signing too for a day, so receivers can switch."})
}

func (d *Desk) adminPingWebhook(w http.ResponseWriter, r *http.Request, v *viewer) {
	subID, ok := d.webhookID(w, r, v)
	if !ok {
		return
	}
	if _, err := d.Webhooks.Ping(r.Context(), subID); err != nil {
		d.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/admin/webhooks/"+subID.String()+"?done=pinged", http.StatusSeeOther)
}

func (d *Desk) adminReplayWebhook(w http.ResponseWriter, r *http.Request, v *viewer) {
	subID, ok := d.webhookID(w, r, v)
	if !ok {
		return
	}
	dID, err := id.Parse(r.PathValue("delivery_id"))
	if err != nil {
		d.fail(w, r, v, errInvalid("delivery_id", "is not an id"))
		return
	}
	if _, err := d.Webhooks.Replay(r.Context(), subID, dID); err != nil {
		d.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/admin/webhooks/"+subID.String()+"?done=replayed", http.StatusSeeOther)
}
