// Package demo fills a store with a believable company, Voltmart, an
// electronics and appliance retailer with stores, a call center in three
// countries, a web shop, an app, delivery and repair crews, business sales,
// billing, credit and collections, and advertising. Its customers reach it on
// every contact point, under several identifiers each, so their timelines are
// multi-channel.
//
// The data tell a story for the analytics to find: the web shop shows
// neither shipping charges nor delivery times, so a growing number of the
// people who reach the cart or the checkout page leave it to call or write
// and ask (reasons "shipping_charges" and "delivery_time").
//
// The desk is set up the way a contact center runs it (contact reasons,
// teams, business hours, SLA policies, canned responses), and the cases the
// contacts opened have been worked: old ones resolved or closed, recent ones
// open in every status. The first case an agent sees is Grace Whitman's: a
// late TV and a delivery charge the checkout never showed, followed up by
// phone, email, web chat, at the store counter and at the kiosk, one case.
//
// Fill is for `touchpoint serve --demo` and `touchpoint demo`; Generator
// yields the same kind of data in batches, for benchmarks at any scale.
package demo

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Options shape the demo company.
type Options struct {
	Customers int          // default 2000
	Seed      int64        // default 1; the same seed gives the same data
	Now       time.Time    // "today" of the story, at most a day ahead of the clock; default time.Now()
	Months    int          // length of the history, default 6
	Log       *slog.Logger // progress, at debug level; the caller reports the Summary
}

// SignIn is a demo user.
type SignIn struct{ Email, Password, Role, Name string }

// Summary says what the store holds after Fill.
type Summary struct {
	AlreadyFilled bool
	ContactPoints int
	Customers     int
	Interactions  int
	Cases         int
	OpenCases     int
	SignIns       []SignIn
	// WebChatID is the web chat whose widget examples/chat-widget.html shows.
	WebChatID id.ID
	// KioskID is the store kiosk served at /kiosk/{id}.
	KioskID id.ID
}

// SignIns returns the demo users; every password is "demo".
func SignIns() []SignIn { return slices.Clone(demoSignIns) }

// FilledKey is the settings key Fill writes when it has finished.
const FilledKey = "demo.filled"

// batchSize is how many interactions go into one Record call.
const batchSize = 1000

