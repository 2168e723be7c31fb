package identifier

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// tc is one Normalize case: either want (the normalized value) or reason (the
// exact Error.Reason) is set.
type tc struct {
	name    string
	region  string
	kind    string
	value   string
	want    Identifier
	reason  string
	blocked bool
}

func runCases(t *testing.T, cases []tc) {
	t.Helper()
	for _, c := range cases {
		name := c.name
		if name == "" {
			name = c.kind + "/" + c.value
		}
		t.Run(name, func(t *testing.T) {
			got, err := Normalizer{DefaultRegion: c.region}.Normalize(c.kind, c.value)
			if c.reason == "" {
				if err != nil {
					t.Fatalf("Normalize(%q, %q) error %v, want %v", c.kind, c.value, err, c.want)
				}
				if got != c.want {
					t.Fatalf("Normalize(%q, %q) = %#v, want %#v", c.kind, c.value, got, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Normalize(%q, %q) = %#v, want error %q", c.kind, c.value, got, c.reason)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, not *Error", err, err)
			}
			if e.Reason != c.reason || e.Blocked != c.blocked {
				t.Fatalf("Normalize(%q, %q) error reason %q blocked %v, want %q blocked %v", c.kind, c.value, e.Reason, e.Blocked, c.reason, c.blocked)
			}
			if got != (Identifier{}) {
				t.Fatalf("Normalize returned %#v along with an error", got)
			}
		})
	}
}

func id(k Kind, v string) Identifier { return Identifier{Kind: k, Value: v} }

func TestKindNamesAndAliases(t *testing.T) {
	cases := []struct {
		in   string
		want Kind
	}{
		{"user_id", UserID},
		{"userid", UserID},
		{"user", UserID},
		{"userId", UserID},
		{"USER_ID", UserID},
		{" user_id ", UserID},
		{"account", Account},
		{"email", Email},
		{"Email", Email},
		{"mail", Email},
		{"e-mail", Email},
		{"E-Mail", Email},
		{"phone", Phone},
		{"tel", Phone},
		{"msisdn", Phone},
		{"mobile", Phone},
		{"loyalty_card", LoyaltyCard},
		{"loyalty", LoyaltyCard},
		{"card", LoyaltyCard},
		{"social", Social},
		{"device_id", DeviceID},
		{"device", DeviceID},
		{"deviceid", DeviceID},
		{"deviceId", DeviceID},
		{"anonymous_id", AnonymousID},
		{"anonymousid", AnonymousID},
		{"anonymousId", AnonymousID},
		{"shopify_customer_id", Kind("shopify_customer_id")},
		{"Shopify_Customer_ID", Kind("shopify_customer_id")},
		{"x", Kind("x")},
		{"a234567890123456789012345678901b", Kind("a234567890123456789012345678901b")}, // 32 characters
	}
	for _, c := range cases {
		got, err := ParseKind(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}

	bad := []string{
		"",
		"   ",
		"1abc",
		"_abc",
		"shopify-id",
		"foo bar",
		"a2345678901234567890123456789012c", // 33 characters
		"kind:x",
		"émail",
		"user.id",
	}
	for _, in := range bad {
		got, err := ParseKind(in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("ParseKind(%q) = %q, %v; want *Error", in, got, err)
			continue
		}
		if e.Kind != in || e.Blocked || e.Reason != "not a built-in kind, nor a custom kind name of 1 to 32 lower-case letters, digits and _ starting with a letter" {
			t.Errorf("ParseKind(%q) error %#v", in, e)
		}
	}
}

func TestNormalizeBadKind(t *testing.T) {
	_, err := Normalizer{}.Normalize("foo bar", " 42 ")
	want := `kind "foo bar": not a built-in kind, nor a custom kind name of 1 to 32 lower-case letters, digits and _ starting with a letter`
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
	e := err.(*Error)
	if e.Kind != "foo bar" || e.Value != "42" || e.Blocked {
		t.Fatalf("error %#v", e)
	}
}

func TestBlockedForEveryKind(t *testing.T) {
	junk := []string{
		"", "   ", "null", "NULL", "Null", "nil", "none", "None", "undefined", "anonymous",
		"unknown", "UNKNOWN", "n/a", "N/A", "na", "NA", "-", "0", "-1", "test", "Test",
		"guest", "[object Object]", "[object object]", "nan", "NaN", "false", "true", "TRUE",
		" null ", "\tnull\n",
		"00", "000000", "0-0", "00000000-0000-0000-0000-000000000000", "000 000", "0 - 0",
		"xxx", "xxxxx", "XxXxX", "11111", "aaa", "...", "---", "ééé",
	}
	kinds := []string{"user_id", "account", "email", "phone", "loyalty_card", "social", "device_id", "anonymous_id", "shopify_customer_id"}
	for _, k := range kinds {
		for _, v := range junk {
			_, err := Normalizer{}.Normalize(k, v)
			var e *Error
			if !errors.As(err, &e) || !e.Blocked {
				t.Errorf("Normalize(%q, %q) = %v, want a blocked *Error", k, v, err)
				continue
			}
			want := "junk value"
			if strings.TrimSpace(v) == "" {
				want = "empty value"
			}
			if e.Reason != want {
				t.Errorf("Normalize(%q, %q) reason %q, want %q", k, v, e.Reason, want)
			}
		}
	}
}

func TestNotJunk(t *testing.T) {
	// Close to junk, but real ids.
	cases := []tc{
		{kind: "user_id", value: "xx", want: id(UserID, "xx")},
		{kind: "user_id", value: "01", want: id(UserID, "01")},
		{kind: "user_id", value: "10", want: id(UserID, "10")},
		{kind: "user_id", value: "00000000-0000-0000-0000-000000000001", want: id(UserID, "00000000-0000-0000-0000-000000000001")},
		{kind: "user_id", value: "-2", want: id(UserID, "-2")},
		{kind: "user_id", value: "tester", want: id(UserID, "tester")},
		{kind: "user_id", value: "nullable", want: id(UserID, "nullable")},
		{kind: "user_id", value: "xxy", want: id(UserID, "xxy")},
		{kind: "anonymous_id", value: "guest-42", want: id(AnonymousID, "guest-42")},
	}
	runCases(t, cases)
}

func TestGenericValueRules(t *testing.T) {
	long := strings.Repeat("ab", 128) // 256 bytes
	cases := []tc{
		{kind: "user_id", value: "  u-42\t", want: id(UserID, "u-42")},
		{kind: "user_id", value: long, want: id(UserID, long)},
		{kind: "user_id", value: " " + long + " ", want: id(UserID, long)},
		{kind: "user_id", value: long + "a", reason: "too long (257 bytes, at most 256)"},
		{kind: "user_id", value: "ab\xffcd", reason: "not valid UTF-8"},
		{kind: "user_id", value: "ab\x00cd", reason: "contains control or invisible character U+0000"},
		{kind: "user_id", value: "ab\tcd", reason: "contains control or invisible character U+0009"},
		{kind: "user_id", value: "ab\x7fcd", reason: "contains control or invisible character U+007F"},
		{kind: "user_id", value: "ab\u0085cd", reason: "contains control or invisible character U+0085"},
		{kind: "user_id", value: "ab\u200bcd", reason: "contains control or invisible character U+200B"},
		{kind: "user_id", value: "\ufeffabcd", reason: "contains control or invisible character U+FEFF"},
		{kind: "email", value: "ann@example.com\x00", reason: "contains control or invisible character U+0000"},
	}
	runCases(t, cases)
}

func TestIDKindsKeepCase(t *testing.T) {
	cases := []tc{
		{kind: "user_id", value: "AbC-123", want: id(UserID, "AbC-123")},
		{kind: "userId", value: "user 42", want: id(UserID, "user 42")},
		{kind: "user_id", value: "Пользователь-7", want: id(UserID, "Пользователь-7")},
		{kind: "device_id", value: " 6F9619FF-8B86-D011-B42D-00C04FC964FF ", want: id(DeviceID, "6F9619FF-8B86-D011-B42D-00C04FC964FF")},
		{kind: "anonymous_id", value: "a1b2C3d4", want: id(AnonymousID, "a1b2C3d4")},
		{kind: "anonymousId", value: "507f191e810c19729de860ea", want: id(AnonymousID, "507f191e810c19729de860ea")},
		{kind: "shopify_customer_id", value: "gid://shopify/Customer/7", want: id("shopify_customer_id", "gid://shopify/Customer/7")},
		{kind: "Zendesk_ID", value: "Z 9", want: id("zendesk_id", "Z 9")},
	}
	runCases(t, cases)
}

func TestAccount(t *testing.T) {
	cases := []tc{
		{kind: "account", value: "ab-123 456", want: id(Account, "AB123456")},
		{kind: "account", value: "AB123456", want: id(Account, "AB123456")},
		{kind: "account", value: "  de 12-34 ", want: id(Account, "DE1234")},
		{kind: "account", value: "1234\u2013567", want: id(Account, "1234567")}, // en dash
		{kind: "account", value: "ACC/2024.7", want: id(Account, "ACC/2024.7")},
		{kind: "account", value: "müller-1", want: id(Account, "MÜLLER1")},
		{kind: "account", value: "- -", reason: "no characters besides spaces and dashes"},
		{kind: "account", value: "0-0-0", reason: "junk value", blocked: true},
		{kind: "account", value: "a-a a", reason: "junk value", blocked: true},
		{kind: "account", value: "00 00", reason: "junk value", blocked: true},
	}
	runCases(t, cases)
}

func TestLoyaltyCard(t *testing.T) {
	cases := []tc{
		{kind: "loyalty_card", value: "ab-123 456", want: id(LoyaltyCard, "AB123456")},
		{kind: "loyalty", value: "1234", want: id(LoyaltyCard, "1234")},
		{kind: "card", value: "6035 1234 5678 9012", want: id(LoyaltyCard, "6035123456789012")},
		{kind: "loyalty_card", value: strings.Repeat("12", 16), want: id(LoyaltyCard, strings.Repeat("12", 16))},
		{kind: "loyalty_card", value: "123", reason: "want 4 to 32 letters and digits, got 3"},
		{kind: "loyalty_card", value: "12-3", reason: "want 4 to 32 letters and digits, got 3"},
		{kind: "loyalty_card", value: strings.Repeat("12", 16) + "3", reason: "want 4 to 32 letters and digits, got 33"},
		{kind: "loyalty_card", value: "1234/56", reason: "may hold only letters A-Z, digits, spaces and dashes"},
		{kind: "loyalty_card", value: "ÄB1234", reason: "may hold only letters A-Z, digits, spaces and dashes"},
		{kind: "loyalty_card", value: "ſ1234", reason: "may hold only letters A-Z, digits, spaces and dashes"},
		{kind: "loyalty_card", value: "1111-1111", reason: "junk value", blocked: true},
	}
	runCases(t, cases)
}

func TestEmail(t *testing.T) {
	long64 := strings.Repeat("a", 63) + "b"
	label63 := strings.Repeat("c", 62) + "d"
	domain253 := label63 + "." + label63 + "." + label63 + "." + strings.Repeat("e", 57) + ".com"
	if len(long64) != 64 || len(label63) != 63 || len(domain253) != 253 {
		t.Fatalf("test lengths wrong: %d %d %d", len(long64), len(label63), len(domain253))
	}
	cases := []tc{
		{kind: "email", value: "Ann.Smith@Example.COM", want: id(Email, "ann.smith@example.com")},
		{kind: "mail", value: "  ann@example.com ", want: id(Email, "ann@example.com")},
		{kind: "e-mail", value: "mailto:Ann@Example.com", want: id(Email, "ann@example.com")},
		{kind: "email", value: "MAILTO:ann@example.com", want: id(Email, "ann@example.com")},
		{kind: "email", value: "ann+news@mail.example.co.uk", want: id(Email, "ann+news@mail.example.co.uk")},
		{kind: "email", value: "o'brien@example.ie", want: id(Email, "o'brien@example.ie")},
		{kind: "email", value: "a!#$%&'*+/=?^_`{|}~.-z@example.com", want: id(Email, "a!#$%&'*+/=?^_`{|}~.-z@example.com")},
		{kind: "email", value: "user@my-host.example.org", want: id(Email, "user@my-host.example.org")},
		{kind: "email", value: "user@xn--80ak6aa92e.xn--p1ai", want: id(Email, "user@xn--80ak6aa92e.xn--p1ai")},
		{kind: "email", value: "1@2.io", want: id(Email, "1@2.io")},
		{kind: "email", value: long64 + "@example.com", want: id(Email, long64+"@example.com")},
		{kind: "email", value: "a@" + domain253, want: id(Email, "a@"+domain253)},
		{kind: "email", value: "test@example.com", want: id(Email, "test@example.com")},
		{kind: "email", value: "noreply@example.com", want: id(Email, "noreply@example.com")},
		{kind: "email", value: "email@example.com", want: id(Email, "email@example.com")},

		{kind: "email", value: "foo@", reason: "missing domain"},
		{kind: "email", value: "@example.com", reason: "missing local part"},
		{kind: "email", value: "ann.example.com", reason: "missing @"},
		{kind: "email", value: "ann@b@example.com", reason: "more than one @"},
		{kind: "email", value: "ann@localhost", reason: "domain has no dot"},
		{kind: "email", value: "ann@example..com", reason: "domain has an empty label"},
		{kind: "email", value: "ann@example.com.", reason: "domain has an empty label"},
		{kind: "email", value: "ann@.example.com", reason: "domain has an empty label"},
		{kind: "email", value: "ann@-example.com", reason: "domain label starts or ends with a hyphen"},
		{kind: "email", value: "ann@example-.com", reason: "domain label starts or ends with a hyphen"},
		{kind: "email", value: "ann@exa_mple.com", reason: `character '_' not allowed in domain`},
		{kind: "email", value: "ann@[127.0.0.1]", reason: `character '[' not allowed in domain`},
		{kind: "email", value: "ann@example.c", reason: "top-level domain shorter than 2 letters"},
		{kind: "email", value: "ann@example.c0m", reason: "top-level domain must be letters only"},
		{kind: "email", value: "ann@10.0.0.12", reason: "top-level domain must be letters only"},
		{kind: "email", value: "ann@" + strings.Repeat("f", 64) + ".com", reason: "domain label longer than 63 characters"},
		{kind: "email", value: "a@" + domain253 + "x", reason: "domain longer than 253 bytes"},
		{kind: "email", value: long64 + "c@example.com", reason: "local part longer than 64 bytes"},
		{kind: "email", value: ".ann@example.com", reason: "local part starts or ends with a dot"},
		{kind: "email", value: "ann.@example.com", reason: "local part starts or ends with a dot"},
		{kind: "email", value: "ann..smith@example.com", reason: "local part has two dots in a row"},
		{kind: "email", value: "ann smith@example.com", reason: `character ' ' not allowed in local part`},
		{kind: "email", value: `"ann"@example.com`, reason: `character '"' not allowed in local part`},
		{kind: "email", value: "Ann <ann@example.com>", reason: `character ' ' not allowed in local part`},
		{kind: "email", value: "mailto:mailto:ann@example.com", reason: `character ':' not allowed in local part`},
		{kind: "email", value: "jörg@example.de", reason: "non-ASCII characters are not supported in email addresses"},
		{kind: "email", value: "ann@bücher.de", reason: "non-ASCII characters are not supported in email addresses"},

		{kind: "email", value: "noemail@example.com", reason: "junk email address", blocked: true},
		{kind: "email", value: "NoEmail@gmail.com", reason: "junk email address", blocked: true},
		{kind: "email", value: "none@none", reason: "junk email address", blocked: true},
		{kind: "email", value: "null@example.com", reason: "junk email address", blocked: true},
		{kind: "email", value: "unknown@company.org", reason: "junk email address", blocked: true},
		{kind: "email", value: "test@test.com", reason: "junk email address", blocked: true},
		{kind: "email", value: "TEST@TEST.COM", reason: "junk email address", blocked: true},
		{kind: "email", value: "a@a.com", reason: "junk email address", blocked: true},
		{kind: "email", value: "email@email.com", reason: "junk email address", blocked: true},
		{kind: "email", value: "mailto:test@test.com", reason: "junk email address", blocked: true},
	}
	runCases(t, cases)
}

func TestPhone(t *testing.T) {
	cases := []tc{
		// US, by default region and with +.
		{region: "US", kind: "phone", value: "(212) 555-0100", want: id(Phone, "+12125550100")},
		{region: "US", kind: "phone", value: "212.555.0100", want: id(Phone, "+12125550100")},
		{region: "US", kind: "phone", value: "1 212 555 0100", want: id(Phone, "+12125550100")},
		{region: "US", kind: "phone", value: "+1 212 555 0100", want: id(Phone, "+12125550100")},
		{region: "", kind: "phone", value: "212-555-0100", want: id(Phone, "+12125550100")},
		{region: "us", kind: "phone", value: "212-555-0100", want: id(Phone, "+12125550100")},
		{region: "DE", kind: "tel", value: "+1-212-555-0100", want: id(Phone, "+12125550100")},
		{region: "US", kind: "phone", value: "tel:+1-212-555-0100", want: id(Phone, "+12125550100")},
		{region: "US", kind: "phone", value: "TEL:+1-212-555-0100;ext=7", want: id(Phone, "+12125550100")},
		{region: "US", kind: "phone", value: "+1 212 555 0100 ext. 12", want: id(Phone, "+12125550100")},
		{region: "US", kind: "phone", value: "+1 212 555 0100 extension 12", want: id(Phone, "+12125550100")},
		{region: "US", kind: "phone", value: "+1 212 555 0100x12", want: id(Phone, "+12125550100")},
		{region: "US", kind: "phone", value: "(212) 555-0100 #12", want: id(Phone, "+12125550100")},
		{region: "US", kind: "phone", value: "+12125550100", want: id(Phone, "+12125550100")},
		{region: "US", kind: "phone", value: "011 49 30 1234567", want: id(Phone, "+49301234567")},
		{region: "US", kind: "phone", value: "00 49 30 1234567", want: id(Phone, "+49301234567")},
		// GB.
		{region: "GB", kind: "phone", value: "020 7946 0958", want: id(Phone, "+442079460958")},
		{region: "GB", kind: "mobile", value: "07700 900123", want: id(Phone, "+447700900123")},
		{region: "US", kind: "phone", value: "+44 20 7946 0958", want: id(Phone, "+442079460958")},
		{region: "US", kind: "phone", value: "+44 (0)20 7946 0958", want: id(Phone, "+442079460958")},
		{region: "US", kind: "phone", value: "0044 20 7946 0958", want: id(Phone, "+442079460958")},
		// DE.
		{region: "DE", kind: "phone", value: "030 1234567", want: id(Phone, "+49301234567")},
		{region: "DE", kind: "phone", value: "(030) 123-4567", want: id(Phone, "+49301234567")},
		{region: "DE", kind: "msisdn", value: "0151 23456789", want: id(Phone, "+4915123456789")},
		{region: "DE", kind: "phone", value: "0049 30 1234567", want: id(Phone, "+49301234567")},
		{region: "US", kind: "phone", value: "+49 30 1234567", want: id(Phone, "+49301234567")},
		{region: "DE", kind: "phone", value: "+49 151 23456789", want: id(Phone, "+4915123456789")},
		// IN.
		{region: "IN", kind: "phone", value: "98765 43210", want: id(Phone, "+919876543210")},
		{region: "IN", kind: "phone", value: "098765 43210", want: id(Phone, "+919876543210")},
		{region: "IN", kind: "phone", value: "022 2345 6789", want: id(Phone, "+912223456789")},
		{region: "US", kind: "phone", value: "+91 98765 43210", want: id(Phone, "+919876543210")},
		{region: "GB", kind: "phone", value: "+91-98765-43210", want: id(Phone, "+919876543210")},
		// IT keeps its leading zero.
		{region: "IT", kind: "phone", value: "06 1234 5678", want: id(Phone, "+390612345678")},

		{region: "US", kind: "phone", value: "+1 555-0100", reason: "missing area code"},
		{region: "US", kind: "phone", value: "555-0100", reason: "missing area code"},
		{region: "US", kind: "phone", value: "12", reason: "too short"},
		{region: "US", kind: "phone", value: "+1 212 555 01000", reason: "too long"},
		{region: "DE", kind: "phone", value: "+49 30 12345678901234567", reason: "too long"},
		{region: "US", kind: "phone", value: "+999 1234567", reason: "invalid or missing country code"},
		{region: "XX", kind: "phone", value: "212 555 0100", reason: "invalid or missing country code"},
		{region: "US", kind: "phone", value: "1-800-FLOWERS", reason: "not a phone number"},
		{region: "US", kind: "phone", value: "call me", reason: "not a phone number"},
		{region: "US", kind: "phone", value: "ann@example.com", reason: "not a phone number"},
		{region: "US", kind: "phone", value: "212*555*0100", reason: "not a phone number"},
		{region: "US", kind: "phone", value: "212+555+0100", reason: "not a phone number"},
		{region: "US", kind: "phone", value: "()", reason: "not a phone number"},
		{region: "US", kind: "phone", value: "２１２５５５０１００", reason: "not a phone number"},
		{region: "US", kind: "phone", value: "tel:+1-212-555-0100;phone-context=example.com", reason: `unsupported tel: parameter "phone-context=example.com"`},
		{region: "US", kind: "phone", value: "(111) 111-1111", reason: "junk phone number", blocked: true},
		{region: "US", kind: "phone", value: "+1 (000) 000-0000", reason: "junk phone number", blocked: true},
		{region: "US", kind: "phone", value: "1111111111", reason: "junk value", blocked: true},
	}
	runCases(t, cases)
}

func TestSocial(t *testing.T) {
	cases := []tc{
		{kind: "social", value: "twitter:AnnSmith", want: id(Social, "x:annsmith")},
		{kind: "social", value: "Twitter:@AnnSmith", want: id(Social, "x:annsmith")},
		{kind: "social", value: "X:@AnnSmith", want: id(Social, "x:annsmith")},
		{kind: "social", value: "x:annsmith", want: id(Social, "x:annsmith")},
		{kind: "social", value: " twitter : @Ann ", want: id(Social, "x:ann")},
		{kind: "social", value: "instagram:Ann.Smith", want: id(Social, "instagram:ann.smith")},
		{kind: "social", value: "tiktok:@Ann_S", want: id(Social, "tiktok:ann_s")},
		{kind: "social", value: "telegram:AnnSmith", want: id(Social, "telegram:annsmith")},
		{kind: "social", value: "telegram:12345", want: id(Social, "telegram:12345")},
		{kind: "social", value: "linkedin:Ann-Smith-12", want: id(Social, "linkedin:ann-smith-12")},
		{kind: "social", value: "facebook:Ann.Smith", want: id(Social, "facebook:Ann.Smith")},
		{kind: "social", value: "facebook:100004123456789", want: id(Social, "facebook:100004123456789")},
		{kind: "social", value: "youtube:UCx9Ab", want: id(Social, "youtube:UCx9Ab")},
		{kind: "social", value: "whatsapp:4915123456789", want: id(Social, "whatsapp:4915123456789")},
		{kind: "social", value: "messenger:AbC123", want: id(Social, "messenger:AbC123")},
		{kind: "social", value: "Mastodon:@Ann@mastodon.social", want: id(Social, "mastodon:Ann@mastodon.social")},
		{kind: "social", value: "matrix:@ann:example.org", want: id(Social, "matrix:ann:example.org")},
		{kind: "social", value: "vk:Id42", want: id(Social, "vk:Id42")},
		{kind: "social", value: "x:@@ann", want: id(Social, "x:ann")},

		{kind: "social", value: "annsmith", reason: `want "network:handle"`},
		{kind: "social", value: "twitter:", reason: "missing handle"},
		{kind: "social", value: "twitter:@", reason: "missing handle"},
		{kind: "social", value: "twitter:ann smith", reason: "handle contains white space"},
		{kind: "social", value: "twitter:@ ann", reason: "handle contains white space"},
		{kind: "social", value: ":ann", reason: "invalid network name: want 2 to 32 lower-case letters, digits and _ starting with a letter"},
		{kind: "social", value: "v:ann", reason: "invalid network name: want 2 to 32 lower-case letters, digits and _ starting with a letter"},
		{kind: "social", value: "my-net:ann", reason: "invalid network name: want 2 to 32 lower-case letters, digits and _ starting with a letter"},
		{kind: "social", value: "9gag:ann", reason: "invalid network name: want 2 to 32 lower-case letters, digits and _ starting with a letter"},
		{kind: "social", value: "twitter:null", reason: "junk handle", blocked: true},
		{kind: "social", value: "telegram:0", reason: "junk handle", blocked: true},
		{kind: "social", value: "x:@Undefined", reason: "junk handle", blocked: true},
		{kind: "social", value: "facebook:xxxx", reason: "junk handle", blocked: true},
	}
	runCases(t, cases)
}

func TestParse(t *testing.T) {
	n := Normalizer{DefaultRegion: "DE"}
	good := []struct {
		in   string
		want Identifier
	}{
		{"social:twitter:Ann", id(Social, "x:ann")},
		{"social:matrix:@ann:example.org", id(Social, "matrix:ann:example.org")},
		{"email:Ann@Example.com", id(Email, "ann@example.com")},
		{"mail: Ann@Example.com ", id(Email, "ann@example.com")},
		{"phone:030 1234567", id(Phone, "+49301234567")},
		{"tel:+1 212 555 0100", id(Phone, "+12125550100")},
		{"phone:tel:+1-212-555-0100", id(Phone, "+12125550100")},
		{"userId:abc:def", id(UserID, "abc:def")},
		{"account:ab-123 456", id(Account, "AB123456")},
		{"shopify_customer_id:7", id("shopify_customer_id", "7")},
	}
	for _, c := range good {
		got, err := n.Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %#v, %v; want %#v", c.in, got, err, c.want)
		}
	}

	bad := []struct {
		in, err string
		blocked bool
	}{
		{"no colon here", `"no colon here": want "kind:value"`, false},
		{"", `"": want "kind:value"`, false},
		{":value", `kind "": not a built-in kind, nor a custom kind name of 1 to 32 lower-case letters, digits and _ starting with a letter`, false},
		{"email:", `email "": empty value`, true},
		{"email:null", `email "null": junk value`, true},
		{"email:foo@", `email "foo@": missing domain`, false},
		{"social:twitter", `social "twitter": want "network:handle"`, false},
	}
	for _, c := range bad {
		got, err := n.Parse(c.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = %#v, %v; want *Error", c.in, got, err)
			continue
		}
		if e.Error() != c.err || e.Blocked != c.blocked {
			t.Errorf("Parse(%q) error %q blocked %v, want %q blocked %v", c.in, e.Error(), e.Blocked, c.err, c.blocked)
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	n := Normalizer{}
	for _, in := range []Identifier{
		id(Social, "x:ann"),
		id(Email, "ann@example.com"),
		id(Phone, "+12125550100"),
		id(UserID, "a:b"),
		id("shopify_customer_id", "7"),
	} {
		s := in.String()
		if want := string(in.Kind) + ":" + in.Value; s != want {
			t.Errorf("String() = %q, want %q", s, want)
		}
		got, err := n.Parse(s)
		if err != nil || got != in {
			t.Errorf("Parse(%q) = %#v, %v; want %#v", s, got, err, in)
		}
	}
}

func TestJSON(t *testing.T) {
	b, err := json.Marshal(id(Email, "ann@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"kind":"email","value":"ann@example.com"}` {
		t.Fatalf("json %s", b)
	}
	var back Identifier
	if err := json.Unmarshal(b, &back); err != nil || back != id(Email, "ann@example.com") {
		t.Fatalf("unmarshal %#v, %v", back, err)
	}
}

func TestErrorMessage(t *testing.T) {
	cases := []struct {
		e    *Error
		want string
	}{
		{&Error{Kind: "email", Value: "foo@", Reason: "missing domain"}, `email "foo@": missing domain`},
		{&Error{Value: "x", Reason: `want "kind:value"`}, `"x": want "kind:value"`},
		{&Error{Kind: "user_id", Value: "a\x00b", Reason: "r"}, `user_id "a\x00b": r`},
		{&Error{Kind: "user_id", Value: strings.Repeat("a", 100), Reason: "r"}, `user_id "` + strings.Repeat("a", 64) + `...": r`},
		// Cutting never splits a character: "é" is 2 bytes, so 32 fit in 64 bytes.
		{&Error{Kind: "user_id", Value: "a" + strings.Repeat("é", 40), Reason: "r"}, `user_id "a` + strings.Repeat("é", 31) + `...": r`},
	}
	for _, c := range cases {
		if got := c.e.Error(); got != c.want {
			t.Errorf("Error() = %s, want %s", got, c.want)
		}
	}
}

func TestPriorityLimitKnown(t *testing.T) {
	cases := []struct {
		k               Kind
		priority, limit int
		known           bool
	}{
		{UserID, 1, 1, true},
		{Account, 2, 5, true},
		{Email, 3, 5, true},
		{Phone, 4, 5, true},
		{LoyaltyCard, 5, 3, true},
		{Social, 6, 10, true},
		{DeviceID, 7, 10, true},
		{AnonymousID, 8, 50, true},
		{"shopify_customer_id", 9, 5, false},
		{"mail", 9, 5, false}, // an alias is not a kind until ParseKind
		{"", 9, 5, false},
	}
	for _, c := range cases {
		if got := Priority(c.k); got != c.priority {
			t.Errorf("Priority(%q) = %d, want %d", c.k, got, c.priority)
		}
		if got := Limit(c.k); got != c.limit {
			t.Errorf("Limit(%q) = %d, want %d", c.k, got, c.limit)
		}
		if got := Known(c.k); got != c.known {
			t.Errorf("Known(%q) = %v, want %v", c.k, got, c.known)
		}
	}
}
