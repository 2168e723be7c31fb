package interaction

import (
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/jsonout"
)

// AppendJSON appends the interaction as JSON, field for field what its struct
// tags say (TestAppendJSONMatchesTags holds the two together). The timeline
// is the API's most read response, and encoding/json's reflection and its
// re-scan of the properties were a fifth of its CPU.
func (it *Interaction) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = jsonout.Quoted(b, int64(it.ID))
	b = append(b, `,"customer_id":`...)
	b = jsonout.Quoted(b, int64(it.CustomerID))
	b = append(b, `,"contact_point_id":`...)
	if it.ContactPointID != nil {
		b = jsonout.Quoted(b, int64(*it.ContactPointID))
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"kind":`...)
	b = jsonout.String(b, it.Kind)
	b = append(b, `,"direction":`...)
	b = jsonout.String(b, it.Direction)
	b = append(b, `,"occurred_at":`...)
	b = jsonout.Time(b, it.OccurredAt)
	if it.DurationMS != nil {
		b = append(b, `,"duration_ms":`...)
		b = jsonout.Int(b, *it.DurationMS)
	}
	b = optID(b, `,"staff_id":`, it.StaffID)
	b = optString(b, `,"staff_name":`, it.StaffName)
	b = optID(b, `,"case_id":`, it.CaseID)
	b = optString(b, `,"reason":`, it.Reason)
	b = optString(b, `,"outcome":`, it.Outcome)
	b = optString(b, `,"subject":`, it.Subject)
	b = optString(b, `,"content":`, it.Content)
	b = optString(b, `,"summary":`, it.Summary)
	if it.Sentiment != nil {
		b = append(b, `,"sentiment":`...)
		b = jsonout.Float(b, *it.Sentiment)
	}
	if it.Rating != nil {
		b = append(b, `,"rating":`...)
		b = jsonout.Int(b, int64(*it.Rating))
	}
	if it.Value != nil {
		b = append(b, `,"value":{"minor":`...)
		b = jsonout.Int(b, it.Value.Minor)
		b = append(b, `,"currency":`...)
		b = jsonout.String(b, it.Value.Currency)
		b = append(b, '}')
	}
	b = append(b, `,"campaign":{`...)
	n := len(b)
	b = optString(b, `,"name":`, it.Campaign.Name)
	b = optString(b, `,"source":`, it.Campaign.Source)
	b = optString(b, `,"medium":`, it.Campaign.Medium)
	b = optString(b, `,"term":`, it.Campaign.Term)
	b = optString(b, `,"content":`, it.Campaign.Content)
	if len(b) > n {
		// The first member written began with a comma.
		b = append(b[:n], b[n+1:]...)
	}
	b = append(b, '}')
	b = optString(b, `,"promo_code":`, it.PromoCode)
	b = optString(b, `,"journey_stage":`, it.JourneyStage)
	b = append(b, `,"properties":`...)
	b = jsonout.Raw(b, it.Properties)
	b = append(b, `,"source":`...)
	b = jsonout.String(b, it.Source)
	b = optString(b, `,"external_id":`, it.ExternalID)
	b = append(b, `,"received_at":`...)
	b = jsonout.Time(b, it.ReceivedAt)
	b = optString(b, `,"delivery_status":`, it.DeliveryStatus)
	return append(b, '}')
}

// MarshalJSON makes every other response that carries an interaction
// (GET /api/v1/interactions/{id}) say the same as the timeline.
func (it Interaction) MarshalJSON() ([]byte, error) {
	return it.AppendJSON(make([]byte, 0, 512)), nil
}

// AppendJSON appends the page as JSON.
func (p *Page) AppendJSON(b []byte) []byte {
	b = append(b, `{"items":[`...)
	for i, it := range p.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = it.AppendJSON(b)
	}
	b = append(b, ']')
	b = optString(b, `,"next_cursor":`, p.NextCursor)
	return append(b, '}')
}

func optString(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, key...)
	return jsonout.String(b, v)
}

func optID(b []byte, key string, v *id.ID) []byte {
	if v == nil {
		return b
	}
	b = append(b, key...)
	return jsonout.Quoted(b, int64(*v))
}
