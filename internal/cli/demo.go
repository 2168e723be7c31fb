package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/config"
	"github.com/touchpoint-hub/touchpoint/internal/demo"
)

// fillDemo fills the store for serve --demo and returns what to print once
// the server listens.
func fillDemo(ctx context.Context, s *app.Services, log *slog.Logger, stdout io.Writer) (func(url string), error) {
	log.Warn("demo mode: demo sign-ins with the password \"demo\" exist; never use --demo with real customer data")
	start := time.Now()
	sum, err := demo.Fill(ctx, s, demo.Options{Log: log})
	if err != nil {
		return nil, err
	}
	if sum.AlreadyFilled {
		log.Info("demo data already present; nothing added", "customers", sum.Customers, "interactions", sum.Interactions)
	} else {
		log.Info("demo data added", "contact_points", sum.ContactPoints, "customers", sum.Customers,
			"interactions", sum.Interactions, "cases", sum.Cases, "open_cases", sum.OpenCases, "took", time.Since(start).Round(time.Millisecond))
	}
	return func(url string) { printSignIns(stdout, url, sum) }, nil
}

func printSignIns(w io.Writer, url string, sum *demo.Summary) {
	fmt.Fprintf(w, "\nTouchpoint demo is running at %s\n", url)
	fmt.Fprintf(w, "Voltmart: %d contact points, %d customers, %d interactions, %d cases (%d open)\n\nSign in as:\n",
		sum.ContactPoints, sum.Customers, sum.Interactions, sum.Cases, sum.OpenCases)
	for _, si := range sum.SignIns {
		fmt.Fprintf(w, "  %-26s password %-6s (%s, %s)\n", si.Email, si.Password, si.Role, si.Name)
	}
	if sum.WebChatID != 0 {
		fmt.Fprintf(w, "\nTry the chat widget: open examples/chat-widget.html?server=%s&contact_point=%s in a browser\n", url, sum.WebChatID)
	}
	if sum.KioskID != 0 {
		fmt.Fprintf(w, "Try the store kiosk: open %s/kiosk/%s (full screen, touch)\n", url, sum.KioskID)
	}
	fmt.Fprintln(w)
}

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := config.Defaults()
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	cfg.StoreFlags(fs)
	customers := fs.Int("customers", 2000, "customers of the demo company")
	months := fs.Int("months", 6, "months of history")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same data")
	if err := parse(fs, args, &cfg, stderr); err != nil {
		return err
	}
	if *customers < 1 || *customers > 10_000_000 {
		return usagef("--customers must be between 1 and 10000000")
	}
	s, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	start := time.Now()
	sum, err := demo.Fill(ctx, s, demo.Options{Customers: *customers, Months: *months, Seed: *seed})
	if err != nil {
		return err
	}
	if sum.AlreadyFilled {
		fmt.Fprintf(stdout, "the store already holds the demo (%d customers, %d interactions, %d cases); nothing added\n",
			sum.Customers, sum.Interactions, sum.Cases)
		return nil
	}
	fmt.Fprintf(stdout, "added the demo company in %s: %d contact points, %d customers, %d interactions, %d cases (%d open)\n",
		time.Since(start).Round(time.Millisecond), sum.ContactPoints, sum.Customers, sum.Interactions, sum.Cases, sum.OpenCases)
	return nil
}
