// Package email translates email into what the rest of Touchpoint works
// with, and back: Parse turns a raw RFC 5322 message into a Message (sender,
// recipients, thread ids, a text body, a sanitized HTML body, the visible
// part of a reply, attachments), Classify tells people from robots, and
// Compose writes an agent's reply. It is pure: no store, no network, no
// clock except a default Date in Compose. IMAP and SMTP live elsewhere and
// call into it.
//
// Every message is hostile input. Parse bounds what it reads and keeps
// (Limits), refuses zip bombs without unpacking them, never panics, and
// returns typed errors; HTML only ever leaves it through richtext.HTML.
package email

import (
	"errors"
	"fmt"
	"net/textproto"
	"time"
)

// Address is a mailbox: a display name (decoded, may be empty) and an
// address as written by the sender.
type Address struct {
	Name  string
	Email string
}

// String formats a as "Name <email>" for display; it is not a header value.
func (a Address) String() string {
	if a.Name == "" {
		return a.Email
	}
	return a.Name + " <" + a.Email + ">"
}

// Message is one parsed email.
type Message struct {
	// MessageID, InReplyTo and References hold message ids without angle
	// brackets. References is oldest first, as in the header.
	MessageID  string
	InReplyTo  []string
	References []string

	From    Address
	Sender  Address
	ReplyTo []Address
	To      []Address
	Cc      []Address
	// ReturnPath is the envelope sender the receiving server recorded,
	// without brackets; HasReturnPath tells "<>" (a null sender: bounces and
	// auto-replies) from no header at all.
	ReturnPath    string
	HasReturnPath bool

	Subject string
	Date    time.Time // UTC; zero when missing or unreadable

	// Text is the plain text body (derived from HTML when the message has no
	// text part). HTML is the HTML body after richtext.HTML, so it is safe to
	// show as it is; empty when the message has no HTML part. Images of
	// inline attachments appear in it as src="cid:part-N" placeholders,
	// listed in CIDs.
	Text string
	HTML string

	// Visible is the new part of the message: Text with quoted history
	// (reply attributions, quoted lines, Outlook headers) trimmed.
	// VisibleHTML is the same for HTML, sanitized; empty without HTML.
	// Forwarded messages are not trimmed: what was forwarded is the point.
	Visible     string
	VisibleHTML string

	Attachments []Attachment
	// CIDs maps each placeholder URL used in HTML ("cid:part-3") to the index
	// of its attachment, for the desk to swap for a real URL.
	CIDs map[string]int

	// Header holds every top-level header field, raw (not decoded), keyed
	// in canonical form; Classify reads it.
	Header textproto.MIMEHeader

	// Size is the number of bytes of the raw message.
	Size int64
	// Warnings name what was wrong but recovered from (an unknown charset,
	// a truncated part), for logs.
	Warnings []string
}

// Attachment is a non-body part: a file, an inline image, a forwarded
// message, a delivery report.
type Attachment struct {
	Filename    string // decoded, RFC 2231 and RFC 2047; may be empty
	ContentType string // lower-case media type, e.g. "image/png"
	ContentID   string // without angle brackets
	// Inline is true when the HTML body shows the attachment (a cid:
	// reference); the desk lists the others as files.
	Inline bool
	Size   int64 // decoded size in bytes
	Data   []byte
	// Message is the parsed message of a message/rfc822 part (a message
	// forwarded as an attachment); nil otherwise.
	Message *Message
}

// Limits bound what Parse reads and keeps. A zero field means its default.
type Limits struct {
	MaxSize          int64 // raw message bytes; default 25 MiB
	MaxParts         int   // MIME parts, nested messages included; default 500
	MaxDepth         int   // nesting of multiparts and messages; default 12
	MaxPartSize      int64 // decoded bytes of one part; default 25 MiB
	MaxTotalSize     int64 // decoded bytes of all attachments; default 50 MiB
	MaxZipExpanded   int64 // declared uncompressed bytes of one zip; default 200 MiB
	MaxZipRatio      int64 // declared compression ratio of one zip; default 100
	MaxZipEntries    int   // files in one zip; default 10000
	MaxHeaderBytes   int64 // bytes of one header block; default 1 MiB
	MaxReferenceIDs  int   // References kept; default 100
	MaxAddressesKept int   // addresses kept per header; default 500
}

