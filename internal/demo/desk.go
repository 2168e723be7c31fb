package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// The desk: what a contact center sets up before its first case arrives —
// the contact-reason taxonomy, teams, business hours, SLA policies and
// canned responses. Everything is found again by its code or name, so that
// an interrupted Fill may run again.

// reasonDefs is Voltmart's contact-reason taxonomy. It holds every code the
// demo's interactions carry (a reason missing here would be dropped from
// the cases) and a few more an agent may pick by hand. Positions group them
// as the desk lists them: before the purchase, the order and its delivery,
// after-sales, money, the account, and how the customer feels about it.
var reasonDefs = []cases.Reason{
	{Code: reasonProduct, Name: "Product question", Description: "Features, compatibility, what is in the box, stock."},
	{Code: reasonPriceMatch, Name: "Price match", Description: "The customer saw the product cheaper elsewhere."},
	{Code: reasonStoreHours, Name: "Store hours and locations", Description: "Opening hours, directions, parking."},
	{Code: reasonShippingCharges, Name: "Shipping charges", Description: "What delivery costs; the web shop does not show it before checkout."},
	{Code: reasonDeliveryTime, Name: "Delivery time", Description: "How long delivery takes; the web shop does not show it before checkout."},
	{Code: reasonFinancing, Name: "Financing", Description: "Paying in instalments with Voltmart Credit."},
	{Code: reasonOrderStatus, Name: "Order status", Description: "Where an order is, tracking, expected delivery date."},
	{Code: "order_cancellation", Name: "Order cancellation", Description: "Cancelling or changing an order before it ships."},
	{Code: "delivery_problem", Name: "Delivery problem", Description: "Something went wrong with a delivery that arrived, or did not."},
	{Code: "delivery_problem.damaged", Name: "Delivered damaged", Description: "The product or its packaging arrived damaged."},
	{Code: "delivery_problem.missing", Name: "Missing or incomplete delivery", Description: "Marked delivered but not received, or parts missing."},
	{Code: reasonReturn, Name: "Return or exchange", Description: "Returning or exchanging a product within the return window."},
	{Code: "refund", Name: "Refund", Description: "A refund that is due, late, or for the wrong amount."},
	{Code: reasonWarranty, Name: "Warranty claim", Description: "A fault within the warranty period: replacement or repair."},
	{Code: reasonRepair, Name: "Repair", Description: "A technician visit for a faulty appliance."},
	{Code: reasonInstallation, Name: "Installation booking", Description: "Booking or moving an installation appointment."},
	{Code: reasonBilling, Name: "Billing question", Description: "A charge, an invoice or a statement the customer does not understand."},
	{Code: reasonOverdue, Name: "Overdue payment", Description: "Reminders and collections for an overdue statement."},
	{Code: "payment_plan", Name: "Payment plan", Description: "Spreading an overdue balance over several months."},
	{Code: reasonLogin, Name: "Account and sign-in", Description: "Signing in to the web shop or the app, password resets, account details."},
	{Code: reasonComplaint, Name: "Complaint", Description: "The customer is unhappy with the service, a delivery or a product."},
	{Code: "feedback", Name: "Feedback and suggestions", Description: "Praise, ideas and suggestions that need no action."},
}

// Teams of the demo.
const (
	teamSupport     = "Support"
	teamBilling     = "Billing & Collections"
	teamField       = "Field Service"
	teamStores      = "Stores"
	calendarName    = "Voltmart contact center hours"
	calendarZone    = "America/New_York"
	policyBillingHi = "Billing & Collections: high"
)

// teamDefs are the demo's teams and the sign-ins (by email) on them.
var teamDefs = []struct {
	name, description string
	members           []string
}{
	{teamSupport, "The call center: phone, email, chat, messaging and social, in three countries.",
		[]string{"agent@demo.example", "agent2@demo.example", "agent3@demo.example", "supervisor@demo.example"}},
	{teamBilling, "Statements, refunds, financing, overdue accounts and payment plans.",
		[]string{"supervisor@demo.example", "agent2@demo.example"}},
	{teamField, "Dispatch of the delivery crews and the installation and repair technicians.",
		[]string{"agent3@demo.example", "supervisor@demo.example"}},
	{teamStores, "The staff of the Main Street, Harbour Mall and Airport stores.",
		[]string{"staff@demo.example", "supervisor@demo.example"}},
}

// businessHour is an hour of business time; SLA targets count only the
// hours the contact center is open. A business day is the 12 hours of a
// weekday (08:00-20:00).
const (
	businessHour = cases.Seconds(3600)
	businessDay  = 12 * businessHour
)

