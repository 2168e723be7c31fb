package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

// deskFill makes a store for the desk benchmarks: --cases customers who each
// wrote one email (so that many open cases), and one customer with --hot
// interactions on one case, for the case page.
func deskFill(args []string) error {
	fs := flag.NewFlagSet("deskfill", flag.ExitOnError)
	n := fs.Int("cases", 100000, "open cases to create (one customer each)")
	hot := fs.Int("hot", 1000, "interactions of the customer whose case page is measured")
	s, err := openStore(fs, args)
	if err != nil {
		return err
	}
	defer s.Close()
	ctx := context.Background()
	kind, name := contactpoint.Kind("email"), "support@tpbench.example"
	email, err := s.ContactPoints.Create(ctx, contactpoint.Spec{Kind: &kind, Name: &name})
	if err != nil {
		return err
	}
	wkind, wname := contactpoint.Kind("website"), "tpbench web shop"
	web, err := s.ContactPoints.Create(ctx, contactpoint.Spec{Kind: &wkind, Name: &wname})
	if err != nil {
		return err
	}
	start := time.Now()
	base := time.Now().Add(-24 * time.Hour)
	for done := 0; done < *n; {
		batch := min(1000, *n-done)
		ins := make([]interaction.Input, batch)
		for i := range ins {
			k := done + i
			ins[i] = interaction.Input{
				Identifiers:    []customer.RawIdentifier{{Kind: "email", Value: fmt.Sprintf("c%07d@tpbench.example", k)}},
				Traits:         map[string]any{"name": fmt.Sprintf("Customer %d", k)},
				ContactPointID: email.ID, Kind: "email", Direction: interaction.Inbound,
				OccurredAt: base.Add(time.Duration(k) * time.Millisecond), Subject: fmt.Sprintf("Question %d about my order", k),
				Content: "Hello, where is my order? It has not arrived yet.", Source: "tpbench", ExternalID: fmt.Sprintf("deskfill-%d", k),
			}
		}
		if _, err := s.Interactions.Record(ctx, ins); err != nil {
			return fmt.Errorf("after %d cases: %w", done, err)
		}
		done += batch
		if done%20000 == 0 || done == *n {
			fmt.Printf("%8d cases  %6.0f/s\n", done, float64(done)/time.Since(start).Seconds())
		}
	}
	var caseID, hotCustomer id.ID
	for done := 0; done < *hot; {
		batch := min(500, *hot-done)
		ins := make([]interaction.Input, batch)
		for i := range ins {
			k := done + i
			in := interaction.Input{
				Identifiers: []customer.RawIdentifier{{Kind: "email", Value: "hot@tpbench.example"}},
				Traits:      map[string]any{"name": "Hot Customer"},
				OccurredAt:  base.Add(time.Duration(k) * time.Second), Source: "tpbench", ExternalID: fmt.Sprintf("deskhot-%d", k),
			}
			if k%2 == 0 {
				in.ContactPointID, in.Kind, in.Direction = email.ID, "email", interaction.Inbound
				in.Subject, in.Content = "Still waiting", fmt.Sprintf("<p>Message %d: <b>where</b> is my delivery?</p>", k)
			} else {
				in.ContactPointID, in.Kind, in.Direction = web.ID, "page_view", interaction.Passive
				in.Properties = []byte(`{"path":"/checkout"}`)
			}
			ins[i] = in
		}
		res, err := s.Interactions.Record(ctx, ins)
		if err != nil {
			return err
		}
		for _, r := range res {
			hotCustomer = r.CustomerID
			if r.CaseID != nil {
				caseID = *r.CaseID
			}
		}
		done += batch
	}
	const password = "tpbench-password"
	if _, err := s.Access.CreateUser(ctx, "bench@tpbench.example", "Bench Agent", access.Agent, password, "tpbench"); err != nil {
		return err
	}
	token, _, err := s.Access.CreateToken(ctx, "tpbench", access.Integration, 0, "tpbench")
	if err != nil {
		return err
	}
	fmt.Printf("store: %d open cases; hot case %s (customer %s, %d interactions); sign in bench@tpbench.example / %s; token %s; email contact point %s\n",
		*n+1, caseID, hotCustomer, *hot, password, token, email.ID)
	return nil
}

// signIn returns a client holding a desk session.
func signIn(base, email, password string, conns int) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: conns},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var resp *http.Response
	// Sign-ins are rate-limited per address: wait for the limit as a person
	// would, so that a run can sign in many agents.
	for try := 0; ; try++ {
		req, _ := http.NewRequest("POST", base+"/signin", strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		var err error
		if resp, err = client.Do(req); err != nil {
			return nil, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || try == 60 {
			break
		}
		time.Sleep(time.Second)
	}
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sign-in answered %s", resp.Status)
	}
	return client, nil
}

var nextLink = regexp.MustCompile(`href="(/\?[^"]*cursor=[^"]+)"`)

