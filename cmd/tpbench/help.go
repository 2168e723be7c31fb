package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"sync"
	"time"
)

// helpBench measures the public help center over HTTP: article pages (each
// records a page view and its citations) and searches, as visitors with a
// cookie (so views go on one anonymous visitor per connection).
func helpBench(args []string) error {
	fs := flag.NewFlagSet("help", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "server URL")
	conns := fs.Int("conns", 4, "concurrent visitors")
	requests := fs.Int("requests", 4000, "requests of each kind")
	slugs := fs.String("slugs", "shipping-charges,delivery-times,returns,store-hours,warranty-repairs", "article slugs, comma-separated")
	fs.Parse(args)
	var articles []string
	for _, s := range splitComma(*slugs) {
		articles = append(articles, "/help/articles/"+url.PathEscape(s))
	}
	var searches []string
	for _, q := range []string{"shipping", "delivery time", "return", "store hours", "refund", "deliv", "warranty repair", "kiosk", "zzzz"} {
		searches = append(searches, "/help/search?q="+url.QueryEscape(q))
	}
	for _, run := range []struct {
		name  string
		paths []string
	}{{"article", articles}, {"search", searches}} {
		lat, err := helpRun(*base, run.paths, *conns, *requests)
		if err != nil {
			return err
		}
		fmt.Printf("help %-7s requests=%d conns=%d p50=%v p99=%v max=%v\n", run.name, len(lat), *conns,
			round(lat.pct(.5)), round(lat.pct(.99)), round(lat.pct(1)))
	}
	return nil
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func helpRun(base string, paths []string, conns, n int) (latencies, error) {
	ctx := context.Background()
	var mu sync.Mutex
	var all latencies
	var firstErr error
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
			var mine latencies
			for i := c; i < n; i += conns {
				req, _ := http.NewRequestWithContext(ctx, "GET", base+paths[i%len(paths)], nil)
				req.Header.Set("User-Agent", "tpbench-help/1 (Mozilla compatible)")
				req.Header.Set("Accept-Language", "en-GB,en;q=0.8")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("GET %s: status %d", req.URL.Path, resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(all)
	return all, firstErr
}
