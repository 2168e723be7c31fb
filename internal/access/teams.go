package access

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Team is a group of users that work is routed to (a queue's agents, a
// store's staff, the collections desk).
type Team struct {
	ID          id.ID     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Members     []id.ID   `json:"members"` // user ids, oldest user first; never null
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// MaxTeamDescription bounds a team's description, in characters.
const MaxTeamDescription = 1000

func checkTeam(name, description string) (string, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return "", "", errs.Invalidf("name", "must be 1 to 100 characters")
	}
	description = strings.TrimSpace(description)
	if utf8.RuneCountInString(description) > MaxTeamDescription {
		return "", "", errs.Invalidf("description", "must be at most %d characters", MaxTeamDescription)
	}
	return name, description, nil
}

// teamNameTaken refuses a name another team has, ignoring case ("Billing" and
// "billing" would only confuse whoever routes work to them).
func teamNameTaken(ctx context.Context, tx *store.Tx, name string, self id.ID) error {
	var other string
	err := tx.QueryRow(ctx, "SELECT name FROM teams WHERE lower(name) = lower(?) AND id <> ?", name, self).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return errs.Conflictf("a team named %q exists", other)
}

// CreateTeam adds a team without members.
func (s *Service) CreateTeam(ctx context.Context, name, description, actor string) (*Team, error) {
	name, description, err := checkTeam(name, description)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	t := &Team{Name: name, Description: description, Members: []id.ID{}, CreatedAt: now, UpdatedAt: now}
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := teamNameTaken(ctx, tx, name, 0); err != nil {
			return err
		}
		t.ID = tx.NewID()
		if _, err := tx.Exec(ctx, "INSERT INTO teams (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			t.ID, name, description, now.UnixMicro(), now.UnixMicro()); err != nil {
			if store.IsUniqueViolation(err) {
				return errs.Conflictf("a team named %q exists", name)
			}
			return err
		}
		return audit(ctx, tx, now, actor, "team.create", "team", t.ID, map[string]any{"name": name, "description": description})
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// UpdateTeam renames a team or changes its description.
func (s *Service) UpdateTeam(ctx context.Context, teamID id.ID, name, description, actor string) (*Team, error) {
	name, description, err := checkTeam(name, description)
	if err != nil {
		return nil, err
	}
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := s.now().UTC()
		var oldName, oldDescription string
		err := tx.QueryRow(ctx, "SELECT name, description FROM teams WHERE id = ?", teamID).Scan(&oldName, &oldDescription)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFoundf("team %s", teamID)
		}
		if err != nil {
			return err
		}
		if name == oldName && description == oldDescription {
			return nil
		}
		if err := teamNameTaken(ctx, tx, name, teamID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE teams SET name = ?, description = ?, updated_at = ? WHERE id = ?",
			name, description, now.UnixMicro(), teamID); err != nil {
			if store.IsUniqueViolation(err) {
				return errs.Conflictf("a team named %q exists", name)
			}
			return err
		}
		detail := map[string]any{}
		if name != oldName {
			detail["name"], detail["previous_name"] = name, oldName
		}
		if description != oldDescription {
			detail["description"] = description
		}
		return audit(ctx, tx, now, actor, "team.update", "team", teamID, detail)
	})
	if err != nil {
		return nil, err
	}
	return s.GetTeam(ctx, teamID)
}

// maxTeamMembers bounds one SetTeamMembers call.
const maxTeamMembers = 10000

