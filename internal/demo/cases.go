package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// CasesKey is the settings key Fill writes when the demo's cases have been
// worked (resolved, assigned, answered); a resumed Fill does not work them twice.
const CasesKey = "demo.cases"

// recentCase is how long a case may stand untouched and still be open.
const recentCase = 10 * day

// caseRow is a demo case as the history left it.
type caseRow struct {
	id        id.ID
	customer  id.ID
	name      string // the customer's
	subject   string
	reason    string
	channel   string
	cp        id.ID
	created   time.Time
	updated   time.Time
	firstResp *time.Time
	lastOut   *time.Time
	key       cpKey       // the contact point that opened it, in the catalog
	inbound   []time.Time // the customer's contacts on the case, oldest first
}

// lastInbound is the customer's latest contact on the case.
func (r *caseRow) lastInbound() time.Time {
	if len(r.inbound) == 0 {
		return r.created
	}
	return r.inbound[len(r.inbound)-1]
}

// casePlan is what the desk does with a case.
type casePlan struct {
	row      *caseRow
	at       time.Time // when the desk last touched it
	status   string
	priority string
	team     string
	owner    string // sign-in email, "" for unassigned
	tags     []string
	reply    *interaction.Input
	notes    []plannedNote
	hero     bool
}

type plannedNote struct {
	author string // sign-in email
	body   string
	at     time.Time
}

// workCases gives the cases the history opened the life a busy contact
// center gives them: those untouched for more than ten days are resolved or
// closed, most recent ones stay open in every status, with priorities,
// teams, owners, tags, answers and internal notes; Grace's case comes first.
// The case service does the work, one step at a time in the order of the
// story, with its clock (clock) at the time of each step; the SLA job looks
// at the clocks before each step, so warnings and breaches fall where they
// did. The caller puts the wall clock back and lets the SLA job catch up.
func workCases(ctx context.Context, s *app.Services, d *desk, users map[string]id.ID, hero id.ID, cps []id.ID, opt Options, clock *storyClock) error {
	var v string
	err := s.DB.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", CasesKey).Scan(&v)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reading %s: %w", CasesKey, err)
	}
	rows, err := readCases(ctx, s.DB)
	if err != nil {
		return err
	}
	now := opt.Now.UTC()
	names := map[string]string{}
	for _, si := range demoSignIns {
		names[si.Email] = si.Name
	}
	keyOf := map[id.ID]cpKey{}
	for k, cp := range cps {
		keyOf[cp] = cpKey(k)
	}
	var plans []*casePlan
	var heroPlan *casePlan
	var latest time.Time // of the work on the other cases
	for _, row := range rows {
		row.key = numContactPoints
		if k, ok := keyOf[row.cp]; ok {
			row.key = k
		}
		if row.id == hero {
			heroPlan = planHero(row, cps, opt.Now)
			continue
		}
		p := planCase(row, opt.Seed, now, cps)
		plans = append(plans, p)
		latest = maxTime(latest, maxTime(p.at, row.updated))
	}
	shareStatuses(plans)
	if heroPlan != nil {
		// Grace's case is the one the agent sees first: its last note is
		// the desk's latest work.
		last := &heroPlan.notes[len(heroPlan.notes)-1]
		if !last.at.After(latest) {
			last.at = latest.Add(time.Second)
			if last.at.After(now) {
				last.at = latest.Add(time.Microsecond)
			}
		}
		heroPlan.at = last.at.Add(-2 * time.Minute)
		plans = append(plans, heroPlan)
	}

	// The steps, in the order they happened.
	type step struct {
		at time.Time
		do func() error
	}
	var steps []step
	for _, p := range plans {
		if p.reply != nil {
			p.reply.StaffName = names[p.replier()]
			if uid, ok := users[p.replier()]; ok {
				p.reply.StaffID = &uid
			}
			p.reply.Content = cases.RenderCanned(p.reply.Content, cases.CannedVars(&cases.Case{ID: p.row.id, Subject: p.row.subject},
				p.row.name, p.reply.StaffName))
			steps = append(steps, step{p.reply.OccurredAt, p.sendReply(ctx, s, users)})
		}
		if cases.IsOpen(p.status) {
			steps = append(steps, step{p.at, func() error { return p.carryOut(ctx, s.Cases, d, users, names, true, true) }})
		} else {
			// Triaged when it was first looked at, resolved later.
			steps = append(steps, step{p.triagedAt(), func() error { return p.carryOut(ctx, s.Cases, d, users, names, true, false) }},
				step{p.at, func() error { return p.carryOut(ctx, s.Cases, d, users, names, false, true) }})
		}
		for _, n := range p.notes {
			steps = append(steps, step{n.at, func() error { return addNote(ctx, s.Cases, users, names, p.row.id, n) }})
		}
	}
	slices.SortStableFunc(steps, func(a, b step) int { return a.at.Compare(b.at) })
	for _, st := range steps {
		clock.set(st.at)
		if err := catchUpSLA(ctx, s.Cases); err != nil {
			return err
		}
		if err := st.do(); err != nil {
			return err
		}
	}
	clock.set(now)
	if err := catchUpSLA(ctx, s.Cases); err != nil {
		return err
	}
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", CasesKey,
			fmt.Sprintf(`{"cases":%d,"worked_at":%q}`, len(plans), time.Now().UTC().Format(time.RFC3339)))
		return err
	})
}

