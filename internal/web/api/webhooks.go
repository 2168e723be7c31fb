package api

import (
	"net/http"

	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/web/problem"
	"github.com/touchpoint-hub/touchpoint/internal/webhook"
)

// The signing secret appears only in the answers of create and rotate
// (webhook.WithSecret); every other answer is a webhook.Subscription, which
// has no field for it.

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) {
	subs, err := a.Webhooks.List(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*webhook.Subscription]{Items: subs})
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) {
	var spec webhook.Spec
	if err := decode(w, r, maxBody, &spec); err != nil {
		a.fail(w, r, err)
		return
	}
	sub, err := a.Webhooks.Create(r.Context(), spec)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/webhooks/"+sub.ID.String())
	send(w, http.StatusCreated, sub)
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request) {
	subID, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	sub, err := a.Webhooks.Get(r.Context(), subID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, sub)
}

func (a *API) updateWebhook(w http.ResponseWriter, r *http.Request) {
	subID, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var spec webhook.Spec
	if err := decode(w, r, maxBody, &spec); err != nil {
		a.fail(w, r, err)
		return
	}
	sub, err := a.Webhooks.Update(r.Context(), subID, spec)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, sub)
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	subID, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.Webhooks.Delete(r.Context(), subID); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	subID, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	sub, err := a.Webhooks.RotateSecret(r.Context(), subID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, sub)
}

func (a *API) pingWebhook(w http.ResponseWriter, r *http.Request) {
	subID, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d, err := a.Webhooks.Ping(r.Context(), subID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, d)
}

func (a *API) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	subID, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := webhook.DeliveryQuery{State: r.URL.Query().Get("state"), Cursor: r.URL.Query().Get("cursor")}
	if q.Limit, err = limitParam(r); err != nil {
		a.fail(w, r, err)
		return
	}
	ds, next, err := a.Webhooks.Deliveries(r.Context(), subID, q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*webhook.Delivery]{Items: ds, NextCursor: next})
}

// deliveryIDs reads the {id} and {delivery_id} path values.
func deliveryIDs(r *http.Request) (id.ID, id.ID, error) {
	subID, err := pathID(r)
	if err != nil {
		return 0, 0, err
	}
	dID, err := id.Parse(r.PathValue("delivery_id"))
	if err != nil {
		return 0, 0, &problem.Status{Code: http.StatusNotFound, Detail: "no such id: " + r.PathValue("delivery_id")}
	}
	return subID, dID, nil
}

func (a *API) getWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	subID, dID, err := deliveryIDs(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d, err := a.Webhooks.Delivery(r.Context(), subID, dID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, d)
}

func (a *API) replayWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	subID, dID, err := deliveryIDs(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d, err := a.Webhooks.Replay(r.Context(), subID, dID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusAccepted, d)
}
