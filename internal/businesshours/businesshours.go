// Package businesshours computes with opening hours: whether a team is open,
// when it opens next, and when a target measured in business time (a case's
// "first response within 4 business hours") falls due.
//
// SLA clocks must stop overnight, at weekends and on public holidays, and must
// agree with the wall clock of the people doing the work, also on the days
// daylight saving time starts or ends. So a calendar is defined in local
// wall-clock time, by one rule: an instant is open when its local date is not
// a holiday and its local time of day lies in a span of that weekday. IsOpen,
// NextOpen, Add and Between all follow from that rule and agree with each other.
package businesshours

import (
	"cmp"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

// MinutesPerDay is the end of a span that runs to midnight ("24:00").
const MinutesPerDay = 24 * 60

// horizon is how far NextOpen and Add look past the last opening before they
// give up, so that a calendar closed for good (every open day a holiday)
// cannot loop forever.
const horizon = 2 * 366 * 24 * time.Hour

// Span is an opening interval within a day, in minutes from local midnight,
// [Start, End) with 0 ≤ Start < End ≤ MinutesPerDay. A span cannot cross
// midnight: a night shift is "22:00-24:00" on one day and "00:00-06:00" on the next.
type Span struct{ Start, End int }

func (s Span) String() string { return clock(s.Start) + "-" + clock(s.End) }

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// Date is a local calendar date, used for holidays.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

func (d Date) valid() bool {
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return t.Year() == d.Year && t.Month() == d.Month && t.Day() == d.Day
}

func compareDates(a, b Date) int {
	if c := cmp.Compare(a.Year, b.Year); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Month, b.Month); c != 0 {
		return c
	}
	return cmp.Compare(a.Day, b.Day)
}

// ParseDate reads a date as YYYY-MM-DD, refusing dates that do not exist
// (2026-02-29) so that a typo cannot silently shift a holiday.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s[:4]) || !digits(s[5:7]) || !digits(s[8:]) {
		return Date{}, fmt.Errorf("%q: want a date as YYYY-MM-DD", s)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%s: no such date", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// Calendar is a time zone, the opening spans of each weekday (indexed by
// time.Weekday, sorted and not overlapping) and the holidays, local dates that
// are closed all day. Build one with Parse, or check a hand-built one with Validate.
//
// A nil *Calendar is always open, so that a case without a configured
// calendar still gets an SLA clock.
type Calendar struct {
	Name     string
	Location *time.Location // nil means UTC
	Week     [7][]Span
	Holidays []Date
}

// dayNames are the keys of the week map, indexed by time.Weekday.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// weekOrder is the order in which days are checked, so that the first error
// reported is the one a person reading the form top to bottom meets first.
var weekOrder = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// AlwaysOpen is the 24x7 calendar in UTC; with it Add is plain addition.
func AlwaysOpen() *Calendar {
	c := &Calendar{Name: "24x7", Location: time.UTC}
	for i := range c.Week {
		c.Week[i] = []Span{{0, MinutesPerDay}}
	}
	return c
}

// Parse builds a calendar from the form in which it is stored and edited:
// an IANA time zone, week keys "mon".."sun" mapped to comma-separated spans
// such as "09:00-12:00,13:00-17:30" ("" or a missing key is closed), and
// holidays as "YYYY-MM-DD". Spans are sorted; holidays are sorted and
// duplicates dropped. Errors are *errs.Invalid naming the field at fault.
func Parse(name, tz string, week map[string]string, holidays []string) (*Calendar, error) {
	loc, err := loadLocation(tz)
	if err != nil {
		return nil, err
	}
	c := &Calendar{Name: name, Location: loc}
	for _, k := range slices.Sorted(maps.Keys(week)) {
		if !slices.Contains(dayNames[:], k) {
			return nil, errs.Invalidf("week."+k, "unknown day; use mon, tue, wed, thu, fri, sat or sun")
		}
	}
	open := false
	for _, wd := range weekOrder {
		spans, err := parseDay(week[dayNames[wd]])
		if err != nil {
			return nil, errs.Invalidf("week."+dayNames[wd], "%v", err)
		}
		c.Week[wd] = spans
		open = open || len(spans) > 0
	}
	if !open {
		return nil, errs.Invalidf("week", "no opening hours on any day")
	}
	for i, h := range holidays {
		d, err := ParseDate(strings.TrimSpace(h))
		if err != nil {
			return nil, errs.Invalidf(fmt.Sprintf("holidays[%d]", i), "%v", err)
		}
		c.Holidays = append(c.Holidays, d)
	}
	slices.SortFunc(c.Holidays, compareDates)
	c.Holidays = slices.Compact(c.Holidays)
	return c, nil
}

func loadLocation(tz string) (*time.Location, error) {
	tz = strings.TrimSpace(tz)
	switch tz {
	case "":
		return nil, errs.Invalidf("timezone", "required, an IANA time zone name such as Europe/Berlin")
	case "Local":
		// Local follows the server's setting, which would move SLA deadlines
		// when the hub is redeployed elsewhere.
		return nil, errs.Invalidf("timezone", "Local depends on the server; use an IANA name such as Europe/Berlin")
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, errs.Invalidf("timezone", "unknown time zone %q", tz)
	}
	return loc, nil
}

