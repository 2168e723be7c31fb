package outbox

import (
	"strings"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/businesshours"
)

func TestDecide(t *testing.T) {
	now := time.Date(2030, 1, 1, 22, 0, 0, 0, time.UTC) // a Tuesday night
	quiet, err := QuietCalendar("21:00-08:00", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	lunch, err := QuietCalendar("12:00-13:00", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	afternoon, err := QuietCalendar("12:00-14:00", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	morning := time.Date(2030, 1, 2, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		f       Facts
		refusal string
		hold    time.Time
	}{
		{name: "a reply within the window goes out, at night too",
			f: Facts{Now: now, LastInbound: now.Add(-23 * time.Hour), Quiet: []*businesshours.Calendar{quiet}}},
		{name: "an opt-out wins over the window",
			f: Facts{Now: now, LastInbound: now.Add(-time.Minute), Channel: "sms", Consent: "opted_out"}, refusal: "opted out of sms"},
		{name: "outside the window without consent",
			f: Facts{Now: now, LastInbound: now.Add(-25 * time.Hour), Channel: "sms"}, refusal: "has not agreed"},
		{name: "never wrote, no consent",
			f: Facts{Now: now, Channel: "whatsapp"}, refusal: "has not agreed"},
		{name: "consent, quiet hours: held until they end",
			f: Facts{Now: now, Consent: "opted_in", Quiet: []*businesshours.Calendar{quiet}}, hold: morning},
		{name: "consent, no quiet hours now",
			f: Facts{Now: now, Consent: "opted_in", Quiet: []*businesshours.Calendar{lunch}}},
		{name: "back-to-back quiet hours",
			f:    Facts{Now: time.Date(2030, 1, 2, 11, 30, 0, 0, time.UTC), Consent: "opted_in", Quiet: []*businesshours.Calendar{lunch, afternoon}},
			hold: time.Date(2030, 1, 2, 14, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Decide(tc.f)
			if tc.refusal != "" {
				if !strings.Contains(v.Refusal, tc.refusal) || v.Send() {
					t.Fatalf("got %+v, want a refusal with %q", v, tc.refusal)
				}
				return
			}
			if v.Refusal != "" || !v.HoldUntil.Equal(tc.hold) {
				t.Fatalf("got %+v, want hold until %v", v, tc.hold)
			}
		})
	}
}

func TestQuietSettings(t *testing.T) {
	for _, tc := range []struct{ settings, hours, tz, cal string }{
		{`{"quiet_hours":"21:00-08:00","time_zone":"Europe/Berlin"}`, "21:00-08:00", "Europe/Berlin", ""},
		{`{"quiet_hours":{"calendar_id":"42"}}`, "", "", "42"},
		{`{"quiet_hours":{"hours":"22:00-07:00","time_zone":"America/New_York"}}`, "22:00-07:00", "America/New_York", ""},
		{`{}`, "", "", ""},
	} {
		q, err := ParseQuietSetting([]byte(tc.settings))
		if err != nil || q.Hours != tc.hours || q.TimeZone != tc.tz || q.CalendarID != tc.cal {
			t.Errorf("%s: %+v %v", tc.settings, q, err)
		}
	}
	if _, err := ParseQuietSetting([]byte(`{"quiet_hours":5}`)); err == nil {
		t.Error("a number was taken as quiet hours")
	}
	for _, bad := range []string{"21:00", "08:00-08:00", "25:00-08:00"} {
		if _, err := QuietCalendar(bad, "UTC"); err == nil {
			t.Errorf("%q was taken", bad)
		}
	}
	c, err := QuietCalendar("00:00-06:00", "UTC")
	if err != nil || c.IsOpen(time.Date(2030, 1, 1, 5, 0, 0, 0, time.UTC)) || !c.IsOpen(time.Date(2030, 1, 1, 6, 0, 0, 0, time.UTC)) {
		t.Fatalf("00:00-06:00: %v", err)
	}
}
