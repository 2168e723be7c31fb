package email

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/touchpoint-hub/touchpoint/internal/richtext"
)

// Outbound is a message an agent sends from a contact point.
type Outbound struct {
	// From is the contact point's mailbox, its Name the company's
	// ("Acme Support" <support@acme.example>). Replies go back to it.
	From Address
	// AgentName, when set, is shown as "AgentName via From.Name".
	AgentName string
	To        []Address
	Cc        []Address
	// Subject of the message; for a reply, "Re: " is added once.
	Subject string
	// CaseID puts the case token in the subject (see WithCaseToken).
	CaseID string
	// InReplyTo is the Message-ID of the message answered (no brackets),
	// empty for a new thread; References are that message's References
	// (or its In-Reply-To when it has none).
	InReplyTo  string
	References []string
	// Text is the body; HTML, when empty, is made from Text. When only HTML
	// is given, Text is made from it.
	Text string
	HTML string
	// Attachments to send. One with a ContentID is an inline image that
	// HTML refers to as "cid:<ContentID>".
	Attachments []Attachment
	// Date defaults to now; MessageID (no brackets) defaults to a random id
	// on From's domain.
	Date      time.Time
	MessageID string
	// AutoSubmitted marks an automatic message (an acknowledgement), so
	// that other robots do not answer it (RFC 3834).
	AutoSubmitted bool
}

func invalid(field, reason string) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, field, reason)
}

