package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// runSteps sends each step with its role's token and checks status and
// body, saving fields into vars for later steps.
func runSteps(t *testing.T, base string, tokens map[access.Role]string, vars map[string]string, steps ...scenario) {
	t.Helper()
	for _, st := range steps {
		path, body := expand(st.path, vars), expand(st.body, vars)
		req, _ := http.NewRequest(st.method, base+path, strings.NewReader(body))
		if st.role != "" {
			req.Header.Set("Authorization", "Bearer "+tokens[st.role])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != st.status {
			t.Fatalf("%s: %s %s → %d, want %d\n%s", st.name, st.method, path, resp.StatusCode, st.status, b)
		}
		for _, c := range st.contains {
			if c = expand(c, vars); !strings.Contains(string(b), c) {
				t.Errorf("%s: response lacks %q\n%s", st.name, c, b)
			}
		}
		for _, c := range st.absent {
			if c = expand(c, vars); strings.Contains(string(b), c) {
				t.Errorf("%s: response holds %q\n%s", st.name, c, b)
			}
		}
		for name, field := range st.save {
			vars[name] = jsonScalar(t, b, field)
		}
	}
}

// The knowledge API: an article and a fact go from draft through review to
// published by permission, a published version cannot change, the fact's
// value shows in the rendered article, and search finds only what the
// audience may see.
func TestKnowledgeAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := app.NewServices(db, "US")
		defer s.Routing.Close()
		srv := httptest.NewServer(s.Handler(slog.New(slog.DiscardHandler), app.Limits{}))
		defer srv.Close()
		tokens := map[access.Role]string{}
		for _, r := range access.Roles {
			plain, _, err := s.Access.CreateToken(ctx, "test-"+string(r), r, 0, "test")
			if err != nil {
				t.Fatal(err)
			}
			tokens[r] = plain
		}
		vars := map[string]string{}
		const k = "/api/v1/knowledge"
		runSteps(t, srv.URL, tokens, vars,
			scenario{name: "fact", role: access.Agent, method: "POST", path: k + "/facts", body: `{"name":"shipping.fee","value":"4.95 EUR"}`,
				status: 201, save: map[string]string{"fact": "id"}},
			scenario{name: "fact draft, bad value", role: access.Agent, method: "PATCH", path: k + "/facts/{{fact}}/versions/1", body: `{"value":""}`,
				status: 422, contains: []string{`"field":"value"`}},
			scenario{name: "submit fact", role: access.Agent, method: "POST", path: k + "/facts/{{fact}}/versions/1/submit", status: 200, contains: []string{`"status":"in_review"`}},
			scenario{name: "agent may not publish", role: access.Agent, method: "POST", path: k + "/facts/{{fact}}/versions/1/publish", status: 403},
			scenario{name: "supervisor publishes fact", role: access.Supervisor, method: "POST", path: k + "/facts/{{fact}}/versions/1/publish", status: 200, contains: []string{`"status":"published"`}},
			scenario{name: "article", role: access.Agent, method: "POST", path: k + "/articles",
				body:   `{"slug":"shipping","title":"Shipping costs","body":"Shipping costs {{fact \"shipping.fee\"}} per order.","category":"delivery","audience":"public"}`,
				status: 201, save: map[string]string{"art": "id"}},
			scenario{name: "edit the draft", role: access.Agent, method: "PATCH", path: k + "/articles/{{art}}/versions/1", body: `{"title":"Shipping charges"}`,
				status: 200, contains: []string{`"title":"Shipping charges"`, `"status":"draft"`}},
			scenario{name: "get the draft", role: access.Analyst, method: "GET", path: k + "/articles/{{art}}/versions/1", status: 200, contains: []string{`"title":"Shipping charges"`}},
			scenario{name: "a draft is not found in search", role: access.Agent, method: "GET", path: k + "/search?q=charges&audience=public", status: 200, absent: []string{"{{art}}"}},
			scenario{name: "submit article", role: access.Agent, method: "POST", path: k + "/articles/{{art}}/versions/1/submit", status: 200, contains: []string{`"status":"in_review"`}},
			scenario{name: "publish article", role: access.Admin, method: "POST", path: k + "/articles/{{art}}/versions/1/publish", status: 200, contains: []string{`"status":"published"`}},
			scenario{name: "published is immutable", role: access.Agent, method: "PATCH", path: k + "/articles/{{art}}/versions/1", body: `{"title":"Free shipping"}`, status: 409},
			scenario{name: "rendered with the fact", role: access.Agent, method: "GET", path: k + "/articles/{{art}}/rendered?audience=public", status: 200, contains: []string{"4.95 EUR"}},
			scenario{name: "public search finds it", role: access.Agent, method: "GET", path: k + "/search?q=shipping&audience=public", status: 200, contains: []string{"{{art}}"}},
			scenario{name: "unknown version", role: access.Agent, method: "GET", path: k + "/articles/{{art}}/versions/9", status: 404},
			scenario{name: "withdraw needs review", role: access.Agent, method: "POST", path: k + "/articles/{{art}}/versions/1/withdraw", status: 409},
			scenario{name: "a second draft", role: access.Agent, method: "POST", path: k + "/articles/{{art}}/versions", body: `{"title":"Shipping charges and times"}`,
				status: 201, contains: []string{`"version":2`, `"status":"draft"`}},
			scenario{name: "versions listed", role: access.Agent, method: "GET", path: k + "/articles/{{art}}/versions", status: 200,
				contains: []string{`"version":2`, `"version":1`}},
			scenario{name: "history", role: access.Agent, method: "GET", path: k + "/articles/{{art}}/history", status: 200, contains: []string{"publish"}},
			scenario{name: "diff", role: access.Agent, method: "GET", path: k + "/articles/{{art}}/diff?from=1&to=2", status: 200, contains: []string{"Shipping charges and times"}},
			scenario{name: "diff needs from", role: access.Agent, method: "GET", path: k + "/articles/{{art}}/diff?to=2", status: 422, contains: []string{`"field":"from"`}},
			scenario{name: "fact versions", role: access.Agent, method: "GET", path: k + "/facts/{{fact}}/versions", status: 200, contains: []string{`"value":"4.95 EUR"`}},
		)
	})
}
