package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/config"
	"github.com/touchpoint-hub/touchpoint/internal/demo"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	start := time.Now()
	cfg := config.Defaults()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.ServeFlags(fs)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file until shutdown (for benchmarks)")
	memProfile := fs.String("memprofile", "", "write a heap profile to this file at shutdown (for benchmarks)")
	if err := parse(fs, args, &cfg, stderr); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		defer func() {
			if f, err := os.Create(*memProfile); err == nil {
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	log := cfg.Logger()
	s, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	if dir := cfg.JournalDir(); dir != "" {
		if err := s.OpenJournal(ctx, dir, log); err != nil {
			return err
		}
	}
	where := "sqlite in " + cfg.DataDir
	if cfg.DB != "" {
		where = "postgres"
	}
	var afterReady func(url string)
	if cfg.Demo {
		afterReady, err = fillDemo(ctx, s, log, stdout)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if cfg.DemoEvery > 0 {
			go demo.Arrivals(ctx, s, cfg.DemoEvery, 2000, log)
		}
	}
	return app.Serve(ctx, cfg, log, s, func(addr string) {
		// Start-up (migrations, the demo) leaves garbage behind; hand it
		// back now rather than idle with it.
		debug.FreeOSMemory()
		url := "http://" + addr
		log.Info("touchpoint is ready", "url", url, "store", where, "startup", time.Since(start).Round(time.Millisecond))
		if afterReady != nil {
			afterReady(url)
		}
	})
}
