package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/config"
	"github.com/touchpoint-hub/touchpoint/internal/id"
)

func token(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("say create, list or revoke")
	}
	cfg := config.Defaults()
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	cfg.StoreFlags(fs)
	switch args[0] {
	case "create":
		role := fs.String("role", "", "admin, supervisor, agent, staff, analyst or integration")
		name := fs.String("name", "", "what the token is for, e.g. crm-sync")
		ttl := fs.Duration("ttl", 0, "lifetime, e.g. 720h; 0 means no expiry")
		if err := parse(fs, args[1:], &cfg, stderr); err != nil {
			return err
		}
		r, ok := access.ParseRole(*role)
		if !ok {
			return usagef("--role must be one of admin, supervisor, agent, staff, analyst, integration (got %q)", *role)
		}
		if *name == "" {
			return usagef("--name is required")
		}
		s, err := open(ctx, cfg, stderr)
		if err != nil {
			return err
		}
		defer s.Close()
		plain, _, err := s.Access.CreateToken(ctx, *name, r, *ttl, "cli")
		if err != nil {
			return err
		}
		// The token alone on stdout, so scripts can capture it.
		fmt.Fprintln(stdout, plain)
		return nil
	case "list":
		if err := parse(fs, args[1:], &cfg, stderr); err != nil {
			return err
		}
		s, err := open(ctx, cfg, stderr)
		if err != nil {
			return err
		}
		defer s.Close()
		ts, err := s.Access.ListTokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tHINT\tCREATED\tSTATE")
		for _, t := range ts {
			state := "active"
			if t.RevokedAt != nil {
				state = "revoked"
			} else if t.ExpiresAt != nil && t.ExpiresAt.Before(time.Now()) {
				state = "expired"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.Hint, t.CreatedAt.Format(time.RFC3339), state)
		}
		return tw.Flush()
	case "revoke":
		if len(args) < 2 {
			return usagef("say which token: touchpoint token revoke ID")
		}
		tid, err := id.Parse(args[1])
		if err != nil {
			return usagef("%q is not a token id", args[1])
		}
		if err := parse(fs, args[2:], &cfg, stderr); err != nil {
			return err
		}
		s, err := open(ctx, cfg, stderr)
		if err != nil {
			return err
		}
		defer s.Close()
		if err := s.Access.RevokeToken(ctx, tid, "cli"); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "revoked", tid)
		return nil
	}
	return usagef("unknown token command %q; say create, list or revoke", args[0])
}
