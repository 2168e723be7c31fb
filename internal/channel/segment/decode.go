// Package segment is the Segment-compatible event API: it takes the calls of
// the Segment HTTP Tracking API (identify, track, page, screen, group, alias
// and batch), as sent by Segment's and RudderStack's client libraries, and
// turns them into interaction inputs. It only translates between the protocol
// and the domain; storing is the interaction service's job.
package segment

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/jsonscan"
	"github.com/touchpoint-hub/touchpoint/internal/web/problem"
)

// Size limits of the Segment Tracking API.
const (
	MaxEventBytes = 32 << 10  // one event: a single call's body, or one item of a batch
	MaxBatchBytes = 500 << 10 // one batch request body
)

// Types lists the Segment call types.
var Types = []string{"identify", "track", "page", "screen", "group", "alias"}

func knownType(t string) bool {
	switch t {
	case "identify", "track", "page", "screen", "group", "alias":
		return true
	}
	return false
}

// Message is one Segment call, decoded and checked. The raw JSON fields refer
// to the body it was decoded from (or, for a batch item whose context or
// integrations were merged with the batch's, to a new buffer): do not modify
// the body while the message is in use.
type Message struct {
	Type        string // identify, track, page, screen, group or alias
	MessageID   string // "" when the client sent none: the event is then not deduplicated
	UserID      string // numbers sent by the client are given in decimal
	AnonymousID string
	PreviousID  string // alias
	GroupID     string // group
	Event       string // track
	Name        string // page, screen
	Category    string // page

	// The times the client sent, zero when absent. Which time the event
	// happened at depends on them and on when it was received: see OccurredAt.
	Timestamp         time.Time
	OriginalTimestamp time.Time
	SentAt            time.Time
	// ReceivedAt is as the client sent it (normally it does not); the server's
	// own time of receipt is what counts.
	ReceivedAt time.Time

	Context      json.RawMessage // object, or nil
	Integrations json.RawMessage // object, or nil
	Properties   json.RawMessage // object, or nil
	Traits       json.RawMessage // object, or nil

	// WriteKey is the writeKey field of the body, which analytics.js sends
	// instead of an Authorization header.
	WriteKey string

	noted notes
}

// notes are the parts of Context that the mapping reads, noted while
// decoding so that the context (the bulk of a browser event) is not read
// twice. They hold while Context is the slice they were noted from.
type notes struct {
	ok      bool
	context []byte // what they were noted from
	ctx     contextInfo
}

// sameSlice tells whether a and b are the same bytes in memory.
func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// OccurredAt is when the event happened, corrected for the skew of the
// client's clock the way Segment does it: when the client sent both the time
// of the event (originalTimestamp, else timestamp) and the time it sent the
// event (sentAt), the event happened that long before it was received;
// otherwise it happened at the client's timestamp, or when it was received.
func (m *Message) OccurredAt(receivedAt time.Time) time.Time {
	orig := m.OriginalTimestamp
	if orig.IsZero() {
		orig = m.Timestamp
	}
	switch {
	case !orig.IsZero() && !m.SentAt.IsZero():
		return receivedAt.Add(-m.SentAt.Sub(orig))
	case !orig.IsZero():
		return orig
	}
	return receivedAt
}

// malformedPrefix starts the reason of the error for a body that is not JSON.
const malformedPrefix = "malformed JSON: "

// isMalformed tells whether err is Decode's error for a body that is not JSON.
func isMalformed(err error) bool {
	var inv *errs.Invalid
	return errors.As(err, &inv) && inv.Field == "" && strings.HasPrefix(inv.Reason, malformedPrefix)
}

// malformed builds the error for JSON that does not parse, with the offset.
func malformed(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &errs.Invalid{Reason: fmt.Sprintf("%s%v (at byte offset %d)", malformedPrefix, se, se.Offset)}
	}
	return &errs.Invalid{Reason: malformedPrefix + err.Error()}
}

// checkJSON returns the malformed-JSON error when body is not one JSON value.
func checkJSON(body []byte) error {
	if jsonscan.Valid(body) {
		return nil
	}
	var v json.RawMessage
	err := json.Unmarshal(body, &v)
	if err == nil { // cannot happen: the fuzz tests check that both agree
		err = errors.New("invalid JSON")
	}
	return malformed(err)
}

