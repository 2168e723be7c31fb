package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// startup starts the touchpoint binary on a fresh data directory, times
// start → /readyz answering 200, then lets it idle and reads its RSS.
func startup(args []string) error {
	fs := flag.NewFlagSet("startup", flag.ExitOnError)
	bin := fs.String("bin", "./touchpoint", "touchpoint binary")
	demo := fs.Bool("demo", false, "start with --demo")
	idle := fs.Duration("idle", 5*time.Second, "idle time before reading RSS")
	runs := fs.Int("runs", 5, "starts to time")
	fs.Parse(args)
	for i := 0; i < *runs; i++ {
		dir, err := os.MkdirTemp("", "tpbench-startup-")
		if err != nil {
			return err
		}
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		cargs := []string{"serve", "--data", dir, "--addr", addr, "--log-level", "warn"}
		if *demo {
			cargs = append(cargs, "--demo")
		}
		cmd := exec.Command(*bin, cargs...)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		ready := time.Duration(0)
		for time.Since(start) < 60*time.Second {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					ready = time.Since(start)
					break
				}
			}
			time.Sleep(time.Millisecond)
		}
		if ready == 0 {
			cmd.Process.Kill()
			return errors.New("server did not become ready in 60 s")
		}
		line := fmt.Sprintf("start %d: ready after %s", i+1, ready.Round(time.Millisecond))
		if i == *runs-1 {
			time.Sleep(*idle)
			rss, err := vmRSS(cmd.Process.Pid)
			if err != nil {
				return err
			}
			line += fmt.Sprintf("; idle RSS after %s: %s", *idle, rss)
		}
		fmt.Println(line)
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		os.RemoveAll(dir)
	}
	return nil
}

func vmRSS(pid int) (string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", errors.New("no VmRSS")
}