// policyDefs are the SLA policies, most specific last. Targets are in
// business time of the contact center calendar.
var policyDefs = []struct {
	name, priority, team  string
	first, next, resolved cases.Seconds
}{
	{"Urgent", "urgent", "", 1 * businessHour, 1 * businessHour, 8 * businessHour},
	{"High", "high", "", 4 * businessHour, 4 * businessHour, 24 * businessHour},
	{"Normal", "normal", "", 8 * businessHour, 8 * businessHour, 3 * businessDay},
	{"Low", "low", "", 24 * businessHour, 24 * businessHour, 7 * businessDay},
	// Money troubles do not wait: a tighter target for billing cases of high priority.
	{policyBillingHi, "high", teamBilling, 2 * businessHour, 2 * businessHour, 12 * businessHour},
}

// cannedDefs are the canned responses; team "" is for everyone.
var cannedDefs = []struct {
	name, shortcut, team, body string
}{
	{"Shipping charges", "shipping", "", `Hi {{customer.first_name}},

thank you for asking before you order. Shipping: {{fact "shipping.fee"}}. TVs and large appliances come with our two-person delivery crew, carried to the room of your choice and the packaging taken away.

Kind regards,
{{agent.name}}
Voltmart customer service`},
	{"Delivery times", "delivery", "", `Hi {{customer.first_name}},

parcels arrive in 3 to 5 working days in the US, 2 to 4 in the UK and 2 to 3 in Germany. TVs and large appliances are delivered by our own crews in 5 to 10 working days; the crew calls the day before to agree on a two-hour window.

Kind regards,
{{agent.name}}
Voltmart customer service`},
	{"Delivery charge refunded", "refund-delivery", "", `Hi {{customer.first_name}},

I am sorry that your delivery arrived late, and that our checkout did not show you the delivery charge before you paid. I have refunded the delivery charge to your card; it will show on your statement within 3 to 5 working days.

If anything else comes up, just reply to this message and quote case {{case.id}}.

Kind regards,
{{agent.name}}
Voltmart customer service`},
	{"Repair booking", "repair", teamField, `Hi {{customer.first_name}},

I have booked a technician visit for your appliance. The technician calls you 30 minutes before arriving; please have the model number and your receipt at hand. Repairs within the warranty period cost nothing.

Your case number is {{case.id}}.

Kind regards,
{{agent.name}}
Voltmart Field Service`},
	{"Payment plan offer", "plan", teamBilling, `Hello {{customer.first_name}},

we noticed that your last statement is still open. If paying it at once is difficult right now, we can spread the balance over 3 or 6 monthly payments without extra charges. Reply to this message or call us to agree on a plan, quoting case {{case.id}}.

Kind regards,
{{agent.name}}
Voltmart Billing & Collections`},
	{"Return label", "return", "", `Hi {{customer.first_name}},

you can return your purchase within 30 days. I have sent you a prepaid return label by email; alternatively bring the product to any Voltmart store. The refund goes out as soon as we receive it.

Kind regards,
{{agent.name}}
Voltmart customer service`},
	{"We are on it", "ack", "", `Hi {{customer.first_name}},

thank you for getting in touch. Your request is case {{case.id}}; I am looking into it and will get back to you by the end of the next working day at the latest.

Kind regards,
{{agent.name}}
Voltmart customer service`},
}

// desk holds what setUpDesk made or found.
type desk struct {
	teams  map[string]id.ID // by name
	canned map[string]*cases.Canned
}