// Default limits.
const (
	DefaultMaxSize        = 25 << 20
	DefaultMaxParts       = 500
	DefaultMaxDepth       = 12
	DefaultMaxPartSize    = 25 << 20
	DefaultMaxTotalSize   = 50 << 20
	DefaultMaxZipExpanded = 200 << 20
	DefaultMaxZipRatio    = 100
	DefaultMaxZipEntries  = 10000
	DefaultMaxHeaderBytes = 1 << 20
	DefaultMaxReferences  = 100
	DefaultMaxAddresses   = 500
)

func (l Limits) withDefaults() Limits {
	set64 := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	set64(&l.MaxSize, DefaultMaxSize)
	set(&l.MaxParts, DefaultMaxParts)
	set(&l.MaxDepth, DefaultMaxDepth)
	set64(&l.MaxPartSize, DefaultMaxPartSize)
	set64(&l.MaxTotalSize, DefaultMaxTotalSize)
	set64(&l.MaxZipExpanded, DefaultMaxZipExpanded)
	set64(&l.MaxZipRatio, DefaultMaxZipRatio)
	set(&l.MaxZipEntries, DefaultMaxZipEntries)
	set64(&l.MaxHeaderBytes, DefaultMaxHeaderBytes)
	set(&l.MaxReferenceIDs, DefaultMaxReferences)
	set(&l.MaxAddressesKept, DefaultMaxAddresses)
	return l
}

// Errors Parse returns, wrapped in a *LimitError or *ParseError that says
// where; test with errors.Is.
var (
	// ErrTooLarge: the message, a part, or all attachments together are
	// bigger than allowed.
	ErrTooLarge = errors.New("email: too large")
	// ErrTooManyParts: more MIME parts than allowed.
	ErrTooManyParts = errors.New("email: too many parts")
	// ErrTooDeep: multiparts or attached messages nested deeper than allowed.
	ErrTooDeep = errors.New("email: nested too deep")
	// ErrZipBomb: a zip attachment declares more data, files or compression
	// than allowed.
	ErrZipBomb = errors.New("email: zip bomb")
	// ErrMalformed: the input is not a readable email at all.
	ErrMalformed = errors.New("email: malformed")
	// ErrInvalid: Compose was given something it cannot send.
	ErrInvalid = errors.New("email: invalid outbound message")
)

// LimitError is a limit that a message broke.
type LimitError struct {
	Err   error  // ErrTooLarge, ErrTooManyParts, ErrTooDeep or ErrZipBomb
	What  string // "message size", "part size", "attachments total", "zip ratio"...
	Part  string // the part at fault: MIME path ("1.2") and file name, if any
	Limit int64
	Got   int64 // the value seen, when known (0 when reading stopped at the limit)
}

func (e *LimitError) Error() string {
	s := e.Err.Error() + ": " + e.What
	if e.Part != "" {
		s += " of part " + e.Part
	}
	if e.Got > 0 {
		return s + fmt.Sprintf(" is %d, limit %d", e.Got, e.Limit)
	}
	return s + fmt.Sprintf(" over limit %d", e.Limit)
}

func (e *LimitError) Unwrap() error { return e.Err }

// ParseError is input that cannot be read as an email.
type ParseError struct {
	Part   string // MIME path, "" for the top-level header
	Reason string
}

func (e *ParseError) Error() string {
	if e.Part == "" {
		return "email: malformed: " + e.Reason
	}
	return "email: malformed part " + e.Part + ": " + e.Reason
}

func (e *ParseError) Unwrap() error { return ErrMalformed }
