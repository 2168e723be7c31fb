// Package config reads the settings of a touchpoint command from flags and
// TOUCHPOINT_* environment variables (flags win).
package config

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is what a node needs to start.
type Config struct {
	Addr     string // listen address
	DataDir  string // SQLite data directory
	DB       string // postgres:// URL; empty means SQLite in DataDir
	Region   string // default phone region (ISO 3166 alpha-2)
	LogLevel slog.Level
	LogJSON  bool
	Demo     bool
	// DemoEvery is the mean time between the contacts the demo makes up
	// while it runs (serve --demo); 0 makes none.
	DemoEvery time.Duration
	// SQLiteCacheMB is the SQLite writer's page cache.
	SQLiteCacheMB int
	// APIRate is the requests a second one API token (or write key) may
	// make, with bursts of twice that; 0 turns the limit off.
	APIRate float64
	// SMTPAddr is where the built-in SMTP receiver listens; empty turns it
	// off (with --demo it listens on 127.0.0.1:2525 if that is free).
	SMTPAddr string
	// DemoSMTPRelay, with --demo, is an SMTP server (a mail catcher) that
	// replies are relayed to; empty keeps them in a maildir in DataDir.
	DemoSMTPRelay string
	// WebhooksAllowPrivate lets webhooks go to http:// URLs and to loopback
	// and private addresses (an integration on the same network).
	WebhooksAllowPrivate bool
	// PublicURL is the hub's address as providers call it (Twilio signs
	// it); a contact point's public_url setting wins over it.
	PublicURL string
	// IngestJournal is the directory of the event API's journal; see
	// JournalDir.
	IngestJournal string
	// DebugAddr is a loopback address where Go's profiler (pprof) is
	// served, without sign-in; empty for none.
	DebugAddr string
}

// JournalDir is where the event API journals what it acknowledges: the
// --ingest-journal directory; by default DataDir/journal with SQLite and
// none with PostgreSQL (nodes share the database but not a disk, so each
// node must be given its own); "" when events are stored before they are
// acknowledged.
func (c *Config) JournalDir() string {
	switch {
	case c.IngestJournal == "off":
		return ""
	case c.IngestJournal != "":
		return c.IngestJournal
	case c.DB == "":
		return filepath.Join(c.DataDir, "journal")
	}
	return ""
}

// Defaults are the settings with no flag and no environment.
func Defaults() Config {
	return Config{Addr: "127.0.0.1:8080", DataDir: "touchpoint-data", Region: "US", LogLevel: slog.LevelInfo, APIRate: 1000}
}

// StoreFlags adds the flags that choose the database.
func (c *Config) StoreFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", env("TOUCHPOINT_DATA", c.DataDir), "directory of the embedded SQLite store (env TOUCHPOINT_DATA)")
	fs.StringVar(&c.DB, "db", env("TOUCHPOINT_DB", c.DB), "PostgreSQL URL, postgres://...; empty uses SQLite in --data (env TOUCHPOINT_DB)")
	fs.IntVar(&c.SQLiteCacheMB, "sqlite-cache-mb", envInt("TOUCHPOINT_SQLITE_CACHE_MB", 32), "SQLite writer page cache in MiB; readers get a quarter each (env TOUCHPOINT_SQLITE_CACHE_MB)")
	fs.StringVar(&c.Region, "region", env("TOUCHPOINT_REGION", c.Region), "country for phone numbers written without a country code (env TOUCHPOINT_REGION)")
}

