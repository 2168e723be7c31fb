package app_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
	"github.com/touchpoint-hub/touchpoint/internal/web/api"
)

// asUser stands in for a desk session: X-Test-User "<user id>:<role>" makes
// the request come from that user (API tokens belong to no user).
func asUser(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("X-Test-User"); v != "" {
			uid, role, _ := strings.Cut(v, ":")
			n, _ := id.Parse(uid)
			p := &access.Principal{Kind: "user", ID: n, Name: "user " + uid, Role: access.Role(role), UserID: n}
			r = r.WithContext(api.WithPrincipal(r.Context(), p))
		}
		h.ServeHTTP(w, r)
	})
}

func TestRoutingAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := app.NewServices(db, "US")
		defer s.Routing.Close()
		srv := httptest.NewServer(asUser(s.Handler(slog.New(slog.DiscardHandler), app.Limits{})))
		defer srv.Close()
		tokens := map[access.Role]string{}
		for _, r := range access.Roles {
			plain, _, err := s.Access.CreateToken(ctx, "test-"+string(r), r, 0, "test")
			if err != nil {
				t.Fatal(err)
			}
			tokens[r] = plain
		}
		ann, err := s.Access.CreateUser(ctx, "ann@example.com", "Ann", access.Agent, "correct horse battery", "test")
		if err != nil {
			t.Fatal(err)
		}
		bo, err := s.Access.CreateUser(ctx, "bo@example.com", "Bo", access.Agent, "correct horse battery", "test")
		if err != nil {
			t.Fatal(err)
		}
		asAnn := map[string]string{"X-Test-User": ann.ID.String() + ":agent"}
		asBo := map[string]string{"X-Test-User": bo.ID.String() + ":agent"}
		annID, boID := ann.ID.String(), bo.ID.String()
		step := func(sc scenario, header map[string]string) caseStep { return caseStep{scenario: sc, header: header} }
		steps := []caseStep{
			step(scenario{name: "agent may not create queues", role: access.Agent, method: "POST", path: "/api/v1/routing/queues",
				body: `{"name":"Chat"}`, status: 403, contains: []string{"routing:manage"}}, nil),
			step(scenario{name: "queue without a name", role: access.Supervisor, method: "POST", path: "/api/v1/routing/queues",
				body: `{"channels":["chat"]}`, status: 422, contains: []string{`"field":"name"`}}, nil),
			step(scenario{name: "queue with a bad strategy", role: access.Supervisor, method: "POST", path: "/api/v1/routing/queues",
				body: `{"name":"Chat","strategy":"random"}`, status: 422, contains: []string{`"field":"strategy"`}}, nil),
			step(scenario{name: "create a queue", role: access.Supervisor, method: "POST", path: "/api/v1/routing/queues",
				body: `{"name":"Chat","channels":["chat"],"target":{"percent":80,"within":20000000000}}`, status: 201,
				contains: []string{`"name":"Chat"`, `"strategy":"longest_idle"`}, save: map[string]string{"q": "id"}}, nil),
			step(scenario{name: "change the queue", role: access.Supervisor, method: "PUT", path: "/api/v1/routing/queues/{{q}}",
				body: `{"name":"Chat","channels":["chat"],"priority":5}`, status: 200, contains: []string{`"priority":5`}}, nil),
			step(scenario{name: "analyst lists queues", role: access.Analyst, method: "GET", path: "/api/v1/routing/queues", status: 200,
				contains: []string{`"id":"{{q}}"`}}, nil),
			step(scenario{name: "profile with negative capacity", role: access.Supervisor, method: "PUT", path: "/api/v1/routing/agents/" + annID,
				body: `{"capacity":{"chat":-1}}`, status: 422, contains: []string{`"field":"capacity.chat"`}}, nil),
			step(scenario{name: "profile of an unknown user", role: access.Supervisor, method: "PUT", path: "/api/v1/routing/agents/123",
				body: `{"capacity":{"chat":1}}`, status: 404}, nil),
			step(scenario{name: "ann's profile", role: access.Supervisor, method: "PUT", path: "/api/v1/routing/agents/" + annID,
				body: `{"skills":{"spanish":2},"capacity":{"chat":2},"queues":["{{q}}"]}`, status: 200, contains: []string{`"presence":"offline"`}}, nil),
			step(scenario{name: "bo's profile", role: access.Supervisor, method: "PUT", path: "/api/v1/routing/agents/" + boID,
				body: `{"capacity":{"chat":1}}`, status: 200}, nil),
			step(scenario{name: "agent may not set another agent's presence", method: "PUT", path: "/api/v1/routing/agents/" + annID + "/presence",
				body: `{"presence":"available"}`, status: 403, contains: []string{"routing:manage"}}, asBo),
			step(scenario{name: "agent token belongs to no user", role: access.Agent, method: "PUT", path: "/api/v1/routing/agents/" + annID + "/presence",
				body: `{"presence":"available"}`, status: 403}, nil),
			step(scenario{name: "busy cannot be set", method: "PUT", path: "/api/v1/routing/agents/" + annID + "/presence",
				body: `{"presence":"busy"}`, status: 422, contains: []string{`"field":"presence"`}}, asAnn),
			step(scenario{name: "ann goes available", method: "PUT", path: "/api/v1/routing/agents/" + annID + "/presence",
				body: `{"presence":"available"}`, status: 200, contains: []string{`"presence":"available"`}}, asAnn),
			step(scenario{name: "enqueue without a channel", role: access.Agent, method: "POST", path: "/api/v1/routing/work-items",
				body: `{"queue_id":"{{q}}"}`, status: 422, contains: []string{`"field":"channel"`}}, nil),
			step(scenario{name: "enqueue into an unknown queue", role: access.Agent, method: "POST", path: "/api/v1/routing/work-items",
				body: `{"queue_id":"42","channel":"chat"}`, status: 422, contains: []string{`"field":"queue_id"`}}, nil),
			step(scenario{name: "enqueue with a bad priority", role: access.Agent, method: "POST", path: "/api/v1/routing/work-items",
				body: `{"queue_id":"{{q}}","channel":"chat","priority":5000}`, status: 422, contains: []string{`"field":"priority"`}}, nil),
			step(scenario{name: "enqueue a chat", role: access.Supervisor, method: "POST", path: "/api/v1/routing/work-items",
				body: `{"queue_id":"{{q}}","channel":"chat","skills":{"spanish":1},"customer_id":"77"}`, status: 201,
				contains: []string{`"state":"offered"`, `"agent_id":"` + annID + `"`}, save: map[string]string{"item": "id"}}, nil),
			step(scenario{name: "offered items", role: access.Analyst, method: "GET", path: "/api/v1/routing/work-items?state=offered", status: 200,
				contains: []string{`"id":"{{item}}"`}}, nil),
			step(scenario{name: "bad state filter", role: access.Analyst, method: "GET", path: "/api/v1/routing/work-items?state=lost", status: 422,
				contains: []string{`"field":"state"`}}, nil),
			step(scenario{name: "analyst cannot accept", role: access.Analyst, method: "POST", path: "/api/v1/routing/work-items/{{item}}/accept",
				status: 403, contains: []string{"routing:work"}}, nil),
			step(scenario{name: "bo cannot accept ann's offer for her", method: "POST", path: "/api/v1/routing/work-items/{{item}}/accept",
				body: `{"agent_id":"` + annID + `"}`, status: 403}, asBo),
			step(scenario{name: "bo has no offer", method: "POST", path: "/api/v1/routing/work-items/{{item}}/accept", status: 409}, asBo),
			step(scenario{name: "ann accepts", method: "POST", path: "/api/v1/routing/work-items/{{item}}/accept", status: 200,
				contains: []string{`"state":"assigned"`}}, asAnn),
			step(scenario{name: "cannot abandon work being served", role: access.Agent, method: "POST", path: "/api/v1/routing/work-items/{{item}}/abandon",
				status: 409}, nil),
			step(scenario{name: "queue stats", role: access.Analyst, method: "GET", path: "/api/v1/routing/queues/{{q}}/stats", status: 200,
				contains: []string{`"assigned":1`, `"answered":1`}}, nil),
			step(scenario{name: "agent may not reassign", role: access.Agent, method: "POST", path: "/api/v1/routing/work-items/{{item}}/reassign",
				body: `{"agent_id":"` + boID + `"}`, status: 403}, nil),
			step(scenario{name: "reassign to an offline agent", role: access.Supervisor, method: "POST", path: "/api/v1/routing/work-items/{{item}}/reassign",
				body: `{"agent_id":"` + boID + `"}`, status: 409}, nil),
			step(scenario{name: "supervisor sets bo available", role: access.Supervisor, method: "PUT", path: "/api/v1/routing/agents/" + boID + "/presence",
				body: `{"presence":"available"}`, status: 200}, nil),
			step(scenario{name: "reassign to bo", role: access.Supervisor, method: "POST", path: "/api/v1/routing/work-items/{{item}}/reassign",
				body: `{"agent_id":"` + boID + `"}`, status: 200, contains: []string{`"agent_id":"` + boID + `"`}}, nil),
			step(scenario{name: "bo completes", method: "POST", path: "/api/v1/routing/work-items/{{item}}/complete", status: 200,
				contains: []string{`"state":"completed"`, `"end_reason":"completed"`}}, asBo),
			step(scenario{name: "second chat waits for nobody fitting", role: access.Agent, method: "POST", path: "/api/v1/routing/work-items",
				body: `{"queue_id":"{{q}}","channel":"chat","skills":{"french":1}}`, status: 201, contains: []string{`"state":"waiting"`},
				save: map[string]string{"item2": "id"}}, nil),
			step(scenario{name: "customer hangs up", role: access.Agent, method: "POST", path: "/api/v1/routing/work-items/{{item2}}/abandon", status: 200,
				contains: []string{`"state":"abandoned"`, `"end_reason":"customer"`}}, nil),
			step(scenario{name: "unknown item", method: "POST", path: "/api/v1/routing/work-items/999/accept", status: 404}, asAnn),
			step(scenario{name: "metrics of today", role: access.Analyst, method: "GET", path: "/api/v1/routing/metrics", status: 200,
				contains: []string{`"queue_id":"{{q}}"`, `"offered":2`, `"answered":1`, `"abandoned":1`, `"completed":1`, `"abandon_rate":0.5`,
					`"user_id":"` + boID + `"`, `"handled":1`}}, nil),
			step(scenario{name: "metrics of a window before anything", role: access.Agent, method: "GET",
				path: "/api/v1/routing/metrics?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z", status: 200,
				contains: []string{`"offered":0`, `"service_level":null`}}, nil),
			step(scenario{name: "metrics with a bad from", role: access.Analyst, method: "GET", path: "/api/v1/routing/metrics?from=yesterday", status: 422,
				contains: []string{`"field":"from"`}}, nil),
			step(scenario{name: "metrics ending before they start", role: access.Analyst, method: "GET",
				path: "/api/v1/routing/metrics?from=2020-01-02T00:00:00Z&to=2020-01-01T00:00:00Z", status: 422, contains: []string{`"field":"to"`}}, nil),
			step(scenario{name: "queue with an unknown abandon treatment", role: access.Supervisor, method: "PUT", path: "/api/v1/routing/queues/{{q}}",
				body: `{"name":"Chat","channels":["chat"],"sl_abandons":"ignored"}`, status: 422, contains: []string{`"field":"sl_abandons"`}}, nil),
			step(scenario{name: "stats of an unknown queue", role: access.Analyst, method: "GET", path: "/api/v1/routing/queues/999/stats", status: 404}, nil),
		}
		runCaseSteps(t, srv.URL, tokens, steps)
	})
}