// setUpDesk makes the taxonomy, the teams (without members: the sign-ins
// are still being made), the calendar, the SLA policies and the canned
// responses, finding what an earlier run made.
func setUpDesk(ctx context.Context, s *app.Services, now time.Time) (*desk, error) {
	d := &desk{teams: map[string]id.ID{}, canned: map[string]*cases.Canned{}}
	have, err := s.Cases.Reasons(ctx, true)
	if err != nil {
		return nil, err
	}
	known := map[string]cases.Reason{}
	for _, r := range have {
		known[r.Code] = r
	}
	for i, r := range reasonDefs {
		r.Position = (i + 1) * 10
		if old, ok := known[r.Code]; ok && old == r {
			continue
		}
		if _, err := s.Cases.SaveReason(ctx, r); err != nil {
			return nil, fmt.Errorf("saving contact reason %s: %w", r.Code, err)
		}
	}

	if err := ensureTeams(ctx, s.Access, d.teams); err != nil {
		return nil, err
	}

	cal, err := ensureCalendar(ctx, s.Cases, now)
	if err != nil {
		return nil, err
	}
	pols, err := s.Cases.Policies(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]bool{}
	for _, p := range pols {
		byName[p.Name] = true
	}
	for _, pd := range policyDefs {
		if byName[pd.name] {
			continue
		}
		p := cases.Policy{Name: pd.name, Priority: pd.priority, CalendarID: &cal.ID, FirstResponse: pd.first,
			NextResponse: pd.next, Resolution: pd.resolved, WarnPercent: 80}
		if pd.team != "" {
			t := d.teams[pd.team]
			p.TeamID = &t
		}
		if _, err := s.Cases.SavePolicy(ctx, p); err != nil {
			return nil, fmt.Errorf("saving SLA policy %q: %w", pd.name, err)
		}
	}

	canned, err := s.Cases.CannedResponses(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range canned {
		d.canned[c.Name] = c
	}
	for _, cd := range cannedDefs {
		if _, ok := d.canned[cd.name]; ok {
			continue
		}
		c := cases.Canned{Name: cd.name, Shortcut: cd.shortcut, Body: cd.body}
		if cd.team != "" {
			t := d.teams[cd.team]
			c.TeamID = &t
		}
		saved, err := s.Cases.SaveCanned(ctx, cases.Actor{Name: "Ada Admin"}, c)
		if err != nil {
			return nil, fmt.Errorf("saving canned response %q: %w", cd.name, err)
		}
		d.canned[cd.name] = saved
	}
	return d, nil
}

// ensureTeams creates the teams that do not exist yet and fills ids by name.
func ensureTeams(ctx context.Context, svc *access.Service, ids map[string]id.ID) error {
	list := func() error {
		teams, err := svc.ListTeams(ctx)
		if err != nil {
			return err
		}
		for _, t := range teams {
			ids[strings.ToLower(t.Name)] = t.ID
		}
		return nil
	}
	if err := list(); err != nil {
		return err
	}
	for _, td := range teamDefs {
		if tid, ok := ids[strings.ToLower(td.name)]; ok {
			ids[td.name] = tid
			continue
		}
		t, err := svc.CreateTeam(ctx, td.name, td.description, "demo")
		if errors.Is(err, errs.ErrConflict) {
			if err := list(); err != nil {
				return err
			}
			ids[td.name] = ids[strings.ToLower(td.name)]
			continue
		}
		if err != nil {
			return fmt.Errorf("creating team %q: %w", td.name, err)
		}
		ids[td.name] = t.ID
	}
	return nil
}

// setTeamMembers puts the sign-ins on their teams, once they exist.
func setTeamMembers(ctx context.Context, svc *access.Service, d *desk, users map[string]id.ID) error {
	for _, td := range teamDefs {
		var members []id.ID
		for _, email := range td.members {
			if uid, ok := users[email]; ok {
				members = append(members, uid)
			}
		}
		if _, err := svc.SetTeamMembers(ctx, d.teams[td.name], members, "demo"); err != nil {
			return fmt.Errorf("setting the members of team %q: %w", td.name, err)
		}
	}
	return nil
}

// ensureCalendar finds or makes the contact center's business hours: Monday
// to Friday 08:00-20:00 and Saturday 09:00-14:00 in New York, closed on the
// main US public holidays of the years around now.
func ensureCalendar(ctx context.Context, svc *cases.Service, now time.Time) (*cases.Calendar, error) {
	cals, err := svc.Calendars(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cals {
		if c.Name == calendarName {
			return c, nil
		}
	}
	week := map[string]string{"mon": "08:00-20:00", "tue": "08:00-20:00", "wed": "08:00-20:00", "thu": "08:00-20:00",
		"fri": "08:00-20:00", "sat": "09:00-14:00"}
	var holidays []string
	for y := now.Year() - 1; y <= now.Year()+1; y++ {
		for _, d := range usHolidays(y) {
			holidays = append(holidays, d.Format(time.DateOnly))
		}
	}
	c, err := svc.SaveCalendar(ctx, cases.Calendar{Name: calendarName, Timezone: calendarZone, Week: week, Holidays: holidays})
	var inv *errs.Invalid
	if errors.As(err, &inv) && inv.Field == "timezone" {
		// No time zone database on this machine: the same hours in UTC.
		c, err = svc.SaveCalendar(ctx, cases.Calendar{Name: calendarName, Timezone: "UTC", Week: week, Holidays: holidays})
	}
	if errors.Is(err, errs.ErrConflict) {
		return ensureCalendar(ctx, svc, now)
	}
	if err != nil {
		return nil, fmt.Errorf("saving the business-hours calendar: %w", err)
	}
	return c, nil
}

// usHolidays are the public holidays the contact center closes for:
// New Year's Day, Memorial Day, Independence Day, Labor Day, Thanksgiving
// and Christmas Day.
func usHolidays(y int) []time.Time {
	nth := func(month time.Month, wd time.Weekday, n int) time.Time {
		d := time.Date(y, month, 1, 0, 0, 0, 0, time.UTC)
		for d.Weekday() != wd {
			d = d.AddDate(0, 0, 1)
		}
		return d.AddDate(0, 0, 7*(n-1))
	}
	lastMonday := time.Date(y, time.June, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	for lastMonday.Weekday() != time.Monday {
		lastMonday = lastMonday.AddDate(0, 0, -1)
	}
	return []time.Time{
		time.Date(y, time.January, 1, 0, 0, 0, 0, time.UTC),
		lastMonday,
		time.Date(y, time.July, 4, 0, 0, 0, 0, time.UTC),
		nth(time.September, time.Monday, 1),
		nth(time.November, time.Thursday, 4),
		time.Date(y, time.December, 25, 0, 0, 0, 0, time.UTC),
	}
}