// desk measures the case page and the inbox as a signed-in agent sees them.
func desk(args []string) error {
	fs := flag.NewFlagSet("desk", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "server URL")
	email := fs.String("email", "bench@tpbench.example", "agent email")
	password := fs.String("password", "tpbench-password", "agent password")
	caseID := fs.String("case", "", "case whose page is measured")
	conns := fs.Int("conns", 4, "concurrent connections")
	requests := fs.Int("requests", 5000, "requests per page kind")
	pages := fs.Int("pages", 20, "inbox pages followed through the cursor")
	fs.Parse(args)
	if *caseID == "" {
		return errors.New("--case is required")
	}
	client, err := signIn(*base, *email, *password, *conns)
	if err != nil {
		return err
	}
	// Collect inbox page URLs by following "Next page".
	urls := []string{"/"}
	for len(urls) < *pages {
		body, err := get(client, *base+urls[len(urls)-1])
		if err != nil {
			return err
		}
		m := nextLink.FindStringSubmatch(body)
		if m == nil {
			break
		}
		urls = append(urls, strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	fmt.Printf("inbox: followed %d pages\n", len(urls))
	for _, target := range []struct {
		label string
		paths []string
	}{{"case page", []string{"/cases/" + *caseID}}, {"inbox pages", urls}} {
		lat, failed, size, el := hammer(client, *base, target.paths, *conns, *requests)
		fmt.Printf("%s: %d requests, %d conns: %.0f requests/s, %d failed, %d bytes/response; latency %s\n",
			target.label, len(lat), *conns, float64(len(lat))/el.Seconds(), failed, size, lat)
	}
	return nil
}

func get(client *http.Client, u string) (string, error) {
	resp, err := client.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return string(b), err
}

func hammer(client *http.Client, base string, paths []string, conns, requests int) (latencies, int64, int64, time.Duration) {
	var left, failed, bytes atomic.Int64
	left.Store(int64(requests))
	var mu sync.Mutex
	var lat latencies
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local latencies
			for n := left.Add(-1); n >= 0; n = left.Add(-1) {
				t0 := time.Now()
				resp, err := client.Get(base + paths[int(n)%len(paths)])
				if err != nil {
					failed.Add(1)
					continue
				}
				k, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					continue
				}
				bytes.Add(k)
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return lat, failed.Load(), bytes.Load() / int64(max(1, len(lat))), time.Since(start)
}

// sse opens many live connections, then records a contact that every one
// of them is told about, and measures how long until the last one hears it.
func sse(args []string) error {
	fs := flag.NewFlagSet("sse", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "server URL")
	email := fs.String("email", "bench@tpbench.example", "agent email")
	password := fs.String("password", "tpbench-password", "agent password")
	token := fs.String("token", "", "API token that may record interactions")
	cp := fs.String("contact-point", "", "email contact point id for the recorded contact")
	n := fs.Int("conns", 5000, "live connections")
	rounds := fs.Int("rounds", 5, "events to time")
	fs.Parse(args)
	if *token == "" || *cp == "" {
		return errors.New("--token and --contact-point are required")
	}
	client, err := signIn(*base, *email, *password, 1)
	if err != nil {
		return err
	}
	u, _ := url.Parse(*base)
	cookies := client.Jar.Cookies(u)
	streamClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *n, MaxConnsPerHost: 0}}
	var connected sync.WaitGroup
	connected.Add(*n)
	got := make([]atomic.Int64, *n) // events seen per connection
	arrived := make(chan time.Time, *n**rounds)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var failed atomic.Int64
	for i := 0; i < *n; i++ {
		go func(i int) {
			req, _ := http.NewRequestWithContext(ctx, "GET", *base+"/events?topics=inbox", nil)
			for _, c := range cookies {
				req.AddCookie(c)
			}
			req.Header.Set("Accept", "text/event-stream")
			resp, err := streamClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				failed.Add(1)
				connected.Done()
				return
			}
			defer resp.Body.Close()
			r := bufio.NewReader(resp.Body)
			first := true
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					if first {
						connected.Done()
					}
					return
				}
				if first && strings.HasPrefix(line, ": connected") {
					first = false
					connected.Done()
				}
				if strings.HasPrefix(line, "event: interaction.created") {
					got[i].Add(1)
					arrived <- time.Now()
				}
			}
		}(i)
	}
	connected.Wait()
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("%d of %d live connections failed", f, *n)
	}
	fmt.Printf("%d live connections open; server RSS %s\n", *n, serverRSS(*base))
	for rnd := 0; rnd < *rounds; rnd++ {
		body := fmt.Sprintf(`{"identifiers":[{"kind":"email","value":"sse-%d@tpbench.example"}],"contact_point_id":"%s","kind":"email","direction":"inbound","subject":"Live %d","source":"tpbench-sse","external_id":"sse-%d-%d"}`,
			rnd, *cp, rnd, time.Now().UnixNano(), rnd)
		req, _ := http.NewRequest("POST", *base+"/api/v1/interactions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+*token)
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 && resp.StatusCode != 200 {
			return fmt.Errorf("recording the contact: %s", resp.Status)
		}
		var last time.Time
		deadline := time.After(10 * time.Second)
		for k := 0; k < *n; k++ {
			select {
			case t := <-arrived:
				if t.After(last) {
					last = t
				}
			case <-deadline:
				return fmt.Errorf("round %d: only %d of %d connections heard the event within 10 s", rnd, k, *n)
			}
		}
		fmt.Printf("round %d: all %d connections had the event %s after the request was sent\n", rnd, *n, round(last.Sub(t0)))
		time.Sleep(500 * time.Millisecond)
	}
	fmt.Printf("server RSS with %d live connections: %s\n", *n, serverRSS(*base))
	return nil
}

// serverRSS reads the server's resident memory from its /metrics.
func serverRSS(base string) string {
	body, err := get(http.DefaultClient, base+"/metrics")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "process_resident_memory_bytes ") {
			v, err := strconv.ParseFloat(strings.TrimPrefix(line, "process_resident_memory_bytes "), 64)
			if err == nil {
				return fmt.Sprintf("%.1f MB", v/1e6)
			}
		}
	}
	return "unknown"
}
