package businesshours

import (
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

var weekdays = map[string]string{
	"mon": "09:00-17:00", "tue": "09:00-17:00", "wed": "09:00-17:00",
	"thu": "09:00-17:00", "fri": "09:00-17:00",
}

func allDays(spans string) map[string]string {
	w := map[string]string{}
	for _, d := range dayNames {
		w[d] = spans
	}
	return w
}

func mustParse(t testing.TB, tz string, week map[string]string, holidays ...string) *Calendar {
	t.Helper()
	c, err := Parse("test", tz, week, holidays)
	if err != nil {
		t.Fatalf("Parse(%q, %v, %v): %v", tz, week, holidays, err)
	}
	return c
}

// at reads "2006-01-02 15:04" as wall time in the calendar's zone, or as UTC
// when it ends in "Z" (for wall times that happen twice at a fall-back).
func at(t testing.TB, c *Calendar, s string) time.Time {
	t.Helper()
	loc := c.loc()
	if rest, ok := strings.CutSuffix(s, "Z"); ok {
		s, loc = rest, time.UTC
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// calendars used by the tests, built once.
type calendars struct {
	berlin, berlinHol, ny, nySplit *Calendar
	berlin24, ny24                 *Calendar // all day, with a far-off holiday so that the walk is used
	berlinSun1to4, berlinSun2to3   *Calendar
	berlinSun0230to0330, nySun1to3 *Calendar
	nySun1to2, night, midnight     *Calendar
	berlinSplit                    *Calendar
	allOpenBerlin, alwaysOpen      *Calendar
	sunOnly                        *Calendar
}

func testCalendars(t testing.TB) calendars {
	const (
		berlin = "Europe/Berlin"
		ny     = "America/New_York"
	)
	return calendars{
		berlin:              mustParse(t, berlin, weekdays),
		berlinHol:           mustParse(t, berlin, weekdays, "2026-03-09", "2028-02-29", "2026-12-25", "2026-12-26"),
		ny:                  mustParse(t, ny, weekdays),
		nySplit:             mustParse(t, ny, map[string]string{"mon": "08:30-12:00,12:45-17:30", "wed": "10:00-14:00", "sat": "00:00-03:00,22:00-24:00"}),
		berlin24:            mustParse(t, berlin, allDays("00:00-24:00"), "2040-01-01"),
		ny24:                mustParse(t, ny, allDays("00:00-24:00"), "2040-01-01"),
		berlinSun1to4:       mustParse(t, berlin, map[string]string{"sun": "01:00-04:00"}),
		berlinSun2to3:       mustParse(t, berlin, map[string]string{"sun": "02:00-03:00"}),
		berlinSun0230to0330: mustParse(t, berlin, map[string]string{"sun": "02:30-03:30"}),
		nySun1to3:           mustParse(t, ny, map[string]string{"sun": "01:00-03:00"}),
		nySun1to2:           mustParse(t, ny, map[string]string{"sun": "01:00-02:00"}),
		night:               mustParse(t, berlin, map[string]string{"mon": "22:00-24:00", "tue": "00:00-06:00"}),
		midnight:            mustParse(t, berlin, map[string]string{"mon": "00:00-24:00", "tue": "00:00-06:00"}),
		berlinSplit:         mustParse(t, berlin, map[string]string{"mon": "13:00-17:30,09:00-12:00"}),
		allOpenBerlin:       mustParse(t, berlin, allDays("00:00-24:00")),
		alwaysOpen:          AlwaysOpen(),
		sunOnly:             mustParse(t, "UTC", map[string]string{"sun": "10:00-11:00"}),
	}
}

func TestAdd(t *testing.T) {
	cs := testCalendars(t)
	tests := []struct {
		name  string
		cal   *Calendar
		start string
		d     time.Duration
		want  string
	}{
		{"within a day", cs.berlin, "2026-03-04 10:00", 3 * time.Hour, "2026-03-04 13:00"},
		{"Friday over the weekend", cs.berlin, "2026-03-06 16:00", 2 * time.Hour, "2026-03-09 10:00"},
		{"ends at closing time", cs.berlin, "2026-03-06 16:00", time.Hour, "2026-03-06 17:00"},
		{"from closing time", cs.berlin, "2026-03-06 17:00", time.Minute, "2026-03-09 09:01"},
		{"from Saturday", cs.berlin, "2026-03-07 11:00", 30 * time.Minute, "2026-03-09 09:30"},
		{"from Sunday night", cs.berlin, "2026-03-08 23:59", 8 * time.Hour, "2026-03-09 17:00"},
		{"before opening", cs.berlin, "2026-03-04 06:15", 90 * time.Minute, "2026-03-04 10:30"},
		{"holiday Monday", cs.berlinHol, "2026-03-06 16:00", 2 * time.Hour, "2026-03-10 10:00"},
		{"start on holiday", cs.berlinHol, "2026-03-09 10:00", time.Hour, "2026-03-10 10:00"},
		{"two holidays", cs.berlinHol, "2026-12-24 16:30", time.Hour, "2026-12-28 09:30"},
		{"zero is start", cs.berlin, "2026-03-07 11:00", 0, "2026-03-07 11:00"},
		{"negative is start", cs.berlin, "2026-03-07 11:00", -time.Hour, "2026-03-07 11:00"},
		{"seconds kept", cs.berlin, "2026-03-06 16:00", 61*time.Minute + 30*time.Second, "2026-03-09 09:01"}, // + 30s checked below
		{"30 working days", cs.berlin, "2026-01-05 09:00", 240 * time.Hour, "2026-02-13 17:00"},
		{"30 working days from Saturday", cs.berlin, "2026-01-03 09:00", 240*time.Hour + time.Minute, "2026-02-16 09:01"},
		{"split shift over lunch", cs.berlinSplit, "2026-03-02 11:00", 2 * time.Hour, "2026-03-02 14:00"},
		{"split shift next week", cs.berlinSplit, "2026-03-02 17:00", 4 * time.Hour, "2026-03-09 13:30"},
		{"24h day over midnight", cs.midnight, "2026-03-02 23:00", 2 * time.Hour, "2026-03-03 01:00"},
		{"night shift over midnight", cs.night, "2026-03-02 23:00", 3 * time.Hour, "2026-03-03 02:00"},
		{"night shift next week", cs.night, "2026-03-03 05:00", 2 * time.Hour, "2026-03-09 23:00"},
		{"leap day open", cs.berlin, "2028-02-28 16:00", 2 * time.Hour, "2028-02-29 10:00"},
		{"leap day holiday", cs.berlinHol, "2028-02-28 16:00", 2 * time.Hour, "2028-03-01 10:00"},
		{"year end", cs.berlin, "2026-12-31 16:00", 2 * time.Hour, "2027-01-01 10:00"},
		{"sparse calendar, many weeks", cs.sunOnly, "2026-03-01 10:30", 52 * time.Hour, "2027-02-28 10:30"},

		// DST, Europe/Berlin: 2026-03-29 02:00 CET → 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET.
		{"Berlin office over spring forward", cs.berlin, "2026-03-27 16:00", 2 * time.Hour, "2026-03-30 10:00"},
		{"Berlin office over fall back", cs.berlin, "2026-10-23 16:00", 2 * time.Hour, "2026-10-26 10:00"},
		{"Berlin 24h over spring forward is plain addition", cs.berlin24, "2026-03-28 12:00", 24 * time.Hour, "2026-03-29 13:00"},
		{"Berlin 24h over fall back is plain addition", cs.berlin24, "2026-10-24 12:00", 24 * time.Hour, "2026-10-25 11:00"},
		{"Berlin span over skipped hour", cs.berlinSun1to4, "2026-03-29 00:00", 90 * time.Minute, "2026-03-29 01:30Z"},
		{"Berlin span wholly skipped", cs.berlinSun2to3, "2026-03-28 12:00", time.Minute, "2026-04-05 02:01"},
		{"Berlin span half skipped", cs.berlinSun0230to0330, "2026-03-29 00:00", 30 * time.Minute, "2026-03-29 03:30"},
		{"Berlin span in repeated hour", cs.berlinSun2to3, "2026-10-24 12:00", 90 * time.Minute, "2026-10-25 01:30Z"},

		// DST, America/New_York: 2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST.
		{"NY office over spring forward", cs.ny, "2026-03-06 16:00", 2 * time.Hour, "2026-03-09 10:00"},
		{"NY office over fall back", cs.ny, "2026-10-30 16:00", 2 * time.Hour, "2026-11-02 10:00"},
		{"NY span over skipped hour", cs.nySun1to3, "2026-03-08 00:00", time.Hour, "2026-03-08 07:00Z"},
		{"NY span over skipped hour, next week", cs.nySun1to3, "2026-03-08 00:00", 61 * time.Minute, "2026-03-15 01:01"},
		{"NY repeated hour counts twice", cs.nySun1to2, "2026-11-01 00:00", 90 * time.Minute, "2026-11-01 06:30Z"},
		{"NY 24h over fall back", cs.ny24, "2026-10-31 12:00", 24 * time.Hour, "2026-11-01 11:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := at(t, tt.cal, tt.start)
			want := at(t, tt.cal, tt.want)
			if tt.name == "seconds kept" {
				want = want.Add(30 * time.Second)
			}
			got := tt.cal.Add(start, tt.d)
			if !got.Equal(want) {
				t.Errorf("Add(%s, %v) = %s, want %s", tt.start, tt.d, got.In(tt.cal.loc()), want.In(tt.cal.loc()))
			}
			if got.Location() != time.UTC {
				t.Errorf("Add returned location %v, want UTC", got.Location())
			}
			if tt.d > 0 {
				if back := tt.cal.Between(start, got); back != tt.d {
					t.Errorf("Between(start, Add(start, %v)) = %v", tt.d, back)
				}
			}
		})
	}
}

func TestBetween(t *testing.T) {
	cs := testCalendars(t)
	tests := []struct {
		name string
		cal  *Calendar
		a, b string
		want time.Duration
	}{
		{"same day", cs.berlin, "2026-03-04 08:00", "2026-03-04 10:30", 90 * time.Minute},
		{"over the weekend", cs.berlin, "2026-03-06 16:00", "2026-03-09 10:00", 2 * time.Hour},
		{"whole week", cs.berlin, "2026-03-02 00:00", "2026-03-09 00:00", 40 * time.Hour},
		{"week with holiday", cs.berlinHol, "2026-03-09 00:00", "2026-03-16 00:00", 32 * time.Hour},
		{"closed only", cs.berlin, "2026-03-07 00:00", "2026-03-09 09:00", 0},
		{"reversed", cs.berlin, "2026-03-09 10:00", "2026-03-06 16:00", 0},
		{"empty", cs.berlin, "2026-03-09 10:00", "2026-03-09 10:00", 0},
		{"split shift", cs.berlinSplit, "2026-03-02 00:00", "2026-03-03 00:00", 7*time.Hour + 30*time.Minute},
		{"over midnight", cs.midnight, "2026-03-02 22:00", "2026-03-03 08:00", 8 * time.Hour},
		{"night shift", cs.night, "2026-03-02 12:00", "2026-03-03 12:00", 8 * time.Hour},
		{"always open", cs.alwaysOpen, "2026-03-02 12:00", "2026-03-03 13:00", 25 * time.Hour},
		{"leap February", cs.berlin, "2028-02-01 00:00", "2028-03-01 00:00", 21 * 8 * time.Hour},
		{"common February", cs.berlin, "2026-02-01 00:00", "2026-03-01 00:00", 20 * 8 * time.Hour},

		{"Berlin short day", cs.berlin24, "2026-03-29 00:00", "2026-03-30 00:00", 23 * time.Hour},
		{"Berlin long day", cs.berlin24, "2026-10-25 00:00", "2026-10-26 00:00", 25 * time.Hour},
		{"Berlin long day, fast path", cs.allOpenBerlin, "2026-10-25 00:00", "2026-10-26 00:00", 25 * time.Hour},
		{"Berlin office week of spring forward", cs.berlin, "2026-03-23 00:00", "2026-04-06 00:00", 80 * time.Hour},
		{"Berlin 01:00-04:00 on spring forward", cs.berlinSun1to4, "2026-03-28 00:00", "2026-03-30 00:00", 2 * time.Hour},
		{"Berlin 02:00-03:00 on spring forward", cs.berlinSun2to3, "2026-03-28 00:00", "2026-03-30 00:00", 0},
		{"Berlin 02:30-03:30 on spring forward", cs.berlinSun0230to0330, "2026-03-28 00:00", "2026-03-30 00:00", 30 * time.Minute},
		{"Berlin 02:00-03:00 on fall back", cs.berlinSun2to3, "2026-10-24 00:00", "2026-10-26 00:00", 2 * time.Hour},
		{"Berlin 01:00-04:00 on fall back", cs.berlinSun1to4, "2026-10-24 00:00", "2026-10-26 00:00", 4 * time.Hour},
		{"Berlin second 02:xx only", cs.berlinSun2to3, "2026-10-25 01:15Z", "2026-10-26 00:00", 45 * time.Minute},
		{"NY short day", cs.ny24, "2026-03-08 00:00", "2026-03-09 00:00", 23 * time.Hour},
		{"NY long day", cs.ny24, "2026-11-01 00:00", "2026-11-02 00:00", 25 * time.Hour},
		{"NY 01:00-03:00 on spring forward", cs.nySun1to3, "2026-03-07 00:00", "2026-03-09 00:00", time.Hour},
		{"NY 01:00-02:00 on fall back", cs.nySun1to2, "2026-10-31 00:00", "2026-11-02 00:00", 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cal.Between(at(t, tt.cal, tt.a), at(t, tt.cal, tt.b)); got != tt.want {
				t.Errorf("Between(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestIsOpenNextOpen(t *testing.T) {
	cs := testCalendars(t)
	tests := []struct {
		name string
		cal  *Calendar
		t    string
		open bool
		next string
	}{
		{"open", cs.berlin, "2026-03-04 10:00", true, "2026-03-04 10:00"},
		{"opening minute", cs.berlin, "2026-03-04 09:00", true, "2026-03-04 09:00"},
		{"closing minute", cs.berlin, "2026-03-04 17:00", false, "2026-03-05 09:00"},
		{"last open minute", cs.berlin, "2026-03-04 16:59", true, "2026-03-04 16:59"},
		{"early", cs.berlin, "2026-03-04 08:59", false, "2026-03-04 09:00"},
		{"Saturday", cs.berlin, "2026-03-07 12:00", false, "2026-03-09 09:00"},
		{"holiday", cs.berlinHol, "2026-03-09 12:00", false, "2026-03-10 09:00"},
		{"before holiday", cs.berlinHol, "2026-03-07 12:00", false, "2026-03-10 09:00"},
		{"lunch break", cs.berlinSplit, "2026-03-02 12:30", false, "2026-03-02 13:00"},
		{"24h midnight", cs.midnight, "2026-03-03 00:00", true, "2026-03-03 00:00"},
		{"night shift ended", cs.night, "2026-03-03 06:00", false, "2026-03-09 22:00"},
		{"always open", cs.alwaysOpen, "2026-03-07 12:00", true, "2026-03-07 12:00"},
		{"leap day", cs.berlin, "2028-02-29 10:00", true, "2028-02-29 10:00"},
		{"leap day holiday", cs.berlinHol, "2028-02-29 10:00", false, "2028-03-01 09:00"},
		{"Berlin 03:30 CEST after skip", cs.berlinSun1to4, "2026-03-29 03:30", true, "2026-03-29 03:30"},
		{"Berlin span wholly skipped", cs.berlinSun2to3, "2026-03-29 00:00", false, "2026-04-05 02:00"},
		{"Berlin first 02:30", cs.berlinSun2to3, "2026-10-25 00:30Z", true, "2026-10-25 00:30Z"},
		{"Berlin second 02:30", cs.berlinSun2to3, "2026-10-25 01:30Z", true, "2026-10-25 01:30Z"},
		{"Berlin 03:00 CET", cs.berlinSun2to3, "2026-10-25 02:00Z", false, "2026-11-01 01:00Z"},
		{"NY 01:30 EDT", cs.nySun1to2, "2026-11-01 05:30Z", true, "2026-11-01 05:30Z"},
		{"NY 01:30 EST", cs.nySun1to2, "2026-11-01 06:30Z", true, "2026-11-01 06:30Z"},
		{"NY 02:00 EST", cs.nySun1to2, "2026-11-01 07:00Z", false, "2026-11-08 01:00"},
		{"NY 03:00 EDT after skip", cs.nySun1to3, "2026-03-08 07:00Z", false, "2026-03-15 01:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := at(t, tt.cal, tt.t)
			if got := tt.cal.IsOpen(tm); got != tt.open {
				t.Errorf("IsOpen(%s) = %v, want %v", tt.t, got, tt.open)
			}
			got := tt.cal.NextOpen(tm)
			if want := at(t, tt.cal, tt.next); !got.Equal(want) {
				t.Errorf("NextOpen(%s) = %s, want %s", tt.t, got.In(tt.cal.loc()), want.In(tt.cal.loc()))
			}
			if got.Location() != time.UTC {
				t.Errorf("NextOpen returned location %v, want UTC", got.Location())
			}
		})
	}
}

func TestNilCalendarIsAlwaysOpen(t *testing.T) {
	var c *Calendar
	s := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	if !c.IsOpen(s) || !c.NextOpen(s).Equal(s) {
		t.Error("nil calendar should be open")
	}
	if got := c.Add(s, 5*time.Hour); !got.Equal(s.Add(5 * time.Hour)) {
		t.Errorf("Add = %s", got)
	}
	if got := c.Between(s, s.Add(time.Hour)); got != time.Hour {
		t.Errorf("Between = %v", got)
	}
	if tz, _, _ := c.Spec(); tz != "UTC" {
		t.Errorf("Spec tz = %q", tz)
	}
}

// A calendar whose every open day is a holiday must end the search, not loop.
func TestClosedForGood(t *testing.T) {
	c := &Calendar{Location: time.UTC}
	c.Week[time.Monday] = []Span{{9 * 60, 17 * 60}}
	for d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2030; d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Monday {
			c.Holidays = append(c.Holidays, Date{d.Year(), d.Month(), d.Day()})
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	if got := c.NextOpen(s); !got.IsZero() {
		t.Errorf("NextOpen = %s, want zero", got)
	}
	if got := c.Add(s, time.Hour); !got.IsZero() {
		t.Errorf("Add = %s, want zero", got)
	}
	if got := c.Between(s, s.AddDate(3, 0, 0)); got != 0 {
		t.Errorf("Between = %v, want 0", got)
	}
	// After the holidays run out it opens again.
	if got, want := c.NextOpen(time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC)), time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("NextOpen = %s, want %s", got, want)
	}
}

// propertyCalendars are varied enough to hit DST days, holidays, split and
// midnight-touching spans.
func propertyCalendars(t testing.TB) map[string]*Calendar {
	cs := testCalendars(t)
	return map[string]*Calendar{
		"berlinHol": cs.berlinHol, "ny": cs.ny, "nySplit": cs.nySplit, "berlin24": cs.berlin24,
		"berlinSun2to3": cs.berlinSun2to3, "berlinSun1to4": cs.berlinSun1to4, "nySun1to2": cs.nySun1to2,
		"night": cs.night, "midnight": cs.midnight, "sunOnly": cs.sunOnly, "alwaysOpen": cs.alwaysOpen,
		"kolkata":  mustParse(t, "Asia/Kolkata", map[string]string{"mon": "09:30-18:00", "sat": "10:00-13:15"}, "2026-08-15"),
		"lordHowe": mustParse(t, "Australia/Lord_Howe", map[string]string{"sun": "01:00-03:00", "wed": "00:00-24:00"}),
	}
}

func TestBetweenInvertsAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(20260306, 1))
	lo := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	hi := time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	cals := propertyCalendars(t)
	for _, name := range slices.Sorted(maps.Keys(cals)) {
		c := cals[name]
		// Up to about half a year of the calendar's hours, so that sparse
		// calendars do not walk for decades.
		var weekly time.Duration
		for _, spans := range c.Week {
			for _, s := range spans {
				weekly += time.Duration(s.End-s.Start) * time.Minute
			}
		}
		t.Run(name, func(t *testing.T) {
			for range 2000 {
				s := time.Unix(0, lo+rng.Int64N(hi-lo))
				d := time.Duration(1 + rng.Int64N(int64(26*weekly)))
				if rng.IntN(4) == 0 {
					d = time.Duration(1 + rng.Int64N(int64(3*time.Hour)))
				}
				e := c.Add(s, d)
				if got := c.Between(s, e); got != d {
					t.Fatalf("start %s d %v: Add = %s, Between back = %v", s.UTC(), d, e, got)
				}
				if n := c.NextOpen(s); n.Before(s) || !c.IsOpen(n) || e.Before(n) || c.Between(s, n) != 0 {
					t.Fatalf("start %s: NextOpen = %s (open %v), Add = %s", s.UTC(), n, c.IsOpen(n), e)
				}
				if c.IsOpen(s) != c.NextOpen(s).Equal(s) {
					t.Fatalf("start %s: IsOpen %v but NextOpen %s", s.UTC(), c.IsOpen(s), c.NextOpen(s))
				}
			}
		})
	}
}

// TestBetweenMatchesIsOpen counts open minutes one by one, the slow and
// obvious way, around DST changes and holidays.
func TestBetweenMatchesIsOpen(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	anchors := []time.Time{
		time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC),   // NY spring forward
		time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC),  // Berlin spring forward
		time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC),   // Lord Howe fall back
		time.Date(2026, 10, 4, 0, 0, 0, 0, time.UTC),  // Lord Howe spring forward
		time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC), // Berlin fall back
		time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),  // NY fall back
		time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC),   // holiday
		time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC),  // leap day
		time.Date(2040, 12, 31, 0, 0, 0, 0, time.UTC), // golang/go#81583
	}
	cals := propertyCalendars(t)
	for _, name := range slices.Sorted(maps.Keys(cals)) {
		c := cals[name]
		t.Run(name, func(t *testing.T) {
			for range 40 {
				a := anchors[rng.IntN(len(anchors))].Add(time.Duration(rng.IntN(4*24*60)-2*24*60) * time.Minute)
				b := a.Add(time.Duration(rng.IntN(3*24*60)) * time.Minute)
				var want time.Duration
				for m := a; m.Before(b); m = m.Add(time.Minute) {
					if c.IsOpen(m) {
						want += time.Minute
					}
				}
				if got := c.Between(a, b); got != want {
					t.Fatalf("Between(%s, %s) = %v, counting minutes gives %v", a, b, got, want)
				}
				next := a
				for i := 0; i < 8*24*60 && !c.IsOpen(next); i++ {
					next = next.Add(time.Minute)
				}
				if c.IsOpen(next) && !c.NextOpen(a).Equal(next) {
					t.Fatalf("NextOpen(%s) = %s, stepping gives %s", a, c.NextOpen(a), next)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		tz       string
		week     map[string]string
		holidays []string
		field    string
		reason   string // exact when it has no "…", else the part before it must be contained
	}{
		{"hour past 24", "Europe/Berlin", map[string]string{"mon": "09:00-25:00"}, nil, "week.mon", "09:00-25:00: hours must be between 00:00 and 24:00"},
		{"24:30", "Europe/Berlin", map[string]string{"mon": "09:00-24:30"}, nil, "week.mon", "09:00-24:30: hours must be between 00:00 and 24:00"},
		{"minutes", "Europe/Berlin", map[string]string{"tue": "09:60-17:00"}, nil, "week.tue", "09:60-17:00: minutes must be between 00 and 59"},
		{"reversed", "Europe/Berlin", map[string]string{"wed": "17:00-09:00"}, nil, "week.wed", "17:00-09:00: end must be after start…"},
		{"empty span", "Europe/Berlin", map[string]string{"thu": "10:00-10:00"}, nil, "week.thu", "10:00-10:00: end must be after start…"},
		{"overlap", "Europe/Berlin", map[string]string{"fri": "11:00-13:00,09:00-12:00"}, nil, "week.fri", "09:00-12:00 overlaps 11:00-13:00"},
		{"duplicate", "Europe/Berlin", map[string]string{"fri": "09:00-12:00, 09:00-12:00"}, nil, "week.fri", "09:00-12:00 overlaps 09:00-12:00"},
		{"no colon", "Europe/Berlin", map[string]string{"sat": "9-17"}, nil, "week.sat", `"9-17": want HH:MM-HH:MM, e.g. 09:00-17:00`},
		{"trailing comma", "Europe/Berlin", map[string]string{"sun": "09:00-17:00,"}, nil, "week.sun", `"": want HH:MM-HH:MM…`},
		{"three digit hour", "Europe/Berlin", map[string]string{"mon": "009:00-17:00"}, nil, "week.mon", `"009:00-17:00": want HH:MM-HH:MM…`},
		{"sign", "Europe/Berlin", map[string]string{"mon": "-1:00-17:00"}, nil, "week.mon", `"-1:00-17:00": want HH:MM-HH:MM…`},
		{"first bad day in week order", "Europe/Berlin", map[string]string{"sun": "x", "mon": "y"}, nil, "week.mon", `"y": want…`},
		{"unknown day", "Europe/Berlin", map[string]string{"monday": "09:00-17:00"}, nil, "week.monday", "unknown day; use mon, tue, wed, thu, fri, sat or sun"},
		{"capitalised day", "Europe/Berlin", map[string]string{"Mon": "09:00-17:00"}, nil, "week.Mon", "unknown day…"},
		{"no hours", "Europe/Berlin", map[string]string{"mon": "", "tue": " "}, nil, "week", "no opening hours on any day"},
		{"nil week", "Europe/Berlin", nil, nil, "week", "no opening hours on any day"},
		{"unknown zone", "Mars/Olympus_Mons", weekdays, nil, "timezone", `unknown time zone "Mars/Olympus_Mons"`},
		{"path in zone", "../../etc/passwd", weekdays, nil, "timezone", "unknown time zone…"},
		{"no zone", "", weekdays, nil, "timezone", "required…"},
		{"local zone", "Local", weekdays, nil, "timezone", "Local depends on the server…"},
		{"not a leap year", "Europe/Berlin", weekdays, []string{"2028-02-29", "2026-02-29"}, "holidays[1]", "2026-02-29: no such date"},
		{"31 April", "Europe/Berlin", weekdays, []string{"2026-04-31"}, "holidays[0]", "2026-04-31: no such date"},
		{"German date", "Europe/Berlin", weekdays, []string{"25.12.2026"}, "holidays[0]", `"25.12.2026": want a date as YYYY-MM-DD`},
		{"short date", "Europe/Berlin", weekdays, []string{"2026-1-5"}, "holidays[0]", `"2026-1-5": want…`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("x", tt.tz, tt.week, tt.holidays)
			var inv *errs.Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("Parse = %v, %v; want *errs.Invalid", c, err)
			}
			if inv.Field != tt.field {
				t.Errorf("field = %q, want %q (reason %q)", inv.Field, tt.field, inv.Reason)
			}
			if prefix, ok := strings.CutSuffix(tt.reason, "…"); ok {
				if !strings.HasPrefix(inv.Reason, prefix) {
					t.Errorf("reason = %q, want it to start with %q", inv.Reason, prefix)
				}
			} else if inv.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", inv.Reason, tt.reason)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	c := mustParse(t, " Europe/Berlin ", map[string]string{
		"mon": " 13:00-17:30 , 9:00-12:00 ",
		"tue": "00:00-24:00",
		"wed": "09:00-12:00,12:00-17:00", // touching, not overlapping
		"sun": "",
	}, "2026-12-26", " 2026-12-25", "2026-12-26")
	want := [7][]Span{
		time.Monday:    {{9 * 60, 12 * 60}, {13 * 60, 17*60 + 30}},
		time.Tuesday:   {{0, 1440}},
		time.Wednesday: {{9 * 60, 12 * 60}, {12 * 60, 17 * 60}},
	}
	for wd := range want {
		if !slices.Equal(c.Week[wd], want[wd]) {
			t.Errorf("%s: %v, want %v", time.Weekday(wd), c.Week[wd], want[wd])
		}
	}
	if want := []Date{{2026, 12, 25}, {2026, 12, 26}}; !slices.Equal(c.Holidays, want) {
		t.Errorf("holidays %v, want %v", c.Holidays, want)
	}
	if c.Location.String() != "Europe/Berlin" || c.Name != "test" {
		t.Errorf("location %v name %q", c.Location, c.Name)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(c *Calendar)
		field string
	}{
		{"ok", func(c *Calendar) {}, ""},
		{"out of order", func(c *Calendar) { c.Week[time.Tuesday] = []Span{{600, 700}, {100, 200}} }, "week.tue"},
		{"negative", func(c *Calendar) { c.Week[time.Sunday] = []Span{{-5, 200}} }, "week.sun"},
		{"bad holiday", func(c *Calendar) { c.Holidays = []Date{{2026, 1, 1}, {2026, 2, 30}} }, "holidays[1]"},
		{"empty", func(c *Calendar) { c.Week = [7][]Span{} }, "week"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := AlwaysOpen()
			tt.edit(c)
			err := c.Validate()
			var inv *errs.Invalid
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("Validate = %v", err)
			case tt.field != "" && (!errors.As(err, &inv) || inv.Field != tt.field):
				t.Errorf("Validate = %v, want field %q", err, tt.field)
			}
		})
	}
}

func TestSpecRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		tz       string
		week     map[string]string
		holidays []string
		wantWeek map[string]string
		wantHol  []string
	}{
		{
			"office", "Europe/Berlin", weekdays, []string{"2026-12-25"},
			map[string]string{"mon": "09:00-17:00", "tue": "09:00-17:00", "wed": "09:00-17:00", "thu": "09:00-17:00", "fri": "09:00-17:00", "sat": "", "sun": ""},
			[]string{"2026-12-25"},
		},
		{
			"normalised", "America/New_York",
			map[string]string{"mon": "13:00-17:30, 8:05-12:00", "sat": "00:00-24:00"},
			[]string{"2027-01-01", "2026-12-25", "2027-01-01"},
			map[string]string{"mon": "08:05-12:00,13:00-17:30", "tue": "", "wed": "", "thu": "", "fri": "", "sat": "00:00-24:00", "sun": ""},
			[]string{"2026-12-25", "2027-01-01"},
		},
		{
			"no holidays", "UTC", map[string]string{"sun": "23:59-24:00"}, nil,
			map[string]string{"mon": "", "tue": "", "wed": "", "thu": "", "fri": "", "sat": "", "sun": "23:59-24:00"},
			[]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.tz, tt.week, tt.holidays...)
			tz, week, hol := c.Spec()
			if tz != tt.tz || !maps.Equal(week, tt.wantWeek) || !slices.Equal(hol, tt.wantHol) || hol == nil {
				t.Fatalf("Spec = %q %v %#v, want %q %v %#v", tz, week, hol, tt.tz, tt.wantWeek, tt.wantHol)
			}
			again, err := Parse(c.Name, tz, week, hol)
			if err != nil {
				t.Fatalf("Parse(Spec()): %v", err)
			}
			if !slices.EqualFunc(again.Week[:], c.Week[:], slices.Equal) {
				t.Errorf("week %v, want %v", again.Week, c.Week)
			}
			if !slices.Equal(again.Holidays, c.Holidays) || again.Location.String() != c.Location.String() {
				t.Errorf("round trip gave %+v, want %+v", again, c)
			}
		})
	}
	tz, week, hol := AlwaysOpen().Spec()
	if c, err := Parse("24x7", tz, week, hol); err != nil || !c.alwaysOpen() {
		t.Errorf("AlwaysOpen round trip: %v %v", c, err)
	}
}

