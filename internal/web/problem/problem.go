// Package problem writes errors as RFC 9457 problem details
// (application/problem+json), mapping the typed errors of internal/errs to
// HTTP status codes. This is the only place where that mapping lives.
package problem

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

// Details is the problem+json body.
type Details struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Field names the input at fault, e.g. "identifiers[0].value".
	Field string `json:"field,omitempty"`
	// Errors lists the refused items of a batch.
	Errors []errs.ItemError `json:"errors,omitempty"`
}

// Status is an error with an HTTP status of its own, for faults found at the
// edge (bad JSON, body too large, wrong content type).
type Status struct {
	Code   int
	Detail string
	Field  string
}

func (s *Status) Error() string { return s.Detail }

// From builds the problem for err.
func From(err error) Details {
	var inv *errs.Invalid
	var batch *errs.Batch
	var st *Status
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &st):
		return Details{Type: "about:blank", Title: http.StatusText(st.Code), Status: st.Code, Detail: st.Detail, Field: st.Field}
	case errors.As(err, &mbe):
		return Details{Type: "about:blank", Title: http.StatusText(413), Status: 413, Detail: "request body is larger than the limit of " + itoa(mbe.Limit) + " bytes"}
	case errors.As(err, &batch):
		return Details{Type: "about:blank", Title: "Batch refused", Status: http.StatusUnprocessableEntity, Detail: "nothing was stored; fix the items listed in errors and send the batch again", Errors: batch.Items}
	case errors.As(err, &inv):
		return Details{Type: "about:blank", Title: "Invalid input", Status: http.StatusUnprocessableEntity, Detail: inv.Error(), Field: inv.Field}
	case errors.Is(err, errs.ErrNotFound):
		return Details{Type: "about:blank", Title: "Not found", Status: 404, Detail: err.Error()}
	case errors.Is(err, errs.ErrConflict):
		return Details{Type: "about:blank", Title: "Conflict", Status: 409, Detail: err.Error()}
	case errors.Is(err, errs.ErrUnauthenticated):
		return Details{Type: "about:blank", Title: "Unauthorized", Status: 401, Detail: err.Error()}
	case errors.Is(err, errs.ErrForbidden):
		return Details{Type: "about:blank", Title: "Forbidden", Status: 403, Detail: err.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Details{Type: "about:blank", Title: "Service unavailable", Status: 503, Detail: "the request was cancelled or timed out"}
	}
	return Details{Type: "about:blank", Title: "Internal server error", Status: 500, Detail: "something went wrong on our side; it has been logged"}
}

// Write sends err as problem+json. Server faults are logged, not shown.
func Write(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	d := From(err)
	if d.Status >= 500 && log != nil {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if d.Status == 401 && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="touchpoint"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(d.Status)
	json.NewEncoder(w).Encode(d)
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
