package segment

import (
	"syscall"
	"testing"
	"time"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestZZCPU(t *testing.T) {
	body := BrowserBatch(100)
	node := NodeBatch(100)
	now := time.Now()
	for _, c := range []struct {
		name string
		fn   func()
	}{
		{"DecodeBatch100 browser", func() { DecodeBatch(body) }},
		{"DecodeBatch100 node", func() { DecodeBatch(node) }},
		{"Decode+Map browser", func() { m, _ := DecodeBatch(body); ToInputs(testCP, m, now) }},
		{"Decode+Map node", func() { m, _ := DecodeBatch(node); ToInputs(testCP, m, now) }},
		{"valid browser", func() { valid(body) }},
	} {
		for i := 0; i < 200; i++ {
			c.fn()
		}
		const n = 3000
		start, wall := cpuNow(), time.Now()
		for i := 0; i < n; i++ {
			c.fn()
		}
		t.Logf("%-24s cpu %7.1f µs/op  wall %7.1f µs/op", c.name, float64(cpuNow()-start)/n/1e3, float64(time.Since(wall))/n/1e3)
	}
}
