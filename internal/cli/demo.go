package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/config"
)

// fillDemo fills the store for serve --demo and returns what to print once
// the server listens.
func fillDemo(ctx context.Context, s *app.Services, log *slog.Logger, stdout io.Writer) (func(url string), error) {
	return nil, fmt.Errorf("the demo generator is not built yet")
}

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := config.Defaults()
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	cfg.StoreFlags(fs)
	if err := parse(fs, args, &cfg, stderr); err != nil {
		return err
	}
	return fmt.Errorf("the demo generator is not built yet")
}
