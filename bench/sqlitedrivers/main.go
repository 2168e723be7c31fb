// Command sqlitedrivers compares SQLite drivers for database/sql on a workload
// shaped like Touchpoint's: ingesting events (identifier lookup, new customers,
// interaction inserts) through one writer connection, and timeline / identifier
// reads on a separate read-only pool.
//
// mattn/go-sqlite3 and ncruces/go-sqlite3 both register the database/sql name
// "sqlite3" in init, so they cannot be linked into one binary. Each driver is
// therefore behind a build tag (bench_modernc, bench_mattn, bench_ncruces).
// Run without tags (go run .), the program builds one binary per driver, runs
// them one after another and prints a markdown table of all results. Each
// driver also runs in a fresh process, so no heap or page cache state of one
// leaks into the next one's numbers (beyond the OS file cache).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

// driverSpec describes the driver linked into this binary (nil in the
// orchestrator build, which has no driver tag).
type driverSpec struct {
	Name      string // short name: modernc, mattn, ncruces
	Module    string // Go module path, for the version in the build info
	SQLName   string // database/sql driver name
	WriterDSN func(path string) string
	ReaderDSN func(path string) string
	// CacheParam is the DSN parameter setting cache_size to -kib.
	CacheParam func(kib int) string
	// ProbeDSN opens a connection with busy_timeout 0, used to check that
	// the writer's BEGIN takes the write lock at once (_txlock=immediate).
	ProbeDSN func(path string) string
}

var thisDriver *driverSpec

type config struct {
	Events        int
	Known         int
	Batch         int
	Groups        int
	ReadRows      int
	HotRows       int
	TimelineRuns  int
	LookupRuns    int
	Readers       int
	Goroutines    int
	Seed          uint64
	BackgroundCtx bool
	CacheKiB      int
	SerialRuns    int
	Dir           string
	Keep          bool

	// orchestrator only
	Drivers   string
	ColdBuild bool
	Rounds    int

	// child only
	Child bool
}

func main() {
	var c config
	flag.IntVar(&c.Events, "events", 200_000, "events per ingest variant")
	flag.IntVar(&c.Known, "known", 20_000, "existing customers / anonymous ids before ingest (80% of events hit one of them)")
	flag.IntVar(&c.Batch, "batch", 100, "events per group (a group is one write request)")
	flag.IntVar(&c.Groups, "groups", 8, "groups per transaction in the grouped variants (each in its own SAVEPOINT)")
	flag.IntVar(&c.ReadRows, "readrows", 1_000_000, "interactions loaded over the -known customers for the read tests")
	flag.IntVar(&c.HotRows, "hotrows", 1_000, "interactions of the one customer whose timeline is read")
	flag.IntVar(&c.TimelineRuns, "timeline", 10_000, "timeline queries measured (split over -goroutines)")
	flag.IntVar(&c.LookupRuns, "lookups", 100_000, "identifier lookups measured (split over -goroutines)")
	flag.IntVar(&c.Readers, "readers", 4, "connections in the read-only pool")
	flag.IntVar(&c.Goroutines, "goroutines", 4, "concurrent reader goroutines")
	flag.Uint64Var(&c.Seed, "seed", 1, "random seed (same data for every driver)")
	flag.BoolVar(&c.BackgroundCtx, "bgctx", false, "use context.Background() instead of a cancellable context (as an HTTP request's) for every call")
	flag.IntVar(&c.CacheKiB, "cachekib", 0, "if > 0, also set PRAGMA cache_size=-N (KiB per connection) in both DSNs; 0 keeps SQLite's default (2000 KiB), as in the brief's DSNs")
	flag.IntVar(&c.SerialRuns, "serial", 2_000, "timeline queries measured on one goroutine (lookups: 10x as many); 0 to skip")
	flag.StringVar(&c.Dir, "dir", "", "directory for the database files (default: a new temporary directory)")
	flag.BoolVar(&c.Keep, "keep", false, "keep the database files")
	flag.StringVar(&c.Drivers, "drivers", "modernc,mattn,ncruces", "drivers to run, comma separated")
	flag.IntVar(&c.Rounds, "rounds", 1, "run every driver this many times, round-robin, and report medians (min–max)")
	flag.BoolVar(&c.ColdBuild, "coldbuild", false, "build each driver binary with an empty GOCACHE and report the build time (slow)")
	flag.BoolVar(&c.Child, "child", false, "internal: run the benchmark for the driver linked into this binary and print JSON")
	flag.Parse()

	if c.Batch <= 0 || c.Groups <= 0 || c.Events <= 0 || c.Known <= 0 || c.Readers <= 0 || c.Goroutines <= 0 || c.Rounds <= 0 {
		fmt.Fprintln(os.Stderr, "sqlitedrivers: counts must be positive")
		os.Exit(2)
	}

	if c.Child || thisDriver != nil {
		if thisDriver == nil {
			fmt.Fprintln(os.Stderr, "sqlitedrivers: -child needs a binary built with a driver tag (bench_modernc, bench_mattn or bench_ncruces)")
			os.Exit(2)
		}
		if err := runChild(c); err != nil {
			fmt.Fprintf(os.Stderr, "sqlitedrivers [%s]: %v\n", thisDriver.Name, err)
			os.Exit(1)
		}
		return
	}
	if err := orchestrate(c, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "sqlitedrivers: %v\n", err)
		os.Exit(1)
	}
}

// Result is what a child reports, as JSON on stdout.
type Result struct {
	Driver        string
	Module        string
	Version       string
	SQLiteVersion string
	Checks        []string // pragma / txlock checks, "ok: ..." or "FAIL: ..."
	Ingest        []IngestResult
	LoadRows      int
	LoadSeconds   float64
	LoadCPU       float64
	Timeline      Latency
	Lookup        Latency
	Timeline1     Latency // one goroutine
	Lookup1       Latency // one goroutine
}

type IngestResult struct {
	Name         string
	Prepared     bool
	PerCommit    int
	Events       int
	NewCustomers int
	Seconds      float64
	CPUSeconds   float64 // process user+sys time during the timed loop
}

func (r IngestResult) EventsPerSec() float64 { return float64(r.Events) / r.Seconds }

type Latency struct {
	Runs    int
	P50     time.Duration
	P99     time.Duration
	Mean    time.Duration
	Seconds float64 // wall time of the measured runs
	CPU     float64 // process user+sys seconds during the measured runs
}

func (l Latency) QPS() float64 { return float64(l.Runs) / l.Seconds }
