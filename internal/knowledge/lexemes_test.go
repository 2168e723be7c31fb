package knowledge

import (
	"math"
	"testing"
)

// The estimate that decides, on PostgreSQL, between ranking every match
// and picking the page: shares multiply, a prefix adds the listed words it
// begins, and a word not listed is a guess that says so.
func TestEstimateMatches(t *testing.T) {
	st := &lexemeStats{rows: 100_000, min: 0.01,
		freq: map[string]float64{"ship": 0.9, "shipping": 0.5, "shipped": 0.2, "deliveri": 0.8, "refund": 0.1}}
	for _, c := range []struct {
		words  []string
		stems  [][]string
		prefix bool
		want   float64
		listed bool
	}{
		{[]string{"shipping"}, [][]string{{"ship"}}, false, 90_000, true},
		{[]string{"delivery", "refund"}, [][]string{{"deliveri"}, {"refund"}}, false, 8_000, true},
		// "shipp" as a prefix: its own stem is not listed, the words it begins are.
		{[]string{"shipp"}, [][]string{{"shipp"}}, true, 70_000, true},
		// "time" is in no article the statistics saw: half the least share.
		{[]string{"delivery", "time"}, [][]string{{"deliveri"}, {"time"}}, true, 400, false},
		// A stop word has no stem and leaves the search: it does not count.
		{[]string{"the", "refund"}, [][]string{nil, {"refund"}}, false, 10_000, true},
	} {
		got, listed := st.estimateMatches(c.words, c.stems, c.prefix)
		if math.Abs(got-c.want) > 0.5 || listed != c.listed {
			t.Errorf("%v (prefix %v): %.0f listed %v, want %.0f listed %v", c.words, c.prefix, got, listed, c.want, c.listed)
		}
	}
}