// parseDay reads one weekday's spans; the error is the reason only, the
// caller names the field.
func parseDay(s string) ([]Span, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var spans []Span
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		from, to, ok := strings.Cut(part, "-")
		if !ok {
			return nil, fmt.Errorf("%q: want HH:MM-HH:MM, e.g. 09:00-17:00", part)
		}
		start, err := parseClock(part, strings.TrimSpace(from))
		if err != nil {
			return nil, err
		}
		end, err := parseClock(part, strings.TrimSpace(to))
		if err != nil {
			return nil, err
		}
		spans = append(spans, Span{start, end})
	}
	slices.SortFunc(spans, func(a, b Span) int { return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End)) })
	if err := checkSpans(spans); err != nil {
		return nil, err
	}
	return spans, nil
}

// parseClock reads H:MM or HH:MM as minutes from midnight; part is the whole
// span, quoted in errors so the reader sees which one is wrong.
func parseClock(part, s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !digits(h) || !digits(m) {
		return 0, fmt.Errorf("%q: want HH:MM-HH:MM, e.g. 09:00-17:00", part)
	}
	hh := int(h[0] - '0')
	if len(h) == 2 {
		hh = hh*10 + int(h[1]-'0')
	}
	mm := int(m[0]-'0')*10 + int(m[1]-'0')
	if mm > 59 {
		return 0, fmt.Errorf("%s: minutes must be between 00 and 59", part)
	}
	// Range against 24:00 is checked by checkSpans, on the same terms as for
	// a hand-built calendar.
	return hh*60 + mm, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// checkSpans checks the spans of one day, expected in ascending order.
func checkSpans(spans []Span) error {
	for i, s := range spans {
		if s.Start < 0 || s.End < 0 || s.Start > MinutesPerDay || s.End > MinutesPerDay {
			return fmt.Errorf("%s: hours must be between 00:00 and 24:00", s)
		}
		if s.End <= s.Start {
			return fmt.Errorf("%s: end must be after start (a span cannot cross midnight; a whole day is 00:00-24:00)", s)
		}
		if i > 0 {
			prev := spans[i-1]
			if s.Start < prev.Start {
				return fmt.Errorf("%s comes before %s: spans must be in ascending order", s, prev)
			}
			if s.Start < prev.End {
				return fmt.Errorf("%s overlaps %s", prev, s)
			}
		}
	}
	return nil
}

// Validate checks a calendar built by hand with the rules Parse applies.
// The computations rely on sorted, non-overlapping spans.
func (c *Calendar) Validate() error {
	open := false
	for _, wd := range weekOrder {
		if err := checkSpans(c.Week[wd]); err != nil {
			return errs.Invalidf("week."+dayNames[wd], "%v", err)
		}
		open = open || len(c.Week[wd]) > 0
	}
	if !open {
		return errs.Invalidf("week", "no opening hours on any day")
	}
	for i, d := range c.Holidays {
		if !d.valid() {
			return errs.Invalidf(fmt.Sprintf("holidays[%d]", i), "%s is not a valid date", d)
		}
	}
	return nil
}

// Spec gives the calendar in the form Parse reads, for storing as JSON. Every
// weekday is present, "" when closed.
func (c *Calendar) Spec() (tz string, week map[string]string, holidays []string) {
	if c == nil {
		return AlwaysOpen().Spec()
	}
	week = make(map[string]string, len(dayNames))
	for wd, spans := range c.Week {
		parts := make([]string, len(spans))
		for i, s := range spans {
			parts[i] = s.String()
		}
		week[dayNames[wd]] = strings.Join(parts, ",")
	}
	// Not nil, so that it stores as [] rather than null.
	holidays = make([]string, 0, len(c.Holidays))
	for _, d := range c.Holidays {
		holidays = append(holidays, d.String())
	}
	return c.loc().String(), week, holidays
}

func (c *Calendar) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

func (c *Calendar) isHoliday(d Date) bool {
	for _, h := range c.Holidays {
		if h == d {
			return true
		}
	}
	return false
}

// alwaysOpen reports whether every instant is open, whatever the time zone,
// so that Add and Between can skip the walk.
func (c *Calendar) alwaysOpen() bool {
	if c == nil {
		return true
	}
	if len(c.Holidays) > 0 {
		return false
	}
	for _, spans := range c.Week {
		if len(spans) != 1 || spans[0] != (Span{0, MinutesPerDay}) {
			return false
		}
	}
	return true
}

// IsOpen reports whether t is within business hours.
func (c *Calendar) IsOpen(t time.Time) bool {
	if c == nil {
		return true
	}
	lt := t.In(c.loc())
	y, m, d := lt.Date()
	if c.isHoliday(Date{y, m, d}) {
		return false
	}
	minute := lt.Hour()*60 + lt.Minute()
	for _, s := range c.Week[lt.Weekday()] {
		if s.Start <= minute && minute < s.End {
			return true
		}
	}
	return false
}

// NextOpen returns t if it is open, else the start of the next opening. It
// returns the zero Time if there is no opening within two years, which only a
// calendar whose every open day is a holiday can cause.
func (c *Calendar) NextOpen(t time.Time) time.Time {
	if c.alwaysOpen() {
		return t.UTC()
	}
	for a := range c.openings(t, time.Time{}) {
		return a.UTC()
	}
	return time.Time{}
}

// Add returns the instant at which d of business time has passed after
// start. Time before the next opening does not count, and the result may be
// a closing time (Friday 16:00 + 1h is Friday 17:00, not Monday 09:00): the
// target is met by the end of the last open minute.
//
// Add(start, 0) is start, even when closed: nothing is owed, so it is due at
// once. Negative d is treated as 0. Like NextOpen it returns the zero Time if
// the calendar stays closed for two years.
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	if d <= 0 || c.alwaysOpen() {
		return start.Add(max(d, 0)).UTC()
	}
	left := d
	for a, b := range c.openings(start, time.Time{}) {
		if n := b.Sub(a); left > n {
			left -= n
			continue
		}
		return a.Add(left).UTC()
	}
	return time.Time{}
}

