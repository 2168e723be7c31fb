package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/web/problem"
)

// routingAgent decides which agent a routing call acts for: the caller's own
// user unless agentID names another, which needs routing:manage.
func routingAgent(r *http.Request, agentID id.ID) (id.ID, error) {
	p := PrincipalFrom(r.Context())
	if agentID == 0 {
		if p.UserID == 0 {
			return 0, errs.Invalidf("agent_id", "required: %s %q belongs to no user", p.Kind, p.Name)
		}
		return p.UserID, nil
	}
	if agentID != p.UserID && !p.Role.Can(access.RoutingManage) {
		return 0, &problem.Status{Code: http.StatusForbidden, Detail: "acting for another agent needs permission " + string(access.RoutingManage)}
	}
	return agentID, nil
}

func pathUserID(r *http.Request) (id.ID, error) {
	v, err := id.Parse(r.PathValue("user_id"))
	if err != nil {
		return 0, &problem.Status{Code: http.StatusNotFound, Detail: "no such user id: " + r.PathValue("user_id")}
	}
	return v, nil
}

// decodeOptional decodes a body when there is one.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decode(w, r, maxBody, v)
}

func (a *API) listRoutingQueues(w http.ResponseWriter, r *http.Request) {
	qs, err := a.Routing.ListQueues(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*routing.Queue]{Items: qs})
}

func (a *API) createRoutingQueue(w http.ResponseWriter, r *http.Request) {
	var in routing.QueueInput
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	q, err := a.Routing.UpsertQueue(r.Context(), 0, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/routing/queues/"+q.ID.String())
	send(w, http.StatusCreated, q)
}

func (a *API) replaceRoutingQueue(w http.ResponseWriter, r *http.Request) {
	qid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in routing.QueueInput
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	q, err := a.Routing.UpsertQueue(r.Context(), qid, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, q)
}

func (a *API) routingQueueStats(w http.ResponseWriter, r *http.Request) {
	qid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	st, err := a.Routing.Stats(r.Context(), qid)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, st)
}

// routingMetrics answers the wallboard's figures over from..to (RFC 3339;
// by default since midnight UTC until now), read from the store.
func (a *API) routingMetrics(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := a.Routing.Now().UTC()
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	var to time.Time
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(f.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				a.fail(w, r, errs.Invalidf(f.name, "must be an RFC 3339 time like 2026-05-01T00:00:00Z"))
				return
			}
			*f.dst = t
		}
	}
	if !to.IsZero() && !to.After(from) {
		a.fail(w, r, errs.Invalidf("to", "must be after from"))
		return
	}
	m, err := a.Routing.Metrics(r.Context(), from, to)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, m)
}

func (a *API) setRoutingAgent(w http.ResponseWriter, r *http.Request) {
	uid, err := pathUserID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in routing.AgentProfile
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	ag, err := a.Routing.SetAgentProfile(r.Context(), uid, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, ag)
}

func (a *API) setRoutingPresence(w http.ResponseWriter, r *http.Request) {
	uid, err := pathUserID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if _, err := routingAgent(r, uid); err != nil {
		a.fail(w, r, err)
		return
	}
	var in struct {
		Presence engine.Presence `json:"presence"`
		Reason   string          `json:"reason"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	ag, err := a.Routing.SetPresence(r.Context(), uid, in.Presence, in.Reason)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, ag)
}

func (a *API) enqueueWorkItem(w http.ResponseWriter, r *http.Request) {
	var in routing.NewItem
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	it, err := a.Routing.Enqueue(r.Context(), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/routing/work-items/"+it.ID.String())
	send(w, http.StatusCreated, it)
}

func (a *API) listWorkItems(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	iq := routing.ItemQuery{State: q.Get("state")}
	var err error
	if iq.Limit, err = limitParam(r); err != nil {
		a.fail(w, r, err)
		return
	}
	for name, dst := range map[string]*id.ID{"queue_id": &iq.QueueID, "agent_id": &iq.AgentID} {
		if v := q.Get(name); v != "" {
			if *dst, err = id.Parse(v); err != nil {
				a.fail(w, r, errs.Invalidf(name, "must be an id"))
				return
			}
		}
	}
	items, err := a.Routing.ListItems(r.Context(), iq)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*routing.WorkItem]{Items: items})
}

// workItemAction answers accept, decline and complete: the caller's own
// offer or work unless agent_id names another agent (routing:manage).
func (a *API) workItemAction(action func(s *routing.Service, ctx context.Context, item, agent id.ID) (*routing.WorkItem, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		iid, err := pathID(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		var in struct {
			AgentID     id.ID  `json:"agent_id"`
			Disposition string `json:"disposition"` // complete only
		}
		if err := decodeOptional(w, r, &in); err != nil {
			a.fail(w, r, err)
			return
		}
		agent, err := routingAgent(r, in.AgentID)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		var it *routing.WorkItem
		if in.Disposition != "" {
			if !strings.HasSuffix(r.URL.Path, "/complete") {
				a.fail(w, r, errs.Invalidf("disposition", "is given when completing work"))
				return
			}
			it, err = a.Routing.CompleteWith(r.Context(), iid, agent, in.Disposition)
		} else {
			it, err = action(a.Routing, r.Context(), iid, agent)
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		send(w, http.StatusOK, it)
	}
}

func (a *API) abandonWorkItem(w http.ResponseWriter, r *http.Request) {
	iid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	it, err := a.Routing.Abandon(r.Context(), iid)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, it)
}

func (a *API) reassignWorkItem(w http.ResponseWriter, r *http.Request) {
	iid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in struct {
		AgentID id.ID `json:"agent_id"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	if in.AgentID == 0 {
		a.fail(w, r, errs.Invalidf("agent_id", "required"))
		return
	}
	it, err := a.Routing.Reassign(r.Context(), iid, in.AgentID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, it)
}