// catchUpSLA runs the SLA job until a round changes no case's SLA state
// (a round looks at up to 500 due cases; a step of the story makes few due).
func catchUpSLA(ctx context.Context, svc *cases.Service) error {
	for range 100 {
		n, err := svc.CheckSLA(ctx)
		if err != nil {
			return fmt.Errorf("checking the SLA clocks of the demo cases: %w", err)
		}
		if n == 0 {
			return nil
		}
	}
	return nil
}

// readCases reads the cases not worked yet and the times of their contacts.
func readCases(ctx context.Context, db *store.DB) ([]*caseRow, error) {
	// Every worked case has a team: a Fill that stopped while working the
	// cases goes on with those it had not reached.
	rs, err := db.Query(ctx, `SELECT c.id, c.customer_id, COALESCE(cu.name, ''), c.subject, c.reason, c.channel, c.contact_point_id,
		c.created_at, c.updated_at, c.first_response_at, c.last_outbound_at
		FROM cases c LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.merged_into IS NULL AND c.team_id IS NULL
		ORDER BY c.created_at, c.id`)
	if err != nil {
		return nil, fmt.Errorf("reading the demo cases: %w", err)
	}
	defer rs.Close()
	var out []*caseRow
	byID := map[id.ID]*caseRow{}
	for rs.Next() {
		r := &caseRow{}
		var cp, firstResp, lastOut sql.NullInt64
		var created, updated int64
		if err := rs.Scan(&r.id, &r.customer, &r.name, &r.subject, &r.reason, &r.channel, &cp, &created, &updated,
			&firstResp, &lastOut); err != nil {
			return nil, err
		}
		r.cp, r.created, r.updated = id.ID(cp.Int64), time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
		r.firstResp, r.lastOut = optMicros(firstResp), optMicros(lastOut)
		out = append(out, r)
		byID[r.id] = r
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	rs.Close()
	in, err := db.Query(ctx, "SELECT case_id, occurred_at FROM interactions WHERE case_id IS NOT NULL AND direction = 'inbound' ORDER BY case_id, occurred_at")
	if err != nil {
		return nil, err
	}
	defer in.Close()
	for in.Next() {
		var c id.ID
		var at int64
		if err := in.Scan(&c, &at); err != nil {
			return nil, err
		}
		if r := byID[c]; r != nil {
			r.inbound = append(r.inbound, time.UnixMicro(at).UTC())
		}
	}
	return out, in.Err()
}

func optMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMicro(v.Int64).UTC()
	return &t
}