func tooLarge(field string, limit, size int) error {
	what := "an event"
	if limit == MaxBatchBytes {
		what = "a batch"
	}
	return &problem.Status{Code: 413, Field: field,
		Detail: fmt.Sprintf("%s may be at most %d KB (%d bytes) of JSON; this one is %d bytes", what, limit>>10, limit, size)}
}

// Decode reads the body of a single call (POST /v1/track, /v1/identify...);
// kind is the call type, given by the path. Faults are an *errs.Invalid naming
// the field, or a *problem.Status with code 413 for a body over 32 KB.
func Decode(kind string, body []byte) (Message, error) {
	var m Message
	if !knownType(kind) {
		return m, errs.Invalidf("type", "%q is not a call type; one of %s", kind, strings.Join(Types, ", "))
	}
	if len(body) > MaxEventBytes {
		return m, tooLarge("", MaxEventBytes, len(body))
	}
	end, err := decodeItem(&m, body, jsonscan.SkipSpace(body, 0), kind, 1, nil)
	if err != nil || jsonscan.SkipSpace(body, end) != len(body) {
		// Not JSON is the first fault to report.
		if jerr := checkJSON(body); jerr != nil {
			return Message{}, jerr
		}
		if err == nil {
			err = errs.Invalidf("", "an event must be one JSON object")
		}
		return Message{}, err
	}
	return m, nil
}

// DecodeBatch reads the body of POST /v1/batch: {"batch": [...], "context": {...},
// "integrations": {...}, "sentAt": "..."}. The batch's context and
// integrations are merged into each item's (the item's keys win), and the
// batch's sentAt is that of the items without their own. Faults are an
// *errs.Invalid naming the item and field ("batch[3].userId"), or a
// *problem.Status with code 413 for a batch over 500 KB or an item over 32 KB.
func DecodeBatch(body []byte) ([]Message, error) {
	if len(body) > MaxBatchBytes {
		return nil, tooLarge("", MaxBatchBytes, len(body))
	}
	var context, integrations, sentAtRaw, writeKeyRaw []byte
	var msgs []Message
	seenBatch := false
	var err error
	// One walk over the body: the items are decoded where they are found.
	end := jsonscan.WalkMembers(body, jsonscan.SkipSpace(body, 0), func(k []byte, v int) int {
		if !keyIs(k, "batch") {
			ve := jsonscan.CheckValue(body, v, 1)
			if ve < 0 {
				return -1
			}
			raw := body[v:ve]
			switch {
			case keyIs(k, "context"):
				context = raw
			case keyIs(k, "integrations"):
				integrations = raw
			case keyIs(k, "sentAt"):
				sentAtRaw = raw
			case keyIs(k, "writeKey"):
				writeKeyRaw = raw
			}
			return ve
		}
		if body[v] != '[' {
			if body[v] == 'n' { // null: as if absent
				return jsonscan.CheckValue(body, v, 1)
			}
			err = errs.Invalidf("batch", "must be an array of events")
			return -1
		}
		seenBatch = true
		msgs = make([]Message, 0, min(len(body)/700+1, 1024)) // events are rarely smaller
		return jsonscan.WalkElements(body, v, func(n, e int) int {
			path := itemPath(n)
			if body[e] != '{' {
				err = errs.Invalidf(path, "must be an event object")
				return -1
			}
			if len(msgs) == cap(msgs) {
				// Smaller events than estimated: grow once, to what the
				// bytes read so far project, rather than doubling.
				grown := make([]Message, len(msgs), max(len(msgs)*(len(body)-v)/max(e-v, 1)+4, len(msgs)+1))
				copy(grown, msgs)
				msgs = grown
			}
			msgs = append(msgs, Message{})
			var prev *Message
			if n > 0 {
				prev = &msgs[n-1]
			}
			ie, ierr := decodeItem(&msgs[n], body, e, "", 3, prev)
			if ierr != nil {
				// An item over the limit is refused as such, whatever else is wrong with it.
				if ie = jsonscan.CheckValue(body, e, 2); ie-e > MaxEventBytes {
					err = tooLarge(path, MaxEventBytes, ie-e)
				} else {
					err = errs.Prefix(ierr, path)
				}
				return -1
			}
			if ie-e > MaxEventBytes {
				err = tooLarge(path, MaxEventBytes, ie-e)
				return -1
			}
			return ie
		})
	})
	if err != nil || end < 0 || jsonscan.SkipSpace(body, end) != len(body) {
		// Not JSON is the first fault to report.
		if jerr := checkJSON(body); jerr != nil {
			return nil, jerr
		}
		if err != nil {
			return nil, err
		}
		return nil, errs.Invalidf("", "the body must be a JSON object with a batch array")
	}
	if !seenBatch {
		return nil, errs.Invalidf("batch", "is required: an array of events")
	}
	for _, f := range []struct {
		name string
		raw  []byte
	}{{"context", context}, {"integrations", integrations}} {
		if !isNull(f.raw) && !isObject(f.raw) {
			return nil, errs.Invalidf(f.name, "must be an object")
		}
	}
	sentAt, ok := parseTimeRaw(sentAtRaw)
	if !ok {
		return nil, errs.Invalidf("sentAt", "%s", badTime)
	}
	writeKey, ok := optString(writeKeyRaw)
	if !ok {
		return nil, errs.Invalidf("writeKey", "must be a string")
	}
	ctx := newMerger(context)
	integ := newMerger(integrations)
	var bctx contextInfo
	if ctx.raw != nil {
		bctx = readContext(ctx.raw)
	}
	for i := range msgs {
		m := &msgs[i]
		m.Context = ctx.merge(m.Context)
		m.noted.ctx.fill(&bctx)
		m.noted.context = m.Context
		m.Integrations = integ.merge(m.Integrations)
		if m.SentAt.IsZero() {
			m.SentAt = sentAt
		}
		if m.WriteKey == "" {
			m.WriteKey = writeKey
		}
	}
	if msgs == nil {
		msgs = []Message{}
	}
	return msgs, nil
}

