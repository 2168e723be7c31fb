package cases

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/keyset"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Inbox views.
const (
	ViewMine       = "mine"
	ViewTeam       = "team"
	ViewUnassigned = "unassigned"
	ViewAll        = "all"
)

// Views lists the inbox views in display order.
var Views = []string{ViewMine, ViewTeam, ViewUnassigned, ViewAll}

// Inbox sort orders.
var Sorts = []string{"updated", "oldest", "created", "priority"}

// InboxQuery selects and orders cases for the inbox.
type InboxQuery struct {
	View    string  // mine, team, unassigned, all (default all)
	UserID  id.ID   // who "mine" is
	TeamIDs []id.ID // the teams "team" covers
	// Statuses defaults to the open statuses; "any" in the list means all.
	Statuses   []string
	Priorities []string
	Channels   []string
	Reasons    []string
	SLA        []string
	Tag        string
	Sort       string // updated (newest activity first, default), oldest, created, priority
	Cursor     string
	Limit      int // default 50, at most 200
}

// InboxItem is a case as listed, with the names the list shows.
type InboxItem struct {
	*Case
	CustomerName string `json:"customer_name"`
	OwnerName    string `json:"owner_name"`
	TeamName     string `json:"team_name"`
}

// InboxPage is one page of the inbox.
type InboxPage struct {
	Items      []*InboxItem `json:"items"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// openClause selects open cases through the is_open column, which leads the
// inbox indexes: both databases then read them in updated order and stop
// after a page.
const openClause = "c.is_open = 1"

// priorityRank orders priorities most urgent first.
const priorityRank = "(CASE c.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END)"

func (q *InboxQuery) where() (string, []any, error) {
	var where []string
	var args []any
	in := func(col, field string, vals, allowed []string) error {
		if len(vals) == 0 {
			return nil
		}
		for _, v := range vals {
			if allowed != nil && !slices.Contains(allowed, v) {
				return errs.Invalidf(field, "%q is not one of %v", v, allowed)
			}
			args = append(args, v)
		}
		where = append(where, col+" IN ("+store.Placeholders(len(vals))+")")
		return nil
	}
	switch {
	case len(q.Statuses) == 0:
		where = append(where, openClause)
	case slices.Contains(q.Statuses, "any"):
	case slices.Equal(q.Statuses, OpenStatuses):
		where = append(where, openClause)
	default:
		if err := in("c.status", "status", q.Statuses, Statuses); err != nil {
			return "", nil, err
		}
		if !slices.ContainsFunc(q.Statuses, func(st string) bool { return !IsOpen(st) }) {
			where = append(where, openClause)
		}
	}
	switch q.View {
	case "", ViewAll:
	case ViewMine:
		where = append(where, "c.owner_id = ?")
		args = append(args, q.UserID)
	case ViewTeam:
		if len(q.TeamIDs) == 0 {
			where = append(where, "1 = 0")
		} else {
			where = append(where, "c.team_id IN ("+store.Placeholders(len(q.TeamIDs))+")")
			for _, t := range q.TeamIDs {
				args = append(args, t)
			}
		}
	case ViewUnassigned:
		where = append(where, "c.owner_id IS NULL")
	default:
		return "", nil, errs.Invalidf("view", "must be one of %v", Views)
	}
	if err := in("c.priority", "priority", q.Priorities, Priorities); err != nil {
		return "", nil, err
	}
	if err := in("c.channel", "channel", q.Channels, nil); err != nil {
		return "", nil, err
	}
	if err := in("c.reason", "reason", q.Reasons, nil); err != nil {
		return "", nil, err
	}
	if err := in("c.sla_state", "sla", q.SLA, SLAStates); err != nil {
		return "", nil, err
	}
	if q.Tag != "" {
		where = append(where, "c.id IN (SELECT case_id FROM case_tags WHERE tag = ?)")
		args = append(args, strings.ToLower(q.Tag))
	}
	if !slices.Contains(where, openClause) {
		// Merged cases are closed; outside the open views they still stay out.
		where = append(where, "c.merged_into IS NULL")
	}
	return strings.Join(where, " AND "), args, nil
}

// Inbox lists cases.
func (s *Service) Inbox(ctx context.Context, q InboxQuery) (*InboxPage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 200 {
		return nil, errs.Invalidf("limit", "must be at most 200")
	}
	if q.Sort == "" {
		q.Sort = "updated"
	}
	where, args, err := q.where()
	if err != nil {
		return nil, err
	}
	// Every order is keyset-paged on (key, id).
	var key, dir string
	switch q.Sort {
	case "updated":
		key, dir = "c.updated_at", "DESC"
	case "oldest":
		key, dir = "c.updated_at", "ASC"
	case "created":
		key, dir = "c.id", "DESC" // ids grow with creation time
	case "priority":
		// Most urgent first, then longest waiting: one sortable number.
		key, dir = "("+priorityRank+" * 4000000000000000 + c.updated_at)", "ASC"
	default:
		return nil, errs.Invalidf("sort", "must be one of %v", Sorts)
	}
	if q.Cursor != "" {
		k, last, err := keyset.Decode(q.Cursor)
		if err != nil {
			return nil, errs.Invalidf("cursor", "is not a cursor from this list")
		}
		cmp := "<"
		if dir == "ASC" {
			cmp = ">"
		}
		where += fmt.Sprintf(" AND (%s %s ? OR (%s = ? AND c.id %s ?))", key, cmp, key, cmp)
		args = append(args, k, k, last)
	}
	rows, err := s.db.Query(ctx, "SELECT "+key+", "+caseColumns+`, COALESCE(cu.name, ''), COALESCE(u.name, ''), COALESCE(t.name, '')
		FROM cases c LEFT JOIN customers cu ON cu.id = c.customer_id LEFT JOIN users u ON u.id = c.owner_id
		LEFT JOIN teams t ON t.id = c.team_id WHERE `+where+" ORDER BY "+key+" "+dir+", c.id "+dir+" LIMIT ?", append(args, q.Limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("reading the inbox: %w", err)
	}
	defer rows.Close()
	page := &InboxPage{Items: make([]*InboxItem, 0, q.Limit)}
	var keys []int64
	for rows.Next() {
		var k int64
		it := &InboxItem{}
		dest := []any{&k}
		c, err := scanCase(suffixScanner{rows, dest, []any{&it.CustomerName, &it.OwnerName, &it.TeamName}})
		if err != nil {
			return nil, err
		}
		it.Case = c
		page.Items = append(page.Items, it)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(page.Items) > q.Limit {
		page.Items = page.Items[:q.Limit]
		page.NextCursor = keyset.Encode(keys[q.Limit-1], page.Items[q.Limit-1].ID)
	}
	return page, nil
}

// suffixScanner scans columns before and after a case's columns.
type suffixScanner struct {
	r           scanner
	before, end []any
}

func (p suffixScanner) Scan(dest ...any) error {
	all := append(append(append([]any{}, p.before...), dest...), p.end...)
	return p.r.Scan(all...)
}

// Counts returns how many open cases each view holds for a user: a user's
// and a team's are ranges of an inbox index, all and unassigned are running
// totals.
func (s *Service) Counts(ctx context.Context, userID id.ID, teamIDs []id.ID) (map[string]int, error) {
	countWhere := func(where string, args ...any) (int, error) {
		var n int
		err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM cases c WHERE "+where, args...).Scan(&n)
		if err != nil {
			return 0, fmt.Errorf("counting the inbox: %w", err)
		}
		return n, nil
	}
	out := map[string]int{}
	var err error
	if out[ViewMine], err = countWhere("c.owner_id = ? AND c.is_open = 1", userID); err != nil {
		return nil, err
	}
	if len(teamIDs) > 0 {
		args := make([]any, len(teamIDs))
		for i, t := range teamIDs {
			args[i] = t
		}
		if out[ViewTeam], err = countWhere("c.team_id IN ("+store.Placeholders(len(teamIDs))+") AND c.is_open = 1", args...); err != nil {
			return nil, err
		}
	} else {
		out[ViewTeam] = 0
	}
	// The two large views are running totals kept with every change.
	all, err := s.db.Counter(ctx, counterOpen)
	if err != nil {
		return nil, err
	}
	unassigned, err := s.db.Counter(ctx, counterOpenUnassigned)
	if err != nil {
		return nil, err
	}
	out[ViewAll], out[ViewUnassigned] = int(all), int(unassigned)
	return out, nil
}

// Running totals of open cases, moved in the transaction of every change.
const (
	counterOpen           = "cases.open"
	counterOpenUnassigned = "cases.open.unassigned"
)

// caseShape is what the running totals depend on.
type caseShape struct{ open, unassigned bool }

func shapeOf(c *Case) caseShape { return caseShape{IsOpen(c.Status), c.OwnerID == nil} }

// count moves the running totals from a case's shape before a change to
// its shape after (before is the zero shape for a new case).
func count(ctx context.Context, tx *store.Tx, before, after caseShape) error {
	delta := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	if err := tx.AddCounter(ctx, counterOpen, delta(after.open)-delta(before.open)); err != nil {
		return err
	}
	return tx.AddCounter(ctx, counterOpenUnassigned, delta(after.open && after.unassigned)-delta(before.open && before.unassigned))
}
