package desk

import (
	"net/http"
	"slices"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
)

// registerWork adds the agent's routing controls and the supervisor's
// wallboard.
func (d *Desk) registerWork(mux *http.ServeMux) {
	mux.Handle("POST /presence", d.page(access.RoutingWork, d.setPresence))
	mux.Handle("GET /work/{id}", d.page(access.RoutingWork, d.offerPreview))
	mux.Handle("POST /work/{id}/accept", d.page(access.RoutingWork, d.acceptOffer))
	mux.Handle("POST /work/{id}/decline", d.page(access.RoutingWork, d.declineOffer))
	mux.Handle("POST /work/{id}/complete", d.page(access.RoutingWork, d.completeWork))
	mux.Handle("GET /wallboard", d.page(access.RoutingManage, d.wallboard))
	mux.Handle("POST /wallboard/agents/{id}/presence", d.page(access.RoutingManage, d.setAgentPresence))
}

// presences an agent may choose; busy is the router's to set.
var presences = []engine.Presence{engine.Available, engine.Away, engine.Offline}

// routingAgent is the viewer's routing row, nil when they take no routed work.
func (d *Desk) routingAgent(r *http.Request, v *viewer) *routing.Agent {
	if d.Routing == nil || !v.User.Role.Can(access.RoutingWork) {
		return nil
	}
	a, err := d.Routing.GetAgent(r.Context(), v.User.ID)
	if err != nil {
		return nil
	}
	return a
}

func (d *Desk) setPresence(w http.ResponseWriter, r *http.Request, v *viewer) {
	p := engine.Presence(r.PostFormValue("presence"))
	if !slices.Contains(presences, p) {
		d.fail(w, r, v, errs.Invalidf("presence", "must be available, away or offline"))
		return
	}
	if _, err := d.Routing.SetPresence(r.Context(), v.User.ID, p, r.PostFormValue("reason")); err != nil {
		d.fail(w, r, v, err)
		return
	}
	back(w, r, "/")
}

// workItem reads the work item of the path and checks it is the viewer's.
func (d *Desk) workItem(w http.ResponseWriter, r *http.Request, v *viewer) (*routing.WorkItem, bool) {
	iid, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return nil, false
	}
	it, err := d.Routing.GetItem(r.Context(), iid)
	if err != nil {
		d.fail(w, r, v, err)
		return nil, false
	}
	if it.AgentID != v.User.ID && !v.User.Role.Can(access.RoutingManage) {
		d.fail(w, r, v, errs.ErrForbidden)
		return nil, false
	}
	return it, true
}

// offerPreview is the fragment an offer shows: who, why, and their latest
// contacts, so the agent knows what they accept.
func (d *Desk) offerPreview(w http.ResponseWriter, r *http.Request, v *viewer) {
	it, ok := d.workItem(w, r, v)
	if !ok {
		return
	}
	data := map[string]any{"Item": it}
	ctx := r.Context()
	if it.CustomerID != 0 {
		if cust, err := d.Customers.Get(ctx, it.CustomerID); err == nil {
			data["Customer"] = cust
			if page, err := d.Interactions.Timeline(ctx, cust.ID, interaction.TimelineQuery{Limit: 3}); err == nil {
				data["Recent"] = page.Items
			}
		}
	}
	if it.CaseID != 0 {
		if c, err := d.Cases.Get(ctx, it.CaseID); err == nil {
			data["Case"] = c
		}
	}
	d.renderBlock(w, r, "work", "offer", v, data)
}

func (d *Desk) acceptOffer(w http.ResponseWriter, r *http.Request, v *viewer) {
	iid, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	it, err := d.Routing.Accept(r.Context(), iid, v.User.ID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	// Land on the case the work is about.
	if it.CaseID != 0 {
		http.Redirect(w, r, "/cases/"+it.CaseID.String(), http.StatusSeeOther)
		return
	}
	if it.CustomerID != 0 {
		http.Redirect(w, r, "/customers/"+it.CustomerID.String(), http.StatusSeeOther)
		return
	}
	back(w, r, "/")
}

func (d *Desk) declineOffer(w http.ResponseWriter, r *http.Request, v *viewer) {
	iid, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if _, err := d.Routing.Decline(r.Context(), iid, v.User.ID); err != nil {
		d.fail(w, r, v, err)
		return
	}
	back(w, r, "/")
}

func (d *Desk) completeWork(w http.ResponseWriter, r *http.Request, v *viewer) {
	it, ok := d.workItem(w, r, v)
	if !ok {
		return
	}
	if _, err := d.Routing.CompleteWith(r.Context(), it.ID, it.AgentID, r.PostFormValue("disposition")); err != nil {
		d.fail(w, r, v, err)
		return
	}
	back(w, r, "/")
}

// boardAgent is one agent on the wallboard.
type boardAgent struct {
	*routing.AgentMetrics
	Name string
	Work []*routing.WorkItem
}

// Wallboard windows: since local midnight (the default) or the last 30 minutes.
const (
	windowToday = "today"
	window30m   = "30m"
)

// wallboardFrom is the start of the chosen window. Midnight is the first
// business-hours calendar's (as the staffing page), else the server's.
func (d *Desk) wallboardFrom(r *http.Request, window string, now time.Time) time.Time {
	if window == window30m {
		return now.Add(-30 * time.Minute)
	}
	loc := time.Local
	if cals, err := d.Cases.Calendars(r.Context()); err == nil && len(cals) > 0 {
		if l, err := time.LoadLocation(cals[0].Timezone); err == nil {
			loc = l
		}
	}
	t := now.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// wallboard shows queues and agents live, for supervisors. Every figure is
// read from the store, so any node serves it, not only the routing one.
func (d *Desk) wallboard(w http.ResponseWriter, r *http.Request, v *viewer) {
	ctx := r.Context()
	window := r.URL.Query().Get("window")
	if window != window30m {
		window = windowToday
	}
	from := d.wallboardFrom(r, window, d.Routing.Now())
	m, err := d.Routing.Metrics(ctx, from, time.Time{})
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	names, err := d.userNames(ctx)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	open, err := d.Routing.ListItems(ctx, routing.ItemQuery{Limit: 1000})
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	var board []boardAgent
	for _, a := range m.Agents {
		a.InState = a.InState.Round(time.Second)
		b := boardAgent{AgentMetrics: a, Name: names[a.UserID]}
		for _, it := range open {
			if it.AgentID == a.UserID {
				b.Work = append(b.Work, it)
			}
		}
		board = append(board, b)
	}
	d.render(w, r, "wallboard", v, map[string]any{"Queues": m.Queues, "Agents": board, "Topics": "routing",
		"Presences": presences, "Waiting": countState(open, routing.StateWaiting), "Window": window, "From": from})
}

func countState(items []*routing.WorkItem, state string) int {
	n := 0
	for _, it := range items {
		if it.State == state {
			n++
		}
	}
	return n
}

func (d *Desk) setAgentPresence(w http.ResponseWriter, r *http.Request, v *viewer) {
	agent, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	p := engine.Presence(r.PostFormValue("presence"))
	if !slices.Contains(presences, p) {
		d.fail(w, r, v, errs.Invalidf("presence", "must be available, away or offline"))
		return
	}
	if _, err := d.Routing.SetPresence(r.Context(), agent, p, "set by "+v.User.Name); err != nil {
		d.fail(w, r, v, err)
		return
	}
	back(w, r, "/wallboard")
}
