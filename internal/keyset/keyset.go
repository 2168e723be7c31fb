// Package keyset encodes the cursors of keyset pagination: the sort key and
// id of the last row of a page, opaque to clients.
package keyset

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// ErrBadCursor is returned for a cursor this package did not make.
var ErrBadCursor = errors.New("not a cursor")

// Encode makes the cursor after the row with sort key k and id last.
func Encode(k int64, last id.ID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(k, 10) + "." + last.String()))
}

// Decode reads a cursor made by Encode.
func Decode(c string) (int64, id.ID, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, 0, ErrBadCursor
	}
	a, l, ok := strings.Cut(string(b), ".")
	if !ok {
		return 0, 0, ErrBadCursor
	}
	k, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, 0, ErrBadCursor
	}
	last, err := id.Parse(l)
	if err != nil {
		return 0, 0, ErrBadCursor
	}
	return k, last, nil
}
