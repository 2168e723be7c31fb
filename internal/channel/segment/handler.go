package segment

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/web/problem"
	"github.com/touchpoint-hub/touchpoint/internal/web/ratelimit"
)

// Handler serves the Segment-compatible event API.
type Handler struct {
	// Points finds the contact point of a write key.
	Points interface {
		ByWriteKey(ctx context.Context, key string) (*contactpoint.ContactPoint, error)
	}
	// Recorder stores the inputs of a request as one unit and returns once
	// they are durable.
	Recorder interface {
		Record(ctx context.Context, inputs []interaction.Input) ([]interaction.Result, error)
	}
	Log *slog.Logger
	Now func() time.Time // time.Now when nil
	// PerKey limits requests per write key (nil: no limit).
	PerKey *ratelimit.Limiter
}

// routes are the paths of the API and the call type each takes ("" for a
// batch). The one-letter forms are those analytics.js posts to (/v1/s is
// there for symmetry); /v1/import is the older name of /v1/batch, which
// Segment's older mobile libraries post to.
var routes = []struct{ path, kind string }{
	{"/v1/identify", "identify"}, {"/v1/i", "identify"},
	{"/v1/track", "track"}, {"/v1/t", "track"},
	{"/v1/page", "page"}, {"/v1/p", "page"},
	{"/v1/screen", "screen"}, {"/v1/s", "screen"},
	{"/v1/group", "group"}, {"/v1/g", "group"},
	{"/v1/alias", "alias"}, {"/v1/a", "alias"},
	{"/v1/batch", ""}, {"/v1/b", ""}, {"/v1/import", ""},
}

// Register adds the API's routes to mux: POST for the calls, OPTIONS for the
// CORS preflight of browsers (analytics.js posts from the sites' origins).
func (h *Handler) Register(mux *http.ServeMux) {
	for _, rt := range routes {
		kind := rt.kind
		mux.HandleFunc("POST "+rt.path, func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, kind) })
		mux.HandleFunc("OPTIONS "+rt.path, preflight)
	}
}

func allowOrigin(w http.ResponseWriter) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
}

func preflight(w http.ResponseWriter, _ *http.Request) {
	allowOrigin(w)
	hd := w.Header()
	hd.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding")
	hd.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// readSlack is read beyond the batch limit, so that a body just over it gets
// DecodeBatch's precise answer rather than the reader's.
const (
	readSlack = 16 << 10
	readLimit = MaxBatchBytes + readSlack
)

var (
	bufPool  = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	gzipPool sync.Pool // *gzip.Reader
)

var success = []byte(`{"success":true}`)

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, kind string) {
	allowOrigin(w)
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	receivedAt := now()
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 2*readLimit {
			bufPool.Put(buf)
		}
	}()
	if err := readBody(w, r, buf); err != nil {
		problem.Write(w, r, h.Log, err)
		return
	}
	err := h.handle(r, kind, buf.Bytes(), receivedAt)
	if err != nil {
		if isMalformed(err) {
			err = &problem.Status{Code: http.StatusBadRequest, Detail: err.Error()}
		}
		if errors.Is(err, errs.ErrUnauthenticated) {
			w.Header().Set("WWW-Authenticate", `Basic realm="touchpoint events"`)
		}
		problem.Write(w, r, h.Log, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(success)
}

// readBody reads the request body into buf, gunzipping it when it says so,
// and refuses bodies (also once decompressed) much over the batch limit.
func readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer) error {
	body := http.MaxBytesReader(w, r.Body, readLimit)
	defer body.Close()
	var src io.Reader = body
	gzipped := false
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, _ := gzipPool.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(body)
		} else {
			err = zr.Reset(body)
		}
		if err != nil {
			return bodyError(err)
		}
		defer gzipPool.Put(zr)
		gzipped = true
		// One byte more than allowed tells a body that is too large.
		src = io.LimitReader(zr, readLimit+1)
	default:
		return &problem.Status{Code: http.StatusUnsupportedMediaType,
			Detail: fmt.Sprintf("content encoding %q is not supported; send the body as is or gzipped", enc)}
	}
	if n := r.ContentLength; n > 0 && n <= readLimit && !gzipped {
		buf.Grow(int(n) + bytes.MinRead) // ReadFrom wants MinRead free to see the end
	}
	if _, err := buf.ReadFrom(src); err != nil {
		return bodyError(err)
	}
	if buf.Len() > readLimit {
		return &problem.Status{Code: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the request body, unpacked, is larger than %d KB (%d bytes), the most a batch may be", MaxBatchBytes>>10, MaxBatchBytes)}
	}
	return nil
}

