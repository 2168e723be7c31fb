package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// maxAnswer is how much of a receiver's answer is read: enough for an error
// message in the delivery log, and a hostile receiver cannot make us read more.
const maxAnswer = 4 << 10

// errPrivate is the SSRF guard's refusal.
var errPrivate = errors.New("refused: the target resolves to a non-public address")

// httpPoster posts deliveries. It does not follow redirects (a 3xx is a
// failed attempt: a redirect could lead past the SSRF guard), uses no proxy
// from the environment, and checks every address it dials, after name
// resolution, so that a name resolving to 127.0.0.1 or 169.254.169.254 is
// refused as well as the literal address.
type httpPoster struct {
	client *http.Client
}

func newHTTPPoster(allowPrivate func() bool) *httpPoster {
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			if allowPrivate() {
				return nil
			}
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !PublicAddr(ap.Addr()) {
				return errPrivate
			}
			return nil
		},
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: SendTimeout,
	}
	return &httpPoster{client: &http.Client{
		Transport:     tr,
		Timeout:       SendTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (p *httpPoster) Post(ctx context.Context, r Request) Response {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return Response{Err: err}
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		if errors.Is(err, errPrivate) {
			return Response{Err: errPrivate}
		}
		return Response{Err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	// Drain a little more so the connection can be reused, but never much.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	snippet := string(b)
	if len(snippet) > 256 {
		snippet = snippet[:256]
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		snippet = fmt.Sprintf("redirect to %q not followed", resp.Header.Get("Location"))
	}
	return Response{Status: resp.StatusCode, Snippet: snippet}
}
