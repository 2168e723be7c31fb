// Command touchpoint runs the Touchpoint customer contact hub.
package main

import (
	"os"
	_ "time/tzdata" // business-hours calendars need time zones also on hosts without tz data

	"github.com/touchpoint-hub/touchpoint/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr))
}
