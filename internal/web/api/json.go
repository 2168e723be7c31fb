package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/web/problem"
)

// maxBody bounds ordinary API request bodies; batches have their own limit.
const maxBody = 1 << 20

// decode reads a JSON body into v, refusing unknown fields (a typo in a field
// name is an error, not a silently ignored value) and trailing data.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	// The body is read as JSON whatever Content-Type says: curl -d sends
	// form-urlencoded by default, and a clear JSON error helps more than a 415.
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &problem.Status{Code: http.StatusBadRequest, Detail: "malformed JSON: unexpected data after the JSON value"}
	}
	return nil
}

// jsonError turns encoding/json's errors into ones that name the field.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.As(err, &syn):
		return &problem.Status{Code: http.StatusBadRequest, Detail: fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn)}
	case errors.Is(err, io.EOF):
		return &problem.Status{Code: http.StatusBadRequest, Detail: "the request body is empty; send a JSON object"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &problem.Status{Code: http.StatusBadRequest, Detail: "malformed JSON: the body ends in the middle of a value"}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return &problem.Status{Code: http.StatusBadRequest, Detail: fmt.Sprintf("the body must be a JSON %s", expected(typ))}
		}
		return errs.Invalidf(field, "must be %s, not %s", expected(typ), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errs.Invalidf(f, "is not a known field")
	}
	// Errors from UnmarshalText/UnmarshalJSON of our own types (ids, times).
	return &problem.Status{Code: http.StatusBadRequest, Detail: "malformed JSON: " + err.Error()}
}

func expected(t *json.UnmarshalTypeError) string {
	if t.Type.String() == "id.ID" {
		return "an id as a string of digits (ids exceed JavaScript's safe integers)"
	}
	switch t.Type.Kind().String() {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "a number"
	}
	return "a " + t.Type.String()
}

// send writes v as JSON with status.
func send(w http.ResponseWriter, status int, v any) {
	setJSONHeaders(w)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func setJSONHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

// jsonAppender is a response that writes its own JSON: what encoding/json
// would write, without reflection (the timeline page).
type jsonAppender interface{ AppendJSON([]byte) []byte }

// sendAppended writes v like send. The buffer is reused: a timeline page is
// about 30 KB, and growing a fresh one to that size for every request was
// half of the bytes the request allocated.
func (a *API) sendAppended(w http.ResponseWriter, status int, v jsonAppender) {
	buf, _ := a.responseBufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	b := append(v.AppendJSON((*buf)[:0]), '\n')
	setJSONHeaders(w)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
	if cap(b) <= 1<<20 { // a rare huge page is left to the collector
		*buf = b
		a.responseBufs.Put(buf)
	}
}

// list is the envelope of collection responses.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}