// caseRand is the random stream of one case, from what the seed made of it.
func caseRand(seed int64, r *caseRow) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%d|%d", r.subject, r.created.UnixMicro(), len(r.inbound))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// planCase decides what the desk did with a case.
func planCase(row *caseRow, seed int64, now time.Time, cps []id.ID) *casePlan {
	r := caseRand(seed, row)
	p := &casePlan{row: row, priority: priorityFor(r, row.reason), team: teamFor(row)}
	age := now.Sub(row.updated)
	open := false
	switch {
	case age > recentCase:
	case age < day:
		open = true
	case age < 3*day:
		open = r.Float64() < 0.9
	default:
		open = r.Float64() < 0.65
	}
	live := row.channel == "phone" || row.channel == "web_chat" || row.channel == "store" || row.channel == "kiosk"
	latest := now.Add(-2 * time.Minute)
	if !open {
		// Resolved: live contacts mostly on the spot, written ones after an answer.
		p.status = cases.Resolved
		if r.Float64() < 0.15 {
			p.status = cases.Closed
		}
		last := row.updated
		if !live && row.firstResp == nil {
			p.reply = answer(row, cps, squeeze(r, row.created.Add(jitter(r, 40*time.Minute, 7*time.Hour)), row.created, latest))
			last = maxTime(last, p.reply.OccurredAt)
		}
		wait := jitter(r, 15*time.Minute, 2*time.Hour)
		if r.Float64() < 0.3 {
			wait = jitter(r, 3*time.Hour, 40*time.Hour)
		}
		p.at = squeeze(r, last.Add(wait), last, latest)
		if r.Float64() < 0.9 {
			p.owner = ownerFor(r, p.team, row)
		}
		return p
	}
	// Open.
	responded := row.firstResp != nil
	if !responded && now.Sub(row.created) < 30*time.Hour && r.Float64() < 0.75 {
		p.status = cases.New
		if r.Float64() < 0.35 {
			p.owner = ownerFor(r, p.team, row)
		}
	} else {
		p.owner = ownerFor(r, p.team, row)
		if r.Float64() < 0.12 {
			p.owner = ""
		}
		lastOut := row.lastOut
		if !responded {
			at := row.created.Add(jitter(r, 25*time.Minute, 5*time.Hour))
			if len(row.inbound) > 1 && r.Float64() < 0.7 {
				// Answered the first contact; the customer has come back since.
				gap := row.inbound[1].Sub(row.inbound[0])
				at = row.inbound[0].Add(gap / 2)
			}
			p.reply = answer(row, cps, squeeze(r, at, row.created, latest))
			lastOut = &p.reply.OccurredAt
		}
		// A customer who wrote again since the answer waits on us; the
		// others get their status from shareStatuses.
		if lastIn := row.lastInbound(); lastOut != nil && lastIn.After(*lastOut) {
			p.status = cases.WaitingUs
		}
	}
	last := row.updated
	if p.reply != nil {
		last = maxTime(last, p.reply.OccurredAt)
	}
	p.at = squeeze(r, last.Add(jitter(r, 3*time.Minute, 50*time.Minute)), last, latest)
	p.tags = tagsFor(r, row, p.priority)
	if r.Float64() < 0.3 {
		author := p.owner
		if author == "" || r.Float64() < 0.3 {
			author = "supervisor@demo.example"
		}
		if row.channel == "store" && r.Float64() < 0.6 {
			author = "staff@demo.example"
		}
		p.notes = []plannedNote{{author: author, body: noteFor(r, row.reason), at: p.at}}
	}
	return p
}

// statusDeck is how the answered open cases of a working desk are spread
// over the statuses, most recent first: in progress, waiting for the
// customer's answer, or owed an answer by someone in the company.
var statusDeck = []string{cases.Open, cases.WaitingCustomer, cases.Open, cases.WaitingUs, cases.WaitingCustomer,
	cases.Open, cases.WaitingCustomer, cases.WaitingCustomer, cases.WaitingUs, cases.WaitingCustomer}

