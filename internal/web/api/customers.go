package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

// findCustomers answers ?identifier=KIND:VALUE exactly, or ?q= (any
// identifier or name words).
func (a *API) findCustomers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var out []*customer.Customer
	var err error
	switch {
	case q.Get("identifier") != "":
		out, err = a.Customers.FindByIdentifier(r.Context(), q.Get("identifier"))
	case q.Get("q") != "":
		limit, _ := strconv.Atoi(q.Get("limit"))
		out, err = a.Customers.Search(r.Context(), q.Get("q"), limit)
	default:
		err = errs.Invalidf("identifier", "give ?identifier=KIND:VALUE (e.g. email:ann@example.com) or ?q=search words")
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*customer.Customer]{Items: out})
}

func (a *API) createCustomer(w http.ResponseWriter, r *http.Request) {
	var p customer.Profile
	if err := decode(w, r, maxBody, &p); err != nil {
		a.fail(w, r, err)
		return
	}
	c, created, err := a.Customers.Create(r.Context(), p, "api:"+PrincipalFrom(r.Context()).Name)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusOK // an identifier matched an existing customer
	if created {
		status = http.StatusCreated
	}
	w.Header().Set("Location", "/api/v1/customers/"+c.ID.String())
	send(w, status, c)
}

func (a *API) getCustomer(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.Customers.Get(r.Context(), cid)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, c)
}

func (a *API) updateCustomer(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var p customer.Profile
	if err := decode(w, r, maxBody, &p); err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.Customers.Update(r.Context(), cid, p, "api:"+PrincipalFrom(r.Context()).Name)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, c)
}

func (a *API) customerTimeline(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	tq, err := timelineQuery(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.Interactions.Timeline(r.Context(), cid, tq)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.sendAppended(w, http.StatusOK, page)
}

func timelineQuery(r *http.Request) (interaction.TimelineQuery, error) {
	q := r.URL.Query()
	tq := interaction.TimelineQuery{Direction: q.Get("direction"), Cursor: q.Get("cursor")}
	if v := q.Get("contact_point_id"); v != "" {
		cp, err := id.Parse(v)
		if err != nil {
			return tq, errs.Invalidf("contact_point_id", "is not an id")
		}
		tq.ContactPointID = cp
	}
	for _, k := range q["kind"] {
		tq.Kinds = append(tq.Kinds, strings.Split(k, ",")...)
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"since", &tq.Since}, {"until", &tq.Until}} {
		if v := q.Get(f.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return tq, errs.Invalidf(f.name, "must be an RFC 3339 time like 2026-05-01T00:00:00Z")
			}
			*f.dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return tq, errs.Invalidf("limit", "must be a positive number")
		}
		tq.Limit = n
	}
	return tq, nil
}

func (a *API) customerMerges(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ms, err := a.Customers.Merges(r.Context(), cid)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*customer.Merge]{Items: ms})
}

// mergeCustomers merges the customer named in the body into the one in the path.
func (a *API) mergeCustomers(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var body struct {
		CustomerID id.ID `json:"customer_id"`
	}
	if err := decode(w, r, maxBody, &body); err != nil {
		a.fail(w, r, err)
		return
	}
	if body.CustomerID == 0 {
		a.fail(w, r, errs.Invalidf("customer_id", "is required: the customer to merge into this one"))
		return
	}
	m, err := a.Customers.MergeManually(r.Context(), cid, body.CustomerID, PrincipalFrom(r.Context()).Actor())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, m)
}

func (a *API) undoMerge(w http.ResponseWriter, r *http.Request) {
	mid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	m, err := a.Customers.UndoMerge(r.Context(), mid, PrincipalFrom(r.Context()).Actor())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, m)
}
