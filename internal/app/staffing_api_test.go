package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// TestStaffingAPI calls the staffing calculators through the whole server
// with a token of a role that has stats:read, on the classic worked example
// (100 calls in 30 minutes, 180 s each, 80% within 20 s, occupancy ≤ 85%,
// shrinkage 30%: 14 agents, 20 scheduled, as published by Call Centre
// Helper's "Erlang C Formula – Made Simple" and reproduced by the pyworkforce
// and CRAN ErlangC packages).
func TestStaffingAPI(t *testing.T) {
	ctx := context.Background()
	s := app.NewServices(storetest.SQLite(t), "US")
	srv := httptest.NewServer(s.Handler(slog.New(slog.DiscardHandler), app.Limits{}))
	defer srv.Close()
	token := func(r access.Role) string {
		plain, _, err := s.Access.CreateToken(ctx, "staffing-"+string(r), r, 0, "test")
		if err != nil {
			t.Fatal(err)
		}
		return plain
	}
	analyst, staff := token(access.Analyst), token(access.Staff)

	get := func(tok, path string) (int, string, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: not JSON: %s", path, b)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), m
	}
	const example = "arrivals=100&interval_s=1800&aht_s=180&target_sl=0.8&target_s=20&max_occupancy=0.85&shrinkage=0.3"
	approx := func(m map[string]any, key string, want, tol float64) {
		t.Helper()
		got, ok := m[key].(float64)
		if !ok || math.Abs(got-want) > tol {
			t.Errorf("%s = %v, want %v ± %g (body %v)", key, m[key], want, tol, m)
		}
	}

	code, ctype, m := get(analyst, "/api/v1/staffing/erlang-c?"+example)
	if code != 200 || ctype != "application/json" {
		t.Fatalf("erlang-c: %d %s %v", code, ctype, m)
	}
	approx(m, "agents", 14, 0)
	approx(m, "scheduled_agents", 20, 0)
	approx(m, "service_level", 0.888, 0.0005)
	approx(m, "wait_probability", 0.174, 0.0005)
	approx(m, "asa_s", 7.836, 0.0005)
	approx(m, "occupancy", 0.714, 0.0005)
	approx(m, "traffic_erlangs", 10, 0)
	if len(m) != 7 {
		t.Errorf("erlang-c answers exactly seven keys, got %v", m)
	}

	// Defaults: no occupancy cap, no shrinkage.
	_, _, m = get(analyst, "/api/v1/staffing/erlang-c?arrivals=100&interval_s=1800&aht_s=180&target_sl=0.8&target_s=20")
	approx(m, "agents", 14, 0)
	approx(m, "scheduled_agents", 14, 0)

	// Erlang A: callers hanging up after 3 minutes on average need fewer agents.
	code, _, m = get(analyst, "/api/v1/staffing/erlang-a?"+example+"&patience_s=180")
	if code != 200 {
		t.Fatalf("erlang-a: %d %v", code, m)
	}
	approx(m, "agents", 12, 0)
	approx(m, "scheduled_agents", 18, 0)
	approx(m, "service_level", 0.802, 0.0005)
	approx(m, "wait_probability", 0.303, 0.0005)
	approx(m, "abandon_probability", 0.053, 0.0005)
	approx(m, "asa_s", 8.529, 0.0005)
	approx(m, "occupancy", 0.789, 0.0005)
	approx(m, "patience_s", 180, 0)
	approx(m, "traffic_erlangs", 10, 0)
	// Very patient callers give Erlang C's answer back.
	_, _, m = get(analyst, "/api/v1/staffing/erlang-a?"+example+"&patience_s=1800000")
	approx(m, "agents", 14, 0)
	approx(m, "service_level", 0.888, 0.0005)

	for _, c := range []struct{ path, field string }{
		{"/api/v1/staffing/erlang-c?arrivals=100&interval_s=1800&aht_s=180&target_sl=80&target_s=20", "target_sl"},
		{"/api/v1/staffing/erlang-c?arrivals=lots&interval_s=1800&aht_s=180&target_sl=0.8&target_s=20", "arrivals"},
		{"/api/v1/staffing/erlang-c?arrivals=100&interval_s=1800&target_sl=0.8&target_s=20", "aht_s"},
		{"/api/v1/staffing/erlang-c?arrivals=100&interval_s=0&aht_s=180&target_sl=0.8&target_s=20", "interval_s"},
		{"/api/v1/staffing/erlang-c?" + example + "&shrinkage=0.2", "shrinkage"},
		{"/api/v1/staffing/erlang-c?arrivals=100&interval_s=1800&aht_s=180&target_sl=0.8&target_s=20&max_ocupancy=0.8", "max_ocupancy"},
		{"/api/v1/staffing/erlang-c?arrivals=100&interval_s=1800&aht_s=180&target_sl=0.8&target_s=20&max_occupancy=1.5", "max_occupancy"},
		{"/api/v1/staffing/erlang-c?" + example + "&patience_s=60", "patience_s"},
		{"/api/v1/staffing/erlang-c?arrivals=1e9&interval_s=1800&aht_s=180&target_sl=0.8&target_s=20", "arrivals"},
		{"/api/v1/staffing/erlang-a?" + example, "patience_s"},
		{"/api/v1/staffing/erlang-a?" + example + "&patience_s=-5", "patience_s"},
	} {
		code, ctype, m := get(analyst, c.path)
		if code != 422 || ctype != "application/problem+json" || m["field"] != c.field {
			t.Errorf("%s: %d %s %v, want 422 problem+json with field %s", c.path, code, ctype, m, c.field)
		}
	}

	if code, _, _ := get("", "/api/v1/staffing/erlang-c?"+example); code != 401 {
		t.Errorf("no token: %d", code)
	}
	if code, _, m := get(staff, "/api/v1/staffing/erlang-a?"+example+"&patience_s=60"); code != 403 {
		t.Errorf("staff lacks stats:read: %d %v", code, m)
	}
}
