package segment

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

// Limits of the interaction fields filled from free text; longer values are
// cut (the whole value stays in the properties).
const (
	maxText       = 2000
	maxProperties = 32 << 10
)

// purchaseEvents are the Segment e-commerce events that record a purchase.
var purchaseEvents = map[string]bool{"Order Completed": true, "Checkout Completed": true}

// ToInputs turns decoded messages into interaction inputs for the contact
// point whose write key they came with, one input per message and in the same
// order, so that a refusal of input i is a refusal of message i.
// receivedAt is when the server received them, for the clock-skew correction.
func ToInputs(cp *contactpoint.ContactPoint, msgs []Message, receivedAt time.Time) []interaction.Input {
	src := Source(cp.ID)
	out := make([]interaction.Input, len(msgs))
	// The properties of all the events share one buffer.
	size := 0
	for i := range msgs {
		size += propertiesSize(&msgs[i])
	}
	arena := make([]byte, 0, size)
	for i := range msgs {
		toInput(&out[i], cp.ID, src, &msgs[i], receivedAt, &arena)
	}
	return out
}

// Source is the interaction source of the events of a contact point; with the
// messageId it makes an event idempotent.
func Source(cpID id.ID) string { return "segment:" + cpID.String() }

func toInput(in *interaction.Input, cpID id.ID, src string, m *Message, receivedAt time.Time, arena *[]byte) {
	in.ContactPointID = cpID
	in.Source = src
	in.ExternalID = m.MessageID
	in.OccurredAt = m.OccurredAt(receivedAt).UTC()
	if m.Type == "alias" {
		in.IdentifyOnly = true
		in.Identifiers = []customer.RawIdentifier{{Kind: "user_id", Value: m.UserID}}
		in.Alias = &customer.RawIdentifier{Kind: "user_id", Value: m.PreviousID}
		return
	}
	ctx := m.contextInfo()
	in.Identifiers = identifiers(m, &ctx, nil)

	switch m.Type {
	case "identify":
		in.IdentifyOnly = true
		in.Traits = identifyTraits(m, &ctx)
		return
	case "group":
		in.IdentifyOnly = true
		traits := objectMap(m.Traits)
		if traits == nil {
			traits = map[string]any{}
		}
		in.Traits = map[string]any{"groups": map[string]any{m.GroupID: traits}}
		return
	}

	in.Direction = interaction.Passive
	in.Properties = properties(m, arena)
	in.Campaign = campaign(ctx.campaign)
	props := readProperties(m.Properties)
	in.PromoCode = clip(props.promo(), maxText)
	switch m.Type {
	case "track":
		in.Kind = "event"
		in.Subject = clip(m.Event, maxText)
		if purchaseEvents[m.Event] {
			in.Kind = "purchase"
			in.Value = props.money()
		}
	case "page":
		in.Kind = "page_view"
		in.Subject = m.Name
		if in.Subject == "" {
			in.Subject, _ = unquote(props.title)
		}
		in.Subject = clip(in.Subject, maxText)
		in.Content, _ = unquote(props.url)
	case "screen":
		in.Kind = "screen_view"
		in.Subject = clip(m.Name, maxText)
	}
}

// contextInfo holds the raw parts of a context that the mapping reads; nil
// when the context has no such member.
type contextInfo struct {
	traits, externalIDs, device, campaign []byte
}

// note keeps v when k is one of the members that contextInfo holds.
func (c *contextInfo) note(k, v []byte) {
	switch {
	case keyIs(k, "traits"):
		c.traits = v
	case keyIs(k, "externalIds"):
		c.externalIDs = v
	case keyIs(k, "device"):
		c.device = v
	case keyIs(k, "campaign"):
		c.campaign = v
	}
}

// fill takes from c2 the members that c lacks: the merge of a batch's context
// into an item's.
func (c *contextInfo) fill(c2 *contextInfo) {
	if c.traits == nil {
		c.traits = c2.traits
	}
	if c.externalIDs == nil {
		c.externalIDs = c2.externalIDs
	}
	if c.device == nil {
		c.device = c2.device
	}
	if c.campaign == nil {
		c.campaign = c2.campaign
	}
}

func readContext(raw []byte) contextInfo {
	var c contextInfo
	eachMember(raw, func(k, v []byte) bool {
		c.note(k, v)
		return true
	})
	return c
}