// Fill fills the store with Voltmart: contact points, sign-ins, the desk
// (contact reasons, teams, business hours, SLA policies, canned responses),
// customers and their history, and the cases the history opened, worked the
// way a busy contact center works them. It records in settings (FilledKey)
// that it ran; on a store already filled it adds nothing and returns a
// Summary with AlreadyFilled set. An interrupted Fill may simply run again:
// everything it makes is found again (contact points by name, users by
// email, reasons by code, teams, calendars, policies and canned responses by
// name, interactions by their external ids under Source "demo"), and the
// cases are worked once (CasesKey).
func Fill(ctx context.Context, s *app.Services, opt Options) (*Summary, error) {
	if opt.Customers <= 0 {
		opt.Customers = 2000
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Months <= 0 {
		opt.Months = 6
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	began := time.Now()
	filled, err := IsFilled(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	if filled {
		sum, err := summarize(ctx, s)
		if err != nil {
			return nil, err
		}
		sum.AlreadyFilled = true
		log.Debug("demo data already present; adding nothing", "customers", sum.Customers, "interactions", sum.Interactions)
		return sum, nil
	}

	// Sign-ins hash their passwords (argon2id, deliberately slow). Those who
	// appear on interactions are made while the stories are written; the
	// others (admin, analyst) while the interactions are recorded.
	var onDuty, offDuty []SignIn
	for _, si := range demoSignIns {
		if staffEmails[si.Email] {
			onDuty = append(onDuty, si)
		} else {
			offDuty = append(offDuty, si)
		}
	}
	usersDone := make(chan usersResult, 1)
	go func() {
		ids, err := ensureUsers(ctx, s.Access, onDuty)
		usersDone <- usersResult{ids, err}
	}()
	cps, err := CreateContactPoints(ctx, s.ContactPoints)
	if err != nil {
		<-usersDone
		return nil, err
	}
	var dk *desk
	clock := &storyClock{}
	live := s.Interactions.CaseLinker() // put back when the history is in
	if s.Cases != nil {
		// The case service works on the story's time until the cases are
		// worked (see historyLinker and workCases).
		clock.set(opt.Now)
		s.Cases.SetClock(clock.now)
		defer s.Cases.SetClock(time.Now)
		// Reasons first: a case keeps only a reason the taxonomy knows.
		if dk, err = setUpDesk(ctx, s, opt.Now); err != nil {
			<-usersDone
			return nil, err
		}
		s.Interactions.SetCaseLinker(historyLinker{s.Cases, clock})
		defer s.Interactions.SetCaseLinker(live)
	}
	w := newWorld(cps, opt.Now, opt.Months)
	total, err := fillHistory(ctx, s, w, opt, usersDone, offDuty, log)
	if err != nil {
		return nil, err
	}
	log.Debug("demo: history recorded", "interactions", total, "took", time.Since(began).Round(time.Millisecond))
	if s.Cases != nil {
		hero, err := recordHero(ctx, s, cps, opt.Now)
		if err != nil {
			return nil, err
		}
		s.Interactions.SetCaseLinker(live)
		users, err := ensureUsers(ctx, s.Access, demoSignIns)
		if err != nil {
			return nil, err
		}
		if err := setTeamMembers(ctx, s.Access, dk, users); err != nil {
			return nil, err
		}
		if err := workCases(ctx, s, dk, users, hero, cps, opt, clock); err != nil {
			return nil, err
		}
		// Queues last: the history recorded above is not live work.
		if s.Routing != nil {
			if err := setUpRouting(ctx, s, users); err != nil {
				return nil, err
			}
		}
		if s.Routing != nil && s.Knowledge != nil {
			if err := setUpKiosk(ctx, s, cps); err != nil {
				return nil, err
			}
		}
		// Back to the wall clock: the SLA job finds what is due by now.
		s.Cases.SetClock(time.Now)
		if err := catchUpSLA(ctx, s.Cases); err != nil {
			return nil, err
		}
		log.Debug("demo: cases worked", "took", time.Since(began).Round(time.Millisecond))
	}

	if s.Knowledge != nil {
		if err := fillKnowledge(ctx, s.Knowledge); err != nil {
			return nil, err
		}
		if err := citeHistory(ctx, s, opt.Now); err != nil {
			return nil, err
		}
	}

	mark, _ := json.Marshal(map[string]any{"seed": opt.Seed, "customers": opt.Customers, "months": opt.Months,
		"now": opt.Now.UTC().Format(time.RFC3339), "filled_at": time.Now().UTC().Format(time.RFC3339)})
	err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", FilledKey, string(mark))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("marking the demo as filled: %w", err)
	}
	sum, err := summarize(ctx, s)
	if err != nil {
		return nil, err
	}
	log.Debug("demo data filled", "contact_points", sum.ContactPoints, "customers", sum.Customers,
		"interactions", sum.Interactions, "cases", sum.Cases, "open_cases", sum.OpenCases, "took", time.Since(began).Round(time.Millisecond))
	return sum, nil
}

// IsFilled tells whether Fill has finished on this store.
func IsFilled(ctx context.Context, db *store.DB) (bool, error) {
	var v string
	err := db.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", FilledKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", FilledKey, err)
	}
	return true, nil
}

