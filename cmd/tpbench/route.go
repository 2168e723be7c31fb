package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// routeBench measures routing end to end: a work item created over HTTP
// until its offer reaches the agent's live stream. Agents are real desk
// users with a live stream each; they accept and complete every offer
// through the API, so they stay free.
func routeBench(args []string) error {
	fs := flag.NewFlagSet("route", flag.ExitOnError)
	urls := fs.String("url", "http://127.0.0.1:8080", "server URL; several, comma-separated, for nodes sharing one PostgreSQL store (items and agents are spread over them)")
	token := fs.String("token", "", "admin API token")
	agents := fs.Int("agents", 20, "agents, each with a live stream")
	rate := fs.Float64("rate", 200, "work items created a second")
	duration := fs.Duration("duration", 20*time.Second, "how long to create items")
	fs.Parse(args)
	if *token == "" {
		return errors.New("--token is required")
	}
	bases := strings.Split(*urls, ",")
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	apis := make([]*apiClient, len(bases))
	for i, b := range bases {
		apis[i] = &apiClient{base: b, token: *token, hc: hc}
	}
	api := apis[0]
	var turn atomic.Int64
	next := func() *apiClient { return apis[int(turn.Add(1))%len(apis)] }
	run := fmt.Sprint(time.Now().Unix())
	var q struct {
		ID string `json:"id"`
	}
	if err := api.do("POST", "/api/v1/routing/queues", map[string]any{"name": "tpbench " + run, "channels": []string{"chat"},
		"after_contact_work": -1}, &q); err != nil {
		return fmt.Errorf("creating the queue: %w", err)
	}
	offers := make(chan offerSeen, 4096)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ready sync.WaitGroup
	var reconnects atomic.Int64
	agentIDs := make([]string, *agents)
	for i := range *agents {
		email, pw := fmt.Sprintf("route-%s-%d@tpbench.example", run, i), "tpbench-password"
		var u struct {
			ID string `json:"id"`
		}
		if err := api.do("POST", "/api/v1/users", map[string]any{"email": email, "name": fmt.Sprintf("Agent %d", i), "role": "agent", "password": pw}, &u); err != nil {
			return fmt.Errorf("creating agent %d: %w", i, err)
		}
		agentIDs[i] = u.ID
		if err := api.do("PUT", "/api/v1/routing/agents/"+u.ID, map[string]any{"capacity": map[string]int{"chat": 1000},
			"queues": []string{q.ID}}, nil); err != nil {
			return fmt.Errorf("agent profile: %w", err)
		}
		base := bases[i%len(bases)]
		client, err := signIn(base, email, pw, 1)
		if err != nil {
			return err
		}
		ready.Add(1)
		go agentStream(ctx, base, client, u.ID, offers, &ready, api, &reconnects)
	}
	ready.Wait()
	for _, uid := range agentIDs {
		if err := api.do("PUT", "/api/v1/routing/agents/"+uid+"/presence", map[string]any{"presence": "available"}, nil); err != nil {
			return fmt.Errorf("going available: %w", err)
		}
	}
	fmt.Printf("%d agents available with live streams; creating %.0f items/s for %v\n", *agents, *rate, *duration)

	var mu sync.Mutex
	sent := map[string]time.Time{}
	seen := map[string]time.Time{}
	var lat latencies
	record := func(item string, t0, t1 time.Time) { lat = append(lat, t1.Sub(t0)) }
	var failed, handled atomic.Int64
	// The agents: note the offer, then accept and complete it.
	var workers sync.WaitGroup
	for range 4 * *agents {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for o := range offers {
				mu.Lock()
				if t0, ok := sent[o.item]; ok {
					record(o.item, t0, o.at)
					delete(sent, o.item)
				} else {
					seen[o.item] = o.at
				}
				mu.Unlock()
				if err := next().do("POST", "/api/v1/routing/work-items/"+o.item+"/accept", map[string]any{"agent_id": o.agent}, nil); err != nil {
					failed.Add(1)
					continue
				}
				if err := next().do("POST", "/api/v1/routing/work-items/"+o.item+"/complete", map[string]any{"agent_id": o.agent}, nil); err != nil {
					failed.Add(1)
					continue
				}
				handled.Add(1)
			}
		}()
	}
	// The arrivals.
	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	end := time.After(*duration)
	var producers sync.WaitGroup
	created := 0
