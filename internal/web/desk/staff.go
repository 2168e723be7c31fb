package desk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/identifier"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/richtext"
)

// The staff view serves people away from a desk — store counters, visiting
// salespeople, technicians, delivery, credit and collections staff — on a
// phone: find a customer, see their open cases and last contacts, and log a
// contact in a few taps. Every page works without JavaScript.

// staffKinds are the kinds of contact point staff log contacts on.
var staffKinds = []contactpoint.Kind{"store", "field_sales", "field_service", "delivery", "billing", "credit", "collections", "phone"}

// staffWhat is a kind of contact staff log, with its direction: the customer
// starts visits and conversations, staff start the others.
type staffWhat struct{ Value, Label, Direction string }

var staffWhats = []staffWhat{
	{"visit", "Visit", interaction.Inbound},
	{"conversation", "Conversation", interaction.Inbound},
	{"call", "Call", interaction.Outbound},
	{"repair", "Repair", interaction.Outbound},
	{"delivery", "Delivery", interaction.Outbound},
	{"payment_reminder", "Payment reminder", interaction.Outbound},
}

// choice is one option of a form.
type choice struct{ Value, Label string }

var staffOutcomes = []choice{
	{"resolved", "Resolved"}, {"follow_up_needed", "Follow-up needed"}, {"sale", "Sale"}, {"no_sale", "No sale"},
	{"payment_promised", "Payment promised"}, {"not_home", "Not at home"}, {"escalated", "Escalated"},
}

var staffRatings = []string{"1", "2", "3", "4", "5"}

// needsFollowUp tells whether an outcome leaves work for someone else: such a
// contact must end on a case, where the contact center picks it up.
func needsFollowUp(outcome string) bool {
	return outcome == "follow_up_needed" || outcome == "escalated"
}

const (
	staffSource       = "staff" // interaction source of contacts logged here
	staffCPCookie     = "tp_staff_cp"
	staffRecentCookie = "tp_staff_recent"
	staffTimelineLen  = 15
	staffRecentMax    = 8
	staffNoteMax      = 2000 // bytes: what an interaction's summary holds

	// twinWindow: a repeated form key this soon after the first submission
	// is that submission's twin (a double tap), and the first one opens the
	// case if one is needed. Later, a repeat is a retry, and it opens the
	// case the first submission failed to open.
	twinWindow = 10 * time.Second
)

// staffKey is the form's idempotency key (see newKey).
var staffKey = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// keyKinds are the identifiers staff read out or scan at a counter or a
// door, in the order shown; device and anonymous ids mean nothing there.
var keyKinds = []identifier.Kind{identifier.LoyaltyCard, identifier.Account, identifier.Phone, identifier.Email,
	identifier.Social, identifier.UserID}

// keyIdentifiers picks at most n of a customer's identifiers staff can use.
func keyIdentifiers(c *customer.Customer, n int) []identifier.Identifier {
	var out []identifier.Identifier
	for _, k := range keyKinds {
		for _, x := range c.Identifiers {
			if x.Kind == k && len(out) < n {
				out = append(out, x)
			}
		}
	}
	return out
}

// found is a customer in a list of the staff view.
type found struct {
	C      *customer.Customer
	Idents []identifier.Identifier
}

func listed(cs []*customer.Customer) []found {
	out := make([]found, len(cs))
	for i, c := range cs {
		out[i] = found{c, keyIdentifiers(c, 3)}
	}
	return out
}

// staffForm is the log form as sent, kept to show it again.
type staffForm struct {
	ContactPoint, What, Outcome, Case, Note, Rating, Key string
}

func (d *Desk) staffHome(w http.ResponseWriter, r *http.Request, v *viewer) {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	var results []*customer.Customer
	if q != "" {
		var err error
		if results, err = d.Customers.Search(ctx, q, 20); err != nil {
			d.fail(w, r, v, err)
			return
		}
	}
	var recent []*customer.Customer
	for _, cid := range recentCustomers(r, v) {
		c, err := d.Customers.Get(ctx, cid)
		if err != nil {
			if errors.Is(err, errs.ErrNotFound) {
				continue
			}
			d.fail(w, r, v, err)
			return
		}
		if !slices.ContainsFunc(recent, func(o *customer.Customer) bool { return o.ID == c.ID }) {
			recent = append(recent, c)
		}
	}
	d.render(w, r, "staff", v, map[string]any{"Q": q, "Found": listed(results), "Recent": listed(recent)})
}