func summarize(ctx context.Context, s *app.Services) (*Summary, error) {
	cps, err := s.ContactPoints.List(ctx, true)
	if err != nil {
		return nil, err
	}
	nc, err := s.Customers.Count(ctx)
	if err != nil {
		return nil, err
	}
	ni, err := s.Interactions.Count(ctx)
	if err != nil {
		return nil, err
	}
	sum := &Summary{ContactPoints: len(cps), Customers: int(nc), Interactions: int(ni), SignIns: SignIns()}
	for _, cp := range cps {
		if cp.Kind.HasWidget() && !cp.Disabled && sum.WebChatID == 0 {
			sum.WebChatID = cp.ID
		}
		if cp.Kind == "kiosk" && !cp.Disabled && sum.KioskID == 0 {
			sum.KioskID = cp.ID
		}
	}
	if sum.Cases, sum.OpenCases, err = countCases(ctx, s.DB); err != nil {
		return nil, err
	}
	return sum, nil
}

type usersResult struct {
	ids map[string]id.ID
	err error
}

// staffEmails are the demo sign-ins who serve customers, and so appear on interactions.
var staffEmails = func() map[string]bool {
	m := map[string]bool{}
	for _, team := range [][]staffMember{agentsUS, agentsUK, agentsDE, clerksMain, clerksHarbour, clerksAirport,
		technicians, drivers, salespeople, collectors, creditAdvisor} {
		for _, sm := range team {
			if sm.email != "" {
				m[sm.email] = true
			}
		}
	}
	return m
}()

// ensureUsers creates those of the sign-ins that do not exist yet and
// returns every user id by email.
func ensureUsers(ctx context.Context, svc *access.Service, signIns []SignIn) (map[string]id.ID, error) {
	byEmail := func() (map[string]id.ID, error) {
		users, err := svc.ListUsers(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing users: %w", err)
		}
		m := map[string]id.ID{}
		for _, u := range users {
			m[u.Email] = u.ID
		}
		return m, nil
	}
	have, err := byEmail()
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	var missing []SignIn
	for _, si := range signIns {
		if _, ok := have[si.Email]; !ok {
			missing = append(missing, si)
		}
	}
	for _, si := range missing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := svc.CreateDemoUser(ctx, si.Email, si.Name, access.Role(si.Role), si.Password)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				have[u.Email] = u.ID
			case errors.Is(err, errs.ErrConflict):
				// Made meanwhile by someone else; found below.
			case firstErr == nil:
				firstErr = fmt.Errorf("creating demo user %s: %w", si.Email, err)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	for _, si := range signIns {
		if _, ok := have[si.Email]; !ok {
			return byEmail()
		}
	}
	return have, nil
}

// chunkCustomers bounds how many customers' stories are held in memory at
// once (about 15 interactions each); the default 2000 fit in one chunk.
var chunkCustomers = 5000

// fillHistory writes the customers' stories chunk by chunk and records them.
func fillHistory(ctx context.Context, s *app.Services, w *world, opt Options, usersDone <-chan usersResult,
	offDuty []SignIn, log *slog.Logger) (int, error) {
	began := time.Now()
	profiles := newProfileSetter(ctx, s.Customers, opt.Customers)
	var othersDone chan error
	var staffIDs map[string]id.ID // staff name → user, for the demo sign-ins
	var recErr error
	total := 0
	for from := 0; from < opt.Customers && recErr == nil; from += chunkCustomers {
		stories := writeStories(w, opt.Seed, from, min(from+chunkCustomers, opt.Customers))
		if staffIDs == nil {
			log.Debug("demo: stories laid out", "took", time.Since(began).Round(time.Millisecond))
			ur := <-usersDone
			if ur.err != nil {
				recErr = ur.err
				break
			}
			log.Debug("demo: sign-ins ready", "took", time.Since(began).Round(time.Millisecond))
			staffIDs = map[string]id.ID{}
			for _, si := range demoSignIns {
				if uid, ok := ur.ids[si.Email]; ok {
					staffIDs[si.Name] = uid
				}
			}
			// The sign-ins who serve no customers are made meanwhile.
			othersDone = make(chan error, 1)
			go func() {
				_, err := ensureUsers(ctx, s.Access, offDuty)
				othersDone <- err
			}()
		}
		n, err := recordStories(ctx, s, stories, staffIDs, profiles)
		total += n
		recErr = err
	}
	close(profiles.jobs)
	profErr := profiles.wait()
	var othersErr error
	if othersDone != nil {
		othersErr = <-othersDone
	}
	return total, errors.Join(recErr, profErr, othersErr)
}

