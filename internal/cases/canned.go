package cases

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/richtext"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Canned is a canned response: a reply text with variables such as
// {{customer.first_name}}, filled in when inserted.
type Canned struct {
	ID        id.ID     `json:"id"`
	Name      string    `json:"name"`
	Shortcut  string    `json:"shortcut"`
	Body      string    `json:"body"`
	TeamID    *id.ID    `json:"team_id"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CannedVariables are the variables a canned response may use.
var CannedVariables = []string{"customer.name", "customer.first_name", "agent.name", "agent.first_name", "case.id", "case.subject"}

var variableRE = regexp.MustCompile(`\{\{\s*([a-z_.]+)\s*\}\}`)

// SaveCanned creates a canned response or, with an ID, replaces it.
func (s *Service) SaveCanned(ctx context.Context, actor Actor, c Canned) (*Canned, error) {
	c.Name, c.Shortcut = strings.TrimSpace(c.Name), strings.TrimSpace(c.Shortcut)
	if c.Name == "" {
		return nil, errs.Invalidf("name", "is required")
	}
	if err := checkText("name", c.Name, 100); err != nil {
		return nil, err
	}
	if strings.TrimSpace(c.Body) == "" {
		return nil, errs.Invalidf("body", "is required")
	}
	if err := checkText("body", c.Body, 10000); err != nil {
		return nil, err
	}
	for _, m := range variableRE.FindAllStringSubmatch(c.Body, -1) {
		if !slices.Contains(CannedVariables, m[1]) {
			return nil, errs.Invalidf("body", "unknown variable {{%s}}; use one of %v", m[1], CannedVariables)
		}
	}
	now := s.now().UTC()
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if c.TeamID != nil {
			if err := exists(ctx, tx, "teams", *c.TeamID, "team_id"); err != nil {
				return err
			}
		}
		if c.ID == 0 {
			c.ID, c.CreatedAt, c.UpdatedAt, c.CreatedBy = tx.NewID(), now, now, actor.Name
			_, err := tx.Exec(ctx, "INSERT INTO canned_responses (id, name, shortcut, body, team_id, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				c.ID, c.Name, c.Shortcut, c.Body, nullID(c.TeamID), c.CreatedBy, now.UnixMicro(), now.UnixMicro())
			return err
		}
		c.UpdatedAt = now
		res, err := tx.Exec(ctx, "UPDATE canned_responses SET name = ?, shortcut = ?, body = ?, team_id = ?, updated_at = ? WHERE id = ?",
			c.Name, c.Shortcut, c.Body, nullID(c.TeamID), now.UnixMicro(), c.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("canned response %s", c.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// CannedResponses lists the canned responses.
func (s *Service) CannedResponses(ctx context.Context) ([]*Canned, error) {
	rows, err := s.db.Query(ctx, "SELECT id, name, shortcut, body, team_id, created_by, created_at, updated_at FROM canned_responses ORDER BY name LIMIT 1000")
	if err != nil {
		return nil, fmt.Errorf("reading canned responses: %w", err)
	}
	defer rows.Close()
	out := []*Canned{}
	for rows.Next() {
		var c Canned
		var team sql.NullInt64
		var created, updated int64
		if err := rows.Scan(&c.ID, &c.Name, &c.Shortcut, &c.Body, &team, &c.CreatedBy, &created, &updated); err != nil {
			return nil, err
		}
		c.TeamID, c.CreatedAt, c.UpdatedAt = optID(team), micros(created), micros(updated)
		out = append(out, &c)
	}
	return out, rows.Err()
}

// RenderCanned fills in a canned response's variables.
func RenderCanned(body string, vars map[string]string) string {
	return variableRE.ReplaceAllStringFunc(body, func(m string) string {
		name := variableRE.FindStringSubmatch(m)[1]
		if v, ok := vars[name]; ok {
			return v
		}
		return m
	})
}

// PlainChannel tells whether replies on a contact point of this kind are
// short plain text (SMS, WhatsApp, social messages) rather than rich email.
func PlainChannel(kind string) bool {
	switch kind {
	case "sms", "whatsapp", "social":
		return true
	}
	return false
}

// RenderCannedFor renders a canned response for a channel: {{fact "name"}}
// tags first (so that a customer's name can never name a fact), then the
// variables. Plain channels get the plain text of the rendered Markdown;
// the others (email) the Markdown itself. It returns the fact versions used,
// for citing when the reply is sent.
func RenderCannedFor(ctx context.Context, kb *knowledge.Service, body string, vars map[string]string, locale, channelKind string) (string, []knowledge.Ref, error) {
	text, refs, err := kb.RenderFacts(ctx, body, locale)
	if err != nil {
		return "", nil, err
	}
	text = RenderCanned(text, vars)
	if !PlainChannel(channelKind) {
		return text, refs, nil
	}
	h, _, err := kb.RenderMarkdown(ctx, text, locale)
	if err != nil {
		return "", nil, err
	}
	return richtext.PlainFromHTML(string(h)), refs, nil
}

// CannedVars are the variables for a case, customer and agent.
func CannedVars(c *Case, customerName, agentName string) map[string]string {
	first := func(n string) string {
		f, _, _ := strings.Cut(strings.TrimSpace(n), " ")
		return f
	}
	vars := map[string]string{
		"customer.name": customerName, "customer.first_name": first(customerName),
		"agent.name": agentName, "agent.first_name": first(agentName),
	}
	if c != nil {
		vars["case.id"], vars["case.subject"] = c.ID.String(), c.Subject
	}
	if vars["customer.name"] == "" {
		vars["customer.name"], vars["customer.first_name"] = "there", "there"
	}
	return vars
}
