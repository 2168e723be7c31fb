package desk

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

// attachment serves a file a customer mailed, to desk users who may read
// cases. Always as a download with the stored type and nosniff, so that
// HTML or SVG from a stranger never renders on the desk's origin.
func (d *Desk) attachment(w http.ResponseWriter, r *http.Request, v *viewer) {
	attID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if d.Mail == nil {
		d.fail(w, r, v, errs.NotFoundf("attachment %s", attID))
		return
	}
	a, err := d.Mail.Attachment(r.Context(), attID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if a.Data == nil {
		d.fail(w, r, v, errs.NotFoundf("attachment %s was over the size limit and not kept", attID))
		return
	}
	ct := a.ContentType
	if mt, _, err := mime.ParseMediaType(ct); err != nil || strings.Contains(mt, "html") || strings.Contains(mt, "svg") ||
		strings.Contains(mt, "xml") || strings.Contains(mt, "javascript") {
		ct = "application/octet-stream"
	}
	name := a.Filename
	if name == "" {
		name = "attachment-" + a.ID.String()
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(a.Data)))
	_, _ = w.Write(a.Data)
}
