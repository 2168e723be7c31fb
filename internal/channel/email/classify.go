package email

import (
	"mime"
	"regexp"
	"strings"
)

// Kind says who or what sent a message. Only KindPerson messages belong
// in cases; the caller keeps the others out (and must never auto-reply to
// them, or two robots mail each other forever).
type Kind string

// Kinds of messages.
const (
	KindPerson    Kind = "person"
	KindAutoReply Kind = "auto_reply"
	KindBounce    Kind = "bounce"
	KindList      Kind = "list"
)

// oooSubject matches common out-of-office subjects. It is a weak signal:
// people write "Out of office until Monday?" too, so it counts only with
// another hint of automation.
var oooSubject = regexp.MustCompile(`(?i)^\s*(auto(matic)?[ -]?(reply|response)|autoreply|auto:|out of (the )?office|ooo\b|abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|absence|respuesta autom[áa]tica|risposta automatica|automatisch antwoord|resposta autom[áa]tica|autosvar|automaattinen vastaus|automatyczna odpowied[źz]|自動応答|自动回复|不在)`)

// Classify tells a person's message from an automatic reply, a bounce or
// list mail, from the headers that RFC 3834, RFC 3464, RFC 2369 and the
// common mail servers set. Bounces are checked first: many carry
// Auto-Submitted too.
func Classify(m *Message) Kind {
	h := m.Header
	get := func(k string) string { return strings.ToLower(strings.TrimSpace(h.Get(k))) }

	if mt, params, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil &&
		mt == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status") {
		return KindBounce
	}
	local, _, _ := strings.Cut(strings.ToLower(m.From.Email), "@")
	if local == "mailer-daemon" || local == "postmaster" || h.Get("X-Failed-Recipients") != "" {
		return KindBounce
	}

	if v := get("Auto-Submitted"); v != "" && v != "no" {
		return KindAutoReply
	}
	if h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" || h.Get("X-Autoresponse") != "" {
		return KindAutoReply
	}
	prec := get("Precedence")
	if prec == "auto_reply" {
		return KindAutoReply
	}
	// Weak hints: Exchange's suppression header and a null sender. A null
	// sender without an out-of-office subject is a bounce.
	if oooSubject.MatchString(m.Subject) &&
		(h.Get("X-Auto-Response-Suppress") != "" || nullSender(m) || prec == "bulk" || prec == "junk") {
		return KindAutoReply
	}
	if nullSender(m) {
		return KindBounce
	}

	if h.Get("List-Id") != "" || h.Get("List-Unsubscribe") != "" || h.Get("List-Post") != "" ||
		h.Get("X-Mailing-List") != "" || prec == "bulk" || prec == "list" || prec == "junk" {
		return KindList
	}
	return KindPerson
}

func nullSender(m *Message) bool {
	return m.HasReturnPath && (m.ReturnPath == "" || strings.EqualFold(m.ReturnPath, "mailer-daemon"))
}
