package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/config"
)

func user(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("say create, list or password")
	}
	cfg := config.Defaults()
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	cfg.StoreFlags(fs)
	switch args[0] {
	case "create":
		email := fs.String("email", "", "sign-in email")
		name := fs.String("name", "", "full name")
		role := fs.String("role", "agent", "admin, supervisor, agent, staff or analyst")
		password := fs.String("password", "", "password (at least 10 characters); read from stdin when empty")
		if err := parse(fs, args[1:], &cfg, stderr); err != nil {
			return err
		}
		r, ok := access.ParseRole(*role)
		if !ok {
			return usagef("--role must be one of admin, supervisor, agent, staff, analyst (got %q)", *role)
		}
		pw := *password
		if pw == "" {
			var err error
			if pw, err = readPassword(stderr); err != nil {
				return err
			}
		}
		s, err := open(ctx, cfg, stderr)
		if err != nil {
			return err
		}
		defer s.Close()
		u, err := s.Access.CreateUser(ctx, *email, *name, r, pw, "cli")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created user %s <%s> as %s\n", u.Name, u.Email, u.Role)
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
		us, err := s.Access.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tDISABLED")
		for _, u := range us {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", u.ID, u.Email, u.Name, u.Role, u.Disabled)
		}
		return tw.Flush()
	case "password":
		email := fs.String("email", "", "the user's sign-in email")
		if err := parse(fs, args[1:], &cfg, stderr); err != nil {
			return err
		}
		pw, err := readPassword(stderr)
		if err != nil {
			return err
		}
		s, err := open(ctx, cfg, stderr)
		if err != nil {
			return err
		}
		defer s.Close()
		us, err := s.Access.ListUsers(ctx)
		if err != nil {
			return err
		}
		for _, u := range us {
			if strings.EqualFold(u.Email, *email) {
				if err := s.Access.SetPassword(ctx, u.ID, pw, "cli"); err != nil {
					return err
				}
				fmt.Fprintln(stdout, "password changed for", u.Email)
				return nil
			}
		}
		return fmt.Errorf("no user with email %q", *email)
	}
	return usagef("unknown user command %q; say create, list or password", args[0])
}

// readPassword reads one line from stdin.
func readPassword(stderr io.Writer) (string, error) {
	fmt.Fprint(stderr, "password: ")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
