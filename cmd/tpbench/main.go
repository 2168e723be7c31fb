// Command tpbench drives a running Touchpoint server (or a store) and prints
// the figures recorded in docs/benchmarks.md.
package main

import (
	"fmt"
	"os"
)

const usage = `tpbench — load generator for Touchpoint benchmarks

  tpbench ingest    --url URL --write-key KEY [--conns 4] [--batch 100] [--duration 20s] [--visitors 100000] [--compare-null]
  tpbench nullserver --addr 127.0.0.1:18090      (reads and decodes event batches, stores nothing)
  tpbench timeline  --url URL --token TOKEN --customer ID [--conns 4] [--requests 20000]
  tpbench fill      --data DIR | --db URL  --interactions N --customers N [--hot 1000]
  tpbench identity  --data DIR | --db URL  --customers 1000000 [--step 100000]
  tpbench startup   --bin PATH [--demo]
  tpbench deskfill  --data DIR | --db URL  [--cases 100000] [--hot 1000]
  tpbench desk      --url URL --case ID [--email E --password P] [--conns 4] [--requests 5000] [--pages 20]
  tpbench sse       --url URL --token TOKEN --contact-point ID [--conns 5000] [--rounds 5]
  tpbench route     --url URL --token ADMIN_TOKEN [--agents 20] [--rate 200] [--duration 20s]
  tpbench webhook   --url URL --contact-point ID --auth-token TOKEN [--account-sid AC…] [--public-url URL] [--conns 16] [--duration 20s]
  tpbench help      --url URL [--conns 4] [--requests 4000] [--slugs a,b,c]
  tpbench factchange --url URL --token TOKEN --fact ID [--page /help/articles/SLUG] [--rounds 20]
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "ingest":
		err = ingest(args)
	case "nullserver":
		err = nullServer(args)
	case "timeline":
		err = timeline(args)
	case "fill":
		err = fill(args)
	case "identity":
		err = identity(args)
	case "startup":
		err = startup(args)
	case "deskfill":
		err = deskFill(args)
	case "desk":
		err = desk(args)
	case "sse":
		err = sse(args)
	case "route":
		err = routeBench(args)
	case "webhook":
		err = webhookBench(args)
	case "help":
		err = helpBench(args)
	case "factchange":
		err = factChange(args)
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tpbench:", err)
		os.Exit(1)
	}
}