func (d *Desk) staffCustomer(w http.ResponseWriter, r *http.Request, v *viewer) {
	cust, ok := d.customerAt(w, r, v, "/staff/customers/")
	if !ok {
		return
	}
	ctx := r.Context()
	form := staffForm{Key: newKey()}
	if c, err := r.Cookie(staffCPCookie); err == nil {
		form.ContactPoint = c.Value
	}
	data := map[string]any{}
	if s := r.URL.Query().Get("logged"); s != "" {
		if iid, err := id.Parse(s); err == nil {
			if it, err := d.Interactions.Get(ctx, iid); err == nil && inGroup(cust, it.CustomerID) {
				data["Logged"] = it
			}
		}
	}
	d.showStaffCustomer(w, r, v, cust, form, http.StatusOK, nil, data)
}

// inGroup tells whether a customer id is the customer or one merged into it.
func inGroup(c *customer.Customer, cid id.ID) bool {
	return c.ID == cid || slices.Contains(c.MergedIDs, cid)
}

// openCases lists a customer's open cases, most recently active first.
func (d *Desk) openCases(ctx context.Context, custID id.ID) ([]*cases.Case, error) {
	all, err := d.Cases.ForCustomer(ctx, custID)
	if err != nil {
		return nil, err
	}
	var open []*cases.Case
	for _, c := range all {
		if cases.IsOpen(c.Status) && c.MergedInto == nil {
			open = append(open, c)
		}
	}
	return open, nil
}

// staffContactPoints keeps the contact points staff log contacts on.
func staffContactPoints(all []*contactpoint.ContactPoint) []*contactpoint.ContactPoint {
	var out []*contactpoint.ContactPoint
	for _, cp := range all {
		if !cp.Disabled && slices.Contains(staffKinds, cp.Kind) {
			out = append(out, cp)
		}
	}
	return out
}

