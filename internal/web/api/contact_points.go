package api

import (
	"net/http"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
)

func (a *API) listContactPoints(w http.ResponseWriter, r *http.Request) {
	cps, err := a.ContactPoints.List(r.Context(), r.URL.Query().Get("include_disabled") == "true")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*contactpoint.ContactPoint]{Items: cps})
}

func (a *API) createContactPoint(w http.ResponseWriter, r *http.Request) {
	var spec contactpoint.Spec
	if err := decode(w, r, maxBody, &spec); err != nil {
		a.fail(w, r, err)
		return
	}
	cp, err := a.ContactPoints.Create(r.Context(), spec)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/contact-points/"+cp.ID.String())
	send(w, http.StatusCreated, cp)
}

func (a *API) getContactPoint(w http.ResponseWriter, r *http.Request) {
	cpID, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	cp, err := a.ContactPoints.Get(r.Context(), cpID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, cp)
}

func (a *API) updateContactPoint(w http.ResponseWriter, r *http.Request) {
	cpID, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var spec contactpoint.Spec
	if err := decode(w, r, maxBody, &spec); err != nil {
		a.fail(w, r, err)
		return
	}
	cp, err := a.ContactPoints.Update(r.Context(), cpID, spec)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, cp)
}

func (a *API) disableContactPoint(w http.ResponseWriter, r *http.Request) {
	cpID, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	yes := true
	cp, err := a.ContactPoints.Update(r.Context(), cpID, contactpoint.Spec{Disabled: &yes})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, cp)
}

func (a *API) rotateWriteKey(w http.ResponseWriter, r *http.Request) {
	cpID, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key, err := a.ContactPoints.RotateWriteKey(r.Context(), cpID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, map[string]string{"write_key": key})
}

func (a *API) rotateWidgetSecret(w http.ResponseWriter, r *http.Request) {
	cpID, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key, err := a.ContactPoints.RotateWidgetSecret(r.Context(), cpID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, map[string]string{"widget_secret": key})
}
