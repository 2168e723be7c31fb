package desk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/richtext"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// entry is one line of a timeline: an interaction or a note. Its text is
// put together here, once, so that the template runs few actions per line
// (html/template costs microseconds per action, and a page has fifty lines).
type entry struct {
	At           time.Time
	Interaction  *interaction.Interaction
	Note         *cases.Note
	ContactPoint *contactpoint.ContactPoint
	OnCase       bool

	DOMID, Class, Badge, Title, Head, When, ISO, Rating, Delivery, Subject, OtherCase, IDText string
	Body                                                                                      template.HTML
	Subs                                                                                      []string
	channelPart
}

func interactionEntry(it *interaction.Interaction, cp *contactpoint.ContactPoint, onCase bool) entry {
	e := entry{At: it.OccurredAt, Interaction: it, ContactPoint: cp, OnCase: onCase,
		DOMID: "i-" + it.ID.String(), IDText: it.ID.String(), Class: "entry dir-" + it.Direction,
		Title: labelText(it.Kind), When: whenText(it.OccurredAt), ISO: it.OccurredAt.UTC().Format(time.RFC3339),
		Subject: it.Subject, Delivery: it.DeliveryStatus}
	if !onCase {
		e.Class += " other-case"
	}
	head := []string{labelText(it.Direction)}
	if cp != nil {
		e.Badge = channelText(string(cp.Kind))
		head = append(head, cp.Name)
	} else {
		e.Badge = labelText(it.Source)
	}
	if it.StaffName != "" {
		head = append(head, "by "+it.StaffName)
	}
	if it.DurationMS != nil {
		head = append(head, durationText(*it.DurationMS))
	}
	e.Head = strings.Join(head, " · ")
	if it.Rating != nil {
		e.Rating = starsText(*it.Rating)
	}
	switch {
	case it.Content != "":
		e.Body = contentHTML(it.Content)
	case it.Summary != "":
		e.Body = richtext.Text(it.Summary)
	}
	if it.Outcome != "" {
		e.Subs = append(e.Subs, "Outcome: "+labelText(it.Outcome))
	}
	if it.Reason != "" {
		e.Subs = append(e.Subs, "Reason: "+labelText(it.Reason))
	}
	if it.Value != nil {
		e.Subs = append(e.Subs, "Value: "+moneyText(it.Value.Minor, it.Value.Currency))
	}
	if it.CaseID != nil && !onCase {
		e.OtherCase = it.CaseID.String()
	}
	return e
}

func noteEntry(n *cases.Note) entry {
	return entry{At: n.CreatedAt, Note: n, OnCase: true, DOMID: "note-" + n.ID.String(), Class: "entry note",
		Badge: "Internal note", Title: n.AuthorName, When: whenText(n.CreatedAt), ISO: n.CreatedAt.UTC().Format(time.RFC3339),
		Body: richtext.Text(n.Body)}
}

// replyChannel is a contact point the composer offers.
type replyChannel struct {
	CP     *contactpoint.ContactPoint
	Used   bool // the customer used it on this case
	Allows bool // used, or the customer consented to its channel
}

func newKey() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// contactPoints returns every contact point by id (a short list, read per page).
func (d *Desk) contactPoints(r *http.Request) (map[id.ID]*contactpoint.ContactPoint, []*contactpoint.ContactPoint, error) {
	all, err := d.ContactPoints.List(r.Context(), false)
	if err != nil {
		return nil, nil, err
	}
	m := make(map[id.ID]*contactpoint.ContactPoint, len(all))
	for _, cp := range all {
		m[cp.ID] = cp
	}
	return m, all, nil
}