// Compose writes out as a MIME message ready for SMTP: headers, a
// multipart/alternative text and HTML body, inline images in a
// multipart/related and attachments in a multipart/mixed. It returns the
// message; its Message-ID is the one given or the one made (parse it back,
// or set Outbound.MessageID, to store it).
func Compose(out Outbound) ([]byte, error) {
	from, err := checkAddr("from", out.From)
	if err != nil {
		return nil, err
	}
	if out.AgentName = cleanLine(out.AgentName); out.AgentName != "" {
		if from.Name != "" {
			from.Name = out.AgentName + " via " + from.Name
		} else {
			from.Name = out.AgentName
		}
	}
	if len(out.To)+len(out.Cc) == 0 {
		return nil, invalid("to", "no recipient")
	}
	to, err := checkAddrs("to", out.To)
	if err != nil {
		return nil, err
	}
	cc, err := checkAddrs("cc", out.Cc)
	if err != nil {
		return nil, err
	}
	_, domain, _ := strings.Cut(from.Address, "@")

	subject := cleanLine(out.Subject)
	if out.InReplyTo != "" {
		subject = ReplySubject(subject)
	}
	subject = WithCaseToken(subject, out.CaseID)

	id := strings.Trim(strings.TrimSpace(out.MessageID), "<>")
	if id == "" {
		if id, err = newMessageID(domain); err != nil {
			return nil, err
		}
	} else if strings.ContainsAny(id, " \t\r\n<>") || !strings.Contains(id, "@") {
		return nil, invalid("message_id", "not a message id")
	}
	date := out.Date
	if date.IsZero() {
		date = time.Now()
	}

	var h message.Header
	h.Set("MIME-Version", "1.0")
	h.Set("Date", date.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	h.Set("From", from.String())
	h.Set("To", joinAddrs(to))
	if len(cc) > 0 {
		h.Set("Cc", joinAddrs(cc))
	}
	h.Set("Subject", mime.QEncoding.Encode("utf-8", subject))
	h.Set("Message-ID", "<"+id+">")
	if parent := strings.Trim(strings.TrimSpace(out.InReplyTo), "<>"); parent != "" {
		if strings.ContainsAny(parent, " \t\r\n<>") {
			return nil, invalid("in_reply_to", "not a message id")
		}
		h.Set("In-Reply-To", "<"+parent+">")
		h.Set("References", "<"+strings.Join(replyReferences(out.References, parent), "> <")+">")
	}
	if out.AutoSubmitted {
		h.Set("Auto-Submitted", "auto-replied")
	}

	text, htmlBody := out.Text, out.HTML
	switch {
	case strings.TrimSpace(text) == "" && strings.TrimSpace(htmlBody) == "":
		return nil, invalid("text", "empty body")
	case strings.TrimSpace(htmlBody) == "":
		htmlBody = `<div dir="auto">` + string(richtext.Text(text)) + `</div>`
	case strings.TrimSpace(text) == "":
		text = richtext.PlainFromHTML(htmlBody)
	}
	text = strings.ReplaceAll(normalizeNewlines(text), "\n", "\r\n")
	htmlBody = "<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"></head><body>" + htmlBody + "</body></html>\r\n"

	var inline, files []Attachment
	for i, a := range out.Attachments {
		if len(a.Data) == 0 {
			return nil, invalid(fmt.Sprintf("attachments[%d]", i), "empty")
		}
		if a.ContentID != "" {
			inline = append(inline, a)
		} else {
			files = append(files, a)
		}
	}

	var buf bytes.Buffer
	top := "multipart/alternative"
	if len(files) > 0 {
		top = "multipart/mixed"
	}
	h.Set("Content-Type", top)
	w, err := message.CreateWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	alt := w
	if len(files) > 0 {
		var ah message.Header
		ah.Set("Content-Type", "multipart/alternative")
		if alt, err = w.CreatePart(ah); err != nil {
			return nil, err
		}
	}
	if err := writeLeaf(alt, "text/plain; charset=utf-8", "quoted-printable", "", []byte(text)); err != nil {
		return nil, err
	}
	htmlW := alt
	if len(inline) > 0 {
		var rh message.Header
		rh.Set("Content-Type", `multipart/related; type="text/html"`)
		if htmlW, err = alt.CreatePart(rh); err != nil {
			return nil, err
		}
	}
	if err := writeLeaf(htmlW, "text/html; charset=utf-8", "quoted-printable", "", []byte(htmlBody)); err != nil {
		return nil, err
	}
	for i, a := range inline {
		if err := writeAttachment(htmlW, a, "inline"); err != nil {
			return nil, fmt.Errorf("attachments[%d]: %w", i, err)
		}
	}
	if htmlW != alt {
		if err := htmlW.Close(); err != nil {
			return nil, err
		}
	}
	if alt != w {
		if err := alt.Close(); err != nil {
			return nil, err
		}
	}
	for i, a := range files {
		if err := writeAttachment(w, a, "attachment"); err != nil {
			return nil, fmt.Errorf("attachments[%d]: %w", i, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeLeaf(w *message.Writer, ctype, enc, disp string, data []byte) error {
	var h message.Header
	h.Set("Content-Type", ctype)
	h.Set("Content-Transfer-Encoding", enc)
	if disp != "" {
		h.Set("Content-Disposition", disp)
	}
	pw, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := pw.Write(data); err != nil {
		return err
	}
	return pw.Close()
}

func writeAttachment(w *message.Writer, a Attachment, disp string) error {
	ct := strings.ToLower(strings.TrimSpace(a.ContentType))
	if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" || strings.Contains(ct, ";") {
		ct = "application/octet-stream"
	}
	name := cleanFilename(a.Filename)
	if name == "" {
		name = "attachment"
	}
	var h message.Header
	// mime.FormatMediaType writes RFC 2231 for non-ASCII names.
	h.Set("Content-Type", mime.FormatMediaType(ct, map[string]string{"name": name}))
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": name}))
	h.Set("Content-Transfer-Encoding", "base64")
	if a.ContentID != "" {
		cid := strings.Trim(strings.TrimSpace(a.ContentID), "<>")
		if cid == "" || strings.ContainsAny(cid, " \t\r\n<>") {
			return invalid("content_id", "not a content id")
		}
		h.Set("Content-ID", "<"+cid+">")
	}
	pw, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := pw.Write(a.Data); err != nil {
		return err
	}
	return pw.Close()
}

func checkAddr(field string, a Address) (*mail.Address, error) {
	addr := strings.TrimSpace(a.Email)
	parsed, err := mail.ParseAddress(addr)
	if err != nil || parsed.Address != addr || !strings.Contains(addr, "@") {
		return nil, invalid(field, "not an email address")
	}
	return &mail.Address{Name: cleanLine(a.Name), Address: addr}, nil
}

func checkAddrs(field string, l []Address) ([]*mail.Address, error) {
	out := make([]*mail.Address, 0, len(l))
	for i, a := range l {
		m, err := checkAddr(fmt.Sprintf("%s[%d]", field, i), a)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func joinAddrs(l []*mail.Address) string {
	s := make([]string, len(l))
	for i, a := range l {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// newMessageID makes a random id on the sender's domain: 80 random bits
// are enough that two never meet.
func newMessageID(domain string) (string, error) {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "tp." + strings.ToLower(base32.StdEncoding.EncodeToString(b[:])) + "@" + domain, nil
}
