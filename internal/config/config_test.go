package config

import (
	"strings"
	"testing"
)

// The profiler has no sign-in, so it may listen on loopback only.
func TestDebugAddrMustBeLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"": true, "127.0.0.1:6060": true, "[::1]:6060": true, "localhost:6060": true, "127.0.0.1:0": true,
		"0.0.0.0:6060": false, ":6060": false, "10.0.0.5:6060": false, "6060": false, "example.com:6060": false,
	} {
		c := Defaults()
		c.DebugAddr = addr
		err := c.Check()
		if ok && err != nil {
			t.Errorf("%q refused: %v", addr, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "--debug-addr")) {
			t.Errorf("%q: %v, want a refusal naming --debug-addr", addr, err)
		}
	}
}
