package help

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

// contactData fills the contact page: the forms' values after an error,
// and a token that makes a double submit one contact.
type contactData struct {
	Token   string
	Form    string // which form the error is about: callback or email
	Error   string
	Name    string
	Phone   string
	When    string
	Email   string
	Subject string
	Message string
	Done    string // callback or email after a successful submit
}

func (h *Handler) contact(w http.ResponseWriter, r *http.Request) {
	s, loc, vis, ok := h.begin(w, r)
	if !ok {
		return
	}
	h.view(r, s, vis, "Contact us", nil)
	h.render(w, r, http.StatusOK, "contact", page{Title: "Contact us", Lang: loc, HasChat: s.chat != nil,
		Data: contactData{Token: randomHex(12), Done: r.URL.Query().Get("sent")}})
}

// chatPage hosts the chat widget of the web chat contact point (its
// allowed_origins must include the help center's origin).
func (h *Handler) chatPage(w http.ResponseWriter, r *http.Request) {
	s, loc, _, ok := h.begin(w, r)
	if !ok {
		return
	}
	if s.chat == nil {
		h.notFound(w, r)
		return
	}
	h.render(w, r, http.StatusOK, "chat", page{Title: "Chat with us", Lang: loc, HasChat: true, Data: s.chat.ID.String()})
}

func formText(r *http.Request, name string, max int) string {
	v := strings.TrimSpace(strings.ToValidUTF8(r.PostForm.Get(name), ""))
	if utf8.RuneCountInString(v) > max {
		v = string([]rune(v)[:max])
	}
	return v
}

func (h *Handler) callback(w http.ResponseWriter, r *http.Request) { h.contactForm(w, r, "callback") }
func (h *Handler) email(w http.ResponseWriter, r *http.Request)    { h.contactForm(w, r, "email") }

// contactForm records a callback request or an email as an inbound contact
// on the website contact point, so that it opens (or joins) the customer's
// case like any other. The visitor's anonymous id goes with the phone or
// email, so their earlier page views join the same customer.
func (h *Handler) contactForm(w http.ResponseWriter, r *http.Request, kind string) {
	if !h.allowPost(w, r) {
		return
	}
	s, loc, vis, ok := h.begin(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.badRequest(w, r, "The form could not be read.")
		return
	}
	d := contactData{Form: kind, Token: formText(r, "token", 64), Name: formText(r, "name", 200), Phone: formText(r, "phone", 40),
		When: formText(r, "when", 200), Email: formText(r, "email", 254), Subject: formText(r, "subject", 200), Message: formText(r, "message", 5000)}
	if _, err := hex.DecodeString(d.Token); err != nil || len(d.Token) != 24 {
		d.Token = randomHex(12)
	}
	again := func(msg string) {
		d.Error = msg
		h.render(w, r, http.StatusBadRequest, "contact", page{Title: "Contact us", Lang: loc, HasChat: s.chat != nil, Data: d})
	}
	idents := []customer.RawIdentifier{{Kind: "anonymous_id", Value: vis}}
	in := interaction.Input{Kind: kind, Direction: interaction.Inbound, OccurredAt: h.now()}
	switch kind {
	case "callback":
		if d.Phone == "" {
			again("Please give the phone number we should call.")
			return
		}
		idents = append(idents, customer.RawIdentifier{Kind: "phone", Value: d.Phone})
		in.Subject = "Callback request"
		in.Content = strings.TrimSpace("Please call me back" + prefixed(" (", d.When, ")") + ".\n\n" + d.Message)
	default:
		if d.Email == "" || !strings.Contains(d.Email, "@") {
			again("Please give your email address so that we can answer.")
			return
		}
		if d.Message == "" {
			again("Please write your message.")
			return
		}
		idents = append(idents, customer.RawIdentifier{Kind: "email", Value: d.Email})
		in.Subject = d.Subject
		if in.Subject == "" {
			in.Subject = "Message from the help center"
		}
		in.Content = d.Message
	}
	if s.web == nil {
		h.fail(w, r, errors.New("no website contact point to record the contact on"))
		return
	}
	in.Identifiers, in.ContactPointID = idents, s.web.ID
	in.Source, in.ExternalID = Source(s.web.ID), kind+":"+d.Token
	if d.Name != "" {
		in.Traits = map[string]any{"name": d.Name}
	}
	if _, err := h.interactions.Record(r.Context(), []interaction.Input{in}); err != nil {
		var bad *errs.Batch
		if errors.As(err, &bad) && len(bad.Items) > 0 {
			again(fieldMessage(bad.Items[0].Field))
			return
		}
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/help/contact?sent="+kind+"#sent", http.StatusSeeOther)
}

func prefixed(pre, v, post string) string {
	if v == "" {
		return ""
	}
	return pre + v + post
}

// fieldMessage says which entry to fix without echoing internals.
func fieldMessage(field string) string {
	switch {
	case strings.Contains(field, "identifiers"):
		return "Please check the phone number or email address."
	case strings.Contains(field, "traits"):
		return "Please check your name."
	}
	return "Please check your entries."
}
