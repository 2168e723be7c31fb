package routing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// The wallboard's figures. They are read from the store only (the event log
// routing_events, work_items and routing_agents), never from the engine, so
// that every node can serve them; docs/routing.md defines each one.
//
// A window [from, to) attributes each event to the moment it happened: an
// item is offered when it entered the queue, answered at its first
// assignment, abandoned when it left, and handled when it was completed.

// QueueMetrics are one queue's figures over a window and at the moment.
type QueueMetrics struct {
	QueueID      id.ID                   `json:"queue_id"`
	Name         string                  `json:"name"`
	Open         bool                    `json:"open"`
	Target       engine.ServiceLevel     `json:"target"`
	SLAbandons   engine.AbandonTreatment `json:"sl_abandons"`
	ShortAbandon time.Duration           `json:"short_abandon"`

	// Over the window.
	Offered           int            `json:"offered"`
	Overflowed        int            `json:"overflowed"`
	Answered          int            `json:"answered"`
	AnsweredInTarget  int            `json:"answered_in_target"`
	Abandoned         int            `json:"abandoned"` // short abandons included
	AbandonedInTarget int            `json:"abandoned_in_target"`
	ShortAbandoned    int            `json:"short_abandoned"`
	ServiceLevel      *float64       `json:"service_level"`
	AbandonRate       *float64       `json:"abandon_rate"`
	AvgSpeedOfAnswer  *time.Duration `json:"avg_speed_of_answer"`
	LongestWaitAnswer *time.Duration `json:"longest_wait_answered"`
	Completed         int            `json:"completed"`
	AvgHandleTime     *time.Duration `json:"avg_handle_time"`
	AvgAfterWork      *time.Duration `json:"avg_after_contact_work"`

	// Now.
	Waiting    int                     `json:"waiting"`
	OldestWait time.Duration           `json:"oldest_wait"`
	OfferedNow int                     `json:"offered_now"`
	Handling   int                     `json:"handling"`
	Agents     map[engine.Presence]int `json:"agents"`

	spec engine.Queue
}

// AgentMetrics are one agent's figures over a window and at the moment.
type AgentMetrics struct {
	UserID         id.ID           `json:"user_id"`
	Presence       engine.Presence `json:"presence"`
	PresenceReason string          `json:"presence_reason,omitempty"`
	PresenceSince  time.Time       `json:"presence_since"`
	InState        time.Duration   `json:"in_state"`

	Handled       int            `json:"handled"`
	AvgHandleTime *time.Duration `json:"avg_handle_time"`
	// Working is the time busy or in after-contact work, Available the time
	// available, both within the window; Occupancy is their ratio.
	Working   time.Duration `json:"working"`
	Available time.Duration `json:"available"`
	Occupancy *float64      `json:"occupancy"`
}

// Metrics are the figures of every queue and agent over one window.
type Metrics struct {
	From   time.Time       `json:"from"`
	To     time.Time       `json:"to"`
	Queues []*QueueMetrics `json:"queues"`
	Agents []*AgentMetrics `json:"agents"`
}

// QueueMetrics returns every queue's figures over [from, to); a zero to
// means until now.
func (s *Service) QueueMetrics(ctx context.Context, from, to time.Time) ([]*QueueMetrics, error) {
	m, err := s.Metrics(ctx, from, to)
	if err != nil {
		return nil, err
	}
	return m.Queues, nil
}

// AgentMetrics returns every agent's figures over [from, to); a zero to
// means until now.
func (s *Service) AgentMetrics(ctx context.Context, from, to time.Time) ([]*AgentMetrics, error) {
	m, err := s.Metrics(ctx, from, to)
	if err != nil {
		return nil, err
	}
	return m.Agents, nil
}

// evRow is one routing_events row.
type evRow struct {
	seq    int64
	at     time.Time
	typ    engine.EventKind
	queue  id.ID
	item   id.ID
	agent  id.ID
	detail string
}