func itemPath(i int) string { return "batch[" + strconv.Itoa(i) + "]" }

// Reasons of the field errors.
const (
	badID     = "must be a string or a number"
	badString = "must be a string"
	badObject = "must be an object"
	badTime   = "must be an ISO 8601 date-time string, like 2024-05-01T12:30:00.000Z"
)

// decodeItem reads the event object that starts at d[i] into m, and returns
// the index just past it; kind is the type given by the path, or "" to take
// the type from the event. It checks that the JSON is well-formed as it goes;
// depth is the nesting of the event's members.
// prev is the event before it in the batch, or nil: strings equal to its
// (ids, the write key, the event name) are shared rather than copied again.
func decodeItem(m *Message, d []byte, i int, kind string, depth int, prev *Message) (int, error) {
	var p Message
	if prev != nil {
		p = *prev
	}
	var err error
	fail := func(field, reason string) int {
		err = &errs.Invalid{Field: field, Reason: reason}
		return -1
	}
	end := jsonscan.WalkMembers(d, i, func(k []byte, vs int) int {
		var ve int
		switch {
		case d[vs] == '{' && keyIs(k, "context"):
			// Checked member by member, noting the parts the mapping reads.
			var c contextInfo
			ve = jsonscan.WalkMembers(d, vs, func(k2 []byte, s int) int {
				e := jsonscan.CheckValue(d, s, depth+1)
				if e >= 0 {
					c.note(k2, d[s:e])
				}
				return e
			})
			m.noted.ctx = c
		default:
			ve = jsonscan.CheckValue(d, vs, depth)
		}
		if ve < 0 {
			return -1
		}
		v := d[vs:ve]
		name := k
		if len(name) >= 2 {
			name = name[1 : len(name)-1]
		}
		if containsBackslash(name) {
			name = []byte(keyName(k))
		}
		var ok bool
		switch string(name) {
		case "type":
			if kind == "" {
				if m.Type, ok = typeName(v); !ok {
					return fail("type", badString)
				}
			}
		case "messageId":
			if m.MessageID, ok = flexString(v); !ok {
				return fail("messageId", badID)
			}
		case "userId":
			if m.UserID, ok = reuseID(v, p.UserID); !ok {
				return fail("userId", badID)
			}
		case "anonymousId":
			if m.AnonymousID, ok = reuseID(v, p.AnonymousID); !ok {
				return fail("anonymousId", badID)
			}
		case "previousId":
			if m.PreviousID, ok = flexString(v); !ok {
				return fail("previousId", badID)
			}
		case "groupId":
			if m.GroupID, ok = flexString(v); !ok {
				return fail("groupId", badID)
			}
		case "event":
			if m.Event, ok = reuseString(v, p.Event); !ok {
				return fail("event", badString)
			}
		case "name":
			if m.Name, ok = reuseString(v, p.Name); !ok {
				return fail("name", badString)
			}
		case "category":
			if m.Category, ok = reuseString(v, p.Category); !ok {
				return fail("category", badString)
			}
		case "writeKey":
			if m.WriteKey, ok = reuseString(v, p.WriteKey); !ok {
				return fail("writeKey", badString)
			}
		case "timestamp":
			if m.Timestamp, ok = parseTimeRaw(v); !ok {
				return fail("timestamp", badTime)
			}
		case "originalTimestamp":
			if m.OriginalTimestamp, ok = parseTimeRaw(v); !ok {
				return fail("originalTimestamp", badTime)
			}
		case "sentAt":
			if m.SentAt, ok = parseTimeRaw(v); !ok {
				return fail("sentAt", badTime)
			}
		case "receivedAt":
			if m.ReceivedAt, ok = parseTimeRaw(v); !ok {
				return fail("receivedAt", badTime)
			}
		case "context":
			if m.Context, ok = optObject(v); !ok {
				return fail("context", badObject)
			}
		case "integrations":
			if m.Integrations, ok = optObject(v); !ok {
				return fail("integrations", badObject)
			}
		case "properties":
			if m.Properties, ok = optObject(v); !ok {
				return fail("properties", badObject)
			}
		case "traits":
			if m.Traits, ok = optObject(v); !ok {
				return fail("traits", badObject)
			}
		}
		return ve
	})
	if err != nil {
		return -1, err
	}
	if end < 0 {
		return -1, errs.Invalidf("", "an event must be a JSON object")
	}
	if kind != "" {
		m.Type = kind
	}
	switch {
	case m.Type == "":
		return -1, errs.Invalidf("type", "is required: one of %s", strings.Join(Types, ", "))
	case !knownType(m.Type):
		return -1, errs.Invalidf("type", "%q is not a call type; one of %s", clip(m.Type, 64), strings.Join(Types, ", "))
	}
	switch m.Type {
	case "alias":
		if m.UserID == "" {
			return -1, errs.Invalidf("userId", "is required for alias")
		}
		if m.PreviousID == "" {
			return -1, errs.Invalidf("previousId", "is required for alias")
		}
		m.note()
		return end, nil
	case "track":
		if m.Event == "" {
			return -1, errs.Invalidf("event", "is required for track")
		}
	case "group":
		if m.GroupID == "" {
			return -1, errs.Invalidf("groupId", "is required for group")
		}
	}
	if m.UserID == "" && m.AnonymousID == "" {
		return -1, errs.Invalidf("userId", "userId or anonymousId is required")
	}
	m.note()
	return end, nil
}