// Between returns the business time in [a, b), 0 if b is not after a. For
// d > 0, Between(s, Add(s, d)) == d.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	if c.alwaysOpen() {
		return b.Sub(a)
	}
	var sum time.Duration
	for from, to := range c.openings(a, b) {
		if !from.Before(b) {
			break
		}
		if to.After(b) {
			to = b
		}
		sum += to.Sub(from)
	}
	return sum
}

// openings yields the open intervals [a, b) from `from` on, in order, the
// first one clipped to start at `from`. Neighbouring intervals may touch.
// It stops on the first day starting at or after until, or, when until is
// zero, after two years without an opening.
//
// It walks the time zone's periods of constant UTC offset (between DST
// changes). Within one period local wall time is UTC plus a fixed offset, so
// each local day's spans map to instants by plain arithmetic, and clipping
// them to the period drops wall times that did not exist (spring forward) and
// keeps both runs of wall times that happened twice (fall back), as IsOpen does.
func (c *Calendar) openings(from, until time.Time) iter.Seq2[time.Time, time.Time] {
	return func(yield func(a, b time.Time) bool) {
		loc := c.loc()
		cur := from.Round(0) // drop the monotonic reading; only wall time matters here
		last := cur
		for {
			lt := cur.In(loc)
			_, off := lt.Zone()
			offset := int64(off)
			periodEnd := zoneEnd(lt, offset) // zero when the period never ends
			for day := floorDiv(cur.Unix()+offset, 86400); ; day++ {
				wall := day * 86400 // local midnight, as seconds since the epoch in wall time
				dayStart := time.Unix(wall-offset, 0)
				// The rest of this day, if any, belongs to the next period.
				// Checked first, or the end of a period cut short by DST would
				// pass for the end of the walk; the first day of a period
				// always passes it, so the checks below still run.
				if !periodEnd.IsZero() && !dayStart.Before(periodEnd) {
					break
				}
				if until.IsZero() {
					if dayStart.Sub(last) > horizon {
						return
					}
				} else if !dayStart.Before(until) {
					return
				}
				date := time.Unix(wall, 0).UTC()
				if c.isHoliday(Date{date.Year(), date.Month(), date.Day()}) {
					continue
				}
				for _, s := range c.Week[date.Weekday()] {
					a := time.Unix(wall+int64(s.Start)*60-offset, 0)
					b := time.Unix(wall+int64(s.End)*60-offset, 0)
					if a.Before(cur) {
						a = cur
					}
					if !periodEnd.IsZero() && b.After(periodEnd) {
						b = periodEnd
					}
					if !b.After(a) {
						continue
					}
					last = b
					if !yield(a, b) {
						return
					}
				}
			}
			cur = periodEnd
		}
	}
}

// zoneEnd returns when the UTC offset in effect at t next changes, or the
// zero Time if it never does. The end may come early (a split with the same
// offset on both sides), which the walk does not mind; it must not come at or
// before t.
func zoneEnd(t time.Time, offset int64) time.Time {
	_, end := t.ZoneBounds()
	if end.IsZero() || end.After(t) {
		return end
	}
	// Past a zone's last listed transition, Go derives bounds from the TZ rule
	// with a 365-day year, and on the last UTC day of a leap year it reports
	// an end before t (golang/go#81583); the walk would then stand still.
	// Take the next UTC midnight instead, searching back for a real change
	// before it should there be one.
	end = t.Truncate(24 * time.Hour).Add(24 * time.Hour)
	if offsetAt(t.Location(), end.Unix()-1) == offset {
		return end
	}
	lo, hi := t.Unix(), end.Unix()-1 // offset as at t at lo, different at hi
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if offsetAt(t.Location(), mid) == offset {
			lo = mid
		} else {
			hi = mid
		}
	}
	return time.Unix(hi, 0)
}

func offsetAt(loc *time.Location, sec int64) int64 {
	_, off := time.Unix(sec, 0).In(loc).Zone()
	return int64(off)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
