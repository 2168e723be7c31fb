package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type ingestOpts struct {
	url, writeKey string
	conns, batch  int
	duration      time.Duration
	visitors      int
	newShare      float64
}

func ingest(args []string) error {
	var o ingestOpts
	fs := flag.NewFlagSet("ingest", flag.ExitOnError)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "server URL")
	fs.StringVar(&o.writeKey, "write-key", "", "write key of a website contact point")
	fs.IntVar(&o.conns, "conns", 4, "concurrent connections")
	fs.IntVar(&o.batch, "batch", 100, "events per /v1/batch request")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long to send")
	fs.IntVar(&o.visitors, "visitors", 100000, "pool of returning visitors (anonymous ids, some signed in)")
	fs.Float64Var(&o.newShare, "new", 0.2, "share of events from first-time visitors")
	compare := fs.Bool("compare-null", false, "first measure a null server (tpbench nullserver) on the same requests and print the ratio")
	fs.Parse(args)
	if o.writeKey == "" {
		return errors.New("--write-key is required")
	}
	var null float64
	if *compare {
		addr, stop, err := startNull()
		if err != nil {
			return err
		}
		no := o
		no.url = "http://" + addr
		r, err := runIngest(no, "null")
		stop()
		if err != nil {
			return err
		}
		null = r
	}
	r, err := runIngest(o, "touchpoint")
	if err != nil {
		return err
	}
	if *compare {
		fmt.Printf("ratio touchpoint/null: %.2f\n", r/null)
	}
	return nil
}

// startNull runs `tpbench nullserver` as a separate process, as the server would be.
func startNull() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	self, _ := os.Executable()
	cmd := exec.Command(self, "nullserver", "--addr", addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return addr, func() { cmd.Process.Kill(); cmd.Wait() }, nil
}

// runIngest sends batches for the duration and returns events per second.
func runIngest(o ingestOpts, label string) (float64, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.conns, DisableCompression: true}}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(o.writeKey+":"))
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var seq atomic.Int64
	var events, failures atomic.Int64
	var mu sync.Mutex
	var lat latencies
	var firstErr error
	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < o.conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))
			var body bytes.Buffer
			var local latencies
			for ctx.Err() == nil {
				body.Reset()
				writeBatch(&body, rng, o, run, &seq)
				req, _ := http.NewRequest("POST", o.url+"/v1/batch", bytes.NewReader(body.Bytes()))
				req.Header.Set("Authorization", auth)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failures.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failures.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("status %d: %s", resp.StatusCode, b)
					}
					mu.Unlock()
					continue
				}
				local = append(local, time.Since(t0))
				events.Add(int64(o.batch))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	rate := float64(events.Load()) / secs
	fmt.Printf("%-10s %d conns × %d events/request for %s: %.0f events/s (%d requests, %d failed); request latency %s\n",
		label, o.conns, o.batch, o.duration, rate, len(lat), failures.Load(), lat)
	if firstErr != nil {
		fmt.Printf("%-10s first failure: %v\n", label, firstErr)
	}
	if events.Load() == 0 {
		return 0, fmt.Errorf("%s: no request succeeded", label)
	}
	return rate, nil
}

var pages = []string{"/", "/product/wm-7-washing-machine", "/product/tv-55-oled", "/cart", "/checkout", "/help/delivery", "/stores/main-street"}
var campaigns = []string{"", "", "", `,"campaign":{"name":"spring_print","source":"print","medium":"flyer"}`, `,"campaign":{"name":"search_brand","source":"search","medium":"cpc"}`}

// writeBatch appends one /v1/batch body in the shape analytics.js sends:
// page and track calls of returning and new visitors, some signed in. It
// appends to the buffer without building strings: the load generator runs
// on the server's machine, and what it spends is taken from the server.
func writeBatch(b *bytes.Buffer, rng *rand.Rand, o ingestOpts, run string, seq *atomic.Int64) {
	var nowBuf [40]byte
	now := time.Now().UTC().AppendFormat(nowBuf[:0], time.RFC3339Nano)
	var num [20]byte
	var visitor []byte
	b.WriteString(`{"batch":[`)
	for i := 0; i < o.batch; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		n := seq.Add(1)
		if rng.Float64() < o.newShare {
			visitor = append(append(append(visitor[:0], "new-"...), run...), '-')
			visitor = strconv.AppendInt(visitor, n, 36)
		} else {
			visitor = strconv.AppendInt(append(visitor[:0], "v-"...), int64(rng.IntN(o.visitors)), 10)
		}
		page := pages[rng.IntN(len(pages))]
		track := rng.IntN(4) == 0
		if track {
			b.WriteString(`{"type":"track","messageId":"`)
		} else {
			b.WriteString(`{"type":"page","messageId":"`)
		}
		b.WriteString(run)
		b.WriteByte('-')
		b.Write(strconv.AppendInt(num[:0], n, 36))
		b.WriteString(`","anonymousId":"`)
		b.Write(visitor)
		b.WriteByte('"')
		if rng.IntN(5) == 0 {
			b.WriteString(`,"userId":"user-`)
			b.Write(visitor)
			b.WriteByte('"')
		}
		if track {
			b.WriteString(`,"event":"Product Viewed","properties":{"product_id":"wm-7","price":499.0,"currency":"USD"}`)
		} else {
			b.WriteString(`,"name":"`)
			b.WriteString(page)
			b.WriteString(`","properties":{"path":"`)
			b.WriteString(page)
			b.WriteString(`","url":"https://shop.voltmart.example`)
			b.WriteString(page)
			b.WriteString(`","title":"Voltmart","referrer":"https://search.example/"}`)
		}
		b.WriteString(`,"context":{"ip":"203.0.113.`)
		b.Write(strconv.AppendInt(num[:0], int64(rng.IntN(250)), 10))
		b.WriteString(`","userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36","library":{"name":"analytics.js","version":"4.1.0"}`)
		b.WriteString(campaigns[rng.IntN(len(campaigns))])
		b.WriteString(`},"originalTimestamp":"`)
		b.Write(now)
		b.WriteString(`","sentAt":"`)
		b.Write(now)
		b.WriteString(`"}`)
	}
	b.WriteString(`],"sentAt":"`)
	b.Write(now)
	b.WriteString(`"}`)
}