// contextInfo returns the parts of the context that the mapping reads, as
// found while decoding, or by reading the context now for a message that was
// not decoded (or was changed since).
func (m *Message) contextInfo() contextInfo {
	if m.noted.ok && sameSlice(m.Context, m.noted.context) {
		return m.noted.ctx
	}
	return readContext(m.Context)
}

// identifiers lists what identifies the customer of m. When origins is not
// nil, it gets the field each identifier came from, in the same order.
func identifiers(m *Message, ctx *contextInfo, origins *[]string) []customer.RawIdentifier {
	out := make([]customer.RawIdentifier, 0, 4)
	// add appends an identifier; origin (with [index] when index >= 0) is
	// built only when asked for.
	add := func(kind, value, origin string, index int) {
		if value == "" {
			return
		}
		for _, r := range out {
			if r.Kind == kind && r.Value == value {
				return
			}
		}
		out = append(out, customer.RawIdentifier{Kind: kind, Value: value})
		if origins != nil {
			if index >= 0 {
				origin += "[" + strconv.Itoa(index) + "]"
			}
			*origins = append(*origins, origin)
		}
	}
	add("user_id", m.UserID, "userId", -1)
	add("anonymous_id", m.AnonymousID, "anonymousId", -1)
	traitIDs := func(obj []byte, email, phone string) {
		if !isObject(obj) {
			return
		}
		eachMember(obj, func(k, v []byte) bool {
			switch {
			case keyIs(k, "email"):
				s, _ := unquote(v)
				add("email", s, email, -1)
			case keyIs(k, "phone"):
				s, _ := flexString(v)
				add("phone", s, phone, -1)
			}
			return true
		})
	}
	traitIDs(m.Traits, "traits.email", "traits.phone")
	traitIDs(ctx.traits, "context.traits.email", "context.traits.phone")
	eachElement(ctx.externalIDs, func(i int, el []byte) bool {
		var kind, value string
		eachMember(el, func(k, v []byte) bool {
			switch {
			case keyIs(k, "type"):
				kind, _ = unquote(v)
			case keyIs(k, "id"):
				value, _ = flexString(v)
			}
			return true
		})
		if kind != "" {
			add(kind, value, "context.externalIds", i)
		}
		return true
	})
	if isObject(ctx.device) {
		eachMember(ctx.device, func(k, v []byte) bool {
			switch {
			case keyIs(k, "id"):
				s, _ := flexString(v)
				add("device_id", s, "context.device.id", -1)
			case keyIs(k, "advertisingId"):
				s, _ := flexString(v)
				add("device_id", s, "context.device.advertisingId", -1)
			}
			return true
		})
	}
	return out
}

// identifyTraits are the traits of an identify call: those the client keeps
// on the user (context.traits) overridden by the call's own.
func identifyTraits(m *Message, ctx *contextInfo) map[string]any {
	traits := objectMap(ctx.traits)
	own := objectMap(m.Traits)
	if traits == nil {
		return own
	}
	for k, v := range own {
		traits[k] = v
	}
	return traits
}

