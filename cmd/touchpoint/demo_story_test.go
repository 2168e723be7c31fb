package main_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The knowledge issue's "done means", on the demo as a new user gets it:
// the administrator publishes the missing shipping charges as a new version
// of the shipping.fee fact in the desk, and at once the help center, the
// store kiosk, the chat widget and the agents' canned reply all say it; the
// consistency report and the fact page name the customers who were given
// the old answer.
func TestDemoStoryOneAnswerEverywhere(t *testing.T) {
	stores(t, demoStory)
}

func demoStory(t *testing.T, storeArgs []string) {
	// A smaller company than serve --demo makes (which then adds nothing):
	// the story is the same, and PostgreSQL fills it in seconds, not half a
	// minute, on a machine busy with the other tests.
	cli(t, append([]string{"demo", "--customers", "500", "--months", "2"}, storeArgs...)...)
	n := startWithin(t, 90*time.Second, storeArgs, "--demo", "--smtp-addr", "")
	base := "http://" + n.addr
	// The welcome with the kiosk and chat addresses follows readiness.
	var kioskID, chatID []string
	for deadline := time.Now().Add(10 * time.Second); kioskID == nil || chatID == nil; time.Sleep(20 * time.Millisecond) {
		printed := n.stderr.String()
		kioskID = regexp.MustCompile(`/kiosk/(\d+)`).FindStringSubmatch(printed)
		chatID = regexp.MustCompile(`contact_point=(\d+)`).FindStringSubmatch(printed)
		if time.Now().After(deadline) {
			t.Fatalf("serve --demo printed no kiosk or chat address:\n%s", printed)
		}
	}

	jar, _ := cookiejar.New(nil)
	admin := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(c *http.Client, path string, header ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	post := func(path string, form url.Values) int {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		resp, err := admin.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("/signin", url.Values{"email": {"admin@demo.example"}, "password": {"demo"}}); code != http.StatusSeeOther {
		t.Fatalf("admin sign-in: %d", code)
	}
	want := func(what string, code int, body string, texts ...string) {
		t.Helper()
		if code != http.StatusOK {
			t.Fatalf("%s: status %d", what, code)
		}
		for _, s := range texts {
			if !strings.Contains(body, s) {
				t.Errorf("%s does not say %q", what, s)
			}
		}
	}

	// Before: the help center says what the web shop says.
	code, body := get(http.DefaultClient, "/help/articles/shipping-charges")
	want("the help article before", code, body, "calculated at checkout")

	// The administrator finds the fact and publishes the charges.
	code, body = get(admin, "/knowledge?q=shipping.fee")
	factID := regexp.MustCompile(`/knowledge/facts/(\d+)`).FindStringSubmatch(body)
	if code != 200 || factID == nil {
		t.Fatalf("the knowledge list (%d) links no fact", code)
	}
	factPath := "/knowledge/facts/" + factID[1]
	code, body = get(admin, factPath)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if code != 200 || !strings.Contains(body, "shipping.fee") || csrf == nil {
		t.Fatalf("the fact page (%d) is not shipping.fee's or has no form", code)
	}
	const charges = "$9.99 per order, free on orders over $99"
	form := url.Values{"csrf": {csrf[1]}, "value": {charges}, "note": {"The charges the web shop never showed"}}
	if code := post(factPath, form); code != http.StatusSeeOther {
		t.Fatalf("saving the new value: %d", code)
	}
	for _, step := range []string{"submit", "publish"} {
		if code := post(factPath+"/versions/2/"+step, url.Values{"csrf": {csrf[1]}}); code != http.StatusSeeOther {
			t.Fatalf("%s version 2: %d", step, code)
		}
	}

	// At once, everywhere.
	code, body = get(http.DefaultClient, "/help/articles/shipping-charges")
	want("the help article", code, body, charges)

	chat := "/chat/v1/points/" + chatID[1]
	code, body = get(http.DefaultClient, chat+"/answers?q=How+much+is+shipping", "Origin", "null")
	articleID := regexp.MustCompile(`"article_id":"(\d+)","title":"Shipping charges"`).FindStringSubmatch(body)
	if code != 200 || articleID == nil {
		t.Fatalf("the chat widget suggests no shipping article (%d): %s", code, body)
	}
	code, body = get(http.DefaultClient, chat+"/answers/"+articleID[1]+"?visitor=demo-story-visitor-1", "Origin", "null")
	want("the article in the chat widget", code, body, charges)

	kioskJar, _ := cookiejar.New(nil)
	kiosk := &http.Client{Jar: kioskJar}
	code, body = get(kiosk, "/kiosk/"+kioskID[1]+"/articles/"+articleID[1])
	want("the article on the kiosk", code, body, charges)

	code, body = get(admin, "/")
	caseID := regexp.MustCompile(`/cases/(\d+)`).FindStringSubmatch(body)
	if code != 200 || caseID == nil {
		t.Fatalf("the inbox (%d) links no case", code)
	}
	code, body = get(admin, "/cases/"+caseID[1])
	want("the canned reply on a case page", code, body, "Shipping: "+charges)

	// Who got the old answer: the consistency report and the fact page.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body = get(admin, "/knowledge/consistency")
		if code == 200 && strings.Contains(body, "shipping.fee") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	want("the consistency report", code, body, "shipping.fee", "v1 (outdated)", "given an outdated version")
	if !regexp.MustCompile(`kb-outdated-customers[\s\S]*<a href="/customers/\d+">`).MatchString(body) {
		t.Error("the consistency report names no customer given the old answer")
	}
	code, body = get(admin, factPath)
	want("the fact page", code, body, "Customers given a previous version", "Start a correction follow-up")
}
