package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// caseStep is a scenario (api_test.go) with request headers; {{name}} in a
// header value is expanded like in paths and bodies.
type caseStep struct {
	scenario
	header map[string]string
}

func TestCaseAPIScenarios(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := app.NewServices(db, "US")
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
		steps := []caseStep{
			// Contact points and a customer.
			{scenario: scenario{name: "phone line", role: access.Admin, method: "POST", path: "/api/v1/contact-points",
				body: `{"kind":"phone","name":"Support line"}`, status: 201, save: map[string]string{"phone": "id"}}},
			{scenario: scenario{name: "mailbox", role: access.Admin, method: "POST", path: "/api/v1/contact-points",
				body: `{"kind":"email","name":"help@example.com"}`, status: 201, save: map[string]string{"mail": "id"}}},
			{scenario: scenario{name: "sms number", role: access.Admin, method: "POST", path: "/api/v1/contact-points",
				body: `{"kind":"sms","name":"Texts"}`, status: 201, save: map[string]string{"sms": "id"}}},
			{scenario: scenario{name: "customer", role: access.Agent, method: "POST", path: "/api/v1/customers",
				body:   `{"name":"Ann Smith","identifiers":[{"kind":"email","value":"ann@example.com"}],"consent":{"email":{"status":"opted_in"}}}`,
				status: 201, save: map[string]string{"ann": "id"}}},
			{scenario: scenario{name: "other customer", role: access.Agent, method: "POST", path: "/api/v1/customers",
				body: `{"name":"Bo Berg","identifiers":[{"kind":"email","value":"bo@example.com"}]}`, status: 201, save: map[string]string{"bo": "id"}}},

			// The taxonomy and an SLA policy, before any case.
			{scenario: scenario{name: "agent may not add reasons", role: access.Agent, method: "POST", path: "/api/v1/reasons",
				body: `{"code":"delivery","name":"Delivery"}`, status: 403, contains: []string{"cases:manage"}}},
			{scenario: scenario{name: "add a reason", role: access.Supervisor, method: "POST", path: "/api/v1/reasons",
				body: `{"code":"delivery","name":"Delivery","position":1}`, status: 201, contains: []string{`"code":"delivery"`}}},
			{scenario: scenario{name: "change the reason", role: access.Supervisor, method: "POST", path: "/api/v1/reasons",
				body: `{"code":"delivery","name":"Delivery and shipping","position":1}`, status: 200, contains: []string{`"name":"Delivery and shipping"`}}},
			{scenario: scenario{name: "bad reason code", role: access.Supervisor, method: "POST", path: "/api/v1/reasons",
				body: `{"code":"Billing Refund","name":"Refund"}`, status: 422, contains: []string{`"field":"code"`}}},
			{scenario: scenario{name: "list reasons", role: access.Analyst, method: "GET", path: "/api/v1/reasons", status: 200,
				contains: []string{`"code":"delivery"`, `"name":"Delivery and shipping"`}}},
			{scenario: scenario{name: "SLA policy with a bad priority", role: access.Supervisor, method: "POST", path: "/api/v1/sla-policies",
				body: `{"name":"Standard","priority":"asap","first_response_s":3600}`, status: 422, contains: []string{`"field":"priority"`}}},
			{scenario: scenario{name: "SLA policy naming its id", role: access.Supervisor, method: "POST", path: "/api/v1/sla-policies",
				body: `{"id":"123","name":"Standard"}`, status: 422, contains: []string{`"field":"id"`}}},
			{scenario: scenario{name: "SLA policy", role: access.Supervisor, method: "POST", path: "/api/v1/sla-policies",
				body: `{"name":"Standard","first_response_s":3600,"resolution_s":86400}`, status: 201,
				contains: []string{`"warn_percent":80`, `"priority":""`}, save: map[string]string{"policy": "id"}}},
			{scenario: scenario{name: "agent may not add SLA policies", role: access.Agent, method: "POST", path: "/api/v1/sla-policies",
				body: `{"name":"Mine"}`, status: 403}},

			// A call opens a case; an email about the same thing joins it.
			{scenario: scenario{name: "call opens a case", role: access.Integration, method: "POST", path: "/api/v1/interactions",
				body:   `{"customer_id":"{{ann}}","contact_point_id":"{{phone}}","kind":"call","reason":"delivery","subject":"Where is my parcel?"}`,
				status: 201, contains: []string{`"case_id":"`}, save: map[string]string{"case": "case_id", "call": "id"}}},
			{scenario: scenario{name: "email joins the case", role: access.Integration, method: "POST", path: "/api/v1/interactions",
				body:   `{"customer_id":"{{ann}}","contact_point_id":"{{mail}}","kind":"email","reason":"delivery","subject":"Re: parcel"}`,
				status: 201, contains: []string{`"case_id":"{{case}}"`}, save: map[string]string{"email": "id"}}},
			{scenario: scenario{name: "get the case", role: access.Agent, method: "GET", path: "/api/v1/cases/{{case}}", status: 200,
				contains: []string{`"subject":"Where is my parcel?"`, `"status":"new"`, `"reason":"delivery"`, `"channel":"phone"`,
					`"interaction_count":2`, `"policy_id":"{{policy}}"`, `"state":"ok"`}, save: map[string]string{"v": "version"}}},
			{scenario: scenario{name: "unknown case", role: access.Agent, method: "GET", path: "/api/v1/cases/999", status: 404}},
			{scenario: scenario{name: "malformed case id", role: access.Agent, method: "GET", path: "/api/v1/cases/abc", status: 404}},

			// The inbox.
			{scenario: scenario{name: "list cases", role: access.Analyst, method: "GET", path: "/api/v1/cases", status: 200,
				contains: []string{`"id":"{{case}}"`, `"customer_name":"Ann Smith"`}}},
			{scenario: scenario{name: "list by statuses, comma and repeated", role: access.Agent, method: "GET",
				path: "/api/v1/cases?status=open,waiting_on_us&status=new&priority=normal&channel=phone&reason=delivery&sla=ok&sort=priority", status: 200,
				contains: []string{`"id":"{{case}}"`}}},
			{scenario: scenario{name: "filter that matches nothing", role: access.Agent, method: "GET", path: "/api/v1/cases?priority=urgent", status: 200,
				contains: []string{`"items":[]`}, absent: []string{"next_cursor"}}},
			{scenario: scenario{name: "unknown status filter", role: access.Agent, method: "GET", path: "/api/v1/cases?status=pending", status: 422,
				contains: []string{`"field":"status"`}}},
			{scenario: scenario{name: "unknown sort", role: access.Agent, method: "GET", path: "/api/v1/cases?sort=random", status: 422, contains: []string{`"field":"sort"`}}},
			{scenario: scenario{name: "bad limit", role: access.Agent, method: "GET", path: "/api/v1/cases?limit=0", status: 422, contains: []string{`"field":"limit"`}}},
			{scenario: scenario{name: "bad cursor", role: access.Agent, method: "GET", path: "/api/v1/cases?cursor=nope", status: 422, contains: []string{`"field":"cursor"`}}},
			{scenario: scenario{name: "a token has no cases of its own", role: access.Agent, method: "GET", path: "/api/v1/cases?view=mine", status: 422,
				contains: []string{`"field":"view"`}}},
			{scenario: scenario{name: "unknown view", role: access.Agent, method: "GET", path: "/api/v1/cases?view=everything", status: 422, contains: []string{`"field":"view"`}}},
			{scenario: scenario{name: "unassigned view", role: access.Agent, method: "GET", path: "/api/v1/cases?view=unassigned", status: 200,
				contains: []string{`"id":"{{case}}"`}}},
			{scenario: scenario{name: "counts", role: access.Agent, method: "GET", path: "/api/v1/cases/counts", status: 200,
				contains: []string{`"all":1`, `"unassigned":1`, `"mine":0`, `"team":0`}}},
			{scenario: scenario{name: "cases of the customer", role: access.Agent, method: "GET", path: "/api/v1/customers/{{ann}}/cases", status: 200,
				contains: []string{`"id":"{{case}}"`}}},
			{scenario: scenario{name: "cases of an unknown customer", role: access.Agent, method: "GET", path: "/api/v1/customers/999/cases", status: 404}},
			{scenario: scenario{name: "no token", method: "GET", path: "/api/v1/cases", status: 401}},

			// Changing a case.
			{scenario: scenario{name: "analyst may not change a case", role: access.Analyst, method: "PATCH", path: "/api/v1/cases/{{case}}",
				body: `{"status":"open"}`, status: 403, contains: []string{"cases:write"}}},
			{scenario: scenario{name: "bad status", role: access.Agent, method: "PATCH", path: "/api/v1/cases/{{case}}",
				body: `{"status":"done"}`, status: 422, contains: []string{`"field":"status"`}}},
			{scenario: scenario{name: "unknown field", role: access.Agent, method: "PATCH", path: "/api/v1/cases/{{case}}",
				body: `{"statsu":"open"}`, status: 422, contains: []string{`"field":"statsu"`}}},
			{scenario: scenario{name: "wrong type", role: access.Agent, method: "PATCH", path: "/api/v1/cases/{{case}}",
				body: `{"priority":1}`, status: 422, contains: []string{`"field":"priority"`}}},
			{scenario: scenario{name: "unknown reason", role: access.Agent, method: "PATCH", path: "/api/v1/cases/{{case}}",
				body: `{"reason":"weather"}`, status: 422, contains: []string{`"field":"reason"`}}},
			{scenario: scenario{name: "change with If-Match", role: access.Agent, method: "PATCH", path: "/api/v1/cases/{{case}}",
				body: `{"status":"open","priority":"high","add_tags":["VIP"," late "]}`, status: 200,
				contains: []string{`"status":"open"`, `"priority":"high"`, `"tags":["late","vip"]`}}, header: map[string]string{"If-Match": `W/"{{v}}"`}},
			{scenario: scenario{name: "stale If-Match", role: access.Agent, method: "PATCH", path: "/api/v1/cases/{{case}}",
				body: `{"priority":"low"}`, status: 409, contains: []string{"application/problem+json", "version {{v}}"}}, header: map[string]string{"If-Match": `W/"{{v}}"`}},
			{scenario: scenario{name: "stale version in the body", role: access.Agent, method: "PATCH", path: "/api/v1/cases/{{case}}",
				body: `{"priority":"low","version":1}`, status: 409, contains: []string{"application/problem+json", `"title":"Conflict"`}}},
			{scenario: scenario{name: "If-Match that is no version", role: access.Agent, method: "PATCH", path: "/api/v1/cases/{{case}}",
				body: `{"priority":"low"}`, status: 400, contains: []string{"If-Match"}}, header: map[string]string{"If-Match": `"abc"`}},
			{scenario: scenario{name: "the case as changed", role: access.Agent, method: "GET", path: "/api/v1/cases/{{case}}", status: 200,
				contains: []string{`"priority":"high"`}, save: map[string]string{"v": "version"}}},
			{scenario: scenario{name: "version in the body", role: access.Agent, method: "PATCH", path: "/api/v1/cases/{{case}}",
				body: `{"remove_tags":["late"],"version":{{v}}}`, status: 200, contains: []string{`"tags":["vip"]`}}},
			{scenario: scenario{name: "filter by tag", role: access.Agent, method: "GET", path: "/api/v1/cases?tag=VIP", status: 200, contains: []string{`"id":"{{case}}"`}}},

			// Notes.
			{scenario: scenario{name: "add a note", role: access.Agent, method: "POST", path: "/api/v1/cases/{{case}}/notes",
				body: `{"body":"Carrier says Tuesday."}`, status: 201, contains: []string{`"author_name":"test-agent"`, `"case_id":"{{case}}"`}}},
			{scenario: scenario{name: "empty note", role: access.Agent, method: "POST", path: "/api/v1/cases/{{case}}/notes",
				body: `{"body":"  "}`, status: 422, contains: []string{`"field":"body"`}}},
			{scenario: scenario{name: "analyst may not add notes", role: access.Analyst, method: "POST", path: "/api/v1/cases/{{case}}/notes",
				body: `{"body":"x"}`, status: 403}},
			{scenario: scenario{name: "read the notes", role: access.Analyst, method: "GET", path: "/api/v1/cases/{{case}}/notes", status: 200,
				contains: []string{"Carrier says Tuesday."}}},
			{scenario: scenario{name: "notes of an unknown case", role: access.Agent, method: "GET", path: "/api/v1/cases/999/notes", status: 404}},

			// A reply goes on the timeline, pending delivery.
			{scenario: scenario{name: "reply", role: access.Agent, method: "POST", path: "/api/v1/cases/{{case}}/replies",
				body: `{"body":"It arrives on Tuesday.","status":"waiting_on_customer"}`, status: 201,
				contains: []string{`"case_id":"{{case}}"`, `"customer_id":"{{ann}}"`}, save: map[string]string{"reply": "id"}}},
			{scenario: scenario{name: "reply with an Idempotency-Key", role: access.Agent, method: "POST", path: "/api/v1/cases/{{case}}/replies",
				body: `{"body":"Tracking: 123"}`, status: 201, save: map[string]string{"keyed": "id"}}, header: map[string]string{"Idempotency-Key": "k-1"}},
			{scenario: scenario{name: "the same reply again", role: access.Agent, method: "POST", path: "/api/v1/cases/{{case}}/replies",
				body: `{"body":"Tracking: 123"}`, status: 200, contains: []string{`"duplicate":true`, `"id":"{{keyed}}"`}}, header: map[string]string{"Idempotency-Key": "k-1"}},
			{scenario: scenario{name: "empty reply", role: access.Agent, method: "POST", path: "/api/v1/cases/{{case}}/replies",
				body: `{"body":""}`, status: 422, contains: []string{`"field":"body"`}}},
			{scenario: scenario{name: "reply on another channel the customer used", role: access.Agent, method: "POST", path: "/api/v1/cases/{{case}}/replies",
				body: `{"body":"Calling you back","contact_point_id":"{{phone}}"}`, status: 201}},
			{scenario: scenario{name: "reply on a channel without consent", role: access.Agent, method: "POST", path: "/api/v1/cases/{{case}}/replies",
				body: `{"body":"Hi","contact_point_id":"{{sms}}"}`, status: 422, contains: []string{`"field":"contact_point_id"`}}},
			{scenario: scenario{name: "timeline", role: access.Agent, method: "GET", path: "/api/v1/cases/{{case}}/timeline", status: 200,
				contains: []string{`"id":"{{reply}}"`, `"delivery_status":"pending"`, `"content":"It arrives on Tuesday."`, `"staff_name":"test-agent"`,
					`"id":"{{call}}"`, `"id":"{{email}}"`}}},
			{scenario: scenario{name: "timeline page", role: access.Agent, method: "GET", path: "/api/v1/cases/{{case}}/timeline?limit=1", status: 200,
				contains: []string{`"next_cursor":"`}, save: map[string]string{"cursor": "next_cursor"}}},
			{scenario: scenario{name: "timeline next page", role: access.Agent, method: "GET", path: "/api/v1/cases/{{case}}/timeline?limit=1&cursor={{cursor}}", status: 200,
				contains: []string{`"next_cursor":"`}}},
			{scenario: scenario{name: "timeline bad cursor", role: access.Agent, method: "GET", path: "/api/v1/cases/{{case}}/timeline?cursor=x", status: 422,
				contains: []string{`"field":"cursor"`}}},
			{scenario: scenario{name: "timeline of an unknown case", role: access.Agent, method: "GET", path: "/api/v1/cases/999/timeline", status: 404}},
			{scenario: scenario{name: "waiting on the customer", role: access.Agent, method: "GET", path: "/api/v1/cases/{{case}}", status: 200,
				contains: []string{`"status":"waiting_on_customer"`, `"state":"paused"`, `"first_response_at":"`}}},
			{scenario: scenario{name: "history", role: access.Agent, method: "GET", path: "/api/v1/cases/{{case}}/history", status: 200,
				contains: []string{`"kind":"created"`, `"kind":"interaction_linked"`, `"kind":"priority"`, `"kind":"tags"`, `"kind":"note"`,
					`"actor_name":"test-agent"`, `"to":"waiting_on_customer"`}}},

			// Opening by hand, split, move and merge.
			{scenario: scenario{name: "open a case by hand", role: access.Staff, method: "POST", path: "/api/v1/cases",
				body:   `{"customer_id":"{{ann}}","subject":"Invoice copy","reason":"delivery","priority":"low","note":"Asked at the till."}`,
				status: 201, contains: []string{`"status":"new"`, `"priority":"low"`}, save: map[string]string{"byHand": "id"}}},
			{scenario: scenario{name: "open a case without a subject", role: access.Staff, method: "POST", path: "/api/v1/cases",
				body: `{"customer_id":"{{ann}}"}`, status: 422, contains: []string{`"field":"subject"`}}},
			{scenario: scenario{name: "open a case with an unknown reason", role: access.Staff, method: "POST", path: "/api/v1/cases",
				body: `{"customer_id":"{{ann}}","subject":"x","reason":"weather"}`, status: 422, contains: []string{`"field":"reason"`}}},
			{scenario: scenario{name: "open a case for nobody", role: access.Staff, method: "POST", path: "/api/v1/cases",
				body: `{"customer_id":"999","subject":"x"}`, status: 422, contains: []string{`"field":"customer_id"`}}},
			{scenario: scenario{name: "analyst may not open cases", role: access.Analyst, method: "POST", path: "/api/v1/cases",
				body: `{"customer_id":"{{ann}}","subject":"x"}`, status: 403}},
			{scenario: scenario{name: "split off the email", role: access.Agent, method: "POST", path: "/api/v1/cases/{{case}}/split",
				body:   `{"interaction_ids":["{{email}}"],"subject":"Second parcel"}`,
				status: 201, contains: []string{`"subject":"Second parcel"`, `"status":"open"`, `"interaction_count":1`, `"tags":["vip"]`}, save: map[string]string{"split": "id"}}},
			{scenario: scenario{name: "split an interaction of another case", role: access.Agent, method: "POST", path: "/api/v1/cases/{{case}}/split",
				body: `{"interaction_ids":["{{email}}"],"subject":"Again"}`, status: 422, contains: []string{`"field":"interaction_ids"`}}},
			{scenario: scenario{name: "split nothing", role: access.Agent, method: "POST", path: "/api/v1/cases/{{case}}/split",
				body: `{"subject":"Again"}`, status: 422, contains: []string{`"field":"interaction_ids"`}}},
			{scenario: scenario{name: "the split case's timeline", role: access.Agent, method: "GET", path: "/api/v1/cases/{{split}}/timeline", status: 200,
				contains: []string{`"id":"{{email}}"`}, absent: []string{`"id":"{{call}}"`}}},
			{scenario: scenario{name: "move the email onto the hand-made case", role: access.Agent, method: "POST", path: "/api/v1/cases/{{byHand}}/interactions",
				body: `{"interaction_ids":["{{email}}"]}`, status: 200, contains: []string{`"id":"{{byHand}}"`, `"interaction_count":1`}}},
			{scenario: scenario{name: "move nothing", role: access.Agent, method: "POST", path: "/api/v1/cases/{{byHand}}/interactions",
				body: `{"interaction_ids":[]}`, status: 422, contains: []string{`"field":"interaction_ids"`}}},
			{scenario: scenario{name: "a case of another customer", role: access.Agent, method: "POST", path: "/api/v1/cases",
				body: `{"customer_id":"{{bo}}","subject":"Bo's question"}`, status: 201, save: map[string]string{"boCase": "id"}}},
			{scenario: scenario{name: "move onto another customer's case", role: access.Agent, method: "POST", path: "/api/v1/cases/{{boCase}}/interactions",
				body: `{"interaction_ids":["{{email}}"]}`, status: 422, contains: []string{`"field":"interaction_ids"`}}},
			{scenario: scenario{name: "merge across customers", role: access.Agent, method: "POST", path: "/api/v1/cases/{{boCase}}/merge",
				body: `{"into":"{{case}}"}`, status: 422, contains: []string{`"field":"into"`}}},
			{scenario: scenario{name: "merge without into", role: access.Agent, method: "POST", path: "/api/v1/cases/{{split}}/merge",
				body: `{}`, status: 422, contains: []string{`"field":"into"`}}},
			{scenario: scenario{name: "merge the hand-made case", role: access.Agent, method: "POST", path: "/api/v1/cases/{{byHand}}/merge",
				body: `{"into":"{{case}}"}`, status: 200, contains: []string{`"id":"{{case}}"`}}},
			{scenario: scenario{name: "merged case", role: access.Agent, method: "GET", path: "/api/v1/cases/{{byHand}}", status: 200,
				contains: []string{`"merged_into":"{{case}}"`, `"status":"closed"`, `"interaction_count":0`}}},
			{scenario: scenario{name: "merge again", role: access.Agent, method: "POST", path: "/api/v1/cases/{{byHand}}/merge",
				body: `{"into":"{{split}}"}`, status: 409}},
			{scenario: scenario{name: "change a merged case", role: access.Agent, method: "PATCH", path: "/api/v1/cases/{{byHand}}",
				body: `{"priority":"urgent"}`, status: 409}},
			{scenario: scenario{name: "the email and the note moved with the merge", role: access.Agent, method: "GET", path: "/api/v1/cases/{{case}}/notes", status: 200,
				contains: []string{"Asked at the till.", "Carrier says Tuesday."}}},
			{scenario: scenario{name: "merged cases leave the inbox", role: access.Agent, method: "GET", path: "/api/v1/cases?status=any", status: 200,
				contains: []string{`"id":"{{case}}"`, `"id":"{{split}}"`, `"id":"{{boCase}}"`}, absent: []string{`"id":"{{byHand}}"`}}},
			{scenario: scenario{name: "counts after the merge", role: access.Agent, method: "GET", path: "/api/v1/cases/counts", status: 200,
				contains: []string{`"all":3`}}},
			{scenario: scenario{name: "reply on a merged case", role: access.Agent, method: "POST", path: "/api/v1/cases/{{byHand}}/replies",
				body: `{"body":"Hello"}`, status: 409}},
			{scenario: scenario{name: "a closed case cannot be resolved", role: access.Agent, method: "PATCH", path: "/api/v1/cases/{{boCase}}",
				body: `{"status":"closed"}`, status: 200, contains: []string{`"status":"closed"`, `"closed_at":"`}}},
			{scenario: scenario{name: "only reopened", role: access.Agent, method: "PATCH", path: "/api/v1/cases/{{boCase}}",
				body: `{"status":"resolved"}`, status: 422, contains: []string{`"field":"status"`}}},
			{scenario: scenario{name: "reopen", role: access.Agent, method: "PATCH", path: "/api/v1/cases/{{boCase}}",
				body: `{"status":"open","owner_id":null,"team_id":""}`, status: 200, contains: []string{`"status":"open"`, `"closed_at":null`}}},
			{scenario: scenario{name: "unknown owner", role: access.Agent, method: "PATCH", path: "/api/v1/cases/{{boCase}}",
				body: `{"owner_id":"999"}`, status: 422, contains: []string{`"field":"owner_id"`}}},
			{scenario: scenario{name: "unknown team", role: access.Agent, method: "PATCH", path: "/api/v1/cases/{{boCase}}",
				body: `{"team_id":"999"}`, status: 422, contains: []string{`"field":"team_id"`}}},
			{scenario: scenario{name: "inbox first page", role: access.Agent, method: "GET", path: "/api/v1/cases?status=any&limit=2&sort=created", status: 200,
				contains: []string{`"id":"{{boCase}}"`, `"id":"{{split}}"`, `"next_cursor":"`}, save: map[string]string{"next": "next_cursor"}}},
			{scenario: scenario{name: "inbox last page", role: access.Agent, method: "GET", path: "/api/v1/cases?status=any&limit=2&sort=created&cursor={{next}}", status: 200,
				contains: []string{`"id":"{{case}}"`}, absent: []string{"next_cursor", `"id":"{{split}}"`}}},
			{scenario: scenario{name: "retire the reason", role: access.Supervisor, method: "POST", path: "/api/v1/reasons",
				body: `{"code":"delivery","name":"Delivery","disabled":true}`, status: 200, contains: []string{`"disabled":true`}}},
			{scenario: scenario{name: "retired reasons are not listed", role: access.Agent, method: "GET", path: "/api/v1/reasons", status: 200,
				contains: []string{`"items":[]`}}},
			{scenario: scenario{name: "unless asked for", role: access.Agent, method: "GET", path: "/api/v1/reasons?include_disabled=true", status: 200,
				contains: []string{`"code":"delivery"`}}},
			{scenario: scenario{name: "a retired reason cannot be used", role: access.Agent, method: "POST", path: "/api/v1/cases",
				body: `{"customer_id":"{{ann}}","subject":"x","reason":"delivery"}`, status: 422, contains: []string{`"field":"reason"`}}},

			// Calendars, canned responses and the join rule.
			{scenario: scenario{name: "calendar", role: access.Admin, method: "POST", path: "/api/v1/calendars",
				body:   `{"name":"Office","timezone":"Europe/Berlin","week":{"mon":"09:00-17:00","tue":"09:00-12:00,13:00-17:00"},"holidays":["2026-12-25"]}`,
				status: 201, contains: []string{`"timezone":"Europe/Berlin"`}, save: map[string]string{"cal": "id"}}},
			{scenario: scenario{name: "calendar with a bad zone", role: access.Admin, method: "POST", path: "/api/v1/calendars",
				body: `{"name":"Mars","timezone":"Mars/Olympus","week":{"mon":"09:00-17:00"}}`, status: 422, contains: []string{`"field":"timezone"`}}},
			{scenario: scenario{name: "calendar with a bad day", role: access.Admin, method: "POST", path: "/api/v1/calendars",
				body: `{"name":"Odd","timezone":"UTC","week":{"mon":"17:00-09:00"}}`, status: 422, contains: []string{`"field":"week.mon"`}}},
			{scenario: scenario{name: "replace the calendar", role: access.Admin, method: "PUT", path: "/api/v1/calendars/{{cal}}",
				body: `{"name":"Office","timezone":"Europe/Berlin","week":{"mon":"08:00-16:00"}}`, status: 200, contains: []string{`"mon":"08:00-16:00"`}}},
			{scenario: scenario{name: "replace an unknown calendar", role: access.Admin, method: "PUT", path: "/api/v1/calendars/999",
				body: `{"name":"Office","timezone":"UTC","week":{"mon":"08:00-16:00"}}`, status: 404}},
			{scenario: scenario{name: "calendar with a taken name", role: access.Admin, method: "POST", path: "/api/v1/calendars",
				body: `{"name":"Office","timezone":"UTC","week":{"mon":"08:00-16:00"}}`, status: 409}},
			{scenario: scenario{name: "second calendar", role: access.Admin, method: "POST", path: "/api/v1/calendars",
				body: `{"name":"Night","timezone":"UTC","week":{"mon":"20:00-23:00"}}`, status: 201, save: map[string]string{"night": "id"}}},
			{scenario: scenario{name: "list calendars", role: access.Agent, method: "GET", path: "/api/v1/calendars", status: 200, contains: []string{`"id":"{{cal}}"`}}},
			{scenario: scenario{name: "policy on the calendar", role: access.Supervisor, method: "PUT", path: "/api/v1/sla-policies/{{policy}}",
				body: `{"name":"Standard","calendar_id":"{{cal}}","first_response_s":7200}`, status: 200, contains: []string{`"calendar_id":"{{cal}}"`, `"first_response_s":7200`}, absent: []string{"0001-01-01"}}},
			{scenario: scenario{name: "policy on an unknown calendar", role: access.Supervisor, method: "PUT", path: "/api/v1/sla-policies/{{policy}}",
				body: `{"name":"Standard","calendar_id":"999"}`, status: 422, contains: []string{`"field":"calendar_id"`}}},
			{scenario: scenario{name: "replace an unknown policy", role: access.Supervisor, method: "PUT", path: "/api/v1/sla-policies/999",
				body: `{"name":"Standard"}`, status: 404}},
			{scenario: scenario{name: "list policies", role: access.Agent, method: "GET", path: "/api/v1/sla-policies", status: 200, contains: []string{`"id":"{{policy}}"`}}},
			{scenario: scenario{name: "canned response", role: access.Supervisor, method: "POST", path: "/api/v1/canned-responses",
				body:   `{"name":"Greeting","shortcut":"hi","body":"Hello {{customer.first_name}},"}`,
				status: 201, contains: []string{`"created_by":"test-supervisor"`}, save: map[string]string{"canned": "id"}}},
			{scenario: scenario{name: "canned response with an unknown variable", role: access.Supervisor, method: "POST", path: "/api/v1/canned-responses",
				body: `{"name":"Odd","body":"Hello {{customer.shoe_size}}"}`, status: 422, contains: []string{`"field":"body"`}}},
			{scenario: scenario{name: "replace the canned response", role: access.Supervisor, method: "PUT", path: "/api/v1/canned-responses/{{canned}}",
				body: `{"name":"Greeting","body":"Hi {{customer.first_name}}!"}`, status: 200, contains: []string{`"body":"Hi {{customer.first_name}}!"`, `"created_by":"test-supervisor"`}, absent: []string{"0001-01-01"}}},
			{scenario: scenario{name: "staff may not write canned responses", role: access.Staff, method: "POST", path: "/api/v1/canned-responses",
				body: `{"name":"x","body":"y"}`, status: 403}},
			{scenario: scenario{name: "list canned responses", role: access.Staff, method: "GET", path: "/api/v1/canned-responses", status: 200, contains: []string{`"shortcut":""`, "Greeting"}}},
			{scenario: scenario{name: "join rule default", role: access.Agent, method: "GET", path: "/api/v1/settings/case-join-rule", status: 200,
				contains: []string{`"window_hours":336`, `"same_reason":true`}}},
			{scenario: scenario{name: "join rule without same_reason", role: access.Admin, method: "PUT", path: "/api/v1/settings/case-join-rule",
				body: `{"window_hours":48}`, status: 422, contains: []string{`"field":"same_reason"`}}},
			{scenario: scenario{name: "join rule out of range", role: access.Admin, method: "PUT", path: "/api/v1/settings/case-join-rule",
				body: `{"window_hours":0,"same_reason":false}`, status: 422, contains: []string{`"field":"window_hours"`}}},
			{scenario: scenario{name: "agent may not set the join rule", role: access.Agent, method: "PUT", path: "/api/v1/settings/case-join-rule",
				body: `{"window_hours":48,"same_reason":false}`, status: 403}},
			{scenario: scenario{name: "set the join rule", role: access.Admin, method: "PUT", path: "/api/v1/settings/case-join-rule",
				body: `{"window_hours":48,"same_reason":false}`, status: 200, contains: []string{`"window_hours":48`, `"same_reason":false`}}},
			{scenario: scenario{name: "join rule as set", role: access.Agent, method: "GET", path: "/api/v1/settings/case-join-rule", status: 200,
				contains: []string{`"window_hours":48`, `"same_reason":false`}}},
		}
		runCaseSteps(t, srv.URL, tokens, steps)
	})
}

