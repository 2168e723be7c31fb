package engine

import (
	"flag"
	"os"
	"testing"
)

// TestMain gives the rapid state-machine test a deeper default run (about
// 1000 sequences of up to ~100 actions, a few seconds) unless -rapid.checks
// or -rapid.steps are given; -short keeps rapid's own small defaults.
func TestMain(m *testing.M) {
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !testing.Short() {
		if !set["rapid.checks"] {
			flag.Set("rapid.checks", "1000")
		}
		if !set["rapid.steps"] {
			flag.Set("rapid.steps", "100")
		}
	}
	os.Exit(m.Run())
}