// shareStatuses deals the statuses of the deck to the answered open cases
// planCase left without one, newest first, so that even a small demo shows
// them all; older cases (later in the deck's rounds) wait on the customer
// more often.
func shareStatuses(plans []*casePlan) {
	var answered []*casePlan
	for _, p := range plans {
		if p.status == "" {
			answered = append(answered, p)
		}
	}
	slices.SortStableFunc(answered, func(a, b *casePlan) int {
		if c := b.row.updated.Compare(a.row.updated); c != 0 {
			return c
		}
		return strings.Compare(a.row.subject, b.row.subject)
	})
	for i, p := range answered {
		p.status = statusDeck[i%len(statusDeck)]
		if p.status == cases.Open && i >= len(statusDeck) && i%3 == 0 {
			p.status = cases.WaitingCustomer
		}
	}
}

// planHero is Grace's case: answered by Alex Morgan by email, with a note
// from the store and one from Alex.
func planHero(row *caseRow, cps []id.ID, now time.Time) *casePlan {
	t := heroClock(now)
	reply := answer(row, cps, t.reply)
	reply.ContactPointID, reply.Kind = cps[cpEmail], "email"
	reply.Subject = "Re: My TV order " + heroOrder + " - the $59 charge"
	reply.Content = cannedBody("Delivery charge refunded")
	reply.ExternalID = heroPrefix + "reply"
	return &casePlan{row: row, at: t.note, hero: true, status: cases.Open, priority: "high", team: teamSupport,
		owner: heroAgent, tags: []string{"late-delivery", "refund", "checkout-info"}, reply: reply,
		notes: []plannedNote{
			{author: "staff@demo.example", at: t.storeNote, body: "Grace came to the Main Street counter with her card statement: " +
				"TV delivered yesterday, three days late, and $59 charged for delivery. Web orders cannot be refunded at the counter, " +
				"so I am handing this over to the contact center. She was patient but this is her fifth contact about it."},
			{author: heroAgent, at: t.note, body: "Refunded the $59 two-person delivery charge on order " + heroOrder +
				" (approved by Sam Rivera). The carrier held the TV at the depot for three days. Our checkout still does not show " +
				"the delivery charge for large items - flagged to the web shop team again, see tag checkout-info."},
		}}
}

// replier is who answers the customer: the owner, or an agent of the line.
func (p *casePlan) replier() string {
	if p.owner != "" {
		return p.owner
	}
	return supportAgentFor(p.row)
}

// answer is a staff reply on the case, on the channel the customer used
// (by email when they came by chat, to the store or the kiosk).
func answer(row *caseRow, cps []id.ID, at time.Time) *interaction.Input {
	cp, kind := cps[cpEmail], "email"
	switch row.channel {
	case "phone":
		cp, kind = row.cp, "call"
	case "sms":
		cp, kind = row.cp, "sms"
	case "whatsapp", "social":
		cp, kind = row.cp, "message"
	}
	c := row.id
	in := &interaction.Input{CustomerID: row.customer, ContactPointID: cp, Kind: kind, Direction: interaction.Outbound,
		OccurredAt: at, CaseID: &c, Reason: row.reason, Source: Source, ExternalID: "case-" + row.id.String() + "-reply",
		Subject: "Re: " + row.subject, JourneyStage: post}
	in.Content = cannedBody(cannedFor(row.reason))
	if kind == "call" {
		in.Subject = "Call back: " + row.subject
		in.Content = "Called {{customer.first_name}} back about case {{case.id}}: " + callbackText(row.reason)
		ms := int64(4+len(row.subject)%7) * 60000
		in.DurationMS = &ms
	}
	return in
}

func cannedBody(name string) string {
	for _, c := range cannedDefs {
		if c.name == name {
			return c.body
		}
	}
	return ""
}

func cannedFor(reason string) string {
	switch reason {
	case reasonShippingCharges:
		return "Shipping charges"
	case reasonDeliveryTime, reasonOrderStatus:
		return "Delivery times"
	case reasonRepair, reasonWarranty, reasonInstallation:
		return "Repair booking"
	case reasonOverdue:
		return "Payment plan offer"
	case reasonReturn:
		return "Return label"
	}
	return "We are on it"
}