// recordStories records the interactions of the stories and hands each
// customer to the profile setter once all their history is stored.
func recordStories(ctx context.Context, s *app.Services, stories []*story, staffIDs map[string]id.ID, profiles *profileSetter) (int, error) {
	type ref struct {
		at     int64
		person int32
		i      int32
	}
	total := 0
	for _, st := range stories {
		total += len(st.evs)
	}
	refs := make([]ref, 0, total)
	for pi, st := range stories {
		for i := range st.evs {
			if uid, ok := staffIDs[st.evs[i].StaffName]; ok {
				st.evs[i].StaffID = &uid
			}
			refs = append(refs, ref{st.evs[i].OccurredAt.UnixMicro(), int32(pi), int32(i)})
		}
	}
	slices.SortFunc(refs, func(a, b ref) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		if a.person != b.person {
			return cmp.Compare(a.person, b.person)
		}
		return cmp.Compare(a.i, b.i)
	})

	// Record in time order, so identity resolution meets the identifiers in
	// the order a live system would: anonymous visitors become known when
	// they sign in, callers when they give their email. Without cases, on
	// SQLite, the next batch is validated while the single writer stores the
	// previous one (the two may reach the writer in either order). With
	// cases the order must hold, or a contact would join a case its
	// customer opens weeks later; on PostgreSQL one batch at a time keeps
	// transactions from colliding.
	inflight := 1
	if s.DB.Dialect == store.SQLite && s.Cases == nil {
		inflight = 2
	}
	nBatches := (len(refs) + batchSize - 1) / batchSize
	// A customer's profile is set as soon as all their history is stored,
	// while later batches are still being recorded.
	readyAfter := make([][]int32, nBatches) // batch → customers whose last contact is in it
	last := make([]int, len(stories))
	for i := range last {
		last[i] = -1
	}
	for pos, rf := range refs {
		last[rf.person] = pos / batchSize
	}
	for pi, b := range last {
		if b >= 0 {
			readyAfter[b] = append(readyAfter[b], int32(pi))
		}
	}
	custOf := make([]id.ID, len(stories))

	var mu sync.Mutex
	var recErr error
	done := make([]bool, nBatches)
	watermark := 0
	var wg sync.WaitGroup
	sem := make(chan struct{}, inflight)
	for k := range nBatches {
		part := refs[k*batchSize : min((k+1)*batchSize, len(refs))]
		sem <- struct{}{}
		mu.Lock()
		failed := recErr != nil
		mu.Unlock()
		if failed {
			<-sem
			break
		}
		batch := make([]interaction.Input, len(part))
		for i, rf := range part {
			batch[i] = stories[rf.person].evs[rf.i]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := s.Interactions.Record(ctx, batch)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if recErr == nil {
					recErr = fmt.Errorf("recording demo interactions: %w", err)
				}
				return
			}
			for i, r := range res {
				custOf[part[i].person] = r.CustomerID
			}
			done[k] = true
			for watermark < nBatches && done[watermark] {
				for _, pi := range readyAfter[watermark] {
					profiles.jobs <- profileJob{stories[pi], custOf[pi]}
				}
				watermark++
			}
		}()
	}
	wg.Wait()
	for _, st := range stories {
		st.evs = nil // recorded; the profile needs only the summary
	}
	return total, recErr
}

// writeStories writes the histories of customers [from, to), on all CPUs.
func writeStories(w *world, seed int64, from, to int) []*story {
	stories := make([]*story, to-from)
	const chunk = 64
	next := from
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				lo := next
				next += chunk
				mu.Unlock()
				if lo >= to {
					return
				}
				for i := lo; i < min(lo+chunk, to); i++ {
					st := &story{w: w, p: newPerson(seed, i), r: storyRand(seed, i),
						prefix: "s" + strconv.FormatInt(seed, 10) + "-c" + strconv.Itoa(i) + "-"}
					st.live()
					st.link()
					stories[i-from] = st
				}
			}
		}()
	}
	wg.Wait()
	return stories
}