// objectMap decodes a JSON object, or gives nil.
func objectMap(raw []byte) map[string]any {
	if !isObject(raw) {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// properties is what an interaction keeps of the event: its properties and
// context, as {"properties": ..., "context": ...}, built without re-encoding,
// at the end of *arena (with its capacity cut, so that appending to one does
// not overwrite the next). Should that be over the interaction's limit (a
// merged batch context can make it so), the context is left out.
func properties(m *Message, arena *[]byte) json.RawMessage {
	p, withContext, size := propertiesParts(m)
	if size > maxProperties {
		return json.RawMessage(`{"properties":{},"truncated":true}`)
	}
	a := *arena
	if cap(a)-len(a) < size {
		a = make([]byte, 0, size)
	}
	start := len(a)
	a = append(append(a, propsHead...), p...)
	if withContext {
		a = append(append(a, propsMid...), m.Context...)
	}
	a = append(a, '}')
	*arena = a
	return json.RawMessage(a[start:len(a):len(a)])
}

const propsHead, propsMid = `{"properties":`, `,"context":`

// propertiesParts says what properties will hold and its size.
func propertiesParts(m *Message) (p []byte, withContext bool, size int) {
	p = m.Properties
	if p == nil {
		p = []byte("{}")
	}
	size = len(propsHead) + len(p) + 1
	withContext = m.Context != nil && size+len(propsMid)+len(m.Context) <= maxProperties
	if withContext {
		size += len(propsMid) + len(m.Context)
	}
	return p, withContext, size
}

// propertiesSize is the size properties will have, or 0 for calls that
// record no interaction.
func propertiesSize(m *Message) int {
	switch m.Type {
	case "track", "page", "screen":
		_, _, size := propertiesParts(m)
		if size <= maxProperties {
			return size
		}
	}
	return 0
}

// campaign reads context.campaign, in Segment's spelling (name, source,
// medium, term, content) or in UTM parameter names.
func campaign(raw []byte) interaction.Campaign {
	var c interaction.Campaign
	if !isObject(raw) {
		return c
	}
	eachMember(raw, func(k, v []byte) bool {
		var dst *string
		name := k
		if len(name) >= 2 {
			name = name[1 : len(name)-1]
		}
		if containsBackslash(name) {
			name = []byte(keyName(k))
		}
		switch string(name) {
		case "name", "utm_campaign", "campaign":
			dst = &c.Name
		case "source", "utm_source":
			dst = &c.Source
		case "medium", "utm_medium":
			dst = &c.Medium
		case "term", "utm_term", "keyword":
			dst = &c.Term
		case "content", "utm_content":
			dst = &c.Content
		default:
			return true
		}
		if s, ok := flexString(v); ok && *dst == "" {
			*dst = clip(s, maxText)
		}
		return true
	})
	return c
}

// propertyInfo holds the raw properties that the mapping reads; nil when
// absent.
type propertyInfo struct {
	revenue, total, currency, coupon, promoCode, title, url []byte
}

// note keeps v when k is one of the properties that propertyInfo holds.
// (Properties are small: unlike the context, they are read when mapping.)
func (p *propertyInfo) note(k, v []byte) {
	switch {
	case keyIs(k, "revenue"):
		p.revenue = v
	case keyIs(k, "total"):
		p.total = v
	case keyIs(k, "currency"):
		p.currency = v
	case keyIs(k, "coupon"):
		p.coupon = v
	case keyIs(k, "promo_code"):
		p.promoCode = v
	case keyIs(k, "title"):
		p.title = v
	case keyIs(k, "url"):
		p.url = v
	}
}

func readProperties(raw []byte) propertyInfo {
	var p propertyInfo
	eachMember(raw, func(k, v []byte) bool {
		p.note(k, v)
		return true
	})
	return p
}

// promo is the coupon, else the promo code.
func (p *propertyInfo) promo() string {
	if s, _ := flexString(p.coupon); s != "" {
		return s
	}
	s, _ := flexString(p.promoCode)
	return s
}

// money is the value of a purchase: properties.revenue, else properties.total,
// in major units of properties.currency (default USD). It is nil when there is
// no usable amount or the currency is not an ISO 4217 code; the properties
// keep what was sent either way.
func (p *propertyInfo) money() *interaction.Money {
	amount, ok := amountOf(p.revenue)
	if !ok {
		if amount, ok = amountOf(p.total); !ok {
			return nil
		}
	}
	cur, _ := unquote(p.currency)
	cur = strings.ToUpper(strings.TrimSpace(cur))
	if cur == "" {
		cur = "USD"
	}
	if len(cur) != 3 || !isUpperASCII(cur) {
		return nil
	}
	minor := math.Round(amount * math.Pow10(minorDigits(cur)))
	if math.IsNaN(minor) || math.Abs(minor) > 1<<53 {
		return nil
	}
	return &interaction.Money{Minor: int64(minor), Currency: cur}
}

// amountOf reads a number, or a string holding one.
func amountOf(raw []byte) (float64, bool) {
	if isNull(raw) {
		return 0, false
	}
	s := string(raw)
	if raw[0] == '"' {
		var ok bool
		if s, ok = unquote(raw); !ok {
			return 0, false
		}
		s = strings.TrimSpace(s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func isUpperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// minorDigits is how many decimal digits the minor unit of an ISO 4217
// currency has: 2 for most, 0 for the yen and the like, 3 for the dinars.
func minorDigits(cur string) int {
	switch cur {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
		"UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	case "CLF", "UYW":
		return 4
	}
	return 2
}