// showStaffCustomer renders the customer page of the staff view with the log
// form as given (problems, when there are, say what to correct).
func (d *Desk) showStaffCustomer(w http.ResponseWriter, r *http.Request, v *viewer, cust *customer.Customer,
	form staffForm, status int, problems []string, data map[string]any) {
	ctx := r.Context()
	open, err := d.openCases(ctx, cust.ID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	cpByID, cpList, err := d.contactPoints(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	cps := staffContactPoints(cpList)
	if !slices.ContainsFunc(cps, func(cp *contactpoint.ContactPoint) bool { return cp.ID.String() == form.ContactPoint }) {
		form.ContactPoint = ""
	}
	if form.ContactPoint == "" && len(cps) == 1 {
		form.ContactPoint = cps[0].ID.String()
	}
	page, err := d.Interactions.Timeline(ctx, cust.ID, interaction.TimelineQuery{Limit: staffTimelineLen})
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	var entries []entry
	for _, it := range page.Items {
		e := entry{At: it.OccurredAt, Interaction: it}
		if it.ContactPointID != nil {
			e.ContactPoint = cpByID[*it.ContactPointID]
		}
		entries = append(entries, e)
	}
	if it, ok := data["Logged"].(*interaction.Interaction); ok && it.CaseID != nil {
		for _, c := range open {
			if c.ID == *it.CaseID {
				data["LoggedCase"] = c
			}
		}
		if data["LoggedCase"] == nil {
			if c, err := d.Cases.Get(ctx, *it.CaseID); err == nil {
				data["LoggedCase"] = c
			}
		}
	}
	data["Customer"] = cust
	data["Identifiers"] = keyIdentifiers(cust, 8)
	data["Open"] = open
	data["ContactPoints"] = cps
	data["Whats"] = staffWhats
	data["Outcomes"] = staffOutcomes
	data["Ratings"] = staffRatings
	data["Form"] = form
	data["Problems"] = problems
	data["Entries"] = entries
	data["Topics"] = "customer:" + cust.ID.String()
	d.renderStatus(w, r, "staff_customer", v, status, data)
}

func (d *Desk) staffLog(w http.ResponseWriter, r *http.Request, v *viewer) {
	cust, ok := d.customerAt(w, r, v, "")
	if !ok {
		return
	}
	ctx := r.Context()
	form := staffForm{
		ContactPoint: strings.TrimSpace(r.PostFormValue("contact_point_id")),
		What:         strings.TrimSpace(r.PostFormValue("what")),
		Outcome:      strings.TrimSpace(r.PostFormValue("outcome")),
		Case:         strings.TrimSpace(r.PostFormValue("case_id")),
		Note:         strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("note"), "\r\n", "\n")),
		Rating:       strings.TrimSpace(r.PostFormValue("rating")),
		Key:          r.PostFormValue("key"),
	}
	open, err := d.openCases(ctx, cust.ID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	_, cpList, err := d.contactPoints(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	in, problems := staffInput(&form, cust, v, open, staffContactPoints(cpList))
	if len(problems) > 0 {
		d.showStaffCustomer(w, r, v, cust, form, http.StatusUnprocessableEntity, problems, map[string]any{})
		return
	}
	iid, problems, err := d.logStaffContact(ctx, v, cust, in, open)
	if err != nil {
		d.Log.Error("logging a staff contact", "customer", cust.ID, "err", err)
		status, msg := problemOf(err)
		if status == 0 {
			status, msg = http.StatusInternalServerError, "Something went wrong on our side; it has been logged."
		}
		data := map[string]any{}
		if iid != 0 {
			// The contact is stored; only its case is missing. The same key
			// retried later opens it (see twinWindow).
			data["Stored"] = true
			problems = []string{"Its follow-up case could not be opened (" + msg +
				"). Send the form again in a moment to retry, or tell the contact center."}
		} else {
			problems = []string{msg}
		}
		d.showStaffCustomer(w, r, v, cust, form, status, problems, data)
		return
	}
	if len(problems) > 0 {
		// Nothing was stored under this key; a fresh one keeps a key another
		// customer's contact holds from being sent again.
		form.Key = newKey()
		d.showStaffCustomer(w, r, v, cust, form, http.StatusUnprocessableEntity, problems, map[string]any{})
		return
	}
	setStaffCookies(w, r, v, cust.ID, in.ContactPointID)
	http.Redirect(w, r, "/staff/customers/"+cust.ID.String()+"?logged="+iid.String(), http.StatusSeeOther)
}

// staffInput checks the log form and turns it into an interaction. Each
// problem names what to correct, in the form's words.
func staffInput(f *staffForm, cust *customer.Customer, v *viewer, open []*cases.Case, cps []*contactpoint.ContactPoint) (interaction.Input, []string) {
	var problems []string
	uid := v.User.ID
	in := interaction.Input{CustomerID: cust.ID, StaffID: &uid, StaffName: v.User.Name, Source: staffSource}
	if !staffKey.MatchString(f.Key) {
		problems = append(problems, "The form was incomplete (its key was missing). Check it and send it again.")
		f.Key = newKey()
	}
	in.ExternalID = f.Key

	switch cpID, err := id.Parse(f.ContactPoint); {
	case f.ContactPoint == "":
		problems = append(problems, "Contact point: choose where the contact happened.")
	case err != nil || !slices.ContainsFunc(cps, func(cp *contactpoint.ContactPoint) bool { return cp.ID == cpID }):
		problems = append(problems, "Contact point: the one chosen cannot be used for logging here; choose another.")
		f.ContactPoint = ""
	default:
		in.ContactPointID = cpID
	}

	if i := slices.IndexFunc(staffWhats, func(w staffWhat) bool { return w.Value == f.What }); i >= 0 {
		in.Kind, in.Direction = staffWhats[i].Value, staffWhats[i].Direction
	} else if f.What == "" {
		problems = append(problems, "What: choose what happened (visit, call, conversation, repair, delivery or payment reminder).")
	} else {
		problems = append(problems, fmt.Sprintf("What: %q is not one of visit, call, conversation, repair, delivery or payment reminder.", f.What))
		f.What = ""
	}

	if slices.ContainsFunc(staffOutcomes, func(c choice) bool { return c.Value == f.Outcome }) {
		in.Outcome = f.Outcome
	} else if f.Outcome == "" {
		problems = append(problems, "Outcome: choose how it ended.")
	} else {
		problems = append(problems, fmt.Sprintf("Outcome: %q is not an outcome; choose resolved, follow-up needed, sale, no sale, payment promised, not at home or escalated.", f.Outcome))
		f.Outcome = ""
	}

	if f.Case != "" && f.Case != "auto" {
		caseID, err := id.Parse(strings.TrimPrefix(f.Case, "#"))
		if err != nil || !slices.ContainsFunc(open, func(c *cases.Case) bool { return c.ID == caseID }) {
			problems = append(problems, "Case: the case chosen is not one of this customer's open cases any more; choose another, or let Touchpoint decide.")
			f.Case = ""
		} else {
			in.CaseID = &caseID
		}
	}

	if len(f.Note) > staffNoteMax {
		problems = append(problems, fmt.Sprintf("Note: too long (%d bytes); keep it under %d.", len(f.Note), staffNoteMax))
	}
	in.Summary = f.Note

	if f.Rating != "" && f.Rating != "none" {
		n, err := strconv.Atoi(f.Rating)
		if err != nil || n < 1 || n > 5 {
			problems = append(problems, "Rating: give 1 to 5 stars, or none.")
			f.Rating = ""
		} else {
			in.Rating = &n
		}
	}
	return in, problems
}

// logStaffContact records a contact once per form key and, when its outcome
// leaves work, sees that it ends on a case: the case the staff member chose,
// else the case the join rule puts it on, else — for contacts staff started,
// which the join rule leaves alone — the customer's most active open case,
// else a new unassigned case, so that the contact center picks it up. It
// returns the interaction (0 if none was stored) and the problems with the
// input, if the service refused it.
func (d *Desk) logStaffContact(ctx context.Context, v *viewer, cust *customer.Customer, in interaction.Input, open []*cases.Case) (id.ID, []string, error) {
	if in.CaseID == nil && needsFollowUp(in.Outcome) && in.Direction == interaction.Outbound && len(open) > 0 {
		c := open[0].ID
		in.CaseID = &c
	}
	res, err := d.Interactions.Record(ctx, []interaction.Input{in})
	if err != nil {
		if problems := inputProblems(err); problems != nil {
			return 0, problems, nil
		}
		return 0, nil, err
	}
	iid, onCase := res[0].ID, res[0].CaseID
	outcome, kind, note := in.Outcome, in.Kind, in.Summary
	var cpID *id.ID
	if in.ContactPointID != 0 {
		cpID = &in.ContactPointID
	}
	if res[0].Duplicate {
		// The same form again: report the stored contact, as it was stored.
		if res[0].CustomerID != cust.ID {
			return 0, []string{"This form was already used for another customer, so nothing was logged. Check it and send it again."}, nil
		}
		it, err := d.Interactions.Get(ctx, iid)
		if err != nil {
			return 0, nil, err
		}
		onCase, outcome, kind, note, cpID = it.CaseID, it.Outcome, it.Kind, it.Summary, it.ContactPointID
		if onCase == nil && time.Since(it.ReceivedAt) < twinWindow {
			return iid, nil, nil
		}
	}
	if onCase != nil || !needsFollowUp(outcome) {
		return iid, nil, nil
	}
	subject := richtext.Preview(note, 120)
	if subject == "" {
		subject = "Follow-up after " + strings.ReplaceAll(kind, "_", " ")
	}
	nc := cases.NewCase{CustomerID: cust.ID, Subject: subject, ContactPointID: cpID, InteractionIDs: []id.ID{iid}}
	if outcome == "escalated" {
		nc.Priority = "high"
	}
	if _, err := d.Cases.Create(ctx, v.actor(), nc); err != nil {
		return iid, nil, err
	}
	return iid, nil, nil
}

// inputProblems lists what the interaction service refused in the staff
// form's words; nil if err is not about the input.
func inputProblems(err error) []string {
	names := map[string]string{"contact_point_id": "Contact point", "kind": "What", "outcome": "Outcome", "summary": "Note",
		"rating": "Rating", "case_id": "Case", "external_id": "Form key"}
	say := func(field, reason string) string {
		if n, ok := names[field]; ok {
			return n + ": " + reason
		}
		if field == "" {
			return reason
		}
		return fieldLabel(field) + ": " + reason
	}
	var batch *errs.Batch
	if errors.As(err, &batch) {
		var out []string
		for _, it := range batch.Items {
			out = append(out, say(it.Field, it.Reason))
		}
		return out
	}
	var inv *errs.Invalid
	if errors.As(err, &inv) {
		return []string{say(inv.Field, inv.Reason)}
	}
	return nil
}

// setStaffCookies remembers on this device the contact point last used (the
// next form preselects it) and the customers this user logged contacts for.
func setStaffCookies(w http.ResponseWriter, r *http.Request, v *viewer, custID, cpID id.ID) {
	secure := r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
	const year = 365 * 24 * 3600
	http.SetCookie(w, &http.Cookie{Name: staffCPCookie, Value: cpID.String(), Path: "/staff", MaxAge: year,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure})
	ids := []string{custID.String()}
	for _, c := range recentCustomers(r, v) {
		if c != custID && len(ids) < staffRecentMax {
			ids = append(ids, c.String())
		}
	}
	http.SetCookie(w, &http.Cookie{Name: staffRecentCookie, Value: v.User.ID.String() + "-" + strings.Join(ids, "."),
		Path: "/staff", MaxAge: 30 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure})
}

// recentCustomers reads the customers the viewer logged contacts for on this
// device, newest first; another user's list (a shared device) is not shown.
func recentCustomers(r *http.Request, v *viewer) []id.ID {
	c, err := r.Cookie(staffRecentCookie)
	if err != nil {
		return nil
	}
	owner, list, ok := strings.Cut(c.Value, "-")
	if !ok || owner != v.User.ID.String() {
		return nil
	}
	var out []id.ID
	for _, s := range strings.Split(list, ".") {
		if x, err := id.Parse(s); err == nil && x > 0 && !slices.Contains(out, x) && len(out) < staffRecentMax {
			out = append(out, x)
		}
	}
	return out
}