// profileSetter records what the interactions cannot say: business accounts,
// consent per channel, and the journey stage each customer has reached.
// Customers are sent on jobs as their history is stored.
type profileSetter struct {
	jobs chan profileJob
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
}

type profileJob struct {
	st   *story
	cust id.ID
}

// newProfileSetter starts the workers; jobs has room for every customer, so
// that recording never waits for them.
func newProfileSetter(ctx context.Context, svc *customer.Service, customers int) *profileSetter {
	ps := &profileSetter{jobs: make(chan profileJob, customers)}
	for range 8 {
		ps.wg.Add(1)
		go func() {
			defer ps.wg.Done()
			for j := range ps.jobs {
				ps.mu.Lock()
				failed := ps.err != nil
				ps.mu.Unlock()
				if failed || j.cust == 0 {
					continue
				}
				if _, err := svc.Update(ctx, j.cust, j.st.profile(), Source); err != nil {
					ps.mu.Lock()
					if ps.err == nil {
						ps.err = fmt.Errorf("setting the profile of demo customer %d: %w", j.st.p.idx, err)
					}
					ps.mu.Unlock()
				}
			}
		}()
	}
	return ps
}

func (ps *profileSetter) wait() error {
	ps.wg.Wait()
	return ps.err
}

// profile is the customer's kind, consent and journey stage at the end of the story.
func (s *story) profile() customer.Profile {
	p, r, w := s.p, s.r, s.w
	var pr customer.Profile
	if p.business() {
		k := customer.Business
		pr.Kind = &k
	}
	last := s.lastAt
	stage := "customer"
	switch {
	case s.purchases == 0:
		stage = "prospect"
	case p.troubled:
		stage = "at_risk"
	case last.Before(w.end.Add(-75 * day)):
		stage = "lapsed"
	case s.purchases == 1 && !p.existing:
		stage = "first_purchase"
	case s.purchases >= 2:
		stage = "repeat"
	}
	pr.JourneyStage = &stage
	name := p.name()
	pr.Name = &name

	consent := map[string]customer.Consent{}
	in := func(ch, source string) { consent[ch] = customer.Consent{Status: "opted_in", Source: source} }
	out := func(ch, source string) { consent[ch] = customer.Consent{Status: "opted_out", Source: source} }
	switch x := r.Float64(); {
	case x < 0.58:
		in("email", pick(r, []string{"web shop sign-up", "checkout", "store", "loyalty sign-up"}))
	case x < 0.66:
		out("email", "unsubscribe link")
	}
	if p.phone != "" {
		if r.Float64() < 0.35 {
			c := customer.Consent{Status: "opted_in", Source: "checkout"}
			if r.Float64() < 0.3 {
				c.QuietHours = "21:00-08:00"
			}
			consent["sms"] = c
		}
		if r.Float64() < 0.15 {
			in("whatsapp", "whatsapp opt-in message")
		}
		if r.Float64() < 0.08 {
			out("phone", "asked not to be called")
		}
	}
	if p.loyalty != "" && r.Float64() < 0.5 {
		in("mail", "loyalty sign-up")
	}
	if p.social != "" && r.Float64() < 0.3 {
		in("social", "direct message")
	}
	var opted []string
	for ch, c := range consent {
		if c.Status == "opted_in" {
			opted = append(opted, ch)
		}
	}
	if len(opted) > 0 && r.Float64() < 0.6 {
		slices.Sort(opted)
		ch := pick(r, opted)
		c := consent[ch]
		c.Preferred = true
		consent[ch] = c
	}
	if len(consent) > 0 {
		pr.Consent = consent
	}
	return pr
}
