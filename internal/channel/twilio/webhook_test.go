package twilio

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

func readForm(t testing.TB, name string) url.Values {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	form, err := ParseForm(b)
	if err != nil {
		t.Fatal(err)
	}
	return form
}

func TestParseInbound(t *testing.T) {
	const acct = "AC0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	mediaBase := "https://api.twilio.com/2010-04-01/Accounts/" + acct + "/Messages/MM9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b/Media/"
	cases := []struct {
		file string
		want Inbound
	}{
		{"inbound_sms.txt", Inbound{
			MessageSid: "SM6f1c3a0e2b7d4c9a8e5f1b2c3d4e5f60", AccountSid: acct,
			MessagingServiceSid: "MG2d4f6a8c0e1b3d5f7a9c1e3b5d7f9a1c",
			Channel:             ChannelSMS, From: "+14155550123", To: "+14155550100",
			Body: "Hi, my order #41877 has not arrived yet",
		}},
		{"inbound_whatsapp.txt", Inbound{
			MessageSid: "MM9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", AccountSid: acct,
			Channel: ChannelWhatsApp, From: "+5511987654321", To: "+14155238886",
			Body: "Foto do produto danificado",
			Media: []Media{
				{URL: mediaBase + "ME1111aaaa2222bbbb3333cccc4444dddd", ContentType: "image/jpeg"},
				{URL: mediaBase + "ME5555eeee6666ffff7777aaaa8888bbbb", ContentType: "image/jpeg"},
			},
			ProfileName: "Ana Souza", WaID: "5511987654321",
		}},
		{"inbound_stop.txt", Inbound{
			MessageSid: "SMa1a1a1a1b2b2b2b2c3c3c3c3d4d4d4d4", AccountSid: acct,
			Channel: ChannelSMS, From: "+14155550177", To: "+14155550100",
			Body: "  Stop\n", Keyword: KeywordOptOut,
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			got, err := ParseInbound(readForm(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, c.want) {
				t.Errorf("got  %+v\nwant %+v", *got, c.want)
			}
		})
	}
}

func TestParseInboundRefuses(t *testing.T) {
	base := func() url.Values { return readForm(t, "inbound_whatsapp.txt") }
	cases := []struct {
		name  string
		edit  func(url.Values)
		field string
	}{
		{"no MessageSid", func(f url.Values) { f.Del("MessageSid"); f.Del("SmsMessageSid") }, "MessageSid"},
		{"no AccountSid", func(f url.Values) { f.Del("AccountSid") }, "AccountSid"},
		{"no From", func(f url.Values) { f.Del("From") }, "From"},
		{"no To", func(f url.Values) { f.Del("To") }, "To"},
		{"bare whatsapp prefix", func(f url.Values) { f.Set("From", "whatsapp:") }, "From"},
		{"other channel prefix", func(f url.Values) { f.Set("From", "messenger:1234"); f.Set("To", "messenger:99") }, "From"},
		{"channels differ", func(f url.Values) { f.Set("To", "+14155238886") }, "To"},
		{"NumMedia not a number", func(f url.Values) { f.Set("NumMedia", "two") }, "NumMedia"},
		{"NumMedia negative", func(f url.Values) { f.Set("NumMedia", "-1") }, "NumMedia"},
		{"NumMedia too many", func(f url.Values) { f.Set("NumMedia", "11") }, "NumMedia"},
		{"MediaUrl missing", func(f url.Values) { f.Set("NumMedia", "3") }, "MediaUrl2"},
		{"MediaUrl not http", func(f url.Values) { f.Set("MediaUrl1", "javascript:alert(1)") }, "MediaUrl1"},
		{"Body not UTF-8", func(f url.Values) { f.Set("Body", "\xff\xfe") }, "Body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := base()
			c.edit(f)
			_, err := ParseInbound(f)
			var inv *errs.Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("err = %v, want *errs.Invalid", err)
			}
			if inv.Field != c.field {
				t.Errorf("field = %q, want %q (%v)", inv.Field, c.field, err)
			}
		})
	}
}

func TestParseForm(t *testing.T) {
	if _, err := ParseForm([]byte(strings.Repeat("a", MaxWebhookBytes+1))); err == nil {
		t.Error("accepted a body over the limit")
	}
	if _, err := ParseForm([]byte("a=%zz")); err == nil {
		t.Error("accepted a broken escape")
	}
}

func TestParseStatusCallback(t *testing.T) {
	const acct = "AC0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	cases := []struct {
		file string
		want StatusCallback
	}{
		{"status_delivered.txt", StatusCallback{
			MessageSid: "SM5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b", AccountSid: acct, Status: StatusDelivered,
			Channel: ChannelSMS, From: "+14155550100", To: "+14155550123",
		}},
		{"status_undelivered_whatsapp.txt", StatusCallback{
			MessageSid: "SM0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f", AccountSid: acct, Status: StatusUndelivered,
			ErrorCode: 30008, Channel: ChannelWhatsApp, From: "+14155238886", To: "+5511987654321",
		}},
		{"status_read_whatsapp.txt", StatusCallback{
			MessageSid: "SM5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b", AccountSid: acct, Status: StatusRead,
			Channel: ChannelWhatsApp, From: "+14155238886", To: "+5511987654321",
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			got, err := ParseStatusCallback(readForm(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, c.want) {
				t.Errorf("got  %+v\nwant %+v", *got, c.want)
			}
		})
	}
	for _, st := range []string{"queued", "sending", "sent", "delivered", "undelivered", "failed", "read"} {
		f := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {st}}
		if sc, err := ParseStatusCallback(f); err != nil || string(sc.Status) != st {
			t.Errorf("status %s: %v", st, err)
		}
	}
	if !StatusDelivered.Final() || StatusSent.Final() {
		t.Error("Final")
	}
}

func TestParseStatusCallbackRefuses(t *testing.T) {
	cases := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"no sid", url.Values{"MessageStatus": {"sent"}}, "MessageSid"},
		{"no status", url.Values{"MessageSid": {"SM1"}}, "MessageStatus"},
		{"unknown status", url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"lost"}}, "MessageStatus"},
		{"bad error code", url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"failed"}, "ErrorCode": {"30x"}}, "ErrorCode"},
		{"bad From", url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"failed"}, "From": {"rcs:x"}}, "From"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseStatusCallback(c.form)
			var inv *errs.Invalid
			if !errors.As(err, &inv) || inv.Field != c.field {
				t.Errorf("err = %v, want invalid %s", err, c.field)
			}
		})
	}
}

func TestClassifyKeyword(t *testing.T) {
	cases := map[string]Keyword{
		"STOP": KeywordOptOut, "stop": KeywordOptOut, " Stop \n": KeywordOptOut, "\tSTOPALL": KeywordOptOut,
		"unsubscribe": KeywordOptOut, "Cancel": KeywordOptOut, "END": KeywordOptOut, "quit": KeywordOptOut,
		"revoke": KeywordOptOut, "OptOut": KeywordOptOut,
		"START": KeywordOptIn, "yes": KeywordOptIn, "Unstop": KeywordOptIn,
		"HELP": KeywordHelp, " info ": KeywordHelp,
		"": KeywordNone, "please stop": KeywordNone, "STOP!": KeywordNone, "stop it": KeywordNone,
		"yes please": KeywordNone, "HELPME": KeywordNone, "OPT OUT": KeywordNone,
	}
	for body, want := range cases {
		if got := ClassifyKeyword(body); got != want {
			t.Errorf("ClassifyKeyword(%q) = %q, want %q", body, got, want)
		}
	}
}
