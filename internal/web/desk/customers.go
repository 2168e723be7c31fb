package desk

import (
	"net/http"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

func (d *Desk) customerSearch(w http.ResponseWriter, r *http.Request, v *viewer) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	var found []*customer.Customer
	if q != "" {
		var err error
		found, err = d.Customers.Search(r.Context(), q, 50)
		if err != nil {
			d.fail(w, r, v, err)
			return
		}
		if len(found) == 1 && r.URL.Query().Get("go") != "" {
			http.Redirect(w, r, "/customers/"+found[0].ID.String(), http.StatusSeeOther)
			return
		}
	}
	d.render(w, r, "customers", v, map[string]any{"Q": q, "Found": found})
}

// customerAt reads the customer named in the path. A customer merged into
// another is redirected to the one it is part of (under base), and false
// says the response has been written.
func (d *Desk) customerAt(w http.ResponseWriter, r *http.Request, v *viewer, base string) (*customer.Customer, bool) {
	custID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return nil, false
	}
	cust, err := d.Customers.Get(r.Context(), custID)
	if err != nil {
		d.fail(w, r, v, err)
		return nil, false
	}
	if cust.ID != custID && base != "" && r.Method == http.MethodGet {
		http.Redirect(w, r, base+cust.ID.String(), http.StatusSeeOther)
		return nil, false
	}
	return cust, true
}

func (d *Desk) customerPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	cust, ok := d.customerAt(w, r, v, "/customers/")
	if !ok {
		return
	}
	ctx := r.Context()
	page, err := d.Interactions.Timeline(ctx, cust.ID, interaction.TimelineQuery{Limit: 100, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	all, err := d.Cases.ForCustomer(ctx, cust.ID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	sum, err := d.Interactions.Summarize(ctx, cust.ID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	sum.ContactPoints = interaction.UsedContactPoints(page.Items)
	cps, _, err := d.contactPoints(r)
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
		entries = append(entries, interactionEntry(it, cp, true))
	}
	reasons, err := d.Cases.Reasons(ctx, false)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	data := map[string]any{"Customer": cust, "Entries": entries, "Cases": all, "Summary": sum, "Reasons": reasons,
		"RecentCPs": recentCPs(sum, cps), "OpenOthers": openOnly(all),
		"Topics": "customer:" + cust.ID.String()}
	if page.NextCursor != "" {
		data["Older"] = "/customers/" + cust.ID.String() + "?cursor=" + page.NextCursor
	}
	d.render(w, r, "customer", v, data)
}

func openOnly(all []*cases.Case) []*cases.Case {
	var out []*cases.Case
	for _, c := range all {
		if cases.IsOpen(c.Status) {
			out = append(out, c)
		}
	}
	return out
}
