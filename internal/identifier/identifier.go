// Package identifier defines the kinds of customer identifiers and turns raw
// values (as typed by people or sent by tracking libraries) into one normalized
// form, refusing junk, so that the same person always gets the same
// (kind, value) pair.
package identifier

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Kind names a kind of identifier.
type Kind string

// The built-in kinds. Any other kind whose name matches ^[a-z][a-z0-9_]{0,31}$
// is a custom kind (for example a Segment context.externalIds type).
const (
	UserID      Kind = "user_id"      // the company's own user/customer id (Segment userId)
	Account     Kind = "account"      // account or contract number
	Email       Kind = "email"        // lower-cased address
	Phone       Kind = "phone"        // E.164
	LoyaltyCard Kind = "loyalty_card" // upper-cased letters and digits
	Social      Kind = "social"       // "network:handle", e.g. "x:annsmith", "telegram:12345"
	DeviceID    Kind = "device_id"
	AnonymousID Kind = "anonymous_id" // Segment anonymousId, cookie ids
)

// MaxValueLen is the most bytes a value may have, before and after normalization.
const MaxValueLen = 256

// Identifier is a normalized (Kind, Value) pair.
type Identifier struct {
	Kind  Kind   `json:"kind"`
	Value string `json:"value"`
}

// String returns "kind:value", the form that Parse reads back.
func (i Identifier) String() string {
	return string(i.Kind) + ":" + i.Value
}

// Error says why a value was refused. Blocked is true when the value is a
// known junk value ("null", "undefined", "0", "test@test.com", ...), so that a
// caller may silently drop that one identifier rather than fail a whole event.
type Error struct {
	Kind    string // the canonical kind name, or the kind as given when the kind itself is at fault
	Value   string // the value as given, less surrounding spaces
	Reason  string
	Blocked bool

	badKind bool // the kind name was refused, not the value
}

// errValueShown is how many bytes of a value Error() quotes before cutting it short.
const errValueShown = 64

// Error returns e.g. `email "foo@": missing domain`.
func (e *Error) Error() string {
	v := e.Value
	if len(v) > errValueShown {
		cut := errValueShown
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = v[:cut] + "..."
	}
	if e.badKind {
		return fmt.Sprintf("kind %q: %s", e.Kind, e.Reason)
	}
	if e.Kind == "" {
		return fmt.Sprintf("%q: %s", v, e.Reason)
	}
	return fmt.Sprintf("%s %q: %s", e.Kind, v, e.Reason)
}

type kindInfo struct {
	priority int
	limit    int
}

var builtin = map[Kind]kindInfo{
	UserID:      {priority: 1, limit: 1},
	Account:     {priority: 2, limit: 5},
	Email:       {priority: 3, limit: 5},
	Phone:       {priority: 4, limit: 5},
	LoyaltyCard: {priority: 5, limit: 3},
	Social:      {priority: 6, limit: 10},
	DeviceID:    {priority: 7, limit: 10},
	AnonymousID: {priority: 8, limit: 50},
}

// Priority and limit of custom kinds.
const (
	customPriority = 9
	customLimit    = 5
)

// Priority tells how strong an identifier of kind k is as evidence of identity:
// the lower the number, the stronger. Custom kinds rank last.
func Priority(k Kind) int {
	if info, ok := builtin[k]; ok {
		return info.priority
	}
	return customPriority
}

// Limit is the most identifiers of kind k that one customer may hold. A merge
// that would go over a limit is refused by the resolver.
func Limit(k Kind) int {
	if info, ok := builtin[k]; ok {
		return info.limit
	}
	return customLimit
}

// Known reports whether k is one of the built-in kinds (aliases are not kinds:
// pass them through ParseKind first).
func Known(k Kind) bool {
	_, ok := builtin[k]
	return ok
}

// kindAliases maps lower-cased alternative names to built-in kinds.
var kindAliases = map[string]Kind{
	"userid":      UserID,
	"user":        UserID,
	"anonymousid": AnonymousID,
	"mail":        Email,
	"e-mail":      Email,
	"tel":         Phone,
	"msisdn":      Phone,
	"mobile":      Phone,
	"device":      DeviceID,
	"deviceid":    DeviceID,
	"loyalty":     LoyaltyCard,
	"card":        LoyaltyCard,
}

var customKindRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// ParseKind turns a kind name as given (any case, surrounding spaces, aliases
// such as "userId" or "mail") into its canonical Kind. Names that are not
// built-in must match ^[a-z][a-z0-9_]{0,31}$ once lower-cased.
func ParseKind(s string) (Kind, error) {
	if _, ok := builtin[Kind(s)]; ok {
		return Kind(s), nil // the usual case, without the regular expression
	}
	name := strings.ToLower(strings.TrimSpace(s))
	if k, ok := kindAliases[name]; ok {
		return k, nil
	}
	if !customKindRE.MatchString(name) {
		return "", &Error{Kind: s, Reason: "not a built-in kind, nor a custom kind name of 1 to 32 lower-case letters, digits and _ starting with a letter", badKind: true}
	}
	return Kind(name), nil
}
