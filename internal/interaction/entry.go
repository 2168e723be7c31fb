package interaction

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// entry is one acknowledged batch as the ingest journal keeps it: the
// validated inputs, when they were received, and the customer each was
// promised.
type entry struct {
	at       time.Time // received
	token    uint64    // releases the batch's promises once stored
	inputs   []Input
	promised []id.ID
}

// entryVersion starts every encoded entry, so that a later format can
// still read journals written by this one.
const entryVersion = 1

// Presence bits of an input's optional fields.
const (
	hasDuration = 1 << iota
	hasStaff
	hasCase
	hasSentiment
	hasRating
	hasValue
	hasProperties
	noCase
)

// journalable tells whether an input can go through the journal: the
// journal keeps the fields of an interaction, not traits, aliases or
// callbacks, which need the store at once.
func journalable(in *Input) bool {
	return !in.IdentifyOnly && in.Alias == nil && len(in.Traits) == 0 && in.CustomerID == 0 && in.Then == nil
}

// appendEntry encodes e after b: varints and length-prefixed strings, about
// as compact as the request and much cheaper to write and read than JSON.
func appendEntry(b []byte, e *entry) []byte {
	// Sized once: growing the buffer field by field cost more than encoding.
	size := 32
	for i := range e.inputs {
		in := &e.inputs[i]
		size += 128 + len(in.Content) + len(in.Properties) + len(in.Subject) + len(in.Source) + len(in.ExternalID) +
			len(in.Campaign.Name) + len(in.Campaign.Source) + len(in.Campaign.Medium) + len(in.Campaign.Term) + len(in.Campaign.Content)
		for _, r := range in.Identifiers {
			size += len(r.Kind) + len(r.Value) + 4
		}
	}
	b = slices.Grow(b, size)
	b = append(b, entryVersion)
	b = binary.AppendVarint(b, e.at.UnixMicro())
	b = binary.AppendUvarint(b, e.token)
	b = binary.AppendUvarint(b, uint64(len(e.inputs)))
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for i := range e.inputs {
		in := &e.inputs[i]
		b = binary.AppendUvarint(b, uint64(e.promised[i]))
		b = binary.AppendUvarint(b, uint64(len(in.Identifiers)))
		for _, r := range in.Identifiers {
			str(r.Kind)
			str(r.Value)
		}
		b = binary.AppendUvarint(b, uint64(in.ContactPointID))
		for _, s := range []string{in.Kind, in.Direction, in.StaffName, in.Reason, in.Outcome, in.Subject, in.Content,
			in.Summary, in.Campaign.Name, in.Campaign.Source, in.Campaign.Medium, in.Campaign.Term, in.Campaign.Content,
			in.PromoCode, in.JourneyStage, in.Source, in.ExternalID, in.DeliveryStatus} {
			str(s)
		}
		b = binary.AppendVarint(b, in.OccurredAt.UnixMicro())
		var flags byte
		if in.DurationMS != nil {
			flags |= hasDuration
		}
		if in.StaffID != nil {
			flags |= hasStaff
		}
		if in.CaseID != nil {
			flags |= hasCase
		}
		if in.Sentiment != nil {
			flags |= hasSentiment
		}
		if in.Rating != nil {
			flags |= hasRating
		}
		if in.Value != nil {
			flags |= hasValue
		}
		if in.Properties != nil {
			flags |= hasProperties
		}
		if in.NoCase {
			flags |= noCase
		}
		b = append(b, flags)
		if in.DurationMS != nil {
			b = binary.AppendVarint(b, *in.DurationMS)
		}
		if in.StaffID != nil {
			b = binary.AppendUvarint(b, uint64(*in.StaffID))
		}
		if in.CaseID != nil {
			b = binary.AppendUvarint(b, uint64(*in.CaseID))
		}
		if in.Sentiment != nil {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(*in.Sentiment))
		}
		if in.Rating != nil {
			b = binary.AppendVarint(b, int64(*in.Rating))
		}
		if in.Value != nil {
			b = binary.AppendVarint(b, in.Value.Minor)
			str(in.Value.Currency)
		}
		if in.Properties != nil {
			// Appended as bytes: a string conversion here copied every
			// event's properties once more.
			b = binary.AppendUvarint(b, uint64(len(in.Properties)))
			b = append(b, in.Properties...)
		}
	}
	return b
}