func (d *Desk) casePage(w http.ResponseWriter, r *http.Request, v *viewer) {
	caseID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	ctx := r.Context()
	c, err := d.Cases.Get(ctx, caseID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if c.MergedInto != nil && r.URL.Query().Get("partial") == "" {
		http.Redirect(w, r, "/cases/"+c.MergedInto.String()+"?from="+c.ID.String(), http.StatusSeeOther)
		return
	}
	cust, err := d.Customers.Get(ctx, c.CustomerID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	cps, cpList, err := d.contactPoints(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	scope := r.URL.Query().Get("scope")
	var page *interaction.Page
	if scope == "case" {
		page, err = d.Interactions.CaseTimeline(ctx, caseID, r.URL.Query().Get("cursor"), 50)
	} else {
		scope = "all"
		page, err = d.Interactions.Timeline(ctx, cust.ID, interaction.TimelineQuery{Limit: 50, Cursor: r.URL.Query().Get("cursor")})
	}
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	notes, err := d.Cases.Notes(ctx, caseID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	var entries []entry
	for _, it := range page.Items {
		var cp *contactpoint.ContactPoint
		if it.ContactPointID != nil {
			cp = cps[*it.ContactPointID]
		}
		entries = append(entries, interactionEntry(it, cp, it.CaseID != nil && *it.CaseID == caseID))
	}
	if err := d.addChannelParts(ctx, v, entries); err != nil {
		d.fail(w, r, v, err)
		return
	}
	oldest := time.Time{}
	if page.NextCursor != "" && len(page.Items) > 0 {
		oldest = page.Items[len(page.Items)-1].OccurredAt
	}
	for _, n := range notes {
		if n.CreatedAt.Before(oldest) {
			continue
		}
		entries = append(entries, noteEntry(n))
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].At.After(entries[j].At) })

	data := map[string]any{
		"items": page.Items,
		"Case":  c, "Customer": cust, "Entries": entries, "Scope": scope, "Topics": "case:" + c.ID.String() + ",customer:" + cust.ID.String(),
		"CaseID": c.ID.String(), "Statuses": cases.Statuses, "Priorities": cases.Priorities, "Dispositions": routing.Dispositions,
	}
	if page.NextCursor != "" {
		data["Older"] = "/cases/" + c.ID.String() + "?scope=" + scope + "&cursor=" + page.NextCursor
	}
	// The suggested answers follow the conversation: a new message on the
	// case refreshes them alone.
	if r.URL.Query().Get("partial") == "assist" {
		if d.Knowledge != nil && v.Can(string(access.KnowledgeRead)) {
			suggested, err := d.suggestions(ctx, c, cust, page.Items)
			if err != nil {
				d.fail(w, r, v, err)
				return
			}
			data["Suggestions"] = suggested
		}
		d.render(w, r, "case", v, data)
		return
	}
	// The rest is the page around the live region; a live refresh skips it.
	if part := r.URL.Query().Get("partial"); part != "live" {
		if err := d.caseSurroundings(r, v, c, cust, cps, cpList, data); err != nil {
			d.fail(w, r, v, err)
			return
		}
	}
	if r.URL.Query().Get("partial") == "" {
		history, err := d.Cases.RecentHistory(ctx, caseID, 100)
		if err != nil {
			d.fail(w, r, v, err)
			return
		}
		nameIDs(history, data)
		data["History"] = history
	}
	d.render(w, r, "case", v, data)
}

// caseSurroundings loads the customer panel, the controls and the composer.
func (d *Desk) caseSurroundings(r *http.Request, v *viewer, c *cases.Case, cust *customer.Customer,
	cps map[id.ID]*contactpoint.ContactPoint, cpList []*contactpoint.ContactPoint, data map[string]any) error {
	ctx := r.Context()
	others, err := d.Cases.ForCustomer(ctx, cust.ID)
	if err != nil {
		return err
	}
	var openOthers []*cases.Case
	for _, o := range others {
		if o.ID != c.ID && cases.IsOpen(o.Status) && o.MergedInto == nil {
			openOthers = append(openOthers, o)
		}
	}
	sum, err := d.Interactions.Summarize(ctx, cust.ID)
	if err != nil {
		return err
	}
	items, _ := data["items"].([]*interaction.Interaction)
	sum.ContactPoints = interaction.UsedContactPoints(items)
	recent := recentCPs(sum, cps)
	users, err := d.Access.ListUsers(ctx)
	if err != nil {
		return err
	}
	users = slices.DeleteFunc(users, func(u *access.User) bool {
		return u.Disabled || !(u.Role.Can(access.WriteCases))
	})
	teams, err := d.Access.ListTeams(ctx)
	if err != nil {
		return err
	}
	reasons, err := d.Cases.Reasons(ctx, false)
	if err != nil {
		return err
	}
	used, err := d.Cases.ChannelsUsed(ctx, c.ID)
	if err != nil {
		return err
	}
	var channels []replyChannel
	for _, cpID := range used {
		if cp := cps[cpID]; cp != nil {
			channels = append(channels, replyChannel{CP: cp, Used: true, Allows: true})
		}
	}
	for _, cp := range cpList {
		if slices.Contains(used, cp.ID) {
			continue
		}
		ch := cases.ConsentChannel(string(cp.Kind))
		if ch == "" {
			continue
		}
		channels = append(channels, replyChannel{CP: cp, Allows: cust.Consent[ch].Status == "opted_in"})
	}
	if len(used) == 0 && c.ContactPointID != nil {
		if cp := cps[*c.ContactPointID]; cp != nil && cases.ConsentChannel(string(cp.Kind)) == "" {
			channels = append([]replyChannel{{CP: cp, Used: true, Allows: true}}, channels...)
		}
	}
	canned, err := d.Cases.CannedResponses(ctx)
	if err != nil {
		return err
	}
	vars := cases.CannedVars(c, cust.Name, v.User.Name)
	// Each canned response comes in the rich form (email) and the plain one
	// (SMS, WhatsApp); the composer inserts the one for the chosen channel.
	type cannedOpt struct{ Name, Body, Plain, Cite string }
	var cannedOpts []cannedOpt
	locale := customerLocale(cust)
	// Only the whole page has the composer; a controls refresh skips the
	// knowledge look-ups.
	full := r.URL.Query().Get("partial") == "" && d.Knowledge != nil && v.Can(string(access.KnowledgeRead))
	for _, cr := range canned {
		if cr.TeamID != nil && !slices.Contains(v.Teams, *cr.TeamID) {
			continue
		}
		if !full {
			body := cases.RenderCanned(cr.Body, vars)
			cannedOpts = append(cannedOpts, cannedOpt{cr.Name, body, body, ""})
			continue
		}
		rich, refs, err := cases.RenderCannedFor(ctx, d.Knowledge, cr.Body, vars, locale, "email")
		if err != nil {
			return err
		}
		plain, _, err := cases.RenderCannedFor(ctx, d.Knowledge, cr.Body, vars, locale, "sms")
		if err != nil {
			return err
		}
		cannedOpts = append(cannedOpts, cannedOpt{cr.Name, rich, plain, citeString(refs)})
	}
	if full {
		suggested, err := d.suggestions(ctx, c, cust, items)
		if err != nil {
			return err
		}
		data["Suggestions"] = suggested
	}
	data["OpenOthers"] = openOthers
	data["AllCases"] = others
	data["Summary"] = sum
	data["RecentCPs"] = recent
	data["Users"] = users
	data["Teams"] = teams
	data["Reasons"] = reasons
	data["Channels"] = channels
	data["Canned"] = cannedOpts
	data["ReplyKey"] = newKey()
	data["TagText"] = strings.Join(c.Tags, ", ")
	return nil
}

// usedCP is a contact point in the customer panel.
type usedCP struct {
	CP     *contactpoint.ContactPoint
	LastAt time.Time
	Count  int
}

func recentCPs(sum *interaction.Summary, cps map[id.ID]*contactpoint.ContactPoint) []usedCP {
	var out []usedCP
	for _, u := range sum.ContactPoints {
		if cp := cps[u.ID]; cp != nil {
			out = append(out, usedCP{cp, u.LastAt, u.Count})
		}
	}
	return out
}

func (d *Desk) reply(w http.ResponseWriter, r *http.Request, v *viewer) {
	caseID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	var cp id.ID
	if s := r.PostFormValue("contact_point_id"); s != "" {
		if cp, err = id.Parse(s); err != nil {
			d.fail(w, r, v, errInvalid("contact_point_id", "is not an id"))
			return
		}
	}
	cites, err := parseCites(r.PostForm["cite"])
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	reply := cases.Reply{
		ContactPointID: cp, Subject: r.PostFormValue("subject"), Body: r.PostFormValue("body"),
		Status: r.PostFormValue("status"), IdempotencyKey: r.PostFormValue("idempotency_key"),
	}
	if len(cites) > 0 && d.Knowledge != nil {
		// The inserted answers are cited in the transaction that records the
		// reply: a reply never exists without what it cited, nor the reverse.
		reply.Then = func(ctx context.Context, tx *store.Tx, rec interaction.Recorded) error {
			return d.Knowledge.CiteTx(ctx, tx, rec.ID, cites)
		}
	}
	_, err = d.Cases.Reply(r.Context(), v.actor(), caseID, reply)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	back(w, r, "/cases/"+caseID.String())
}

func (d *Desk) addNote(w http.ResponseWriter, r *http.Request, v *viewer) {
	caseID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if _, err := d.Cases.AddNote(r.Context(), v.actor(), caseID, r.PostFormValue("body")); err != nil {
		d.fail(w, r, v, err)
		return
	}
	back(w, r, "/cases/"+caseID.String())
}

// updateCase applies only the fields the agent changed: each field comes
// with the value it had when the page was drawn (orig_<field>), so a change
// someone else made meanwhile to another field is kept.
func (d *Desk) updateCase(w http.ResponseWriter, r *http.Request, v *viewer) {
	caseID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		d.fail(w, r, v, errInvalid("form", "could not be read"))
		return
	}
	changed := func(field string) (string, bool) {
		if _, sent := r.PostForm[field]; !sent {
			return "", false
		}
		val := strings.TrimSpace(r.PostForm.Get(field))
		return val, val != strings.TrimSpace(r.PostForm.Get("orig_"+field))
	}
	var p cases.Patch
	if val, ok := changed("subject"); ok {
		p.Subject = &val
	}
	if val, ok := changed("status"); ok {
		p.Status = &val
	}
	if val, ok := changed("priority"); ok {
		p.Priority = &val
	}
	if val, ok := changed("reason"); ok {
		p.Reason = &val
	}
	if val, ok := changed("resolution"); ok {
		p.Resolution = &val
	}
	for _, f := range []struct {
		name string
		dst  *cases.OptionalID
	}{{"owner_id", &p.OwnerID}, {"team_id", &p.TeamID}} {
		if val, ok := changed(f.name); ok {
			f.dst.Set = true
			if val == "me" {
				f.dst.ID = v.User.ID
			} else if val != "" {
				if f.dst.ID, err = id.Parse(val); err != nil {
					d.fail(w, r, v, errInvalid(f.name, "is not an id"))
					return
				}
			}
		}
	}
	if val, ok := changed("tags"); ok {
		tags := strings.Split(val, ",")
		p.Tags = &tags
	}
	if _, err := d.Cases.Update(r.Context(), v.actor(), caseID, p); err != nil {
		d.fail(w, r, v, err)
		return
	}
	back(w, r, "/cases/"+caseID.String())
}

func (d *Desk) createCase(w http.ResponseWriter, r *http.Request, v *viewer) {
	custID, err := id.Parse(r.PostFormValue("customer_id"))
	if err != nil {
		d.fail(w, r, v, errInvalid("customer_id", "is not an id"))
		return
	}
	in := cases.NewCase{CustomerID: custID, Subject: r.PostFormValue("subject"), Reason: r.PostFormValue("reason"),
		Priority: r.PostFormValue("priority"), Note: r.PostFormValue("note")}
	if r.PostFormValue("assign") == "me" {
		me := v.User.ID
		in.OwnerID = &me
	}
	c, err := d.Cases.Create(r.Context(), v.actor(), in)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/cases/"+c.ID.String(), http.StatusSeeOther)
}

func (d *Desk) mergeCase(w http.ResponseWriter, r *http.Request, v *viewer) {
	caseID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	into, err := id.Parse(strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("into")), "#"))
	if err != nil {
		d.fail(w, r, v, errInvalid("into", "name the case to merge into by its number"))
		return
	}
	target, err := d.Cases.Merge(r.Context(), v.actor(), caseID, into)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/cases/"+target.ID.String(), http.StatusSeeOther)
}

