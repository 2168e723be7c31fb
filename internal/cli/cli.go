// Package cli holds the subcommands of the touchpoint binary.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/config"
)

const usage = `touchpoint — the customer contact hub

Usage:
  touchpoint serve  [--addr 127.0.0.1:8080] [--data DIR | --db postgres://...] [--demo]
  touchpoint migrate [--data DIR | --db postgres://...]
  touchpoint demo   [--customers N] [--data DIR | --db postgres://...]
  touchpoint token  create --role ROLE --name NAME [--ttl 720h] | list | revoke ID
  touchpoint user   create --email E --name N --role ROLE [--password P] | list | password --email E
  touchpoint version

Every flag has a TOUCHPOINT_* environment twin; run a command with -h to see them.
`

// Run runs the subcommand in args and returns the exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = migrate(ctx, args[1:], stdout, stderr)
	case "demo":
		err = demoCmd(ctx, args[1:], stdout, stderr)
	case "token":
		err = token(ctx, args[1:], stdout, stderr)
	case "user":
		err = user(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "touchpoint", Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "touchpoint: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintf(stderr, "touchpoint %s: %v\n", args[0], err)
			return 2
		}
		fmt.Fprintf(stderr, "touchpoint %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// Version is set at build time with -ldflags "-X .../cli.Version=v1.2.3".
var Version = "dev"

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// parse parses flags and the config, refusing stray arguments.
func parse(fs *flag.FlagSet, args []string, cfg *config.Config, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := cfg.Check(); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// open opens the store for a one-shot command, logging only warnings.
func open(ctx context.Context, cfg config.Config, stderr io.Writer) (*app.Services, error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return app.Open(ctx, cfg, log)
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := config.Defaults()
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	cfg.StoreFlags(fs)
	if err := parse(fs, args, &cfg, stderr); err != nil {
		return err
	}
	s, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	v, err := s.DB.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema is at version %d (%s)\n", v, s.DB.Dialect)
	return nil
}
