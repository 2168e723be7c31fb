package api

import (
	"net/http"
	"slices"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// The settings of cases: the contact-reason taxonomy, SLA policies, business
// calendars, canned responses and the join rule. Bodies are decoded into
// input types without the fields the server sets (id, times), so that a
// client sending them is told so instead of having them ignored or, worse,
// taken as the record to replace.

func (a *API) listReasons(w http.ResponseWriter, r *http.Request) {
	rs, err := a.Cases.Reasons(r.Context(), r.URL.Query().Get("include_disabled") == "true")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[cases.Reason]{Items: rs})
}

// saveReason adds a reason, or replaces the one with the same code.
func (a *API) saveReason(w http.ResponseWriter, r *http.Request) {
	var in cases.Reason
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	existing, err := a.Cases.Reasons(r.Context(), true)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	saved, err := a.Cases.SaveReason(r.Context(), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if slices.ContainsFunc(existing, func(x cases.Reason) bool { return x.Code == saved.Code }) {
		status = http.StatusOK
	}
	send(w, status, saved)
}

// policyInput is an SLA policy as a client writes it.
type policyInput struct {
	Name          string        `json:"name"`
	Priority      string        `json:"priority"`
	TeamID        *id.ID        `json:"team_id"`
	CalendarID    *id.ID        `json:"calendar_id"`
	FirstResponse cases.Seconds `json:"first_response_s"`
	NextResponse  cases.Seconds `json:"next_response_s"`
	Resolution    cases.Seconds `json:"resolution_s"`
	WarnPercent   int           `json:"warn_percent"`
	Disabled      bool          `json:"disabled"`
}

func (in policyInput) policy(pid id.ID) cases.Policy {
	return cases.Policy{
		ID: pid, Name: in.Name, Priority: in.Priority, TeamID: in.TeamID, CalendarID: in.CalendarID,
		FirstResponse: in.FirstResponse, NextResponse: in.NextResponse, Resolution: in.Resolution,
		WarnPercent: in.WarnPercent, Disabled: in.Disabled,
	}
}

func (a *API) listPolicies(w http.ResponseWriter, r *http.Request) {
	ps, err := a.Cases.Policies(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*cases.Policy]{Items: ps})
}

func (a *API) createPolicy(w http.ResponseWriter, r *http.Request) {
	var in policyInput
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	p, err := a.Cases.SavePolicy(r.Context(), in.policy(0))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/sla-policies/"+p.ID.String())
	send(w, http.StatusCreated, p)
}

func (a *API) replacePolicy(w http.ResponseWriter, r *http.Request) {
	pid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in policyInput
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	if _, err := a.Cases.SavePolicy(r.Context(), in.policy(pid)); err != nil {
		a.fail(w, r, err)
		return
	}
	// Read it back: what SavePolicy returns lacks the stored created_at.
	ps, err := a.Cases.Policies(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(ps, func(p *cases.Policy) bool { return p.ID == pid })
	if i < 0 {
		a.fail(w, r, errs.NotFoundf("SLA policy %s", pid))
		return
	}
	send(w, http.StatusOK, ps[i])
}

// calendarInput is a business calendar as a client writes it.
type calendarInput struct {
	Name     string            `json:"name"`
	Timezone string            `json:"timezone"`
	Week     map[string]string `json:"week"`
	Holidays []string          `json:"holidays"`
}

func (a *API) listCalendars(w http.ResponseWriter, r *http.Request) {
	cs, err := a.Cases.Calendars(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*cases.Calendar]{Items: cs})
}

func (a *API) createCalendar(w http.ResponseWriter, r *http.Request) {
	var in calendarInput
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.Cases.SaveCalendar(r.Context(), cases.Calendar{Name: in.Name, Timezone: in.Timezone, Week: in.Week, Holidays: in.Holidays})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/calendars/"+c.ID.String())
	send(w, http.StatusCreated, c)
}

func (a *API) replaceCalendar(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in calendarInput
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.Cases.SaveCalendar(r.Context(), cases.Calendar{ID: cid, Name: in.Name, Timezone: in.Timezone, Week: in.Week, Holidays: in.Holidays})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, c)
}

// cannedInput is a canned response as a client writes it.
type cannedInput struct {
	Name     string `json:"name"`
	Shortcut string `json:"shortcut"`
	Body     string `json:"body"`
	TeamID   *id.ID `json:"team_id"`
}

func (a *API) listCanned(w http.ResponseWriter, r *http.Request) {
	cs, err := a.Cases.CannedResponses(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*cases.Canned]{Items: cs})
}

func (a *API) createCanned(w http.ResponseWriter, r *http.Request) {
	var in cannedInput
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.Cases.SaveCanned(r.Context(), caseActor(r), cases.Canned{Name: in.Name, Shortcut: in.Shortcut, Body: in.Body, TeamID: in.TeamID})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/canned-responses/"+c.ID.String())
	send(w, http.StatusCreated, c)
}

func (a *API) replaceCanned(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in cannedInput
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	if _, err := a.Cases.SaveCanned(r.Context(), caseActor(r), cases.Canned{ID: cid, Name: in.Name, Shortcut: in.Shortcut, Body: in.Body, TeamID: in.TeamID}); err != nil {
		a.fail(w, r, err)
		return
	}
	// Read it back: what SaveCanned returns lacks the stored created_by and created_at.
	cs, err := a.Cases.CannedResponses(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(cs, func(c *cases.Canned) bool { return c.ID == cid })
	if i < 0 {
		a.fail(w, r, errs.NotFoundf("canned response %s", cid))
		return
	}
	send(w, http.StatusOK, cs[i])
}

func (a *API) getJoinRule(w http.ResponseWriter, r *http.Request) {
	rule, err := a.Cases.JoinRule(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, rule)
}

// setJoinRule replaces the join rule; both fields are required, so that a
// forgotten same_reason does not silently turn it off.
func (a *API) setJoinRule(w http.ResponseWriter, r *http.Request) {
	var in struct {
		WindowHours *int  `json:"window_hours"`
		SameReason  *bool `json:"same_reason"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	if in.WindowHours == nil {
		a.fail(w, r, errs.Invalidf("window_hours", "is required: how many hours after its last change an open case still takes new contacts"))
		return
	}
	if in.SameReason == nil {
		a.fail(w, r, errs.Invalidf("same_reason", "is required: true or false"))
		return
	}
	rule := cases.JoinRule{WindowHours: *in.WindowHours, SameReason: *in.SameReason}
	if err := a.Cases.SetJoinRule(r.Context(), rule); err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, rule)
}
