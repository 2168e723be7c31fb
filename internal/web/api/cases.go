package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/web/problem"
)

// caseActor names the caller in a case's history and notes: the desk user,
// or for an API token (which belongs to no user) the token's name.
func caseActor(r *http.Request) cases.Actor {
	p := PrincipalFrom(r.Context())
	return cases.Actor{UserID: p.UserID, Name: p.Name}
}

// listParam reads a query parameter given as a comma list, repeated, or both
// (?status=new,open&status=waiting_on_us).
func listParam(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// limitParam reads ?limit=, 0 when absent.
func limitParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, errs.Invalidf("limit", "must be a positive number")
	}
	return n, nil
}

// listCases answers the inbox: the cases of a view, filtered and sorted.
func (a *API) listCases(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := PrincipalFrom(r.Context())
	iq := cases.InboxQuery{
		View:       q.Get("view"),
		Statuses:   listParam(r, "status"),
		Priorities: listParam(r, "priority"),
		Channels:   listParam(r, "channel"),
		Reasons:    listParam(r, "reason"),
		SLA:        listParam(r, "sla"),
		Tag:        strings.TrimSpace(q.Get("tag")),
		Sort:       q.Get("sort"),
		Cursor:     q.Get("cursor"),
	}
	var err error
	if iq.Limit, err = limitParam(r); err != nil {
		a.fail(w, r, err)
		return
	}
	if iq.View == cases.ViewMine || iq.View == cases.ViewTeam {
		if p.UserID == 0 {
			a.fail(w, r, errs.Invalidf("view", "%s is a desk user's view, and %s %q belongs to no user; use unassigned or all", iq.View, p.Kind, p.Name))
			return
		}
		iq.UserID = p.UserID
		if iq.View == cases.ViewTeam {
			if iq.TeamIDs, err = a.Access.TeamsOf(r.Context(), p.UserID); err != nil {
				a.fail(w, r, err)
				return
			}
		}
	}
	page, err := a.Cases.Inbox(r.Context(), iq)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, page)
}

// caseCounts answers how many open cases each inbox view holds for the caller.
func (a *API) caseCounts(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	var teams []id.ID
	if p.UserID != 0 {
		var err error
		if teams, err = a.Access.TeamsOf(r.Context(), p.UserID); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	counts, err := a.Cases.Counts(r.Context(), p.UserID, teams)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, counts)
}

func (a *API) createCase(w http.ResponseWriter, r *http.Request) {
	var in cases.NewCase
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.Cases.Create(r.Context(), caseActor(r), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/cases/"+c.ID.String())
	sendCase(w, http.StatusCreated, c)
}

// sendCase writes a case with its version as ETag, for If-Match.
func sendCase(w http.ResponseWriter, status int, c *cases.Case) {
	w.Header().Set("ETag", `W/"`+strconv.Itoa(c.Version)+`"`)
	send(w, status, c)
}

func (a *API) getCase(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.Cases.Get(r.Context(), cid)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	sendCase(w, http.StatusOK, c)
}

// ifMatchVersion reads If-Match as a case version: 7, "7" or W/"7" (the
// ETag of the case). It returns 0 when the header is absent or "*".
func ifMatchVersion(r *http.Request) (int, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(v, "W/"), `"`))
	if err != nil || n < 1 {
		return 0, &problem.Status{Code: http.StatusBadRequest, Detail: `If-Match must be the case's version as its ETag gives it, e.g. W/"7"`}
	}
	return n, nil
}

func (a *API) updateCase(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	version, err := ifMatchVersion(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var p cases.Patch
	if err := decode(w, r, maxBody, &p); err != nil {
		a.fail(w, r, err)
		return
	}
	if version != 0 {
		if p.Version != 0 && p.Version != version {
			a.fail(w, r, errs.Invalidf("version", "is %d but If-Match says %d; send one of them", p.Version, version))
			return
		}
		p.Version = version
	}
	c, err := a.Cases.Update(r.Context(), caseActor(r), cid, p)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	sendCase(w, http.StatusOK, c)
}

func (a *API) caseHistory(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	h, err := a.Cases.History(r.Context(), cid)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[cases.HistoryEntry]{Items: h})
}

func (a *API) caseNotes(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// Notes of an unknown case would be an empty list; say 404 instead.
	if _, err := a.Cases.Get(r.Context(), cid); err != nil {
		a.fail(w, r, err)
		return
	}
	ns, err := a.Cases.Notes(r.Context(), cid)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*cases.Note]{Items: ns})
}

func (a *API) addCaseNote(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var body struct {
		Body string `json:"body"`
	}
	if err := decode(w, r, maxBody, &body); err != nil {
		a.fail(w, r, err)
		return
	}
	n, err := a.Cases.AddNote(r.Context(), caseActor(r), cid, body.Body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusCreated, n)
}

// replyToCase records an answer to the customer. An Idempotency-Key header
// works like idempotency_key in the body: a resubmitted reply counts once.
func (a *API) replyToCase(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in cases.Reply
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	if key := strings.TrimSpace(r.Header.Get("Idempotency-Key")); key != "" {
		if in.IdempotencyKey != "" && in.IdempotencyKey != key {
			a.fail(w, r, errs.Invalidf("idempotency_key", "differs from the Idempotency-Key header; send one of them"))
			return
		}
		in.IdempotencyKey = key
	}
	res, err := a.Cases.Reply(r.Context(), caseActor(r), cid, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if res.Duplicate {
		status = http.StatusOK
	}
	send(w, status, res)
}

func (a *API) caseTimeline(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	limit, err := limitParam(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if _, err := a.Cases.Get(r.Context(), cid); err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.Interactions.CaseTimeline(r.Context(), cid, r.URL.Query().Get("cursor"), limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.sendAppended(w, http.StatusOK, page)
}

// mergeCase folds the case in the path into the one named by into, and
// answers with that one.
func (a *API) mergeCase(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var body struct {
		Into id.ID `json:"into"`
	}
	if err := decode(w, r, maxBody, &body); err != nil {
		a.fail(w, r, err)
		return
	}
	if body.Into == 0 {
		a.fail(w, r, errs.Invalidf("into", "is required: the case to merge this one into"))
		return
	}
	c, err := a.Cases.Merge(r.Context(), caseActor(r), cid, body.Into)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	sendCase(w, http.StatusOK, c)
}

// splitCase moves some interactions of a case onto a new case.
func (a *API) splitCase(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var body struct {
		InteractionIDs []id.ID `json:"interaction_ids"`
		Subject        string  `json:"subject"`
	}
	if err := decode(w, r, maxBody, &body); err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.Cases.Split(r.Context(), caseActor(r), cid, body.InteractionIDs, body.Subject)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/cases/"+c.ID.String())
	sendCase(w, http.StatusCreated, c)
}

// moveToCase moves interactions of the same customer onto the case in the path.
func (a *API) moveToCase(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var body struct {
		InteractionIDs []id.ID `json:"interaction_ids"`
	}
	if err := decode(w, r, maxBody, &body); err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.Cases.MoveInteractions(r.Context(), caseActor(r), body.InteractionIDs, cid)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	sendCase(w, http.StatusOK, c)
}

func (a *API) customerCases(w http.ResponseWriter, r *http.Request) {
	cid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	cs, err := a.Cases.ForCustomer(r.Context(), cid)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*cases.Case]{Items: cs})
}