// evDetail holds the few fields of an event's detail the figures use.
type evDetail struct {
	Waited      time.Duration   `json:"waited"`
	FromQueueID string          `json:"from_queue_id"`
	ToQueueID   string          `json:"to_queue_id"`
	From        engine.Presence `json:"from"`
	To          engine.Presence `json:"to"`
	Reason      string          `json:"reason"`
}

func (e *evRow) decode() (evDetail, error) {
	var d evDetail
	if err := json.Unmarshal([]byte(e.detail), &d); err != nil {
		return d, fmt.Errorf("routing event %d: %w", e.seq, err)
	}
	return d, nil
}

// The event kinds the figures read; offers and the rest are skipped in SQL.
const (
	windowKinds  = "'item_queued', 'item_assigned', 'item_requeued', 'item_completed', 'item_abandoned', 'item_overflowed', 'presence_changed'"
	historyKinds = "'item_assigned', 'item_requeued', 'item_completed'"
)

// Metrics computes the queue and agent figures of one window together
// (one read of the event log).
func (s *Service) Metrics(ctx context.Context, from, to time.Time) (*Metrics, error) {
	now := s.Now()
	end := now
	if !to.IsZero() && to.Before(now) {
		end = to
	}
	if end.Before(from) {
		end = from
	}
	m := &Metrics{From: from.UTC(), To: end.UTC()}

	queues, qidx, err := s.metricQueues(ctx)
	if err != nil {
		return nil, err
	}
	m.Queues = queues
	agents, specs, err := s.metricAgents(ctx, now)
	if err != nil {
		return nil, err
	}
	m.Agents = agents
	if err := s.currentItems(ctx, now, qidx); err != nil {
		return nil, err
	}
	for _, q := range queues {
		q.Agents = map[engine.Presence]int{}
		for i, a := range agents {
			if specs[i].takes(q) {
				q.Agents[a.Presence]++
			}
		}
	}

	// The window's events, oldest first (index routing_events_at).
	where, args := "at >= ? AND type IN ("+windowKinds+")", []any{from.UnixMicro()}
	if !to.IsZero() {
		where, args = where+" AND at < ?", append(args, to.UnixMicro())
	}
	win, err := s.events(ctx, where, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the routing events: %w", err)
	}

	// Items assigned or completed in the window need their whole history:
	// whether an assignment was the first, and handling that began before
	// the window.
	entered, need := map[id.ID]bool{}, map[id.ID]bool{}
	for _, e := range win {
		switch e.typ {
		case engine.KindItemQueued:
			entered[e.item] = true
		case engine.KindItemAssigned, engine.KindItemCompleted:
			if !entered[e.item] {
				need[e.item] = true
			}
		}
	}
	history := map[id.ID][]evRow{}
	ids := make([]id.ID, 0, len(need))
	for i := range need {
		ids = append(ids, i)
	}
	slices.Sort(ids)
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := []any{from.UnixMicro()}
		for _, i := range ids[:n] {
			args = append(args, int64(i))
		}
		ids = ids[n:]
		// Index routing_events_item.
		old, err := s.events(ctx, "at < ? AND type IN ("+historyKinds+") AND item_id IN ("+store.Placeholders(n)+")", args...)
		if err != nil {
			return nil, fmt.Errorf("reading the history of work items: %w", err)
		}
		for _, e := range old {
			history[e.item] = append(history[e.item], e)
		}
	}
	for _, e := range win {
		if e.item != 0 {
			history[e.item] = append(history[e.item], e)
		}
	}

	type done struct {
		queue, agent id.ID
		handle, own  time.Duration
	}
	completed := map[id.ID]*done{} // item → its completion in the window
	type sums struct {
		asa, aht, acw time.Duration
	}
	qsum := map[id.ID]*sums{}
	qs := func(q id.ID) *sums {
		if qsum[q] == nil {
			qsum[q] = &sums{}
		}
		return qsum[q]
	}
	fromUs := from.UnixMicro()
	for item, evs := range history {
		answered := false
		var holder id.ID
		var since time.Time
		held := map[id.ID]time.Duration{}
		release := func(at time.Time) {
			if holder != 0 {
				held[holder] += at.Sub(since)
				holder = 0
			}
		}
		for _, e := range evs {
			inWin := e.at.UnixMicro() >= fromUs
			switch e.typ {
			case engine.KindItemAssigned:
				d, err := e.decode()
				if err != nil {
					return nil, err
				}
				if !answered && inWin {
					if q := qidx[e.queue]; q != nil {
						q.Answered++
						if q.Target.Within > 0 && d.Waited <= q.Target.Within {
							q.AnsweredInTarget++
						}
						qs(q.QueueID).asa += d.Waited
						if q.LongestWaitAnswer == nil || d.Waited > *q.LongestWaitAnswer {
							w := d.Waited
							q.LongestWaitAnswer = &w
						}
					}
				}
				answered = true
				release(e.at)
				holder, since = e.agent, e.at
			case engine.KindItemRequeued:
				release(e.at)
			case engine.KindItemCompleted:
				release(e.at)
				if inWin {
					var total time.Duration
					for _, d := range held {
						total += d
					}
					completed[item] = &done{queue: e.queue, agent: e.agent, handle: total, own: held[e.agent]}
				}
			}
		}
	}

	// Per event in order: arrivals, abandons, and the agents' presence.
	acw := map[id.ID]time.Duration{} // item → its after-contact work
	type acwOpen struct {
		item  id.ID
		since time.Time
	}
	lastDone := map[id.ID]*evRow{}  // agent → their completion just before
	openACW := map[id.ID]acwOpen{}  // agent → the item whose ACW runs
	spans := map[id.ID][]presSpan{} // agent → presence changes in the window
	for i := range win {
		e := &win[i]
		switch e.typ {
		case engine.KindItemQueued:
			if q := qidx[e.queue]; q != nil {
				q.Offered++
			}
		case engine.KindItemOverflowed:
			d, err := e.decode()
			if err != nil {
				return nil, err
			}
			if d.FromQueueID != d.ToQueueID {
				if q := qidx[parseID(d.ToQueueID)]; q != nil {
					q.Offered++
				}
				if q := qidx[parseID(d.FromQueueID)]; q != nil {
					q.Overflowed++
				}
			}
		case engine.KindItemAbandoned:
			d, err := e.decode()
			if err != nil {
				return nil, err
			}
			if q := qidx[e.queue]; q != nil {
				q.Abandoned++
				switch {
				case q.ShortAbandon > 0 && d.Waited < q.ShortAbandon:
					q.ShortAbandoned++
				case q.Target.Within > 0 && d.Waited <= q.Target.Within:
					q.AbandonedInTarget++
				}
			}
		case engine.KindItemCompleted:
			lastDone[e.agent] = e
		case engine.KindPresenceChanged:
			d, err := e.decode()
			if err != nil {
				return nil, err
			}
			if spans[e.agent] == nil {
				spans[e.agent] = append(spans[e.agent], presSpan{at: from, p: d.From})
			}
			spans[e.agent] = append(spans[e.agent], presSpan{at: e.at, p: d.To})
			// Any change ends the after-contact work that ran; wrap-up begun
			// by a completion at the same instant belongs to that item.
			if o, ok := openACW[e.agent]; ok {
				acw[o.item] += e.at.Sub(o.since)
				delete(openACW, e.agent)
			}
			if c := lastDone[e.agent]; c != nil && c.at.Equal(e.at) && d.To == engine.AfterContactWork && d.Reason == engine.ReasonWrapUp {
				openACW[e.agent] = acwOpen{item: c.item, since: e.at}
			}
			delete(lastDone, e.agent)
		}
	}
	for _, o := range openACW {
		acw[o.item] += end.Sub(o.since)
	}

	asum := map[id.ID]time.Duration{}
	for item, c := range completed {
		w := acw[item]
		if q := qidx[c.queue]; q != nil {
			q.Completed++
			qs(q.QueueID).aht += c.handle + w
			qs(q.QueueID).acw += w
		}
		asum[c.agent] += c.own + w
	}
	for _, q := range queues {
		su := qs(q.QueueID)
		q.AvgSpeedOfAnswer = avg(su.asa, q.Answered)
		q.AvgHandleTime = avg(su.aht, q.Completed)
		q.AvgAfterWork = avg(su.acw, q.Completed)
		abandons := q.Abandoned - q.ShortAbandoned
		q.AbandonRate = ratio(float64(abandons), float64(q.Answered+abandons))
		if q.Target.Within > 0 {
			switch q.SLAbandons {
			case engine.AbandonsMet:
				q.ServiceLevel = ratio(float64(q.AnsweredInTarget+q.AbandonedInTarget), float64(q.Answered+abandons))
			case engine.AbandonsExcluded:
				q.ServiceLevel = ratio(float64(q.AnsweredInTarget), float64(q.Answered))
			default:
				q.ServiceLevel = ratio(float64(q.AnsweredInTarget), float64(q.Answered+abandons))
			}
		}
	}
	handled := map[id.ID]int{}
	for _, c := range completed {
		handled[c.agent]++
	}
	for _, a := range agents {
		a.Handled = handled[a.UserID]
		a.AvgHandleTime = avg(asum[a.UserID], a.Handled)
		sp := spans[a.UserID]
		if sp == nil {
			// No change in the window: the presence held throughout is the
			// one before the first change after it, or the current one.
			p, err := s.presenceAt(ctx, a, to, now)
			if err != nil {
				return nil, err
			}
			sp = []presSpan{{at: from, p: p}}
		}
		for i, x := range sp {
			stop := end
			if i+1 < len(sp) {
				stop = sp[i+1].at
			}
			d := max(stop.Sub(x.at), 0)
			switch x.p {
			case engine.Busy, engine.AfterContactWork:
				a.Working += d
			case engine.Available:
				a.Available += d
			}
		}
		a.Occupancy = ratio(float64(a.Working), float64(a.Working+a.Available))
	}
	return m, nil
}

