package desk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/channel/mailbox"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/outbox"
	"github.com/touchpoint-hub/touchpoint/internal/richtext"
)

// What the case timeline shows of channels: an email's formatted body and
// its attachments, and how a reply's delivery is going.

// channelPart is the channel-specific part of a timeline entry.
type channelPart struct {
	// HTML is the email's formatted body. The email package sanitized it
	// when the mail came in; it goes through richtext again here so that a
	// flaw or a change there cannot put live markup on the page.
	HTML        template.HTML
	Attachments []attachmentView
	// Of a reply that is retrying or failed: why, and when it is tried next.
	LastError   string
	Attempts    int
	NextAttempt *time.Time
	CanRetry    bool
}

type attachmentView struct {
	mailbox.AttachmentInfo
	SizeText string
}

// emailProps are the properties the email channel stores on a message.
type emailProps struct {
	HTML        string `json:"html"`
	Attachments int    `json:"attachments"`
}

// addChannelParts fills in the channel parts of the entries.
func (d *Desk) addChannelParts(ctx context.Context, v *viewer, entries []entry) error {
	var waiting []id.ID
	for i := range entries {
		it := entries[i].Interaction
		if it == nil {
			continue
		}
		if it.Direction == interaction.Outbound && (it.DeliveryStatus == outbox.Queued || it.DeliveryStatus == outbox.Failed) {
			waiting = append(waiting, it.ID)
		}
		// Only email stores these; skip the JSON of everything else.
		if !bytes.Contains(it.Properties, []byte(`"html"`)) && !bytes.Contains(it.Properties, []byte(`"attachments"`)) {
			continue
		}
		var p emailProps
		if json.Unmarshal(it.Properties, &p) != nil {
			continue
		}
		if p.HTML != "" {
			entries[i].HTML = richtext.HTML(p.HTML)
		}
		if p.Attachments > 0 && d.Mail != nil {
			atts, err := d.Mail.Attachments(ctx, it.ID)
			if err != nil {
				return err
			}
			for _, a := range atts {
				entries[i].Attachments = append(entries[i].Attachments, attachmentView{a, sizeText(a.Size)})
			}
		}
	}
	if len(waiting) == 0 || d.Outbox == nil {
		return nil
	}
	st, err := d.Outbox.Statuses(ctx, waiting)
	if err != nil {
		return err
	}
	canWrite := v.User.Role.Can(access.WriteCases)
	for i := range entries {
		it := entries[i].Interaction
		if it == nil {
			continue
		}
		if s := st[it.ID]; s != nil && s.LastError != "" {
			entries[i].LastError, entries[i].Attempts, entries[i].NextAttempt = s.LastError, s.Attempts, s.NextAttemptAt
			entries[i].CanRetry = canWrite && s.State == outbox.Failed
		}
	}
	return nil
}

func sizeText(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.0f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// retryDelivery queues a failed reply again.
func (d *Desk) retryDelivery(w http.ResponseWriter, r *http.Request, v *viewer) {
	caseID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	itID, err := id.Parse(r.PostFormValue("interaction_id"))
	if err != nil {
		d.fail(w, r, v, errInvalid("interaction_id", "is not an id"))
		return
	}
	if d.Outbox == nil {
		d.fail(w, r, v, errs.Conflictf("replies are not sent from this node"))
		return
	}
	if err := d.Outbox.Retry(r.Context(), itID); err != nil {
		d.fail(w, r, v, err)
		return
	}
	back(w, r, "/cases/"+caseID.String()+"#i-"+itID.String())
}
