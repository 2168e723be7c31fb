package desk

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// Administration: users and teams (access:manage); contact reasons, canned
// responses and SLA policies (cases:manage). Each form posts, and either
// redirects back with a confirmation or shows the page again with a plain
// message saying what to correct.

// adminLink is one entry of the administration sub-navigation.
type adminLink struct {
	Href, Label string
	Current     bool
}

// adminNav lists the administration pages the viewer may open.
func adminNav(v *viewer, current string) []adminLink {
	var out []adminLink
	add := func(href, label string) { out = append(out, adminLink{href, label, href == current}) }
	if v.User.Role.Can(access.ManageAccess) {
		add("/admin/users", "Users")
		add("/admin/teams", "Teams")
	}
	if v.User.Role.Can(access.ManageCases) {
		add("/admin/reasons", "Contact reasons")
		add("/admin/canned", "Canned responses")
		add("/admin/sla", "SLA policies")
	}
	if v.User.Role.Can(access.ManageContactPoint) {
		add("/admin/contact-points", "Contact points & channels")
	}
	if v.User.Role.Can(access.ManageWebhooks) {
		add("/admin/webhooks", "Webhooks")
	}
	return out
}

// doneMessages are the confirmations a redirect after a form may ask for.
var doneMessages = map[string]string{
	"created": "Added.",
	"saved":   "Saved.",
}

// actorOf names the viewer in the audit log as the access service expects.
func actorOf(v *viewer) string { return v.Session.Principal().Actor() }

// renderStatus renders a page with a status other than 200.
func (d *Desk) renderStatus(w http.ResponseWriter, r *http.Request, name string, v *viewer, status int, data map[string]any) {
	if status != http.StatusOK {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
	}
	d.render(w, r, name, v, data)
}

// problemOf says what a domain error means to the person filling in a form,
// with its status; 0 when the error is a failure of ours, not of the input.
func problemOf(err error) (int, string) {
	var inv *errs.Invalid
	switch {
	case errors.As(err, &inv):
		if inv.Field == "" {
			return http.StatusUnprocessableEntity, inv.Reason
		}
		return http.StatusUnprocessableEntity, fieldLabel(inv.Field) + ": " + inv.Reason
	case errors.Is(err, errs.ErrConflict):
		return http.StatusConflict, strings.TrimSuffix(err.Error(), ": "+errs.ErrConflict.Error())
	case errors.Is(err, errs.ErrNotFound):
		return http.StatusNotFound, "Not found: " + strings.TrimSuffix(err.Error(), ": "+errs.ErrNotFound.Error())
	case errors.Is(err, errs.ErrForbidden):
		return http.StatusForbidden, err.Error()
	}
	return 0, ""
}