// ServeFlags adds the flags of touchpoint serve.
func (c *Config) ServeFlags(fs *flag.FlagSet) {
	c.StoreFlags(fs)
	fs.StringVar(&c.Addr, "addr", env("TOUCHPOINT_ADDR", c.Addr), "listen address (env TOUCHPOINT_ADDR)")
	fs.BoolVar(&c.Demo, "demo", envBool("TOUCHPOINT_DEMO"), "fill the store with demo data and demo sign-ins (env TOUCHPOINT_DEMO)")
	fs.DurationVar(&c.DemoEvery, "demo-every", envDuration("TOUCHPOINT_DEMO_EVERY", 30*time.Second), "with --demo, a made-up customer contact arrives about this often; 0 for none (env TOUCHPOINT_DEMO_EVERY)")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", env("TOUCHPOINT_SMTP_ADDR", c.SMTPAddr), "listen address of the built-in SMTP receiver, e.g. 127.0.0.1:2525; empty for none (env TOUCHPOINT_SMTP_ADDR)")
	fs.StringVar(&c.DemoSMTPRelay, "demo-smtp-relay", env("TOUCHPOINT_DEMO_SMTP_RELAY", c.DemoSMTPRelay), "with --demo, relay email replies to this SMTP server (host:port, e.g. Mailpit's 127.0.0.1:1025) instead of a maildir in --data (env TOUCHPOINT_DEMO_SMTP_RELAY)")
	fs.BoolVar(&c.LogJSON, "log-json", envBool("TOUCHPOINT_LOG_JSON"), "log as JSON lines (env TOUCHPOINT_LOG_JSON)")
	fs.BoolVar(&c.WebhooksAllowPrivate, "webhooks-allow-private", envBool("TOUCHPOINT_WEBHOOKS_ALLOW_PRIVATE"), "let webhooks reach http:// URLs and loopback or private addresses (env TOUCHPOINT_WEBHOOKS_ALLOW_PRIVATE)")
	fs.StringVar(&c.PublicURL, "public-url", env("TOUCHPOINT_PUBLIC_URL", c.PublicURL), "the hub's public base URL as SMS and social providers call it, e.g. https://hub.example.com; empty uses the request's host (env TOUCHPOINT_PUBLIC_URL)")
	fs.Float64Var(&c.APIRate, "api-rate", envFloat("TOUCHPOINT_API_RATE", c.APIRate), "requests a second per API token or write key, 0 for no limit (env TOUCHPOINT_API_RATE)")
	fs.StringVar(&c.IngestJournal, "ingest-journal", env("TOUCHPOINT_INGEST_JOURNAL", c.IngestJournal), "directory where the event API journals events before acknowledging them; default DATA/journal with SQLite and none with PostgreSQL; off to store each batch before acknowledging it (env TOUCHPOINT_INGEST_JOURNAL)")
	fs.TextVar(&c.LogLevel, "log-level", levelFromEnv(c.LogLevel), "debug, info, warn or error (env TOUCHPOINT_LOG_LEVEL)")
	fs.StringVar(&c.DebugAddr, "debug-addr", env("TOUCHPOINT_DEBUG_ADDR", c.DebugAddr), "loopback address to serve Go's profiler on, e.g. 127.0.0.1:6060 (/debug/pprof/; no sign-in, so loopback only); empty for none (env TOUCHPOINT_DEBUG_ADDR)")
}

// Check validates the settings after parsing.
func (c *Config) Check() error {
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		return fmt.Errorf("--db must be a postgres:// URL, got %q", c.DB)
	}
	if len(c.Region) != 2 {
		return fmt.Errorf("--region must be a two-letter country code like US or DE, got %q", c.Region)
	}
	c.Region = strings.ToUpper(c.Region)
	if c.APIRate < 0 {
		return fmt.Errorf("--api-rate must not be negative")
	}
	if c.DebugAddr != "" {
		host, _, err := net.SplitHostPort(c.DebugAddr)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			return fmt.Errorf("--debug-addr must be a loopback host:port like 127.0.0.1:6060 (the profiler has no sign-in), got %q", c.DebugAddr)
		}
	}
	return nil
}

// Logger builds the slog logger the settings ask for.
func (c *Config) Logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogJSON {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envBool(name string) bool {
	v := strings.ToLower(os.Getenv(name))
	return v == "1" || v == "true" || v == "yes"
}

func levelFromEnv(def slog.Level) *slog.Level {
	l := def
	if v := os.Getenv("TOUCHPOINT_LOG_LEVEL"); v != "" {
		l.UnmarshalText([]byte(v))
	}
	return &l
}