// presSpan is a presence from a moment on.
type presSpan struct {
	at time.Time
	p  engine.Presence
}

// presenceAt is the presence an agent without a change in the window held
// in it: the current one if it began before to (or to is now), else the
// one the first change at or after to left.
func (s *Service) presenceAt(ctx context.Context, a *AgentMetrics, to, now time.Time) (engine.Presence, error) {
	if to.IsZero() || !to.Before(now) || a.PresenceSince.Before(to) {
		return a.Presence, nil
	}
	var detail string
	// Bounded by presence_since, the agent's last change (index routing_events_at).
	err := s.db.QueryRow(ctx, `SELECT detail FROM routing_events WHERE at >= ? AND at <= ? AND type = ? AND agent_id = ? ORDER BY at, seq LIMIT 1`,
		to.UnixMicro(), a.PresenceSince.UnixMicro(), string(engine.KindPresenceChanged), int64(a.UserID)).Scan(&detail)
	if errors.Is(err, sql.ErrNoRows) {
		return a.Presence, nil
	}
	if err != nil {
		return "", fmt.Errorf("reading an agent's presence: %w", err)
	}
	var d engine.PresenceChanged
	if err := json.Unmarshal([]byte(detail), &d); err != nil {
		return "", err
	}
	return d.From, nil
}

