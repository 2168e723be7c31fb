// Command touchpoint runs the Touchpoint customer contact hub.
package main

import (
	"os"

	"github.com/touchpoint-hub/touchpoint/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr))
}