func BenchmarkAdd30Days(b *testing.B) {
	c := testCalendars(b).berlinHol
	start := time.Date(2026, 3, 6, 15, 0, 0, 0, time.UTC)
	for b.Loop() {
		c.Add(start, 30*8*time.Hour)
	}
}

func BenchmarkBetween30Days(b *testing.B) {
	c := testCalendars(b).berlinHol
	start := time.Date(2026, 3, 6, 15, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, 30)
	for b.Loop() {
		c.Between(start, end)
	}
}

func FuzzParse(f *testing.F) {
	seeds := []struct{ mon, sun, holiday string }{
		{"09:00-17:00", "", "2026-12-25"},
		{"09:00-12:00,13:00-17:30", "00:00-24:00", "2028-02-29"},
		{"09:00-25:00", "", ""},
		{"17:00-09:00", "02:00-03:00", "2026-02-29"},
		{"09:00-12:00,11:00-13:00", "", "x"},
		{"", "", ""},
		{"9:00-9:01", "23:59-24:00", "0000-01-01"},
		{",,", "-", "9999-12-31"},
		{"24:00-24:00", "00:00-00:00", "2026-13-01"},
		{"99:99-99:99", "٠٩:٠٠-١٧:٠٠", "2026-1-1"},
	}
	for _, s := range seeds {
		f.Add(s.mon, s.sun, s.holiday)
	}
	start := time.Date(2026, 3, 27, 15, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, mon, sun, holiday string) {
		var holidays []string
		if holiday != "" {
			holidays = []string{holiday}
		}
		c, err := Parse("fuzz", "Europe/Berlin", map[string]string{"mon": mon, "sun": sun}, holidays)
		if err != nil {
			var inv *errs.Invalid
			if !errors.As(err, &inv) || inv.Field == "" || inv.Reason == "" {
				t.Fatalf("error %v is not an *errs.Invalid with a field", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed calendar does not validate: %v", err)
		}
		tz, week, hol := c.Spec()
		again, err := Parse("fuzz", tz, week, hol)
		if err != nil {
			t.Fatalf("Parse(Spec()) = %v", err)
		}
		if !slices.EqualFunc(again.Week[:], c.Week[:], slices.Equal) || !slices.Equal(again.Holidays, c.Holidays) {
			t.Fatalf("round trip changed the calendar: %v → %v", c, again)
		}
		n := c.NextOpen(start)
		if n.IsZero() || !c.IsOpen(n) {
			t.Fatalf("NextOpen = %s, open %v", n, c.IsOpen(n))
		}
		if e := c.Add(start, 90*time.Minute); c.Between(start, e) != 90*time.Minute {
			t.Fatalf("Between(start, Add(start, 90m)) = %v", c.Between(start, e))
		}
	})
}

// Past 2037 zones run on their TZ rule, where Go reports bad zone bounds on
// the last day of a leap year (golang/go#81583); the walk must not stall there.
func TestLeapYearEndUnderTZRule(t *testing.T) {
	cs := testCalendars(t)
	for _, c := range []*Calendar{cs.berlin24, cs.ny24} {
		a := at(t, c, "2040-12-30 00:00")
		b := at(t, c, "2041-01-02 00:00")
		if got := c.Between(a, b); got != 72*time.Hour {
			t.Errorf("%s: Between over 2040 year end = %v, want 72h", c.loc(), got)
		}
		if got := c.Add(a, 72*time.Hour); !got.Equal(b) {
			t.Errorf("%s: Add over 2040 year end = %s, want %s", c.loc(), got, b.UTC())
		}
	}
	c := cs.berlinSun2to3
	if got, want := c.Add(at(t, c, "2040-12-29 00:00"), 2*time.Hour), at(t, c, "2041-01-06 03:00"); !got.Equal(want) {
		t.Errorf("Add over 2040 year end = %s, want %s", got, want.UTC())
	}
}