func callbackText(reason string) string {
	switch reason {
	case reasonBilling, reasonOverdue, reasonFinancing:
		return "went through the statement line by line and agreed what happens next."
	case reasonRepair, reasonWarranty, reasonInstallation:
		return "booked the technician visit and confirmed the address."
	case reasonComplaint:
		return "apologised, explained what went wrong and offered a voucher."
	case reasonShippingCharges, reasonDeliveryTime, reasonOrderStatus:
		return "gave the delivery charge and date, and sent the tracking link."
	}
	return "answered the question and confirmed by email."
}

// sendReply records the answer on the case: what the desk's reply records,
// at the time it was given, under the demo's source so that a resumed Fill
// finds it again. Grace's answer goes through the desk's reply itself.
func (p *casePlan) sendReply(ctx context.Context, s *app.Services, users map[string]id.ID) func() error {
	return func() error {
		if p.hero {
			actor := cases.Actor{UserID: users[heroAgent], Name: p.reply.StaffName}
			_, err := s.Cases.Reply(ctx, actor, p.row.id, cases.Reply{ContactPointID: p.reply.ContactPointID,
				Subject: p.reply.Subject, Body: p.reply.Content, IdempotencyKey: heroPrefix + "reply"})
			if err != nil {
				return fmt.Errorf("answering the hero case: %w", err)
			}
			return nil
		}
		if _, err := s.Interactions.Record(ctx, []interaction.Input{*p.reply}); err != nil {
			return fmt.Errorf("answering demo case %s: %w", p.row.id, err)
		}
		return nil
	}
}

// carryOut has the case service make the plan's changes: the triage
// (priority, team, owner, tags), the status (and resolution), or both.
func (p *casePlan) carryOut(ctx context.Context, svc *cases.Service, d *desk, users map[string]id.ID, names map[string]string, triage, settle bool) error {
	actor := cases.Actor{Name: "Sam Rivera", UserID: users["supervisor@demo.example"]}
	if p.owner != "" {
		actor = cases.Actor{Name: names[p.owner], UserID: users[p.owner]}
	}
	var patch cases.Patch
	if triage {
		patch.Priority = &p.priority
		if t, ok := d.teams[p.team]; ok {
			patch.TeamID = cases.OptionalID{Set: true, ID: t}
		}
		if uid, ok := users[p.owner]; ok && p.owner != "" {
			patch.OwnerID = cases.OptionalID{Set: true, ID: uid}
		}
		if len(p.tags) > 0 {
			patch.AddTags = p.tags
		}
	}
	if settle {
		patch.Status = &p.status
		if !cases.IsOpen(p.status) {
			res := resolutionFor(p.row, p.status)
			patch.Resolution = &res
		}
	}
	if _, err := svc.Update(ctx, actor, p.row.id, patch); err != nil {
		return fmt.Errorf("working demo case %s: %w", p.row.id, err)
	}
	return nil
}

// triagedAt is when an agent first looked at the case: a quarter of the way
// from its opening to the first answer or the resolution.
func (p *casePlan) triagedAt() time.Time {
	first := p.at
	if p.reply != nil && p.reply.OccurredAt.Before(first) {
		first = p.reply.OccurredAt
	}
	return p.row.created.Add(max(first.Sub(p.row.created)/4, 0))
}

// addNote adds an internal note, unless a resumed Fill added it before.
func addNote(ctx context.Context, svc *cases.Service, users map[string]id.ID, names map[string]string, caseID id.ID, n plannedNote) error {
	have, err := svc.Notes(ctx, caseID)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(have, func(h *cases.Note) bool { return h.Body == n.body }) {
		return nil
	}
	if _, err := svc.AddNote(ctx, cases.Actor{Name: names[n.author], UserID: users[n.author]}, caseID, n.body); err != nil {
		return fmt.Errorf("adding a note to demo case %s: %w", caseID, err)
	}
	return nil
}