// SetTeamMembers makes userIDs the team's members (duplicates count once);
// memberships that stay keep their date.
func (s *Service) SetTeamMembers(ctx context.Context, teamID id.ID, userIDs []id.ID, actor string) (*Team, error) {
	want := slices.Clone(userIDs)
	slices.Sort(want)
	want = slices.Compact(want)
	if len(want) > maxTeamMembers {
		return nil, errs.Invalidf("members", "at most %d members", maxTeamMembers)
	}
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := s.now().UTC()
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM teams WHERE id = ?", teamID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFoundf("team %s", teamID)
		}
		if err != nil {
			return err
		}
		if err := usersExist(ctx, tx, want); err != nil {
			return err
		}
		have := map[id.ID]bool{}
		rows, err := tx.Query(ctx, "SELECT user_id FROM team_members WHERE team_id = ?", teamID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var u id.ID
			if err := rows.Scan(&u); err != nil {
				rows.Close()
				return err
			}
			have[u] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		added, removed := []id.ID{}, []id.ID{}
		for _, u := range want {
			if !have[u] {
				added = append(added, u)
			}
		}
		for u := range have {
			if _, found := slices.BinarySearch(want, u); !found {
				removed = append(removed, u)
			}
		}
		slices.Sort(removed)
		if len(added) == 0 && len(removed) == 0 {
			return nil
		}
		for _, u := range removed {
			if _, err := tx.Exec(ctx, "DELETE FROM team_members WHERE team_id = ? AND user_id = ?", teamID, u); err != nil {
				return err
			}
		}
		for _, u := range added {
			if _, err := tx.Exec(ctx, "INSERT INTO team_members (team_id, user_id, created_at) VALUES (?, ?, ?)",
				teamID, u, now.UnixMicro()); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE teams SET updated_at = ? WHERE id = ?", now.UnixMicro(), teamID); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, "team.members", "team", teamID, map[string]any{"added": added, "removed": removed})
	})
	if err != nil {
		return nil, err
	}
	return s.GetTeam(ctx, teamID)
}

// usersExist refuses ids (sorted, distinct) of which some are no user's.
func usersExist(ctx context.Context, tx *store.Tx, ids []id.ID) error {
	const chunk = 500
	for len(ids) > 0 {
		part := ids[:min(chunk, len(ids))]
		ids = ids[len(part):]
		args := make([]any, len(part))
		for i, u := range part {
			args[i] = u
		}
		rows, err := tx.Query(ctx, "SELECT id FROM users WHERE id IN (?"+strings.Repeat(", ?", len(part)-1)+")", args...)
		if err != nil {
			return err
		}
		found := map[id.ID]bool{}
		for rows.Next() {
			var u id.ID
			if err := rows.Scan(&u); err != nil {
				rows.Close()
				return err
			}
			found[u] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, u := range part {
			if !found[u] {
				return errs.Invalidf("members", "no user has id %s", u)
			}
		}
	}
	return nil
}

// ListTeams lists the teams by name, with their members, in one query.
func (s *Service) ListTeams(ctx context.Context) ([]*Team, error) {
	return s.queryTeams(ctx, "")
}

// GetTeam returns one team with its members.
func (s *Service) GetTeam(ctx context.Context, teamID id.ID) (*Team, error) {
	ts, err := s.queryTeams(ctx, " WHERE t.id = ?", teamID)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, errs.NotFoundf("team %s", teamID)
	}
	return ts[0], nil
}

func (s *Service) queryTeams(ctx context.Context, where string, args ...any) ([]*Team, error) {
	rows, err := s.db.Query(ctx, `SELECT t.id, t.name, t.description, t.created_at, t.updated_at, m.user_id
		FROM teams t LEFT JOIN team_members m ON m.team_id = t.id`+where+`
		ORDER BY t.id, m.user_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing teams: %w", err)
	}
	defer rows.Close()
	out := []*Team{}
	var t *Team
	for rows.Next() {
		var teamID id.ID
		var name, description string
		var created, updated int64
		var member sql.NullInt64
		if err := rows.Scan(&teamID, &name, &description, &created, &updated, &member); err != nil {
			return nil, err
		}
		if t == nil || t.ID != teamID {
			t = &Team{ID: teamID, Name: name, Description: description, Members: []id.ID{},
				CreatedAt: time.UnixMicro(created).UTC(), UpdatedAt: time.UnixMicro(updated).UTC()}
			out = append(out, t)
		}
		if member.Valid {
			t.Members = append(t.Members, id.ID(member.Int64))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// By name in Go rather than SQL: SQLite and PostgreSQL collate differently.
	slices.SortStableFunc(out, func(a, b *Team) int {
		return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, nil
}

// TeamsOf lists the ids of the teams a user belongs to.
func (s *Service) TeamsOf(ctx context.Context, userID id.ID) ([]id.ID, error) {
	rows, err := s.db.Query(ctx, "SELECT team_id FROM team_members WHERE user_id = ? ORDER BY team_id", userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []id.ID{}
	for rows.Next() {
		var t id.ID
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
