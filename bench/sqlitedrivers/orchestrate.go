package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

type driverInfo struct {
	name  string
	tag   string
	title string
	cgo   bool
}

var allDrivers = []driverInfo{
	{"modernc", "bench_modernc", "modernc.org/sqlite", false},
	{"mattn", "bench_mattn", "mattn/go-sqlite3", true},
	{"ncruces", "bench_ncruces", "ncruces/go-sqlite3", false},
}

// outcome is one driver's column in the table.
type outcome struct {
	info      driverInfo
	bin       string
	results   []*Result // one per round
	problem   string    // why there is no (complete) result
	buildTime time.Duration
	binSize   int64
}

func orchestrate(c config, args []string) error {
	if _, err := os.Stat("go.mod"); err != nil {
		return fmt.Errorf("run this from the bench/sqlitedrivers directory (go run . ...): %w", err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	var selected []driverInfo
	for name := range strings.SplitSeq(c.Drivers, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(allDrivers, func(d driverInfo) bool { return d.name == name })
		if i < 0 {
			return fmt.Errorf("unknown driver %q (have modernc, mattn, ncruces)", name)
		}
		selected = append(selected, allDrivers[i])
	}
	binDir, err := os.MkdirTemp("", "sqlitedrivers-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(binDir)

	var outs []*outcome
	for _, d := range selected {
		o := &outcome{info: d}
		outs = append(outs, o)

		bin := filepath.Join(binDir, "bench-"+d.name)
		cmd := exec.Command(goTool, "build", "-tags", d.tag, "-o", bin, ".")
		cgo := "0"
		if d.cgo {
			cgo = "1"
		}
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
		if c.ColdBuild {
			cache, err := os.MkdirTemp("", "sqlitedrivers-gocache-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(cache)
			cmd.Env = append(cmd.Env, "GOCACHE="+cache)
		}
		var buildOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buildOut, &buildOut
		logf("building %s (CGO_ENABLED=%s%s)", d.name, cgo, map[bool]string{true: ", empty GOCACHE", false: ""}[c.ColdBuild])
		t := time.Now()
		if err := cmd.Run(); err != nil {
			o.problem = "build failed: " + firstLines(buildOut.String(), 3)
			logf("%s: %s", d.name, o.problem)
			continue
		}
		o.buildTime = time.Since(t)
		if st, err := os.Stat(bin); err == nil {
			o.binSize = st.Size()
		}

		o.bin = bin
	}

	// Rounds: every driver once per round, starting with a different one
	// each round, so slow phases of other load on the machine spread out.
	for round := range c.Rounds {
		for k := range outs {
			o := outs[(k+round)%len(outs)]
			if o.bin == "" || o.problem != "" {
				continue
			}
			logf("round %d/%d: %s", round+1, c.Rounds, o.info.name)
			run := exec.Command(o.bin, append(slices.Clone(args), "-child")...)
			var stdout bytes.Buffer
			run.Stdout, run.Stderr = &stdout, os.Stderr
			if err := run.Run(); err != nil {
				o.problem = fmt.Sprintf("run failed in round %d: %v", round+1, err)
				logf("%s: %s", o.info.name, o.problem)
				continue
			}
			var r Result
			if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
				o.problem = "bad output: " + err.Error()
				continue
			}
			o.results = append(o.results, &r)
		}
	}
	printTable(os.Stdout, c, outs)
	return nil
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, " / ")
}

// stat is one number per round, reduced to median and range.
type stat struct{ med, lo, hi float64 }

func reduce(vals []float64) stat {
	v := slices.Clone(vals)
	slices.Sort(v)
	n := len(v)
	med := v[n/2]
	if n%2 == 0 {
		med = (v[n/2-1] + v[n/2]) / 2
	}
	return stat{med, v[0], v[n-1]}
}

func printTable(f *os.File, c config, outs []*outcome) {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	cache := "SQLite's default page cache (cache_size -2000 = 2000 KiB per connection)"
	if c.CacheKiB > 0 {
		cache = fmt.Sprintf("cache_size -%d (%d KiB per connection)", c.CacheKiB, c.CacheKiB)
	}
	p("## SQLite drivers for database/sql: Touchpoint-shaped workload\n\n")
	p("%s, %s/%s, %d CPUs, GOMAXPROCS=%d; %s contexts; %s.  \n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0),
		map[bool]string{true: "background", false: "cancellable"}[c.BackgroundCtx], cache)
	p("Ingest: %d events per variant into a fresh database holding %d customers/anonymous ids; 80%% of events hit one of them, 20%% create a customer + identifier; one writer connection; %d events per group, grouped variants put %d groups (each in a SAVEPOINT) in one transaction.  \n",
		c.Events, c.Known, c.Batch, c.Groups)
	p("Reads: %d interactions over %d customers + %d for one customer; %d timeline queries (LIMIT 50, for that customer) and %d identifier lookups, each over %d goroutines on a %d-connection query_only pool.  \n",
		c.ReadRows, c.Known, c.HotRows, c.TimelineRuns, c.LookupRuns, c.Goroutines, c.Readers)
	if c.Rounds > 1 {
		p("Each driver ran %d times, round-robin (each round starting with the next driver); cells are medians, (min–max) across rounds.\n", c.Rounds)
	} else {
		p("Each driver ran once.\n")
	}

	header := func() {
		p("\n| |")
		for _, o := range outs {
			p(" %s |", o.info.title)
		}
		p("\n|---|")
		for range outs {
			p("---:|")
		}
		p("\n")
	}
	first := func(o *outcome) *Result {
		if len(o.results) == 0 {
			return nil
		}
		return o.results[0]
	}
	text := func(label string, f func(o *outcome) string) {
		p("| %s |", label)
		for _, o := range outs {
			p(" %s |", f(o))
		}
		p("\n")
	}
	// num prints a row of one metric: median per driver (with range when
	// there are several rounds), the best median in bold.
	num := func(label string, higherBetter bool, get func(r *Result) (float64, bool), format func(float64) string) {
		cells := make([]string, len(outs))
		best, bestV := -1, 0.0
		for i, o := range outs {
			var vals []float64
			for _, r := range o.results {
				if v, ok := get(r); ok {
					vals = append(vals, v)
				}
			}
			if len(vals) == 0 {
				cells[i] = "–"
				continue
			}
			st := reduce(vals)
			cells[i] = format(st.med)
			if len(vals) > 1 {
				cells[i] += " (" + strings.TrimSuffix(format(st.lo), " µs") + "–" + format(st.hi) + ")"
			}
			if best < 0 || (higherBetter && st.med > bestV) || (!higherBetter && st.med < bestV) {
				best, bestV = i, st.med
			}
		}
		if best >= 0 && len(outs) > 1 {
			cells[best] = "**" + cells[best] + "**"
		}
		p("| %s |", label)
		for _, s := range cells {
			p(" %s |", s)
		}
		p("\n")
	}
	// lat prints p50 / p99 / mean, each the median across rounds; bold by p50.
	lat := func(label string, get func(r *Result) Latency) {
		cells := make([]string, len(outs))
		best, bestV := -1, 0.0
		for i, o := range outs {
			var p50, p99, mean []float64
			for _, r := range o.results {
				if l := get(r); l.Runs > 0 {
					p50 = append(p50, float64(l.P50))
					p99 = append(p99, float64(l.P99))
					mean = append(mean, float64(l.Mean))
				}
			}
			if len(p50) == 0 {
				cells[i] = "–"
				continue
			}
			m := reduce(p50).med
			cells[i] = dur(time.Duration(m)) + " / " + dur(time.Duration(reduce(p99).med)) + " / " + dur(time.Duration(reduce(mean).med))
			if best < 0 || m < bestV {
				best, bestV = i, m
			}
		}
		if best >= 0 && len(outs) > 1 {
			cells[best] = "**" + cells[best] + "**"
		}
		p("| %s |", label)
		for _, s := range cells {
			p(" %s |", s)
		}
		p("\n")
	}
	perSec := func(v float64) string { return thousands(v) }
	micros := func(v float64) string { return fmt.Sprintf("%.1f µs", v) }
	if c.CacheKiB == 0 {
		micros = func(v float64) string {
			if v >= 100 {
				return fmt.Sprintf("%.0f µs", v)
			}
			return fmt.Sprintf("%.1f µs", v)
		}
	}
	ingestLabel := func(i int, unit string) string {
		for _, o := range outs {
			for _, r := range o.results {
				if i < len(r.Ingest) {
					return fmt.Sprintf("ingest, %s, %d/commit (%s)", r.Ingest[i].Name, r.Ingest[i].PerCommit, unit)
				}
			}
		}
		return ""
	}
	g := c.Goroutines

	p("\n### Wall clock\n")
	header()
	text("version", func(o *outcome) string {
		if r := first(o); r != nil {
			return r.Version
		}
		return "–"
	})
	text("SQLite", func(o *outcome) string {
		if r := first(o); r != nil {
			return r.SQLiteVersion
		}
		return "–"
	})
	text("needs cgo + C compiler", func(o *outcome) string { return map[bool]string{true: "yes", false: "no"}[o.info.cgo] })
	text("checks (pragmas, txlock, query_only)", func(o *outcome) string {
		if len(o.results) == 0 {
			return "–"
		}
		for _, r := range o.results {
			for _, ch := range r.Checks {
				if strings.HasPrefix(ch, "FAIL") {
					return "FAIL (see below)"
				}
			}
		}
		return "all ok"
	})
	for i := range 4 {
		if label := ingestLabel(i, "events/s"); label != "" {
			num(label, true, func(r *Result) (float64, bool) {
				if i >= len(r.Ingest) {
					return 0, false
				}
				return r.Ingest[i].EventsPerSec(), true
			}, perSec)
		}
	}
	num("bulk load, prepared, 10,000/commit (rows/s)", true, func(r *Result) (float64, bool) {
		return float64(r.LoadRows) / r.LoadSeconds, r.LoadRows > 0
	}, perSec)
	lat(fmt.Sprintf("timeline p50 / p99 / mean, %d goroutines", g), func(r *Result) Latency { return r.Timeline })
	num(fmt.Sprintf("timeline queries/s, %d goroutines", g), true, func(r *Result) (float64, bool) { return r.Timeline.QPS(), r.Timeline.Runs > 0 }, perSec)
	lat(fmt.Sprintf("lookup p50 / p99 / mean, %d goroutines", g), func(r *Result) Latency { return r.Lookup })
	num(fmt.Sprintf("lookup queries/s, %d goroutines", g), true, func(r *Result) (float64, bool) { return r.Lookup.QPS(), r.Lookup.Runs > 0 }, perSec)
	if c.SerialRuns > 0 {
		lat("timeline p50 / p99 / mean, 1 goroutine", func(r *Result) Latency { return r.Timeline1 })
		lat("lookup p50 / p99 / mean, 1 goroutine", func(r *Result) Latency { return r.Lookup1 })
	}
	text("binary size (this program)", func(o *outcome) string {
		if o.binSize == 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f MB", float64(o.binSize)/1e6)
	})
	if c.ColdBuild {
		text("build time, empty GOCACHE", func(o *outcome) string {
			if o.buildTime == 0 {
				return "–"
			}
			return fmt.Sprintf("%.0f s", o.buildTime.Seconds())
		})
	}

	p("\n### CPU time per operation (process user+sys, includes cgo; hardly affected by other load on the machine)\n")
	header()
	perOp := func(cpu float64, n int) (float64, bool) { return cpu / float64(n) * 1e6, n > 0 && cpu > 0 }
	for i := range 4 {
		if label := ingestLabel(i, "CPU per event"); label != "" {
			num(label, false, func(r *Result) (float64, bool) {
				if i >= len(r.Ingest) {
					return 0, false
				}
				return perOp(r.Ingest[i].CPUSeconds, r.Ingest[i].Events)
			}, micros)
		}
	}
	num("bulk load (CPU per row)", false, func(r *Result) (float64, bool) { return perOp(r.LoadCPU, r.LoadRows) }, micros)
	num(fmt.Sprintf("timeline, %d goroutines (CPU per query)", g), false, func(r *Result) (float64, bool) { return perOp(r.Timeline.CPU, r.Timeline.Runs) }, micros)
	num(fmt.Sprintf("lookup, %d goroutines (CPU per query)", g), false, func(r *Result) (float64, bool) { return perOp(r.Lookup.CPU, r.Lookup.Runs) }, micros)
	if c.SerialRuns > 0 {
		num("timeline, 1 goroutine (CPU per query)", false, func(r *Result) (float64, bool) { return perOp(r.Timeline1.CPU, r.Timeline1.Runs) }, micros)
		num("lookup, 1 goroutine (CPU per query)", false, func(r *Result) (float64, bool) { return perOp(r.Lookup1.CPU, r.Lookup1.Runs) }, micros)
	}

	p("\nBest median per row in bold (latency rows: by p50). \"grouped\" = %d groups of %d events per commit.\n", c.Groups, c.Batch)
	for _, o := range outs {
		if o.problem != "" {
			p("\n**%s: not (fully) measured** (%s)\n", o.info.title, o.problem)
		}
	}
	p("\n<details><summary>checks per driver (first round)</summary>\n\n")
	for _, o := range outs {
		r := first(o)
		if r == nil {
			continue
		}
		p("- %s\n", o.info.title)
		for _, ch := range r.Checks {
			p("  - %s\n", ch)
		}
	}
	p("\n</details>\n")
	f.WriteString(b.String())
}

func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func dur(d time.Duration) string {
	us := float64(d) / float64(time.Microsecond)
	switch {
	case us < 10:
		return fmt.Sprintf("%.1f µs", us)
	case us < 10_000:
		return fmt.Sprintf("%.0f µs", us)
	default:
		return fmt.Sprintf("%.1f ms", us/1000)
	}
}
