package cases

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// OptionalID is an id in a patch that may be set, cleared (JSON null or
// "") or left alone (absent).
type OptionalID struct {
	Set bool
	ID  id.ID // 0 clears
}

// UnmarshalJSON accepts an id string or number, null, or "".
func (o *OptionalID) UnmarshalJSON(b []byte) error {
	o.Set = true
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		o.ID = 0
		return nil
	}
	return o.ID.UnmarshalText([]byte(s))
}

// Patch changes some fields of a case; nil fields stay as they are. Only the
// named fields are written, so two agents changing different fields of one
// case at once both keep their change.
type Patch struct {
	Subject    *string    `json:"subject"`
	Reason     *string    `json:"reason"`
	Status     *string    `json:"status"`
	Priority   *string    `json:"priority"`
	TeamID     OptionalID `json:"team_id"`
	OwnerID    OptionalID `json:"owner_id"`
	Tags       *[]string  `json:"tags"`
	AddTags    []string   `json:"add_tags"`
	RemoveTags []string   `json:"remove_tags"`
	Resolution *string    `json:"resolution"`
	// Version, when not 0, must be the case's current version: the change
	// is refused with a conflict if someone else changed the case since.
	Version int `json:"version"`
}

// Update applies a patch and records each change in the history.
func (s *Service) Update(ctx context.Context, actor Actor, caseID id.ID, p Patch) (*Case, error) {
	var after *Case
	var changes map[string]any
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		c, err := lockCase(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if p.Version != 0 && p.Version != c.Version {
			return errs.Conflictf("case %s changed since version %d (it is at version %d now): reload and try again", caseID, p.Version, c.Version)
		}
		changes, err = s.updateTx(ctx, tx, actor, c, p, s.now().UTC())
		if err != nil {
			return err
		}
		after = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(changes) > 0 {
		s.publish(ctx, "case.updated", after, map[string]any{"changes": keys(changes)})
	}
	return after, nil
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// updateTx applies p to c (read with lockCase) and stores it.
func (s *Service) updateTx(ctx context.Context, tx *store.Tx, actor Actor, c *Case, p Patch, now time.Time) (map[string]any, error) {
	if c.MergedInto != nil {
		return nil, errs.Conflictf("case %s was merged into case %s; change that one", c.ID, *c.MergedInto)
	}
	changes := map[string]any{}
	before := shapeOf(c)
	record := func(kind string, detail map[string]any) error {
		changes[kind] = detail
		return event(ctx, tx, c.ID, now, actor, kind, detail)
	}
	if p.Subject != nil {
		v := strings.TrimSpace(*p.Subject)
		if v == "" {
			return nil, errs.Invalidf("subject", "must not be empty")
		}
		if err := checkText("subject", v, maxSubject); err != nil {
			return nil, err
		}
		if v != c.Subject {
			if err := record("subject", map[string]any{"from": c.Subject, "to": v}); err != nil {
				return nil, err
			}
			c.Subject = v
		}
	}
	if p.Reason != nil && *p.Reason != c.Reason {
		if err := s.checkReason(ctx, tx, *p.Reason); err != nil {
			return nil, err
		}
		if err := record("reason", map[string]any{"from": c.Reason, "to": *p.Reason}); err != nil {
			return nil, err
		}
		c.Reason = *p.Reason
	}
	reclock := false
	if p.Priority != nil && *p.Priority != c.Priority {
		if !slices.Contains(Priorities, *p.Priority) {
			return nil, errs.Invalidf("priority", "must be one of %v", Priorities)
		}
		if err := record("priority", map[string]any{"from": c.Priority, "to": *p.Priority}); err != nil {
			return nil, err
		}
		c.Priority, reclock = *p.Priority, true
	}
	if p.TeamID.Set && !sameID(c.TeamID, p.TeamID.ID) {
		var to *id.ID
		if p.TeamID.ID != 0 {
			if err := exists(ctx, tx, "teams", p.TeamID.ID, "team_id"); err != nil {
				return nil, err
			}
			v := p.TeamID.ID
			to = &v
		}
		if err := record("team", map[string]any{"from": c.TeamID, "to": to}); err != nil {
			return nil, err
		}
		c.TeamID, reclock = to, true
	}
	if p.OwnerID.Set && !sameID(c.OwnerID, p.OwnerID.ID) {
		var to *id.ID
		if p.OwnerID.ID != 0 {
			if err := activeUser(ctx, tx, p.OwnerID.ID); err != nil {
				return nil, err
			}
			v := p.OwnerID.ID
			to = &v
		}
		if err := record("assigned", map[string]any{"from": c.OwnerID, "to": to}); err != nil {
			return nil, err
		}
		c.OwnerID = to
	}
	if p.Tags != nil || len(p.AddTags) > 0 || len(p.RemoveTags) > 0 {
		next := slices.Clone(c.Tags)
		if p.Tags != nil {
			next = slices.Clone(*p.Tags)
		}
		next = append(next, p.AddTags...)
		drop, err := normalizeTags(p.RemoveTags)
		if err != nil {
			return nil, errs.Prefix(err, "remove_tags")
		}
		next = slices.DeleteFunc(next, func(t string) bool { return slices.Contains(drop, strings.ToLower(strings.TrimSpace(t))) })
		tags, err := normalizeTags(next)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(tags, c.Tags) {
			if err := writeTags(ctx, tx, c.ID, c.Tags, tags); err != nil {
				return nil, err
			}
			if err := record("tags", map[string]any{"from": c.Tags, "to": tags}); err != nil {
				return nil, err
			}
			c.Tags = tags
		}
	}
	if p.Resolution != nil && *p.Resolution != c.Resolution {
		if err := checkText("resolution", *p.Resolution, maxResolution); err != nil {
			return nil, err
		}
		if err := record("resolution", map[string]any{"to": *p.Resolution}); err != nil {
			return nil, err
		}
		c.Resolution = *p.Resolution
	}
	r, err := s.rules(ctx, tx)
	if err != nil {
		return nil, err
	}
	p0, cal := r.policy(c.SLA.PolicyID)
	final := c.Status
	if p.Status != nil {
		final = *p.Status
	}
	// A case closed by the same change keeps the clocks it ran on (and the
	// state they ended in); only an open case gets the new policy's targets.
	if reclock && IsOpen(final) {
		old, oldP, oldCal := c.SLA, p0, cal
		p0, cal = r.policyFor(c.Priority, c.TeamID)
		startClocks(c, p0, cal)
		c.SLA.BreachedAt, c.SLA.PausedAt = old.BreachedAt, old.PausedAt
		if old.PausedAt != nil {
			c.SLA.State = SLAPaused
		}
		carryClocks(c, old, oldP, oldCal, p0, cal, now)
	}
	if p.Status != nil && *p.Status != c.Status {
		if err := s.changeStatus(ctx, tx, actor, c, *p.Status, cal, now, record); err != nil {
			return nil, err
		}
	}
	if len(changes) == 0 {
		return changes, nil
	}
	if _, err := s.applyClock(ctx, tx, c, p0, cal, now); err != nil {
		return nil, err
	}
	c.Version++
	c.UpdatedAt = now
	tags, _ := json.Marshal(c.Tags)
	_, err = tx.Exec(ctx, `UPDATE cases SET subject = ?, reason = ?, status = ?, is_open = ?, priority = ?, team_id = ?, owner_id = ?, tags = ?,
		resolution = ?, resolved_at = ?, closed_at = ?, updated_at = ?, version = ? WHERE id = ?`,
		c.Subject, c.Reason, c.Status, openFlag(c.Status), c.Priority, nullID(c.TeamID), nullID(c.OwnerID), string(tags), c.Resolution,
		nullTime(c.ResolvedAt), nullTime(c.ClosedAt), now.UnixMicro(), c.Version, c.ID)
	if err != nil {
		return nil, fmt.Errorf("storing case %s: %w", c.ID, err)
	}
	if err := count(ctx, tx, before, shapeOf(c)); err != nil {
		return nil, err
	}
	return changes, nil
}

func sameID(cur *id.ID, next id.ID) bool {
	if cur == nil {
		return next == 0
	}
	return *cur == next
}

// changeStatus moves a case to another status: resolving and closing stop
// the clocks, waiting on the customer pauses them, reopening restarts them.
func (s *Service) changeStatus(ctx context.Context, tx *store.Tx, actor Actor, c *Case, to string, cal calendar, now time.Time, record func(string, map[string]any) error) error {
	if !slices.Contains(Statuses, to) {
		return errs.Invalidf("status", "must be one of %v", Statuses)
	}
	from := c.Status
	if from == Closed && to != Open {
		return errs.Invalidf("status", "a closed case can only be reopened (status open)")
	}
	kind := "status"
	if !IsOpen(from) && IsOpen(to) {
		kind = "reopened"
	}
	if err := record(kind, map[string]any{"from": from, "to": to}); err != nil {
		return err
	}
	c.Status = to
	if !IsOpen(from) && IsOpen(to) {
		// Reopened, to whichever open status: no longer resolved, and a
		// fresh resolution target from now (paused at once if waiting on
		// the customer).
		c.ResolvedAt, c.ClosedAt = nil, nil
		r, err := s.rules(ctx, tx)
		if err != nil {
			return err
		}
		p, pcal := r.policyFor(c.Priority, c.TeamID)
		if p != nil && p.Resolution > 0 {
			t := pcal.Add(now, p.Resolution.Duration())
			c.SLA.ResolutionDue = &t
		}
	}
	switch {
	case to == Resolved:
		c.ResolvedAt = &now
		c.SLA.ResolutionDue, c.SLA.NextResponseDue, c.SLA.FirstResponseDue = nil, nil, nil
		c.SLA.PausedAt = nil
	case to == Closed:
		if c.ResolvedAt == nil {
			c.ResolvedAt = &now
		}
		c.ClosedAt = &now
		c.SLA.ResolutionDue, c.SLA.NextResponseDue, c.SLA.FirstResponseDue = nil, nil, nil
		c.SLA.PausedAt = nil
	case to == WaitingCustomer:
		pauseClocks(c, now)
	default: // new, open, waiting on us
		if c.SLA.PausedAt != nil {
			resumeClocks(c, cal, now)
		}
	}
	return nil
}
