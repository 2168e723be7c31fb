package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/channel/twilio"
)

// webhookBench posts signed Twilio inbound messages to one SMS contact
// point's webhook. The hub answers only after the message is committed on
// the timeline (and its case), so completed requests a second is the
// request-to-timeline rate.
func webhookBench(args []string) error {
	fs := flag.NewFlagSet("webhook", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "server URL")
	public := fs.String("public-url", "", "the URL the server checks signatures against (its --public-url or the contact point's public_url); --url when empty")
	cp := fs.String("contact-point", "", "id of an sms contact point")
	token := fs.String("auth-token", "", "the contact point's auth_token secret")
	account := fs.String("account-sid", "AC00000000000000000000000000000000", "AccountSid to send (the contact point's account_sid setting)")
	conns := fs.Int("conns", 16, "concurrent connections")
	duration := fs.Duration("duration", 20*time.Second, "how long to send")
	senders := fs.Int("senders", 20000, "distinct phone numbers the messages come from")
	fs.Parse(args)
	if *cp == "" || *token == "" {
		return errors.New("--contact-point and --auth-token are required")
	}
	path := "/hooks/twilio/" + *cp
	signed := strings.TrimRight(*base, "/")
	if *public != "" {
		signed = strings.TrimRight(*public, "/")
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conns}, Timeout: 30 * time.Second}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var seq, ok, failed atomic.Int64
	var mu sync.Mutex
	var lat latencies
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine latencies
			for ctx.Err() == nil {
				n := seq.Add(1)
				form := url.Values{
					"MessageSid": {"SM" + run + strconv.FormatInt(n, 10)}, "AccountSid": {*account},
					"From": {fmt.Sprintf("+1555%07d", n%int64(*senders))}, "To": {"+15550100"},
					"Body": {"Hello, where is my order " + strconv.FormatInt(n, 10) + "?"}, "NumMedia": {"0"},
				}
				req, _ := http.NewRequest("POST", strings.TrimRight(*base, "/")+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set(twilio.SignatureHeader, twilio.Signature(*token, signed+path, form))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					if failed.Add(1) == 1 {
						fmt.Println("first failure: HTTP", resp.StatusCode)
					}
					continue
				}
				ok.Add(1)
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	fmt.Printf("webhook: %d messages stored in %s over %d connections: %.0f messages/s; %d failed\n",
		ok.Load(), el.Round(time.Millisecond), *conns, float64(ok.Load())/el.Seconds(), failed.Load())
	fmt.Printf("request to timeline latency: %s\n", lat)
	return nil
}