func (s *Service) events(ctx context.Context, where string, args ...any) ([]evRow, error) {
	rows, err := s.db.Query(ctx, "SELECT seq, at, type, queue_id, item_id, agent_id, detail FROM routing_events WHERE "+where+" ORDER BY at, seq", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []evRow
	for rows.Next() {
		var e evRow
		var at int64
		var q, it, ag sql.NullInt64
		if err := rows.Scan(&e.seq, &at, &e.typ, &q, &it, &ag, &e.detail); err != nil {
			return nil, err
		}
		e.at = time.UnixMicro(at).UTC()
		e.queue, e.item, e.agent = id.ID(q.Int64), id.ID(it.Int64), id.ID(ag.Int64)
		out = append(out, e)
	}
	return out, rows.Err()
}

// metricQueues lists the queues by name with their settings.
func (s *Service) metricQueues(ctx context.Context) ([]*QueueMetrics, map[id.ID]*QueueMetrics, error) {
	rows, err := s.db.Query(ctx, "SELECT id, name, spec, open FROM routing_queues ORDER BY name")
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	out, idx := []*QueueMetrics{}, map[id.ID]*QueueMetrics{}
	for rows.Next() {
		var q QueueMetrics
		var spec string
		var open int
		var eq engine.Queue
		if err := rows.Scan(&q.QueueID, &q.Name, &spec, &open); err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal([]byte(spec), &eq); err != nil {
			return nil, nil, err
		}
		q.Open, q.Target, q.SLAbandons, q.ShortAbandon = open != 0, eq.Target, eq.SLAbandons, eq.ShortAbandon
		if q.SLAbandons == "" {
			q.SLAbandons = engine.AbandonsMissed
		}
		q.spec = eq
		out = append(out, &q)
		idx[q.QueueID] = &q
	}
	return out, idx, rows.Err()
}

// metricAgents lists the agents with their presence now, and their specs
// (in the same order) to tell which queues they could serve.
func (s *Service) metricAgents(ctx context.Context, now time.Time) ([]*AgentMetrics, []agentSpec, error) {
	rows, err := s.db.Query(ctx, "SELECT user_id, spec, presence, presence_reason, presence_since FROM routing_agents ORDER BY user_id")
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	out, specs := []*AgentMetrics{}, []agentSpec{}
	for rows.Next() {
		var a AgentMetrics
		var spec string
		var since int64
		if err := rows.Scan(&a.UserID, &spec, &a.Presence, &a.PresenceReason, &since); err != nil {
			return nil, nil, err
		}
		var sp agentSpec
		if err := json.Unmarshal([]byte(spec), &sp); err != nil {
			return nil, nil, err
		}
		a.PresenceSince = time.UnixMicro(since).UTC()
		a.InState = max(now.Sub(a.PresenceSince), 0)
		out = append(out, &a)
		specs = append(specs, sp)
	}
	return out, specs, rows.Err()
}

// takes says whether an agent could take the queue's work: allowed on it,
// its skills at the required levels, capacity on one of its channels (the
// engine's rule for the agents of a queue's stats).
func (a agentSpec) takes(q *QueueMetrics) bool {
	if len(a.Queues) > 0 && !slices.Contains(a.Queues, q.QueueID.String()) {
		return false
	}
	for sk, l := range q.spec.Skills {
		if have, ok := a.Skills[sk]; !ok || have < l {
			return false
		}
	}
	for c, n := range a.Capacity {
		if n > 0 && (len(q.spec.Channels) == 0 || slices.Contains(q.spec.Channels, c)) {
			return true
		}
	}
	return false
}

// currentItems fills the figures of the moment from the open work items
// (index work_items_state_queue).
func (s *Service) currentItems(ctx context.Context, now time.Time, qidx map[id.ID]*QueueMetrics) error {
	rows, err := s.db.Query(ctx, `SELECT queue_id, state, COUNT(*), MIN(enqueued_at) FROM work_items
		WHERE state IN ('waiting', 'offered', 'assigned') GROUP BY queue_id, state`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var qid id.ID
		var state string
		var n int
		var oldest int64
		if err := rows.Scan(&qid, &state, &n, &oldest); err != nil {
			return err
		}
		q := qidx[qid]
		if q == nil {
			continue
		}
		switch state {
		case StateWaiting:
			q.Waiting = n
			q.OldestWait = max(now.Sub(time.UnixMicro(oldest)), 0)
		case StateOffered:
			q.OfferedNow = n
		case StateAssigned:
			q.Handling = n
		}
	}
	return rows.Err()
}

func avg(sum time.Duration, n int) *time.Duration {
	if n == 0 {
		return nil
	}
	d := sum / time.Duration(n)
	return &d
}

func ratio(num, den float64) *float64 {
	if den <= 0 {
		return nil
	}
	r := num / den
	return &r
}

func parseID(s string) id.ID {
	n, _ := strconv.ParseInt(s, 10, 64)
	return id.ID(n)
}
