package id

import (
	"encoding/json"
	"testing"
	"time"
)

func TestNewIsIncreasingAndUnique(t *testing.T) {
	g := NewGenerator(3)
	fixed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g.now = func() time.Time { return fixed }
	prev := ID(0)
	seen := map[ID]bool{}
	for i := 0; i < 10000; i++ { // more than one millisecond's sequence
		v := g.New()
		if v <= prev || seen[v] {
			t.Fatalf("id %d not increasing after %d", v, prev)
		}
		seen[v] = true
		prev = v
	}
	// The wall clock going back does not make ids go back.
	g.now = func() time.Time { return fixed.Add(-time.Hour) }
	if v := g.New(); v <= prev {
		t.Fatalf("id went backwards with the clock: %d <= %d", v, prev)
	}
}

func TestNodesDiffer(t *testing.T) {
	fixed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := NewGenerator(1), NewGenerator(2)
	a.now = func() time.Time { return fixed }
	b.now = a.now
	if a.New() == b.New() {
		t.Fatal("two nodes made the same id in the same millisecond")
	}
}

func TestTimeAndJSON(t *testing.T) {
	g := NewGenerator(0)
	at := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	g.now = func() time.Time { return at }
	v := g.New()
	if !v.Time().Equal(at) {
		t.Fatalf("Time() = %v, want %v", v.Time(), at)
	}
	b, _ := json.Marshal(struct{ ID ID }{v})
	var back struct{ ID ID }
	if err := json.Unmarshal(b, &back); err != nil || back.ID != v {
		t.Fatalf("round trip %s: %v %v", b, back.ID, err)
	}
	if _, err := Parse("-4"); err == nil {
		t.Fatal("negative id parsed")
	}
	if _, err := Parse("abc"); err == nil {
		t.Fatal("letters parsed")
	}
}