// runCaseSteps runs steps in order like TestAPIScenarios does; vars saved by
// a step may be strings or numbers ("version").
func runCaseSteps(t *testing.T, base string, tokens map[access.Role]string, steps []caseStep) {
	t.Helper()
	vars := map[string]string{}
	for _, st := range steps {
		path, body := expand(st.path, vars), expand(st.body, vars)
		req, err := http.NewRequest(st.method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if st.role != "" {
			req.Header.Set("Authorization", "Bearer "+tokens[st.role])
		}
		for k, v := range st.header {
			req.Header.Set(k, expand(v, vars))
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
		ct := resp.Header.Get("Content-Type")
		if resp.StatusCode >= 400 && !strings.HasPrefix(ct, "application/problem+json") {
			t.Errorf("%s: error with content type %q", st.name, ct)
		}
		if st.method == "GET" && strings.HasPrefix(st.path, "/api/v1/cases/{{") && !strings.Contains(st.path[len("/api/v1/cases/{{"):], "/") && resp.StatusCode == 200 {
			var c struct{ Version int }
			if json.Unmarshal(b, &c) == nil && resp.Header.Get("ETag") != `W/"`+strconv.Itoa(c.Version)+`"` {
				t.Errorf("%s: ETag %q, want the version %d", st.name, resp.Header.Get("ETag"), c.Version)
			}
		}
		got := ct + "\n" + string(b)
		for _, c := range st.contains {
			if c = expand(c, vars); !strings.Contains(got, c) {
				t.Errorf("%s: response lacks %q\n%s", st.name, c, b)
			}
		}
		for _, c := range st.absent {
			if strings.Contains(string(b), expand(c, vars)) {
				t.Errorf("%s: response holds %q\n%s", st.name, c, b)
			}
		}
		for name, field := range st.save {
			vars[name] = jsonScalar(t, b, field)
		}
	}
}

// jsonScalar is jsonField for strings and numbers.
func jsonScalar(t *testing.T, b []byte, path string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("response is not JSON: %s", b)
	}
	for p := range strings.SplitSeq(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(x) {
				t.Fatalf("no item %s in %s", p, b)
			}
			v = x[i]
		}
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	t.Fatalf("field %s of %s is neither a string nor a number", path, b)
	return ""
}