// note finishes the notes of a decoded message.
func (m *Message) note() {
	if m.Context == nil {
		m.noted.ctx = contextInfo{}
	}
	m.noted.context, m.noted.ok = m.Context, true
}

func containsBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// typeName reads the type of a call, without allocating for the known ones.
func typeName(raw []byte) (string, bool) {
	if len(raw) > 2 && raw[0] == '"' {
		inner := string(raw[1 : len(raw)-1])
		for _, t := range Types {
			if inner == t {
				return t, true
			}
		}
	}
	return optString(raw)
}

// reuseString reads a string that may be null or absent, giving prev when the
// string is the same.
func reuseString(raw []byte, prev string) (string, bool) {
	if prev != "" && len(raw) == len(prev)+2 && raw[0] == '"' && string(raw[1:len(raw)-1]) == prev {
		return prev, true
	}
	return optString(raw)
}

// reuseID reads an id (see flexString), giving prev when it is the same.
func reuseID(raw []byte, prev string) (string, bool) {
	if prev != "" && len(raw) == len(prev)+2 && raw[0] == '"' && string(raw[1:len(raw)-1]) == prev {
		return prev, true
	}
	return flexString(raw)
}

// optString reads a string that may be null or absent.
func optString(raw []byte) (string, bool) {
	if isNull(raw) {
		return "", true
	}
	return unquote(raw)
}

// optObject reads an object that may be null or absent (nil then).
func optObject(raw []byte) (json.RawMessage, bool) {
	if isNull(raw) {
		return nil, true
	}
	if !isObject(raw) {
		return nil, false
	}
	return raw, true
}