// errEntry is returned for bytes that are not an entry this version wrote.
var errEntry = errors.New("not a journal entry")

// entryReader reads an encoded entry; the first fault sticks.
type entryReader struct {
	b   []byte
	err error
}

func (r *entryReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s", errEntry, what)
	}
}

func (r *entryReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *entryReader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *entryReader) str(what string) string {
	n := r.uvarint(what)
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.fail(what)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *entryReader) byte(what string) byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail(what)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// decodeEntry reads what appendEntry wrote. It never panics on other bytes
// (fuzzed), and refuses counts the bytes cannot hold.
func decodeEntry(b []byte) (*entry, error) {
	r := &entryReader{b: b}
	if v := r.byte("version"); r.err == nil && v != entryVersion {
		return nil, fmt.Errorf("%w: version %d", errEntry, v)
	}
	e := &entry{}
	e.at = time.UnixMicro(r.varint("time")).UTC()
	e.token = r.uvarint("token")
	n := r.uvarint("count")
	if r.err == nil && (n > MaxBatch || n > uint64(len(r.b))) {
		r.fail("count")
	}
	if r.err != nil {
		return nil, r.err
	}
	e.inputs = make([]Input, n)
	e.promised = make([]id.ID, n)
	for i := range e.inputs {
		in := &e.inputs[i]
		e.promised[i] = id.ID(r.uvarint("promised customer"))
		k := r.uvarint("identifier count")
		if r.err == nil && k > uint64(len(r.b)) {
			r.fail("identifier count")
		}
		if r.err != nil {
			return nil, r.err
		}
		in.Identifiers = make([]customer.RawIdentifier, k)
		for j := range in.Identifiers {
			in.Identifiers[j] = customer.RawIdentifier{Kind: r.str("identifier"), Value: r.str("identifier")}
		}
		in.ContactPointID = id.ID(r.uvarint("contact point"))
		for _, p := range []*string{&in.Kind, &in.Direction, &in.StaffName, &in.Reason, &in.Outcome, &in.Subject, &in.Content,
			&in.Summary, &in.Campaign.Name, &in.Campaign.Source, &in.Campaign.Medium, &in.Campaign.Term, &in.Campaign.Content,
			&in.PromoCode, &in.JourneyStage, &in.Source, &in.ExternalID, &in.DeliveryStatus} {
			*p = r.str("text field")
		}
		in.OccurredAt = time.UnixMicro(r.varint("occurred_at")).UTC()
		flags := r.byte("flags")
		if flags&hasDuration != 0 {
			v := r.varint("duration")
			in.DurationMS = &v
		}
		if flags&hasStaff != 0 {
			v := id.ID(r.uvarint("staff"))
			in.StaffID = &v
		}
		if flags&hasCase != 0 {
			v := id.ID(r.uvarint("case"))
			in.CaseID = &v
		}
		if flags&hasSentiment != 0 {
			if len(r.b) < 8 {
				r.fail("sentiment")
			} else {
				v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
				r.b = r.b[8:]
				in.Sentiment = &v
			}
		}
		if flags&hasRating != 0 {
			v := int(r.varint("rating"))
			in.Rating = &v
		}
		if flags&hasValue != 0 {
			in.Value = &Money{Minor: r.varint("value")}
			in.Value.Currency = r.str("currency")
		}
		if flags&hasProperties != 0 {
			in.Properties = []byte(r.str("properties"))
		}
		in.NoCase = flags&noCase != 0
		if r.err != nil {
			return nil, r.err
		}
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last input", errEntry, len(r.b))
	}
	return e, nil
}
