package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// timeline measures GET /api/v1/customers/{id}/timeline latency.
func timeline(args []string) error {
	fs := flag.NewFlagSet("timeline", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "server URL")
	token := fs.String("token", "", "API token")
	customer := fs.String("customer", "", "customer id")
	conns := fs.Int("conns", 4, "concurrent connections")
	requests := fs.Int("requests", 20000, "requests in all")
	limit := fs.Int("limit", 50, "page size")
	fs.Parse(args)
	if *token == "" || *customer == "" {
		return errors.New("--token and --customer are required")
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conns}}
	target := fmt.Sprintf("%s/api/v1/customers/%s/timeline?limit=%d", *url, *customer, *limit)
	var left atomic.Int64
	left.Store(int64(*requests))
	var mu sync.Mutex
	var lat latencies
	var failed atomic.Int64
	var bytesRead atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < *conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local latencies
			for left.Add(-1) >= 0 {
				req, _ := http.NewRequest("GET", target, nil)
				req.Header.Set("Authorization", "Bearer "+*token)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					continue
				}
				bytesRead.Add(n)
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	fmt.Printf("timeline %d requests, %d conns, %d per page: %.0f requests/s, %d failed, %d bytes/response; latency %s\n",
		len(lat), *conns, *limit, float64(len(lat))/el.Seconds(), failed.Load(), bytesRead.Load()/int64(max(1, len(lat))), lat)
	return nil
}