// ---- what the desk decides, by reason ----

func priorityFor(r *rand.Rand, reason string) string {
	x := r.Float64()
	switch reason {
	case reasonComplaint:
		switch {
		case x < 0.15:
			return "urgent"
		case x < 0.6:
			return "high"
		}
	case reasonRepair, reasonWarranty, "delivery_problem", "delivery_problem.damaged", "delivery_problem.missing":
		switch {
		case x < 0.05:
			return "urgent"
		case x < 0.4:
			return "high"
		}
	case reasonOverdue, reasonBilling, "refund", "payment_plan":
		if x < 0.3 {
			return "high"
		}
	case reasonShippingCharges, reasonDeliveryTime, reasonProduct, reasonPriceMatch, reasonStoreHours, reasonFinancing, "feedback":
		// Questions before a purchase: answered soon, never an emergency.
		if x < 0.4 {
			return "low"
		}
	default:
		switch {
		case x < 0.1:
			return "high"
		case x < 0.25:
			return "low"
		}
	}
	return "normal"
}

func teamFor(row *caseRow) string {
	switch row.reason {
	case reasonBilling, reasonOverdue, reasonFinancing, "refund", "payment_plan":
		return teamBilling
	case reasonRepair, reasonInstallation, reasonWarranty:
		return teamField
	case reasonStoreHours:
		return teamStores
	}
	if row.channel == "store" {
		return teamStores
	}
	return teamSupport
}

// ownerFor picks the member of the team who takes the case.
func ownerFor(r *rand.Rand, team string, row *caseRow) string {
	switch team {
	case teamBilling:
		return pick(r, []string{"supervisor@demo.example", "agent2@demo.example", "agent2@demo.example"})
	case teamField:
		return pick(r, []string{"agent3@demo.example", "agent3@demo.example", "supervisor@demo.example"})
	case teamStores:
		return pick(r, []string{"staff@demo.example", "staff@demo.example", "staff@demo.example", "supervisor@demo.example"})
	}
	if r.Float64() < 0.5 {
		return supportAgentFor(row)
	}
	return pick(r, []string{"agent@demo.example", "agent@demo.example", "agent2@demo.example", "agent3@demo.example"})
}

// supportAgentFor is the agent of the line the customer called, the US
// agent otherwise.
func supportAgentFor(row *caseRow) string {
	switch row.key {
	case cpLineUK, cpStoreHarbour, cpKioskHarbour:
		return "agent2@demo.example"
	case cpLineDE, cpStoreAirport, cpKioskAirport:
		return "agent3@demo.example"
	}
	return "agent@demo.example"
}

func tagsFor(r *rand.Rand, row *caseRow, priority string) []string {
	var tags []string
	switch row.reason {
	case reasonShippingCharges, reasonDeliveryTime:
		tags = append(tags, "checkout-info")
	case reasonComplaint:
		if r.Float64() < 0.5 {
			tags = append(tags, "escalated")
		}
	case reasonRepair, reasonWarranty:
		if r.Float64() < 0.4 {
			tags = append(tags, "parts-ordered")
		}
	}
	if row.channel == "phone" && r.Float64() < 0.2 {
		tags = append(tags, "callback")
	}
	if priority == "urgent" || priority == "high" && r.Float64() < 0.15 {
		tags = append(tags, "vip")
	}
	return tags
}