// parseTimeRaw reads a JSON date-time string; null, absent and "" give the
// zero time.
func parseTimeRaw(raw []byte) (time.Time, bool) {
	if isNull(raw) {
		return time.Time{}, true
	}
	if len(raw) > 2 && raw[0] == '"' {
		if t, ok := parseRFC3339(raw[1 : len(raw)-1]); ok {
			return t, true
		}
	}
	s, ok := unquote(raw)
	if !ok {
		return time.Time{}, false
	}
	if s == "" {
		return time.Time{}, true
	}
	return parseTime(s)
}

// parseRFC3339 reads the common form YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
// straight from the bytes; ok is false for anything else (which parseTime
// may still take).
func parseRFC3339(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(b []byte) int {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(b[0:4]), num(b[5:7]), num(b[8:10])
	hour, min, sec := num(b[11:13]), num(b[14:16]), num(b[17:19])
	if year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
		min < 0 || min > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	i := 19
	nsec := 0
	if b[i] == '.' {
		i++
		start := i
		scale := 100000000
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			nsec += int(b[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return time.Time{}, false
		}
	}
	offset := 0
	switch rest := b[i:]; {
	case len(rest) == 1 && rest[0] == 'Z':
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		h, m := num(rest[1:3]), num(rest[4:6])
		if h < 0 || h > 23 || m < 0 || m > 59 {
			return time.Time{}, false
		}
		offset = (h*60 + m) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nsec, time.UTC)
	if t.Day() != day { // February 30th and the like
		return time.Time{}, false
	}
	return t.Add(-time.Duration(offset) * time.Second), true
}

// timeLayouts are the ISO 8601 forms taken besides RFC 3339: offsets without
// a colon or without minutes (+0000, +00, as Java and older iOS libraries
// write them), no offset at all (taken as UTC), no seconds, a date alone.
// Fractional seconds are accepted after the seconds in each.
var timeLayouts = []string{
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05Z07",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseTime reads an ISO 8601 date-time: RFC 3339 with or without fractional
// seconds, and the other forms that tracking libraries write.
func parseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if len(s) > 10 && (s[10] == ' ' || s[10] == 't') {
		s = s[:10] + "T" + s[11:]
	}
	if n := len(s); n > 0 && s[n-1] == 'z' {
		s = s[:n-1] + "Z"
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// merger merges a batch-level object (context, integrations) into the
// items' own: the batch's members that an item lacks are added to it, one
// level deep (a member the item has is the item's, whole).
type merger struct {
	raw     json.RawMessage // the batch object; nil when absent or empty
	names   []string        // its member names
	members [][]byte        // its members as `"key":value`
}

func newMerger(raw json.RawMessage) *merger {
	mg := &merger{}
	if !isObject(raw) {
		return mg
	}
	eachMember(raw, func(k, v []byte) bool {
		mg.names = append(mg.names, keyName(k))
		text := make([]byte, 0, len(k)+1+len(v))
		text = append(append(append(text, k...), ':'), v...)
		mg.members = append(mg.members, text)
		return true
	})
	if len(mg.names) > 0 {
		mg.raw = raw
	}
	return mg
}

// merge returns item with the batch's members added.
func (mg *merger) merge(item json.RawMessage) json.RawMessage {
	if mg.raw == nil {
		return item
	}
	if item == nil {
		return mg.raw
	}
	// Which batch members does the item have already?
	var small [64]bool
	have := small[:0]
	if len(mg.names) <= len(small) {
		have = small[:len(mg.names)]
	} else {
		have = make([]bool, len(mg.names))
	}
	empty := true
	eachMember(item, func(k, _ []byte) bool {
		empty = false
		for j, name := range mg.names {
			if !have[j] && keyEq(k, name) {
				have[j] = true
			}
		}
		return true
	})
	size := len(item)
	missing := false
	for j, text := range mg.members {
		if !have[j] {
			size += len(text) + 1
			missing = true
		}
	}
	if !missing {
		return item
	}
	end := len(item) - 1 // item is an object: it ends with '}'
	out := make([]byte, 0, size)
	out = append(out, item[:end]...)
	for j, text := range mg.members {
		if have[j] {
			continue
		}
		if !empty {
			out = append(out, ',')
		}
		empty = false
		out = append(out, text...)
	}
	return append(out, '}')
}

// clip cuts s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
