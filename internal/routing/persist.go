package routing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Work item states as stored: the engine's three, and the two ends.
const (
	StateWaiting   = "waiting"
	StateOffered   = "offered"
	StateAssigned  = "assigned"
	StateCompleted = "completed"
	StateAbandoned = "abandoned"
)

type agentSpec struct {
	Skills   map[string]int         `json:"skills"`
	Capacity map[engine.Channel]int `json:"capacity"`
	Queues   []string               `json:"queues"`
}

// touchedItems are the items the events concern: the only items whose rows
// a change can alter (every change to an item comes with an event naming
// it). Queues and agents are few and compared whole instead.
func touchedItems(evs []engine.Event) []string {
	var out []string
	for _, ev := range evs {
		if _, it, _ := refs(ev); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// writeChanges writes the rows a change altered — the queues and agents
// that differ from what the store holds, and the touched items in st — and
// the events that made it. It returns the queue of each event (for the
// event log and the live topics).
func (s *Service) writeChanges(ctx context.Context, tx *store.Tx, st engine.State, evs []engine.Event, now time.Time) ([]string, error) {
	nowUs := now.UnixMicro()
	for _, q := range st.Queues {
		if o, ok := s.lastQueues[q.ID]; ok && reflect.DeepEqual(o, q) {
			continue
		}
		spec, err := json.Marshal(q.Queue)
		if err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `UPDATE routing_queues SET spec = ?, open = ?, answered = ?, answered_in_target = ?, abandoned = ?, updated_at = ? WHERE id = ?`,
			string(spec), boolInt(q.Open), q.Answered, q.AnsweredInTarget, q.Abandoned, nowUs, nullStrID(q.ID)); err != nil {
			return nil, err
		}
	}
	var agentRows [][]any
	for _, a := range st.Agents {
		if o, ok := s.lastAgents[a.ID]; ok && reflect.DeepEqual(o, a) {
			continue
		}
		spec, err := json.Marshal(agentSpec{Skills: a.Skills, Capacity: a.Capacity, Queues: a.Queues})
		if err != nil {
			return nil, err
		}
		eng, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		agentRows = append(agentRows, []any{nullStrID(a.ID), string(spec), string(a.Presence), a.Reason, a.Since.UnixMicro(), string(eng), nowUs, nowUs})
	}
	if err := insertRows(ctx, tx, `INSERT INTO routing_agents (user_id, spec, presence, presence_reason, presence_since, engine, created_at, updated_at)`, agentRows,
		`ON CONFLICT (user_id) DO UPDATE SET spec = excluded.spec, presence = excluded.presence, presence_reason = excluded.presence_reason,
			presence_since = excluded.presence_since, engine = excluded.engine, updated_at = excluded.updated_at`); err != nil {
		return nil, err
	}
	live := map[string]string{} // item → its queue now
	var itemRows [][]any
	for _, it := range st.Items {
		live[it.ID] = it.QueueID
		skills, err := json.Marshal(nonNil(it.Skills))
		if err != nil {
			return nil, err
		}
		eng, err := json.Marshal(it)
		if err != nil {
			return nil, err
		}
		itemRows = append(itemRows, []any{nullStrID(it.ID), nullStrID(it.QueueID), string(it.Channel), it.Priority, string(skills), nullStrID(it.CustomerID),
			nullStrID(it.PreferredAgentID), string(it.Status), nullStrID(it.AgentID), it.EnqueuedAt.UnixMicro(),
			micros(it.OfferedAt), micros(it.AssignedAt), string(eng), nowUs})
	}
	if err := insertRows(ctx, tx, `INSERT INTO work_items (id, queue_id, channel, priority, skills, customer_id, preferred_agent_id, state, agent_id,
			enqueued_at, offered_at, assigned_at, engine, updated_at)`, itemRows,
		`ON CONFLICT (id) DO UPDATE SET queue_id = excluded.queue_id, state = excluded.state, agent_id = excluded.agent_id,
			offered_at = excluded.offered_at, assigned_at = excluded.assigned_at, engine = excluded.engine, updated_at = excluded.updated_at`); err != nil {
		return nil, err
	}
	// Items that left the engine: completed or abandoned, as the events say.
	for _, ev := range evs {
		var state, reason, agent string
		var at time.Time
		switch e := ev.(type) {
		case engine.ItemCompleted:
			state, reason, agent, at = StateCompleted, "completed", e.AgentID, e.At
		case engine.ItemAbandoned:
			state, reason, agent, at = StateAbandoned, e.Reason, e.AgentID, e.At
		default:
			continue
		}
		_, item, _ := refs(ev)
		if _, ok := live[item]; ok {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE work_items SET state = ?, agent_id = ?, ended_at = ?, end_reason = ?, updated_at = ? WHERE id = ?`,
			state, nullStrID(agent), at.UnixMicro(), reason, nowUs, nullStrID(item)); err != nil {
			return nil, err
		}
	}
	// The queue of each event: its own, else its item's as the group left
	// it, as the group moved it, or as the store had it.
	moved := map[string]string{}
	queues := make([]string, len(evs))
	eventRows := make([][]any, 0, len(evs))
	for i, ev := range evs {
		q, it, ag := refs(ev)
		switch e := ev.(type) {
		case engine.ItemQueued:
			moved[e.Item.ID] = e.Item.QueueID
		case engine.ItemOverflowed:
			moved[e.ItemID] = e.ToQueueID
		}
		if q == "" && it != "" {
			if q = live[it]; q == "" {
				if q = moved[it]; q == "" {
					q = s.itemQueue[it]
				}
			}
		}
		queues[i] = q
		detail, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		h := ev.Header()
		eventRows = append(eventRows, []any{int64(tx.NewID()), int64(h.Seq), h.At.UnixMicro(), string(ev.Kind()), nullStrID(q), nullStrID(it), nullStrID(ag), string(detail)})
	}
	return queues, insertRows(ctx, tx, `INSERT INTO routing_events (id, seq, at, type, queue_id, item_id, agent_id, detail)`, eventRows, "")
}

// remember records what the store now holds after a commit of st and evs.
func (s *Service) remember(st engine.State, evs []engine.Event) {
	for _, q := range st.Queues {
		s.lastQueues[q.ID] = q
	}
	for _, a := range st.Agents {
		s.lastAgents[a.ID] = a
	}
	for _, ev := range evs {
		switch e := ev.(type) {
		case engine.ItemCompleted:
			delete(s.itemQueue, e.ItemID)
		case engine.ItemAbandoned:
			delete(s.itemQueue, e.ItemID)
		}
	}
	for _, it := range st.Items {
		s.itemQueue[it.ID] = it.QueueID
	}
}

// insertRows writes rows with as few statements as the placeholder limits
// allow: on PostgreSQL every statement is a round trip, and a group of
// commands changes dozens of rows.
func insertRows(ctx context.Context, tx *store.Tx, head string, rows [][]any, tail string) error {
	const perStatement = 200
	for len(rows) > 0 {
		n := min(len(rows), perStatement)
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(" VALUES ")
		args := make([]any, 0, n*len(rows[0]))
		one := "(" + store.Placeholders(len(rows[0])) + ")"
		for i, r := range rows[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(one)
			args = append(args, r...)
		}
		b.WriteByte(' ')
		b.WriteString(tail)
		if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nonNil(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// load rebuilds the engine's state from the tables.
func (s *Service) load(ctx context.Context) (engine.State, error) {
	st := engine.State{Now: s.Now()}
	var seq sql.NullInt64
	if err := s.db.QueryRow(ctx, "SELECT MAX(seq) FROM routing_events").Scan(&seq); err != nil {
		return st, err
	}
	st.EventSeq = uint64(seq.Int64)
	rows, err := s.db.Query(ctx, "SELECT id, spec, open, answered, answered_in_target, abandoned FROM routing_queues ORDER BY id")
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var qid int64
		var spec string
		var open int
		var q engine.QueueState
		if err := rows.Scan(&qid, &spec, &open, &q.Answered, &q.AnsweredInTarget, &q.Abandoned); err != nil {
			rows.Close()
			return st, err
		}
		if err := json.Unmarshal([]byte(spec), &q.Queue); err != nil {
			rows.Close()
			return st, err
		}
		q.ID, q.Open = strconv.FormatInt(qid, 10), open != 0
		st.Queues = append(st.Queues, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, err
	}
	rows, err = s.db.Query(ctx, "SELECT engine FROM routing_agents ORDER BY user_id")
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var raw string
		var a engine.AgentState
		if err := rows.Scan(&raw); err != nil {
			rows.Close()
			return st, err
		}
		if err := json.Unmarshal([]byte(raw), &a); err != nil {
			rows.Close()
			return st, err
		}
		for _, n := range a.LastOffered {
			st.OfferSeq = max(st.OfferSeq, n)
		}
		st.Agents = append(st.Agents, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, err
	}
	rows, err = s.db.Query(ctx, "SELECT engine FROM work_items WHERE state IN ('waiting', 'offered', 'assigned')")
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var raw string
		var it engine.ItemState
		if err := rows.Scan(&raw); err != nil {
			rows.Close()
			return st, err
		}
		if err := json.Unmarshal([]byte(raw), &it); err != nil {
			rows.Close()
			return st, err
		}
		st.ItemSeq = max(st.ItemSeq, it.Seq)
		st.Items = append(st.Items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, err
	}
	// Who served each customer last, for the preferred agent.
	if w := engine.New(s.cfg).Config().PreferredWindow; w > 0 {
		// In the order the engine saw the completions: two in one instant
		// are told apart by their events' sequence.
		rows, err = s.db.Query(ctx, `SELECT w.customer_id, w.agent_id, w.ended_at FROM work_items w
			WHERE w.state = 'completed' AND w.customer_id IS NOT NULL AND w.agent_id IS NOT NULL AND w.ended_at >= ?
			ORDER BY w.ended_at, COALESCE((SELECT MAX(e.seq) FROM routing_events e WHERE e.item_id = w.id AND e.type = 'item_completed'), 0), w.id`,
			st.Now.Add(-w).UnixMicro())
		if err != nil {
			return st, err
		}
		last := map[string]int{}
		for rows.Next() {
			var c, a, at int64
			if err := rows.Scan(&c, &a, &at); err != nil {
				rows.Close()
				return st, err
			}
			ls := engine.LastServed{CustomerID: strconv.FormatInt(c, 10), AgentID: strconv.FormatInt(a, 10), At: time.UnixMicro(at).UTC()}
			if i, ok := last[ls.CustomerID]; ok {
				st.LastServed[i] = ls
			} else {
				last[ls.CustomerID] = len(st.LastServed)
				st.LastServed = append(st.LastServed, ls)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return st, err
		}
	}
	return st, nil
}

// ---- reads (from the store; they work on every node) ----

const queueCols = "id, name, spec, created_at, updated_at"

func scanQueue(sc interface{ Scan(...any) error }) (*Queue, error) {
	var q Queue
	var spec string
	var created, updated int64
	if err := sc.Scan(&q.ID, &q.Name, &spec, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(spec), &q.Queue); err != nil {
		return nil, err
	}
	q.Queue.ID = q.ID.String()
	q.CreatedAt, q.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return &q, nil
}

// GetQueue returns a stored queue.
func (s *Service) GetQueue(ctx context.Context, qid id.ID) (*Queue, error) {
	q, err := scanQueue(s.db.QueryRow(ctx, "SELECT "+queueCols+" FROM routing_queues WHERE id = ?", int64(qid)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("queue %s", qid)
	}
	return q, err
}

// ListQueues lists the queues by name.
func (s *Service) ListQueues(ctx context.Context) ([]*Queue, error) {
	rows, err := s.db.Query(ctx, "SELECT "+queueCols+" FROM routing_queues ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Queue{}
	for rows.Next() {
		q, err := scanQueue(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// GetAgent returns an agent's routing row.
func (s *Service) GetAgent(ctx context.Context, userID id.ID) (*Agent, error) {
	var a Agent
	var spec string
	var since int64
	err := s.db.QueryRow(ctx, "SELECT user_id, spec, presence, presence_reason, presence_since FROM routing_agents WHERE user_id = ?", int64(userID)).
		Scan(&a.UserID, &spec, &a.Presence, &a.PresenceReason, &since)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("agent %s", userID)
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(spec), &a.AgentProfile); err != nil {
		return nil, err
	}
	a.PresenceSince = time.UnixMicro(since).UTC()
	return &a, nil
}

// ListAgents lists every agent's routing row.
func (s *Service) ListAgents(ctx context.Context) ([]*Agent, error) {
	rows, err := s.db.Query(ctx, "SELECT user_id, spec, presence, presence_reason, presence_since FROM routing_agents ORDER BY user_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Agent{}
	for rows.Next() {
		var a Agent
		var spec string
		var since int64
		if err := rows.Scan(&a.UserID, &spec, &a.Presence, &a.PresenceReason, &since); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(spec), &a.AgentProfile); err != nil {
			return nil, err
		}
		a.PresenceSince = time.UnixMicro(since).UTC()
		out = append(out, &a)
	}
	return out, rows.Err()
}

// WorkItem is a stored work item.
type WorkItem struct {
	ID               id.ID          `json:"id"`
	QueueID          id.ID          `json:"queue_id"`
	Channel          engine.Channel `json:"channel"`
	Priority         int            `json:"priority"`
	Skills           map[string]int `json:"skills"`
	CustomerID       id.ID          `json:"customer_id,omitempty"`
	CaseID           id.ID          `json:"case_id,omitempty"`
	InteractionID    id.ID          `json:"interaction_id,omitempty"`
	PreferredAgentID id.ID          `json:"preferred_agent_id,omitempty"`
	State            string         `json:"state"`
	AgentID          id.ID          `json:"agent_id,omitempty"`
	EnqueuedAt       time.Time      `json:"enqueued_at"`
	OfferedAt        *time.Time     `json:"offered_at,omitempty"`
	AssignedAt       *time.Time     `json:"assigned_at,omitempty"`
	EndedAt          *time.Time     `json:"ended_at,omitempty"`
	EndReason        string         `json:"end_reason,omitempty"`
	Disposition      string         `json:"disposition,omitempty"`
}

const itemCols = `id, queue_id, channel, priority, skills, customer_id, case_id, interaction_id, preferred_agent_id, state, agent_id,
	enqueued_at, offered_at, assigned_at, ended_at, end_reason, disposition`

func scanItem(sc interface{ Scan(...any) error }) (*WorkItem, error) {
	var w WorkItem
	var skills string
	var cust, cas, inter, pref, agent, offered, assigned, ended sql.NullInt64
	var enq int64
	if err := sc.Scan(&w.ID, &w.QueueID, &w.Channel, &w.Priority, &skills, &cust, &cas, &inter, &pref, &w.State, &agent,
		&enq, &offered, &assigned, &ended, &w.EndReason, &w.Disposition); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(skills), &w.Skills); err != nil {
		return nil, err
	}
	w.CustomerID, w.CaseID, w.InteractionID = id.ID(cust.Int64), id.ID(cas.Int64), id.ID(inter.Int64)
	w.PreferredAgentID, w.AgentID = id.ID(pref.Int64), id.ID(agent.Int64)
	w.EnqueuedAt = time.UnixMicro(enq).UTC()
	w.OfferedAt, w.AssignedAt, w.EndedAt = timePtr(offered), timePtr(assigned), timePtr(ended)
	return &w, nil
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMicro(v.Int64).UTC()
	return &t
}

// GetItem returns a stored work item.
func (s *Service) GetItem(ctx context.Context, iid id.ID) (*WorkItem, error) {
	w, err := scanItem(s.db.QueryRow(ctx, "SELECT "+itemCols+" FROM work_items WHERE id = ?", int64(iid)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("work item %s", iid)
	}
	return w, err
}

// ItemQuery filters ListItems.
type ItemQuery struct {
	State   string // "" = the open states (waiting, offered, assigned)
	QueueID id.ID
	AgentID id.ID
	Limit   int // default 100, at most 1000
}

// ListItems lists work items, oldest first.
func (s *Service) ListItems(ctx context.Context, q ItemQuery) ([]*WorkItem, error) {
	where, args := "", []any{}
	switch q.State {
	case "":
		where = "state IN ('waiting', 'offered', 'assigned')"
	case StateWaiting, StateOffered, StateAssigned, StateCompleted, StateAbandoned:
		where, args = "state = ?", append(args, q.State)
	default:
		return nil, errs.Invalidf("state", "must be one of waiting, offered, assigned, completed, abandoned")
	}
	if q.QueueID != 0 {
		where, args = where+" AND queue_id = ?", append(args, int64(q.QueueID))
	}
	if q.AgentID != 0 {
		where, args = where+" AND agent_id = ?", append(args, int64(q.AgentID))
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	rows, err := s.db.Query(ctx, "SELECT "+itemCols+" FROM work_items WHERE "+where+" ORDER BY id LIMIT "+strconv.Itoa(q.Limit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*WorkItem{}
	for rows.Next() {
		w, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}
