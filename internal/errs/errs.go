// Package errs holds the typed errors that domain packages return and that
// only the web edge maps to HTTP status codes.
package errs

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNotFound means the thing asked for does not exist (or is not visible).
	ErrNotFound = errors.New("not found")
	// ErrConflict means the request clashes with the current state.
	ErrConflict = errors.New("conflict")
	// ErrForbidden means the caller may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated means no valid credentials were given.
	ErrUnauthenticated = errors.New("unauthenticated")
)

// Invalid is bad input, naming the field at fault in JSON-pointer-ish dotted form
// ("identifiers[2].value") so that a client can show it next to the input.
type Invalid struct {
	Field  string
	Reason string
}

func (e *Invalid) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Invalidf builds an *Invalid with a formatted reason.
func Invalidf(field, format string, args ...any) error {
	return &Invalid{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Prefix puts a parent path before the field of an *Invalid, leaving other errors as they are.
func Prefix(err error, parent string) error {
	var inv *Invalid
	if !errors.As(err, &inv) {
		return err
	}
	f := parent
	if inv.Field != "" {
		if strings.HasPrefix(inv.Field, "[") {
			f += inv.Field
		} else {
			f += "." + inv.Field
		}
	}
	return &Invalid{Field: f, Reason: inv.Reason}
}

// NotFoundf wraps ErrNotFound with what was looked for.
func NotFoundf(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrNotFound)...)
}

// Conflictf wraps ErrConflict with what clashed.
func Conflictf(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrConflict)...)
}

// ItemError is one refused item of a batch.
type ItemError struct {
	Index  int    `json:"index"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// Batch refuses a whole batch and says which items were at fault and why;
// nothing of the batch was stored.
type Batch struct {
	Items []ItemError
}

func (e *Batch) Error() string {
	if len(e.Items) == 0 {
		return "batch refused"
	}
	first := e.Items[0]
	return fmt.Sprintf("batch refused: %d item(s) invalid, first [%d] %s: %s", len(e.Items), first.Index, first.Field, first.Reason)
}

// AddItem appends err (an *Invalid or anything else) as the fault of item i.
func (e *Batch) AddItem(i int, err error) {
	var inv *Invalid
	if errors.As(err, &inv) {
		e.Items = append(e.Items, ItemError{Index: i, Field: inv.Field, Reason: inv.Reason})
		return
	}
	e.Items = append(e.Items, ItemError{Index: i, Reason: err.Error()})
}
