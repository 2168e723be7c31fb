package desk_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

func TestStaffingPage(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		b := e.signIn(e.user(access.Supervisor, "Sam Supervisor"))
		// The classic worked example: 100 calls in 30 minutes of 180 s, 80% in
		// 20 s, at most 85% occupancy, 30% shrinkage: 14 agents, 20 on the schedule.
		res := b.get("/staffing?arrivals=100&interval_min=30&aht_s=180&target_sl=80&target_s=20&max_occupancy=85&shrinkage=30")
		if res.status != http.StatusOK {
			t.Fatalf("staffing page: %d", res.status)
		}
		row := rowAfter(res.body, "<td>Erlang C</td>")
		for _, want := range []string{"<strong>14</strong>", "<td>20</td>", "88.8%", "17.4%", "7.8 s", "71.4%"} {
			if !strings.Contains(row, want) {
				t.Fatalf("the Erlang C row %q lacks %q", row, want)
			}
		}
		if strings.Contains(res.body, "Erlang A</td>") {
			t.Fatal("Erlang A shown without a patience")
		}
		res = b.get("/staffing?arrivals=100&interval_min=30&aht_s=180&patience_s=120")
		if !strings.Contains(res.body, "Erlang A</td>") {
			t.Fatal("no Erlang A row with a patience")
		}
		// Bad input names its field, on the page, with no crash.
		res = b.get("/staffing?aht_s=soon")
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "aht_s") || !strings.Contains(res.body, "soon") {
			t.Fatalf("bad handle time: %d %s", res.status, rowAfter(res.body, "error"))
		}
		res = b.get("/staffing?target_sl=120")
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "target_sl") {
			t.Fatalf("a service level over 100%%: %d", res.status)
		}
		// Staff may not plan staffing.
		if res := e.signIn(e.user(access.Staff, "Tom Clerk")).get("/staffing"); res.status != http.StatusForbidden {
			t.Fatalf("staff on the staffing page: %d", res.status)
		}
	})
}

// rowAfter returns the text from marker to the end of its table row.
func rowAfter(body, marker string) string {
	i := strings.Index(body, marker)
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], "</tr>")
	if j < 0 {
		return body[i:]
	}
	return body[i : i+j]
}

// An agent with cases of their own starts on them; a supervisor, and an agent
// with none, on all open cases.
func TestInboxStartsOnTheAgentsOwnCases(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		email := e.contactPoint("email", "support@example.com")
		agent := e.user(access.Agent, "Ada Agent")
		idle := e.user(access.Agent, "Ivo Idle")
		boss := e.user(access.Supervisor, "Sam Supervisor")
		mine := e.record(interaction.Input{Identifiers: []customer.RawIdentifier{{Kind: "email", Value: "kim@example.com"}},
			ContactPointID: email, Kind: "email", Direction: interaction.Inbound, Subject: "Kettle leaks"})
		e.record(interaction.Input{Identifiers: []customer.RawIdentifier{{Kind: "email", Value: "lou@example.com"}},
			ContactPointID: email, Kind: "email", Direction: interaction.Inbound, Subject: "Where is my parcel"})
		if _, err := e.s.Cases.Update(e.ctx, cases.Actor{Name: "test"}, *mine.CaseID, cases.Patch{OwnerID: cases.OptionalID{Set: true, ID: agent.ID}}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			who       *access.User
			view      string
			seesOther bool
		}{{agent, "mine", false}, {idle, "all", true}, {boss, "all", true}} {
			res := e.signIn(c.who).get("/")
			if !strings.Contains(res.body, `aria-current="page" data-view="`+c.view+`"`) {
				t.Fatalf("%s starts on a view other than %s", c.who.Name, c.view)
			}
			if strings.Contains(res.body, "Where is my parcel") != c.seesOther || !strings.Contains(res.body, "Kettle leaks") {
				t.Fatalf("%s's first inbox: sees the unassigned case %v, want %v", c.who.Name, !c.seesOther, c.seesOther)
			}
		}
	})
}
