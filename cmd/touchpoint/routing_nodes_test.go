package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// Three touchpoint processes share one PostgreSQL store. Contacts arrive at
// every node and agents work them through every node; the node that runs
// the router is killed with SIGKILL half-way. Afterwards the store's routing
// event log must show that no item was ever offered to two agents at once
// and that no agent held more work than their capacity, and every item
// whose creation was acknowledged must have been served.
func TestRoutingOnThreeNodesSurvivesSIGKILL(t *testing.T) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skip(storetest.EnvPostgres + " is not set")
	}
	url := storetest.PostgresURL(t)
	storeArgs := []string{"--db", url}
	token := strings.TrimSpace(cli(t, append([]string{"token", "create", "--role", "admin", "--name", "nodes-test"}, storeArgs...)...))
	bearer := "Bearer " + token
	first := start(t, storeArgs) // first up, so it takes the router
	nodes := []*node{first, start(t, storeArgs), start(t, storeArgs)}
	var killed atomic.Bool
	live := func() *node {
		if killed.Load() {
			return nodes[1+rand.IntN(2)]
		}
		return nodes[rand.IntN(3)]
	}

	st, q := call(t, "POST", "http://"+nodes[1].addr+"/api/v1/routing/queues", bearer,
		`{"name":"Chat","channels":["chat"]}`)
	if st != 201 {
		t.Fatalf("create queue: %d %v", st, q)
	}
	const agents, capacity = 6, 2
	agentIDs := make([]string, agents)
	for i := range agents {
		n := nodes[i%3]
		st, u := call(t, "POST", "http://"+n.addr+"/api/v1/users", bearer,
			fmt.Sprintf(`{"email":"agent%d@example.com","name":"Agent %d","role":"agent","password":"correct horse battery"}`, i, i))
		if st != 201 {
			t.Fatalf("create user: %d %v", st, u)
		}
		agentIDs[i] = u["id"].(string)
		st, a := call(t, "PUT", "http://"+n.addr+"/api/v1/routing/agents/"+agentIDs[i], bearer,
			fmt.Sprintf(`{"capacity":{"chat":%d},"queues":[%q]}`, capacity, q["id"]))
		if st != 200 {
			t.Fatalf("agent profile on node %d: %d %v", i%3, st, a)
		}
		st, a = call(t, "PUT", "http://"+nodes[(i+1)%3].addr+"/api/v1/routing/agents/"+agentIDs[i]+"/presence", bearer,
			`{"presence":"available"}`)
		if st != 200 {
			t.Fatalf("presence: %d %v", st, a)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup

	// Contacts arrive at every node, about 60 a second.
	const items = 240
	for p := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range items / 3 {
				if ctx.Err() != nil {
					return
				}
				n := live()
				code, v, err := api(ctx, "POST", n, bearer, "/api/v1/routing/work-items",
					fmt.Sprintf(`{"queue_id":%q,"channel":"chat"}`, q["id"]))
				if err == nil && code == 201 {
					mu.Lock()
					acked[v["id"].(string)] = true
					mu.Unlock()
				} else if n != first {
					// Only the killed node may fail a request.
					t.Errorf("producer %d item %d on a live node: %d %v %v", p, i, code, v, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	// Agents accept their offers and finish each contact 300 ms later,
	// each time through any live node.
	working := make(chan struct{})
	for _, agent := range agentIDs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"agent_id":%q}`, agent)
			// Work is held a while, so that agents fill their capacity.
			since := map[string]time.Time{}
			for {
				select {
				case <-working:
					return
				case <-time.After(20 * time.Millisecond):
				}
				_, list, err := api(ctx, "GET", live(), bearer, "/api/v1/routing/work-items?agent_id="+agent, "")
				if err != nil || list["items"] == nil {
					continue
				}
				for _, raw := range list["items"].([]any) {
					it := raw.(map[string]any)
					path := "/api/v1/routing/work-items/" + it["id"].(string)
					switch it["state"] {
					case "offered":
						api(ctx, "POST", live(), bearer, path+"/accept", body)
					case "assigned":
						if since[path].IsZero() {
							since[path] = time.Now()
						} else if time.Since(since[path]) > 300*time.Millisecond {
							api(ctx, "POST", live(), bearer, path+"/complete", body)
						}
					}
				}
			}
		}()
	}

	leaderEpoch := func() int64 {
		db := openStore(t, url)
		defer db.Close()
		var e int64
		if err := db.QueryRow(context.Background(), "SELECT epoch FROM routing_leader WHERE id = 1").Scan(&e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	time.Sleep(1500 * time.Millisecond)
	before := leaderEpoch()
	first.cmd.Process.Signal(syscall.SIGKILL)
	first.cmd.Wait()
	killed.Store(true)

	// Wait until every acknowledged item was served.
	db := openStore(t, url)
	defer db.Close()
	states := func() map[string]string {
		rows, err := db.Query(context.Background(), "SELECT id, state FROM work_items")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string]string{}
		for rows.Next() {
			var id int64
			var s string
			rows.Scan(&id, &s)
			m[fmt.Sprint(id)] = s
		}
		return m
	}
	var unserved []string
	for {
		time.Sleep(200 * time.Millisecond)
		state := states()
		mu.Lock()
		unserved = unserved[:0]
		for id := range acked {
			if state[id] != "completed" {
				unserved = append(unserved, id+" "+state[id])
			}
		}
		n := len(acked)
		mu.Unlock()
		if len(unserved) == 0 && n >= items*2/3 && ctx.Err() == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d of %d acknowledged items not served before the deadline: %v\n%s\n%s", len(unserved), n, unserved, nodes[1].stderr, nodes[2].stderr)
		}
	}
	close(working)
	cancel()
	wg.Wait()
	if after := leaderEpoch(); after <= before {
		t.Fatalf("the router did not move to another node after SIGKILL (epoch %d → %d)", before, after)
	}

	// Replay the event log: one offer at a time per item, and no agent over
	// capacity.
	rows, err := db.Query(context.Background(), "SELECT seq, type, COALESCE(item_id, 0), COALESCE(agent_id, 0) FROM routing_events ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	offeredTo := map[int64]int64{}
	holder := map[int64]int64{}
	held := map[int64]int{}
	var lastSeq int64
	events := 0
	for rows.Next() {
		var seq, item, agent int64
		var typ string
		if err := rows.Scan(&seq, &typ, &item, &agent); err != nil {
			t.Fatal(err)
		}
		events++
		if seq == lastSeq {
			t.Errorf("event seq %d twice: two routers wrote", seq)
		}
		lastSeq = seq
		switch typ {
		case "offer_made":
			if a, ok := offeredTo[item]; ok {
				t.Errorf("seq %d: item %d offered to %d while its offer to %d is open", seq, item, agent, a)
			}
			offeredTo[item] = agent
		case "offer_accepted", "offer_declined", "offer_timed_out", "offer_revoked":
			delete(offeredTo, item)
		case "item_assigned":
			if prev, ok := holder[item]; ok {
				held[prev]--
			}
			holder[item] = agent
			held[agent]++
			if held[agent] > capacity {
				t.Errorf("seq %d: agent %d holds %d items, capacity %d", seq, agent, held[agent], capacity)
			}
		case "item_completed", "item_abandoned", "item_requeued":
			delete(offeredTo, item)
			if a, ok := holder[item]; ok {
				held[a]--
				delete(holder, item)
			}
		}
	}
	rows.Close()
	t.Logf("%d items acknowledged, %d routing events checked; router epoch %d → %d", len(acked), events, before, leaderEpoch())
}

func openStore(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// api is call for goroutines: errors are returned, not fatal.
func api(ctx context.Context, method string, n *node, auth, path, body string) (int, map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+n.addr+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	json.Unmarshal(b, &v)
	return resp.StatusCode, v, nil
}
