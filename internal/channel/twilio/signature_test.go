package twilio

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
)

// The worked example used by Twilio's own helper libraries: auth token 12345,
// a voice <Gather> posting to a URL with a query string.
const (
	exampleToken = "12345"
	exampleURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
	exampleSig   = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
)

func exampleForm() url.Values {
	return url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675309"},
		"Digits":  {"1234"},
		"From":    {"+14158675309"},
		"To":      {"+18005551212"},
	}
}

func TestValidateSignatureTwilioExample(t *testing.T) {
	cases := []struct {
		name, url, sig string
		want           bool
	}{
		{"as published", exampleURL, exampleSig, true},
		// Twilio signed with the default port written out; we were given the URL without it.
		{"https signed with :443", exampleURL, "kvajT1Ptam85bY51eRf/AJRuM3w=", true},
		{"http signed with :80", strings.Replace(exampleURL, "https", "http", 1), "0ZXoZLH/DfblKGATFgpif+LLRf4=", true},
		// Our URL carries a port, Twilio signed without it.
		{"port in our URL, signed without", strings.Replace(exampleURL, ".com", ".com:1234", 1), exampleSig, true},
		{"http with its own port", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", true},
		{"wrong signature", exampleURL, "WRONG SIGNATURE", false},
		{"empty signature", exampleURL, "", false},
		{"other path", "https://mycompany.com/other.php?foo=1&bar=2", exampleSig, false},
		{"query reordered", "https://mycompany.com/myapp.php?bar=2&foo=1", exampleSig, false},
		{"scheme differs", strings.Replace(exampleURL, "https", "http", 1), exampleSig, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ValidateSignature(exampleToken, c.url, exampleForm(), c.sig); got != c.want {
				t.Errorf("ValidateSignature = %v, want %v", got, c.want)
			}
		})
	}
}

func TestValidateSignatureRejects(t *testing.T) {
	form := exampleForm()
	if ValidateSignature("54321", exampleURL, form, exampleSig) {
		t.Error("accepted with the wrong auth token")
	}
	if ValidateSignature("", exampleURL, form, exampleSig) {
		t.Error("accepted with no auth token")
	}
	tampered := exampleForm()
	tampered.Set("Digits", "1235")
	if ValidateSignature(exampleToken, exampleURL, tampered, exampleSig) {
		t.Error("accepted a tampered parameter")
	}
	extra := exampleForm()
	extra.Set("Body", "")
	if ValidateSignature(exampleToken, exampleURL, extra, exampleSig) {
		t.Error("accepted an added empty parameter")
	}
	missing := exampleForm()
	missing.Del("Caller")
	if ValidateSignature(exampleToken, exampleURL, missing, exampleSig) {
		t.Error("accepted with a parameter removed")
	}
	// Moving a value to another name keeps the concatenation's letters but not its order.
	swapped := exampleForm()
	swapped.Set("To", "+14158675309")
	swapped.Set("From", "+18005551212")
	if ValidateSignature(exampleToken, exampleURL, swapped, exampleSig) {
		t.Error("accepted with values swapped between parameters")
	}
	if ValidateSignature(exampleToken, exampleURL, nil, exampleSig) {
		t.Error("accepted without the POST parameters")
	}
}

// The order in which parameters arrive does not matter: Twilio signs them sorted.
func TestValidateSignatureParameterOrder(t *testing.T) {
	body := "To=%2B18005551212&From=%2B14158675309&Digits=1234&Caller=%2B14158675309&CallSid=CA1234567890ABCDE"
	form, err := ParseForm([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if !ValidateSignature(exampleToken, exampleURL, form, exampleSig) {
		t.Error("refused the example with its parameters in another order")
	}
}

func TestValidateSignatureInboundFixture(t *testing.T) {
	form := readForm(t, "inbound_whatsapp.txt")
	const token = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
	const u = "https://hub.example.com/channels/twilio/messages?cp=7"
	sig := Signature(token, u, form)
	if !ValidateSignature(token, u, form, sig) {
		t.Fatal("refused its own signature")
	}
	if !ValidateSignature(token, "https://hub.example.com:443/channels/twilio/messages?cp=7", form, sig) {
		t.Error("refused when our URL has the default port")
	}
	form.Set("Body", form.Get("Body")+".")
	if ValidateSignature(token, u, form, sig) {
		t.Error("accepted a changed body")
	}
}

// Names given several times: each distinct value, sorted, after the name.
func TestSignatureRepeatedName(t *testing.T) {
	a := url.Values{"MediaUrl": {"b", "a", "b"}, "To": {"+1"}}
	if got, want := formString(a), "MediaUrlaMediaUrlbTo+1"; got != want {
		t.Fatalf("formString = %q, want %q", got, want)
	}
}

func TestValidateBodySignature(t *testing.T) {
	body := []byte(`{"property": "value", "boolean": true}`)
	const hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
	if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != hash {
		t.Fatal("example body hash")
	}
	cases := []struct {
		name, url, sig string
		body           []byte
		want           bool
	}{
		{"published, with query", exampleURL + "&bodySHA256=" + hash, "a9nBmqA0ju/hNViExpshrM61xv4=", body, true},
		{"published, hash only", "https://mycompany.com/myapp.php?bodySHA256=" + hash, "y77kIzt2vzLz71DgmJGsen2scGs=", body, true},
		{"tampered body", exampleURL + "&bodySHA256=" + hash, "a9nBmqA0ju/hNViExpshrM61xv4=", []byte(`{"property": "value", "boolean": false}`), false},
		{"no bodySHA256", exampleURL, exampleSig, body, false},
		{"hash not hex", "https://mycompany.com/myapp.php?bodySHA256=zz", "y77kIzt2vzLz71DgmJGsen2scGs=", body, false},
		{"wrong signature", exampleURL + "&bodySHA256=" + hash, exampleSig, body, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ValidateBodySignature(exampleToken, c.url, c.body, c.sig); got != c.want {
				t.Errorf("ValidateBodySignature = %v, want %v", got, c.want)
			}
		})
	}
	if ValidateBodySignature("54321", exampleURL+"&bodySHA256="+hash, body, "a9nBmqA0ju/hNViExpshrM61xv4=") {
		t.Error("accepted with the wrong auth token")
	}
}

func TestURLVariants(t *testing.T) {
	cases := map[string][]string{
		"https://a.example/x?y=1":           {"https://a.example/x?y=1", "https://a.example:443/x?y=1"},
		"http://a.example:80/x":             {"http://a.example:80/x", "http://a.example/x"},
		"https://u:p@a.example/x":           {"https://u:p@a.example/x", "https://u:p@a.example:443/x"},
		"https://[::1]:8443/x":              {"https://[::1]:8443/x", "https://[::1]/x"},
		"https://a.example?q=http://b:1/":   {"https://a.example?q=http://b:1/", "https://a.example:443?q=http://b:1/"},
		"https://a.example/p%2Fq?x=a%20b+c": {"https://a.example/p%2Fq?x=a%20b+c", "https://a.example:443/p%2Fq?x=a%20b+c"},
		"not a url":                         {"not a url"},
		"ftp://a.example/x":                 {"ftp://a.example/x"},
	}
	for in, want := range cases {
		got := urlVariants(in)
		if strings.Join(got, " | ") != strings.Join(want, " | ") {
			t.Errorf("urlVariants(%q) = %q, want %q", in, got, want)
		}
	}
}