func noteFor(r *rand.Rand, reason string) string {
	notes := map[string][]string{
		reasonShippingCharges: {"Could not find the delivery charge before paying - same as the others this week. Gave the rates; the web shop team knows.",
			"Asked for the charge in writing; sent the shipping-charges answer. Another one for the checkout fix."},
		reasonDeliveryTime: {"No delivery estimate on the product page again. Quoted the usual times; customer may order in store instead."},
		reasonOrderStatus:  {"Carrier reports a delay at the regional depot; chased them, new date expected tomorrow.", "Tracking stuck on 'label created' for 4 days. Asked the warehouse to check the parcel."},
		reasonReturn:       {"Return label sent; refund goes out once the warehouse scans the parcel.", "Outside the 30 days by two days - approved as a goodwill exception."},
		reasonWarranty:     {"Purchase confirmed in the order history, within warranty. Replacement unit reserved in store."},
		reasonRepair:       {"Technician slot requested for next week; waiting for the service partner to confirm the part.", "Second fault on this unit in 3 months - consider a replacement instead of another repair."},
		reasonInstallation: {"Customer needs a Saturday slot; asked dispatch whether the North crew can take it."},
		reasonBilling:      {"The charge is the monthly instalment of the financing plan. Explained; customer will check with the bank.", "Statement shows the instalment twice. Checking with billing before answering."},
		reasonOverdue:      {"Customer lost her job last month; offered a 6-month payment plan. Waiting for her answer.", "Promised to pay on the 15th. Reminder paused until then."},
		reasonFinancing:    {"Pre-approved for 12 months at 0%; customer wants to think about it."},
		reasonComplaint:    {"Offered a $20 voucher; customer wants a call from a supervisor. Please handle with care.", "Crew was 3 hours late with no call ahead. Raised with the delivery partner."},
		reasonLogin:        {"Reset mail goes to the spam folder at this provider. Sent the link by SMS instead."},
		reasonPriceMatch:   {"Competitor price verified online; waiting for approval of the match above $100."},
	}
	if ns, ok := notes[reason]; ok {
		return pick(r, ns)
	}
	return pick(r, []string{"Answered on the first contact; waiting for the customer to confirm it works.",
		"Customer prefers to be contacted by email, not phone."})
}

func resolutionFor(row *caseRow, status string) string {
	res := map[string]string{
		reasonShippingCharges: "Gave the delivery charges; they are not shown in the web shop before checkout.",
		reasonDeliveryTime:    "Gave the delivery time; it is not shown in the web shop before checkout.",
		reasonOrderStatus:     "Order located with the carrier; delivery date and tracking link sent.",
		reasonReturn:          "Return label sent; refunded when the return arrived.",
		reasonProduct:         "Answered the product question and sent the spec sheet.",
		reasonWarranty:        "Fault confirmed within warranty; replacement handed over.",
		reasonInstallation:    "Installation booked and done.",
		reasonRepair:          "Technician visit booked; repaired on site.",
		reasonBilling:         "Explained the charge on the statement.",
		reasonFinancing:       "Explained the financing terms.",
		reasonStoreHours:      "Gave the opening hours.",
		reasonPriceMatch:      "Competitor price checked; matched on the order.",
		reasonLogin:           "Sent a new password reset link; customer signed in.",
		reasonComplaint:       "Apologised and issued a voucher; delivery partner informed.",
		reasonOverdue:         "Balance paid; reminders stopped.",
	}
	text, ok := res[row.reason]
	if !ok {
		text = "Answered; nothing further needed."
	}
	if status == cases.Closed {
		text += " Closed after the customer confirmed."
	}
	return text
}

func jitter(r *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.Int64N(int64(hi-lo)+1))
}

// squeeze keeps t within [lo, hi]: a t beyond hi (the story's present)
// becomes a random moment between lo and hi, so that the desk's latest work
// does not pile up at one instant.
func squeeze(r *rand.Rand, t, lo, hi time.Time) time.Time {
	switch {
	case !hi.After(lo):
		return lo
	case t.After(hi):
		return lo.Add(time.Duration(r.Int64N(int64(hi.Sub(lo)) + 1)))
	case t.Before(lo):
		return lo
	}
	return t
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// countCases counts the cases and the open ones.
func countCases(ctx context.Context, db *store.DB) (all, open int, err error) {
	err = db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN status IN ('new', 'open', 'waiting_on_customer', 'waiting_on_us')
		THEN 1 ELSE 0 END), 0) FROM cases WHERE merged_into IS NULL`).Scan(&all, &open)
	if err != nil {
		err = fmt.Errorf("counting cases: %w", err)
	}
	return all, open, err
}