func (d *Desk) splitCase(w http.ResponseWriter, r *http.Request, v *viewer) {
	caseID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		d.fail(w, r, v, errInvalid("form", "could not be read"))
		return
	}
	var ids []id.ID
	for _, s := range r.PostForm["interaction_id"] {
		x, err := id.Parse(s)
		if err != nil {
			d.fail(w, r, v, errInvalid("interaction_id", "is not an id"))
			return
		}
		ids = append(ids, x)
	}
	c, err := d.Cases.Split(r.Context(), v.actor(), caseID, ids, r.PostForm.Get("subject"))
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/cases/"+c.ID.String(), http.StatusSeeOther)
}

func (d *Desk) moveInteraction(w http.ResponseWriter, r *http.Request, v *viewer) {
	caseID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	iid, err := id.Parse(r.PostFormValue("interaction_id"))
	if err != nil {
		d.fail(w, r, v, errInvalid("interaction_id", "is not an id"))
		return
	}
	if _, err := d.Cases.MoveInteractions(r.Context(), v.actor(), []id.ID{iid}, caseID); err != nil {
		d.fail(w, r, v, err)
		return
	}
	back(w, r, "/cases/"+caseID.String())
}

// nameIDs puts the names of owners and teams into the history in place of
// their ids, from the users and teams the page already loaded.
func nameIDs(history []cases.HistoryEntry, data map[string]any) {
	names := map[string]string{}
	if users, ok := data["Users"].([]*access.User); ok {
		for _, u := range users {
			names[u.ID.String()] = u.Name
		}
	}
	if teams, ok := data["Teams"].([]*access.Team); ok {
		for _, t := range teams {
			names[t.ID.String()] = t.Name
		}
	}
	for _, h := range history {
		if h.Kind != "assigned" && h.Kind != "team" {
			continue
		}
		for _, k := range []string{"from", "to"} {
			if v, ok := h.Detail[k].(string); ok && names[v] != "" {
				h.Detail[k] = names[v]
			}
		}
	}
}
