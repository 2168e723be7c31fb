package desk

import (
	"errors"
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
	*routing.Agent
	Name    string
	InState time.Duration
	Work    []*routing.WorkItem
}

// boardQueue is one queue on the wallboard.
type boardQueue struct {
	*routing.Queue
	Stats engine.QueueStats
}

// wallboard shows queues and agents live, for supervisors.
func (d *Desk) wallboard(w http.ResponseWriter, r *http.Request, v *viewer) {
	ctx := r.Context()
	queues, err := d.Routing.ListQueues(ctx)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	var qs []boardQueue
	for _, q := range queues {
		st, err := d.Routing.Stats(ctx, q.ID)
		if err != nil && !errors.Is(err, errs.ErrConflict) {
			d.fail(w, r, v, err)
			return
		}
		qs = append(qs, boardQueue{Queue: q, Stats: st})
	}
	agents, err := d.Routing.ListAgents(ctx)
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
	now := time.Now()
	var board []boardAgent
	for _, a := range agents {
		b := boardAgent{Agent: a, Name: names[a.UserID], InState: now.Sub(a.PresenceSince).Round(time.Second)}
		for _, it := range open {
			if it.AgentID == a.UserID {
				b.Work = append(b.Work, it)
			}
		}
		board = append(board, b)
	}
	d.render(w, r, "wallboard", v, map[string]any{"Queues": qs, "Agents": board, "Topics": "routing",
		"Presences": presences, "Waiting": countState(open, routing.StateWaiting)})
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
