package desk

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
)

// inboxFilters are the inbox's query parameters, kept in links.
type inboxFilters struct {
	View, Status, Priority, Channel, Reason, SLA, Sort, Tag string
}

func (f inboxFilters) query(cursor string) string {
	q := url.Values{}
	for k, v := range map[string]string{"view": f.View, "status": f.Status, "priority": f.Priority, "channel": f.Channel,
		"reason": f.Reason, "sla": f.SLA, "sort": f.Sort, "tag": f.Tag, "cursor": cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

// WithView is the query string of the same filters on another view.
func (f inboxFilters) WithView(view string) string {
	f.View = view
	return f.query("")
}

func list(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

func (d *Desk) inbox(w http.ResponseWriter, r *http.Request, v *viewer) {
	q := r.URL.Query()
	f := inboxFilters{View: q.Get("view"), Status: q.Get("status"), Priority: q.Get("priority"), Channel: q.Get("channel"),
		Reason: q.Get("reason"), SLA: q.Get("sla"), Sort: q.Get("sort"), Tag: q.Get("tag")}
	counts, err := d.Cases.Counts(r.Context(), v.User.ID, v.Teams)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if f.View == "" {
		// An agent with work assigned starts on it; everyone else, and an
		// agent with nothing assigned, on all open cases.
		f.View = cases.ViewAll
		if counts[cases.ViewMine] > 0 && (v.User.Role == access.Agent || v.User.Role == access.Staff) {
			f.View = cases.ViewMine
		}
	}
	iq := cases.InboxQuery{View: f.View, UserID: v.User.ID, TeamIDs: v.Teams, Priorities: list(f.Priority),
		Channels: list(f.Channel), Reasons: list(f.Reason), SLA: list(f.SLA), Sort: f.Sort, Tag: f.Tag, Cursor: q.Get("cursor")}
	switch f.Status {
	case "", "open":
	default:
		iq.Statuses = list(f.Status)
	}
	page, err := d.Cases.Inbox(r.Context(), iq)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	reasons, err := d.Cases.Reasons(r.Context(), false)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	next := ""
	if page.NextCursor != "" {
		next = "/?" + f.query(page.NextCursor)
	}
	d.render(w, r, "inbox", v, map[string]any{
		"Rows": inboxRows(page.Items, time.Now()), "Counts": counts, "Filters": f, "Views": cases.Views, "Statuses": cases.Statuses,
		"Priorities": cases.Priorities, "SLAStates": cases.SLAStates, "Channels": contactpoint.Kinds, "Reasons": reasons,
		"Sorts": cases.Sorts, "Next": next, "Topics": "inbox", "Paged": q.Get("cursor") != "",
	})
}

// inboxRow is one line of the inbox, its text put together in Go (as for
// timeline lines: few template actions per row).
type inboxRow struct {
	Href, Subject, Meta, Customer, Channel, Status, StatusLabel, Priority, PriorityLabel, Reason string
	Owner, Team, SLA, SLALabel, Due, UpdatedISO, UpdatedAgo                                      string
	Tags                                                                                         []string
}

func inboxRows(items []*cases.InboxItem, now time.Time) []inboxRow {
	rows := make([]inboxRow, len(items))
	for i, it := range items {
		noun := " contacts"
		if it.InteractionCount == 1 {
			noun = " contact"
		}
		r := inboxRow{Href: "/cases/" + it.ID.String(), Subject: it.Subject,
			Meta:     "#" + it.ID.String() + " · " + strconv.Itoa(it.InteractionCount) + noun,
			Customer: it.CustomerName, Channel: channelText(it.Channel), Status: it.Status, StatusLabel: labelText(it.Status),
			Priority: it.Priority, PriorityLabel: labelText(it.Priority), Reason: labelText(it.Reason),
			Owner: it.OwnerName, Team: it.TeamName, SLA: it.SLA.State, SLALabel: labelText(it.SLA.State),
			UpdatedISO: it.UpdatedAt.UTC().Format(time.RFC3339), UpdatedAgo: agoText(it.UpdatedAt, true, now), Tags: it.Tags}
		if due := it.SLA.NextDue(); due != nil {
			r.Due = dueText(*due, true, now)
		}
		rows[i] = r
	}
	return rows
}