loop:
	for {
		select {
		case <-end:
			break loop
		case <-tick.C:
			created++
			producers.Add(1)
			go func() {
				defer producers.Done()
				t0 := time.Now()
				var it struct {
					ID string `json:"id"`
				}
				if err := next().do("POST", "/api/v1/routing/work-items", map[string]any{"queue_id": q.ID, "channel": "chat"}, &it); err != nil {
					failed.Add(1)
					return
				}
				mu.Lock()
				if t1, ok := seen[it.ID]; ok {
					record(it.ID, t0, t1)
					delete(seen, it.ID)
				} else {
					sent[it.ID] = t0
				}
				mu.Unlock()
			}()
		}
	}
	tick.Stop()
	producers.Wait()
	time.Sleep(2 * time.Second) // the last offers
	cancel()
	mu.Lock()
	n, pending := len(lat), len(sent)
	summary := lat.String()
	mu.Unlock()
	fmt.Printf("route: %d items created, %d offers timed, %d without an offer yet, %d handled, %d failed requests, %d streams reopened; created → offer on the agent's stream: %s\n",
		created, n, pending, handled.Load(), failed.Load(), reconnects.Load(), summary)
	return nil
}

type offerSeen struct {
	item, agent string
	at          time.Time
}

// agentStream reads one agent's live stream and passes on their offers. A
// stream the server closes (a lagging reader is cut off, as a desk page
// would be and then reload) is opened again, and the agent's open offers
// are read over the API then, as the reloaded page would show them.
func agentStream(ctx context.Context, base string, client *http.Client, agent string, offers chan<- offerSeen, ready *sync.WaitGroup, api *apiClient, reconnects *atomic.Int64) {
	first := true
	for ctx.Err() == nil {
		connected := readStream(ctx, base, client, agent, offers, func() {
			if first {
				first = false
				ready.Done()
				return
			}
			// Offers made while the stream was down.
			var list struct {
				Items []struct {
					ID    string `json:"id"`
					State string `json:"state"`
				} `json:"items"`
			}
			if api.do("GET", "/api/v1/routing/work-items?state=offered&agent_id="+agent, nil, &list) == nil {
				for _, it := range list.Items {
					select {
					case offers <- offerSeen{it.ID, agent, time.Now()}:
					case <-ctx.Done():
						return
					}
				}
			}
		})
		if first && !connected {
			ready.Done()
			return
		}
		if ctx.Err() == nil {
			reconnects.Add(1)
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// readStream reads the stream until it ends; connected is called once it
// is open. It reports whether it got connected.
func readStream(ctx context.Context, base string, client *http.Client, agent string, offers chan<- offerSeen, connected func()) bool {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events", nil)
	u, _ := url.Parse(base)
	for _, c := range client.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := (&http.Client{}).Do(req)
	if err != nil || resp.StatusCode != 200 {
		return false
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	open, offer := false, false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return open
		}
		now := time.Now()
		switch {
		case !open && strings.HasPrefix(line, ": connected"):
			open = true
			connected()
		case strings.HasPrefix(line, "event: "):
			offer = strings.TrimSpace(line) == "event: routing.offer_made"
		case offer && strings.HasPrefix(line, "data: "):
			var ev struct {
				Data struct {
					ItemID  string `json:"item_id"`
					AgentID string `json:"agent_id"`
				} `json:"data"`
			}
			if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev) == nil && ev.Data.AgentID == agent {
				select {
				case offers <- offerSeen{ev.Data.ItemID, agent, now}:
				case <-ctx.Done():
					return open
				}
			}
			offer = false
		}
	}
}

// apiClient calls the REST API with a bearer token.
type apiClient struct {
	base, token string
	hc          *http.Client
}

func (c *apiClient) do(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