// fieldLabel names a field of the domain as the forms do.
func fieldLabel(field string) string {
	known := map[string]string{"team_id": "Team", "calendar_id": "Calendar", "first_response_s": "First response",
		"next_response_s": "Next response", "resolution_s": "Resolution", "warn_percent": "Warning at", "customer_id": "Customer"}
	if l, ok := known[field]; ok {
		return l
	}
	if field == "" {
		return ""
	}
	s := strings.ReplaceAll(field, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// formFailed shows a form's page again with the problem, or the error page
// when the failure is ours.
func (d *Desk) formFailed(w http.ResponseWriter, r *http.Request, v *viewer, err error, show func(status int, data map[string]any)) {
	status, msg := problemOf(err)
	if status == 0 {
		d.fail(w, r, v, err)
		return
	}
	show(status, map[string]any{"Error": msg})
}

// optionalID reads a form field holding an id or nothing.
func optionalID(r *http.Request, field string) (*id.ID, error) {
	s := strings.TrimSpace(r.PostFormValue(field))
	if s == "" {
		return nil, nil
	}
	v, err := id.Parse(s)
	if err != nil {
		return nil, errs.Invalidf(field, "is not one of the choices")
	}
	return &v, nil
}

func (d *Desk) adminIndex(w http.ResponseWriter, r *http.Request, v *viewer) {
	nav := adminNav(v, "")
	if len(nav) == 0 {
		d.renderStatus(w, r, "error", v, http.StatusForbidden, map[string]any{"Title": "Not allowed",
			"Message": "Your role (" + string(v.User.Role) + ") may not open this page."})
		return
	}
	http.Redirect(w, r, nav[0].Href, http.StatusSeeOther)
}

// ---- Users ----

// userRoles are the roles a person can have (integration is for API tokens).
var userRoles = []access.Role{access.Admin, access.Supervisor, access.Agent, access.Staff, access.Analyst}

// roleHelp says in a line what each role is for.
var roleHelp = []choice{
	{string(access.Admin), "everything, including users, teams and contact points"},
	{string(access.Supervisor), "runs the contact center: cases, merges, reasons, SLA policies"},
	{string(access.Agent), "serves customers in the desk"},
	{string(access.Staff), "store, field, billing and collections staff: the staff view"},
	{string(access.Analyst), "reads everything, changes nothing"},
}

type userRow struct {
	User  *access.User
	Teams []string
}

// newUser is the add-a-user form as sent, shown again after a problem.
type newUser struct{ Email, Name, Role string }

func (d *Desk) adminUsers(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.showUsers(w, r, v, http.StatusOK, map[string]any{"Done": doneMessages[r.URL.Query().Get("done")]})
}

func (d *Desk) showUsers(w http.ResponseWriter, r *http.Request, v *viewer, status int, data map[string]any) {
	ctx := r.Context()
	users, err := d.Access.ListUsers(ctx)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	teams, err := d.Access.ListTeams(ctx)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	names := map[id.ID][]string{}
	for _, t := range teams {
		for _, m := range t.Members {
			names[m] = append(names[m], t.Name)
		}
	}
	rows := make([]userRow, 0, len(users))
	for _, u := range users {
		rows = append(rows, userRow{User: u, Teams: names[u.ID]})
	}
	if data["New"] == nil {
		data["New"] = newUser{Role: string(access.Agent)}
	}
	data["Users"] = rows
	data["Roles"] = userRoles
	data["RoleHelp"] = roleHelp
	data["MinPassword"] = access.MinPasswordLength
	data["AdminNav"] = adminNav(v, "/admin/users")
	d.renderStatus(w, r, "admin_users", v, status, data)
}

func (d *Desk) adminCreateUser(w http.ResponseWriter, r *http.Request, v *viewer) {
	nu := newUser{Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Role: strings.TrimSpace(r.PostFormValue("role"))}
	again := func(status int, msg string) {
		d.showUsers(w, r, v, status, map[string]any{"Error": msg, "New": nu})
	}
	role, ok := access.ParseRole(nu.Role)
	if !ok || role == access.Integration {
		again(http.StatusUnprocessableEntity, "Role: choose one of admin, supervisor, agent, staff or analyst.")
		return
	}
	if _, err := d.Access.CreateUser(r.Context(), nu.Email, nu.Name, role, r.PostFormValue("password"), actorOf(v)); err != nil {
		status, msg := problemOf(err)
		if status == 0 {
			d.fail(w, r, v, err)
			return
		}
		again(status, msg)
		return
	}
	http.Redirect(w, r, "/admin/users?done=created", http.StatusSeeOther)
}

// changedFields reads a form whose fields come with the value they had when
// the page was drawn (orig_<field>): only the fields changed since are
// applied, so that another administrator's change to another field stays.
func changedFields(r *http.Request) func(field string) (string, bool) {
	return func(field string) (string, bool) {
		if _, sent := r.PostForm[field]; !sent {
			return "", false
		}
		val := strings.TrimSpace(r.PostForm.Get(field))
		return val, val != strings.TrimSpace(r.PostForm.Get("orig_"+field))
	}
}

func (d *Desk) adminUpdateUser(w http.ResponseWriter, r *http.Request, v *viewer) {
	userID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		d.fail(w, r, v, errInvalid("form", "could not be read"))
		return
	}
	show := func(status int, data map[string]any) { d.showUsers(w, r, v, status, data) }
	changed := changedFields(r)
	var up access.UserUpdate
	if val, ok := changed("name"); ok {
		up.Name = &val
	}
	if val, ok := changed("role"); ok {
		role, known := access.ParseRole(val)
		if !known || role == access.Integration {
			show(http.StatusUnprocessableEntity, map[string]any{"Error": "Role: choose one of admin, supervisor, agent, staff or analyst."})
			return
		}
		up.Role = &role
	}
	if val, ok := changed("status"); ok {
		if val != "active" && val != "disabled" {
			show(http.StatusUnprocessableEntity, map[string]any{"Error": "Status: choose active or disabled."})
			return
		}
		disabled := val == "disabled"
		up.Disabled = &disabled
	}
	u, err := d.Access.UpdateUser(r.Context(), userID, up, actorOf(v))
	if err != nil {
		d.formFailed(w, r, v, err, show)
		return
	}
	if u.ID == v.User.ID && (u.Disabled || !u.Role.Can(access.ManageAccess)) {
		// The administrator took their own access away: this page is closed to them now.
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/admin/users?done=saved", http.StatusSeeOther)
}

// ---- Teams ----

type teamRow struct {
	Team    *access.Team
	Members []string
}

func (d *Desk) adminTeams(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.showTeams(w, r, v, http.StatusOK, map[string]any{"Done": doneMessages[r.URL.Query().Get("done")]})
}

func (d *Desk) showTeams(w http.ResponseWriter, r *http.Request, v *viewer, status int, data map[string]any) {
	ctx := r.Context()
	teams, err := d.Access.ListTeams(ctx)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	users, err := d.Access.ListUsers(ctx)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	byID := map[id.ID]*access.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	rows := make([]teamRow, 0, len(teams))
	for _, t := range teams {
		row := teamRow{Team: t}
		for _, m := range t.Members {
			if u := byID[m]; u != nil {
				row.Members = append(row.Members, u.Name)
			}
		}
		rows = append(rows, row)
	}
	data["Teams"] = rows
	data["Users"] = users
	data["AdminNav"] = adminNav(v, "/admin/teams")
	d.renderStatus(w, r, "admin_teams", v, status, data)
}

func (d *Desk) adminCreateTeam(w http.ResponseWriter, r *http.Request, v *viewer) {
	name, description := r.PostFormValue("name"), r.PostFormValue("description")
	if _, err := d.Access.CreateTeam(r.Context(), name, description, actorOf(v)); err != nil {
		d.formFailed(w, r, v, err, func(status int, data map[string]any) {
			data["NewName"], data["NewDescription"] = name, description
			d.showTeams(w, r, v, status, data)
		})
		return
	}
	http.Redirect(w, r, "/admin/teams?done=created", http.StatusSeeOther)
}

func (d *Desk) adminUpdateTeam(w http.ResponseWriter, r *http.Request, v *viewer) {
	teamID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		d.fail(w, r, v, errInvalid("form", "could not be read"))
		return
	}
	show := func(status int, data map[string]any) { d.showTeams(w, r, v, status, data) }
	// Check the members first, so that a bad list changes nothing.
	var members []id.ID
	_, withMembers := r.PostForm["members_present"]
	for _, s := range r.PostForm["member"] {
		m, err := id.Parse(s)
		if err != nil {
			show(http.StatusUnprocessableEntity, map[string]any{"Error": "Members: tick users from the list."})
			return
		}
		members = append(members, m)
	}
	ctx := r.Context()
	if _, err := d.Access.UpdateTeam(ctx, teamID, r.PostForm.Get("name"), r.PostForm.Get("description"), actorOf(v)); err != nil {
		d.formFailed(w, r, v, err, show)
		return
	}
	if withMembers {
		if _, err := d.Access.SetTeamMembers(ctx, teamID, members, actorOf(v)); err != nil {
			d.formFailed(w, r, v, err, show)
			return
		}
	}
	http.Redirect(w, r, "/admin/teams?done=saved", http.StatusSeeOther)
}

// ---- Contact reasons ----

func (d *Desk) adminReasons(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.showReasons(w, r, v, http.StatusOK, map[string]any{"Done": doneMessages[r.URL.Query().Get("done")]})
}

func (d *Desk) showReasons(w http.ResponseWriter, r *http.Request, v *viewer, status int, data map[string]any) {
	reasons, err := d.Cases.Reasons(r.Context(), true)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if data["New"] == nil {
		data["New"] = cases.Reason{}
	}
	data["Reasons"] = reasons
	data["AdminNav"] = adminNav(v, "/admin/reasons")
	d.renderStatus(w, r, "admin_reasons", v, status, data)
}

func (d *Desk) adminSaveReason(w http.ResponseWriter, r *http.Request, v *viewer) {
	ctx := r.Context()
	rs := cases.Reason{Code: strings.TrimSpace(r.PostFormValue("code")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Description: strings.TrimSpace(r.PostFormValue("description")), Disabled: r.PostFormValue("status") == "disabled"}
	isNew := r.PostFormValue("new") == "1"
	show := func(status int, data map[string]any) {
		if isNew {
			data["New"] = rs
		}
		d.showReasons(w, r, v, status, data)
	}
	if s := strings.TrimSpace(r.PostFormValue("position")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1_000_000 {
			show(http.StatusUnprocessableEntity, map[string]any{"Error": "Position: give a whole number from 0 (first)."})
			return
		}
		rs.Position = n
	}
	if isNew {
		// Saving by code replaces; adding must not overwrite a reason by accident.
		all, err := d.Cases.Reasons(ctx, true)
		if err != nil {
			d.fail(w, r, v, err)
			return
		}
		if slices.ContainsFunc(all, func(o cases.Reason) bool { return o.Code == rs.Code }) {
			show(http.StatusConflict, map[string]any{"Error": "A reason with the code " + rs.Code + " exists; change it in the list instead."})
			return
		}
	}
	if _, err := d.Cases.SaveReason(ctx, rs); err != nil {
		d.formFailed(w, r, v, err, show)
		return
	}
	done := "saved"
	if isNew {
		done = "created"
	}
	http.Redirect(w, r, "/admin/reasons?done="+done, http.StatusSeeOther)
}

// ---- Canned responses ----

type cannedRow struct {
	C    *cases.Canned
	Team string
}

func (d *Desk) adminCanned(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.showCanned(w, r, v, http.StatusOK, map[string]any{"Done": doneMessages[r.URL.Query().Get("done")]})
}

func (d *Desk) showCanned(w http.ResponseWriter, r *http.Request, v *viewer, status int, data map[string]any) {
	ctx := r.Context()
	list, err := d.Cases.CannedResponses(ctx)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	teams, teamNames, err := d.teams(ctx)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	rows := make([]cannedRow, 0, len(list))
	for _, c := range list {
		row := cannedRow{C: c}
		if c.TeamID != nil {
			row.Team = teamNames[*c.TeamID]
		}
		rows = append(rows, row)
	}
	vars := make([]string, len(cases.CannedVariables))
	for i, name := range cases.CannedVariables {
		vars[i] = "{{" + name + "}}"
	}
	if data["New"] == nil {
		data["New"] = cases.Canned{}
	}
	data["Canned"] = rows
	data["Teams"] = teams
	data["Variables"] = vars
	data["AdminNav"] = adminNav(v, "/admin/canned")
	d.renderStatus(w, r, "admin_canned", v, status, data)
}

func (d *Desk) adminSaveCanned(w http.ResponseWriter, r *http.Request, v *viewer) {
	c := cases.Canned{Name: r.PostFormValue("name"), Shortcut: r.PostFormValue("shortcut"),
		Body: strings.ReplaceAll(r.PostFormValue("body"), "\r\n", "\n")}
	show := func(status int, data map[string]any) {
		if c.ID == 0 {
			data["New"] = c
		}
		d.showCanned(w, r, v, status, data)
	}
	cid, err := optionalID(r, "id")
	if err != nil {
		d.formFailed(w, r, v, err, show)
		return
	}
	if cid != nil {
		c.ID = *cid
	}
	if c.TeamID, err = optionalID(r, "team_id"); err != nil {
		d.formFailed(w, r, v, err, show)
		return
	}
	if _, err := d.Cases.SaveCanned(r.Context(), v.actor(), c); err != nil {
		d.formFailed(w, r, v, err, show)
		return
	}
	done := "saved"
	if cid == nil {
		done = "created"
	}
	http.Redirect(w, r, "/admin/canned?done="+done, http.StatusSeeOther)
}

// ---- SLA policies and calendars ----

type policyRow struct {
	P                                     *cases.Policy
	Team, Calendar, First, Next, Resolved string
}

type calendarRow struct {
	C        *cases.Calendar
	Week     []string
	Holidays int
}

// dayOrder is the order days are listed in.
var dayOrder = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// targetText writes an SLA target for people: "45 min", "8 h", "2 h 30 min".
func targetText(s cases.Seconds) string {
	if s <= 0 {
		return "no target"
	}
	m := int64(s) / 60
	switch {
	case m == 0:
		return itoa(int64(s)) + " s"
	case m < 60:
		return itoa(m) + " min"
	case m%60 == 0:
		return itoa(m/60) + " h"
	}
	return itoa(m/60) + " h " + itoa(m%60) + " min"
}

// newPolicy is the add-a-policy form as sent, shown again after a problem.
type newPolicy struct {
	Name, Priority, TeamID, CalendarID, FirstMinutes, NextMinutes, ResolutionHours, WarnPercent string
}

func (d *Desk) adminSLA(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.showSLA(w, r, v, http.StatusOK, map[string]any{"Done": doneMessages[r.URL.Query().Get("done")]})
}

func (d *Desk) showSLA(w http.ResponseWriter, r *http.Request, v *viewer, status int, data map[string]any) {
	ctx := r.Context()
	policies, err := d.Cases.Policies(ctx)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	calendars, err := d.Cases.Calendars(ctx)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	teams, teamNames, err := d.teams(ctx)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	calNames := map[id.ID]string{}
	var cals []calendarRow
	for _, c := range calendars {
		calNames[c.ID] = c.Name
		row := calendarRow{C: c, Holidays: len(c.Holidays)}
		for _, day := range dayOrder {
			if spans, ok := c.Week[day]; ok && spans != "" {
				row.Week = append(row.Week, day+" "+spans)
			}
		}
		cals = append(cals, row)
	}
	var rows []policyRow
	for _, p := range policies {
		row := policyRow{P: p, Team: "any team", Calendar: "around the clock", First: targetText(p.FirstResponse),
			Next: targetText(p.NextResponse), Resolved: targetText(p.Resolution)}
		if p.TeamID != nil {
			row.Team = teamNames[*p.TeamID]
		}
		if p.CalendarID != nil {
			row.Calendar = calNames[*p.CalendarID]
		}
		rows = append(rows, row)
	}
	if data["New"] == nil {
		data["New"] = newPolicy{WarnPercent: "80"}
	}
	data["Policies"] = rows
	data["Calendars"] = cals
	data["Teams"] = teams
	data["Priorities"] = cases.Priorities
	data["AdminNav"] = adminNav(v, "/admin/sla")
	d.renderStatus(w, r, "admin_sla", v, status, data)
}

func (d *Desk) adminSavePolicy(w http.ResponseWriter, r *http.Request, v *viewer) {
	f := newPolicy{Name: strings.TrimSpace(r.PostFormValue("name")), Priority: strings.TrimSpace(r.PostFormValue("priority")),
		TeamID: r.PostFormValue("team_id"), CalendarID: r.PostFormValue("calendar_id"),
		FirstMinutes: strings.TrimSpace(r.PostFormValue("first_minutes")), NextMinutes: strings.TrimSpace(r.PostFormValue("next_minutes")),
		ResolutionHours: strings.TrimSpace(r.PostFormValue("resolution_hours")), WarnPercent: strings.TrimSpace(r.PostFormValue("warn_percent"))}
	show := func(status int, data map[string]any) {
		data["New"] = f
		d.showSLA(w, r, v, status, data)
	}
	bad := func(msg string) { show(http.StatusUnprocessableEntity, map[string]any{"Error": msg}) }
	// number reads a whole number from 0 to max ("" is 0: no target).
	number := func(s string, max int64) (int64, bool) {
		if s == "" {
			return 0, true
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil && n >= 0 && n <= max
	}
	const yearMinutes = 366 * 24 * 60
	p := cases.Policy{Name: f.Name, Priority: f.Priority}
	first, ok1 := number(f.FirstMinutes, yearMinutes)
	next, ok2 := number(f.NextMinutes, yearMinutes)
	res, ok3 := number(f.ResolutionHours, yearMinutes/60)
	warn, ok4 := number(f.WarnPercent, 99)
	switch {
	case !ok1:
		bad("First response: give whole minutes, at most a year (empty for no target).")
		return
	case !ok2:
		bad("Next response: give whole minutes, at most a year (empty for no target).")
		return
	case !ok3:
		bad("Resolution: give whole hours, at most a year (empty for no target).")
		return
	case !ok4:
		bad("Warning at: give a percentage from 1 to 99 (empty for 80).")
		return
	}
	p.FirstResponse, p.NextResponse, p.Resolution = cases.Seconds(first*60), cases.Seconds(next*60), cases.Seconds(res*3600)
	p.WarnPercent = int(warn)
	var err error
	if p.TeamID, err = optionalID(r, "team_id"); err != nil {
		d.formFailed(w, r, v, err, show)
		return
	}
	if p.CalendarID, err = optionalID(r, "calendar_id"); err != nil {
		d.formFailed(w, r, v, err, show)
		return
	}
	if _, err := d.Cases.SavePolicy(r.Context(), p); err != nil {
		d.formFailed(w, r, v, err, show)
		return
	}
	http.Redirect(w, r, "/admin/sla?done=created", http.StatusSeeOther)
}