func bodyError(err error) error {
	var mbe *http.MaxBytesError
	var corrupt flate.CorruptInputError
	switch {
	case errors.As(err, &mbe):
		return &problem.Status{Code: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the request body is larger than %d KB (%d bytes), the most a batch may be", MaxBatchBytes>>10, MaxBatchBytes)}
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, io.EOF), errors.As(err, &corrupt):
		return &problem.Status{Code: http.StatusBadRequest, Detail: "the body is not valid gzip: " + err.Error()}
	}
	// The client went away or sent a broken body.
	return &problem.Status{Code: http.StatusBadRequest, Detail: "could not read the request body: " + err.Error()}
}

// errNoKey is the error for a request without a write key.
var errNoKey = fmt.Errorf("no write key: send it as the user name of HTTP basic authentication, or as writeKey in the body: %w", errs.ErrUnauthenticated)

func (h *Handler) handle(r *http.Request, kind string, body []byte, receivedAt time.Time) error {
	ctx := r.Context()
	// The Authorization header is checked before the body is decoded, so that
	// requests with a bad key cost little.
	var cp *contactpoint.ContactPoint
	if user, _, ok := r.BasicAuth(); ok && user != "" {
		var err error
		if cp, err = h.Points.ByWriteKey(ctx, user); err != nil {
			return err
		}
		if err := h.limit(cp); err != nil {
			return err
		}
	}
	var msgs []Message
	if kind == "" {
		var err error
		if msgs, err = DecodeBatch(body); err != nil {
			return err
		}
	} else {
		m, err := Decode(kind, body)
		if err != nil {
			return err
		}
		msgs = []Message{m}
	}
	if cp == nil {
		key, err := bodyKey(msgs, kind == "")
		if err != nil {
			return err
		}
		if key == "" {
			return errNoKey
		}
		if cp, err = h.Points.ByWriteKey(ctx, key); err != nil {
			return err
		}
		if err := h.limit(cp); err != nil {
			return err
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return h.record(ctx, msgs, ToInputs(cp, msgs, receivedAt), kind == "")
}

// limit applies the per-write-key rate limit.
func (h *Handler) limit(cp *contactpoint.ContactPoint) error {
	if h.PerKey == nil {
		return nil
	}
	if ok, _ := h.PerKey.Allow(cp.ID.String()); !ok {
		return &problem.Status{Code: http.StatusTooManyRequests, Detail: "too many requests with this write key; retry later"}
	}
	return nil
}

// bodyKey is the write key given in the body: every event that has one must
// have the same.
func bodyKey(msgs []Message, batch bool) (string, error) {
	key := ""
	for i := range msgs {
		k := msgs[i].WriteKey
		switch {
		case k == "" || k == key:
		case key == "":
			key = k
		default:
			field := "writeKey"
			if batch {
				field = itemPath(i) + ".writeKey"
			}
			return "", errs.Invalidf(field, "differs from the write key of the events before it; send one batch per write key")
		}
	}
	return key, nil
}

// maxRetries bounds the attempts at storing after leaving out identifiers
// that the store refused.
const maxRetries = 8

// record stores the inputs, in chunks of the most the recorder takes at once.
// A refusal is reported in Segment's terms: which event, which field.
func (h *Handler) record(ctx context.Context, msgs []Message, inputs []interaction.Input, batch bool) error {
	for start := 0; start < len(inputs); start += interaction.MaxBatch {
		end := min(start+interaction.MaxBatch, len(inputs))
		if err := h.recordChunk(ctx, msgs[start:end], inputs[start:end], start, batch); err != nil {
			return err
		}
	}
	return nil
}

// recordChunk stores one chunk. When the store refuses only identifiers
// that merely add to what identifies the customer (an email in the traits, a
// device id, an external id: things Segment takes without checking), those are
// left out and the chunk is stored again, rather than losing the whole batch
// for one mistyped email address.
func (h *Handler) recordChunk(ctx context.Context, msgs []Message, inputs []interaction.Input, offset int, batch bool) error {
	var origins map[int][]string // identifier origins of refused items, by index in the chunk
	for attempt := 0; ; attempt++ {
		_, err := h.Recorder.Record(ctx, inputs)
		if err == nil {
			return nil
		}
		var refused *errs.Batch
		if !errors.As(err, &refused) {
			return err
		}
		if origins == nil {
			origins = map[int][]string{}
		}
		for _, it := range refused.Items {
			if _, ok := origins[it.Index]; !ok && it.Index >= 0 && it.Index < len(msgs) {
				origins[it.Index] = identifierOrigins(&msgs[it.Index])
			}
		}
		if attempt < maxRetries && dropOptional(refused, inputs, origins) {
			if h.Log != nil {
				h.Log.InfoContext(ctx, "segment: left out refused identifiers", "items", len(refused.Items))
			}
			continue
		}
		return translate(refused, msgs, origins, offset, batch)
	}
}

// identifierOrigins lists the field each of a message's identifiers came from,
// as ToInputs made them.
func identifierOrigins(m *Message) []string {
	if m.Type == "alias" {
		return []string{"userId"}
	}
	var origins []string
	ctx := m.contextInfo()
	identifiers(m, &ctx, &origins)
	return origins
}

// refusedIdentifier returns k when field names the identifier identifiers[k].
func refusedIdentifier(field string) (int, string, bool) {
	rest, ok := strings.CutPrefix(field, "identifiers[")
	if !ok {
		return 0, "", false
	}
	n, rest, ok := strings.Cut(rest, "]")
	if !ok {
		return 0, "", false
	}
	k, err := strconv.Atoi(n)
	if err != nil || k < 0 {
		return 0, "", false
	}
	return k, rest, true
}

// dropOptional leaves out the refused identifiers when all of them are
// optional ones; it reports whether it did.
func dropOptional(refused *errs.Batch, inputs []interaction.Input, origins map[int][]string) bool {
	if len(refused.Items) == 0 {
		return false
	}
	seen := map[int]bool{}
	for _, it := range refused.Items {
		k, _, ok := refusedIdentifier(it.Field)
		if !ok || it.Index < 0 || it.Index >= len(inputs) || seen[it.Index] {
			return false
		}
		seen[it.Index] = true
		o := origins[it.Index]
		if k >= len(o) || k >= len(inputs[it.Index].Identifiers) || !optionalOrigin(o[k]) {
			return false
		}
	}
	for _, it := range refused.Items {
		k, _, _ := refusedIdentifier(it.Field)
		in := &inputs[it.Index]
		in.Identifiers = slices.Delete(slices.Clone(in.Identifiers), k, k+1)
		origins[it.Index] = slices.Delete(origins[it.Index], k, k+1)
	}
	return true
}

// optionalOrigin tells whether an identifier from this field may be left out:
// all but the ids the Segment spec requires.
func optionalOrigin(origin string) bool {
	switch origin {
	case "userId", "anonymousId", "previousId":
		return false
	}
	return true
}

// translate reports a refusal by the store with the fields of the Segment
// call: batch[i].field for a batch, field alone for a single call.
func translate(refused *errs.Batch, msgs []Message, origins map[int][]string, offset int, batch bool) error {
	out := &errs.Batch{Items: make([]errs.ItemError, 0, len(refused.Items))}
	for _, it := range refused.Items {
		field := it.Field
		if it.Index >= 0 && it.Index < len(msgs) {
			field = segmentField(&msgs[it.Index], origins[it.Index], it.Field)
		}
		if !batch {
			return &errs.Invalid{Field: field, Reason: it.Reason}
		}
		path := itemPath(offset + it.Index)
		if field != "" {
			path += "." + field
		}
		out.Items = append(out.Items, errs.ItemError{Index: offset + it.Index, Field: path, Reason: it.Reason})
	}
	return out
}

// segmentField names the field of message m that an interaction input field
// was made from.
func segmentField(m *Message, origins []string, field string) string {
	if k, rest, ok := refusedIdentifier(field); ok {
		if k < len(origins) {
			return origins[k] + rest
		}
		return "userId"
	}
	switch field {
	case "identifiers":
		return "userId"
	case "external_id":
		return "messageId"
	case "occurred_at":
		return "timestamp"
	case "subject":
		if m.Type == "track" {
			return "event"
		}
		return "name"
	case "content":
		return "properties.url"
	case "value.currency", "value":
		return "properties.currency"
	case "promo_code":
		return "properties.coupon"
	case "contact_point_id":
		return "writeKey"
	}
	if rest, ok := strings.CutPrefix(field, "campaign."); ok {
		return "context.campaign." + rest
	}
	return field
}
