package email

import (
	"regexp"
	"strings"
)

// CaseTokenPrefix starts the case token Touchpoint puts in subjects:
// "[#TP-123]". It threads replies from clients that drop In-Reply-To and
// References (some webmail, some phones, people starting a new message and
// pasting the subject).
const CaseTokenPrefix = "TP-"

var caseToken = regexp.MustCompile(`(?i)\[\s*#\s*TP-(\d{1,19})\s*\]`)

// CaseToken returns the case id in a subject's token. With several tokens
// (a message forwarded between cases) the last one wins: it is the one
// added most recently.
func CaseToken(subject string) (id string, ok bool) {
	all := caseToken.FindAllStringSubmatch(subject, -1)
	if len(all) == 0 {
		return "", false
	}
	return all[len(all)-1][1], true
}

// WithCaseToken returns subject carrying exactly one token, for case id, at
// its end. An id that is not a decimal number leaves the subject as it is.
func WithCaseToken(subject, id string) string {
	if id == "" || len(id) > 19 || strings.Trim(id, "0123456789") != "" {
		return subject
	}
	tok := "[#" + CaseTokenPrefix + id + "]"
	if got := caseToken.FindAllStringSubmatch(subject, -1); len(got) == 1 && got[0][1] == id {
		return subject
	}
	s := strings.Join(strings.Fields(caseToken.ReplaceAllString(subject, "")), " ")
	if s == "" {
		return tok
	}
	return s + " " + tok
}

// replyPrefix matches a reply prefix in the languages mail clients use,
// including counted forms like "Re[2]:" and "RE: " with odd spacing.
var replyPrefix = regexp.MustCompile(`(?i)^\s*(re|aw|sv|antw|vs|ref|réf|rif|odp|ynt|atb|vá|r)\s*(\[\d+\]|\(\d+\))?\s*[:：]`)

// ReplySubject is the subject of a reply: "Re: " in front unless the
// subject already starts with a reply prefix.
func ReplySubject(subject string) string {
	subject = strings.TrimSpace(subject)
	if replyPrefix.MatchString(subject) {
		return subject
	}
	return "Re: " + subject
}

// ThreadIDs lists the message ids to look up, in order, to find the thread
// (and so the case) a message belongs to: In-Reply-To first, then
// References newest first. Duplicates and the message's own id are left
// out.
func (m *Message) ThreadIDs() []string {
	seen := map[string]bool{m.MessageID: true, "": true}
	var ids []string
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, id := range m.InReplyTo {
		add(id)
	}
	for i := len(m.References) - 1; i >= 0; i-- {
		add(m.References[i])
	}
	return ids
}

// maxReferences bounds the References of a composed reply: the thread's
// first message and the newest ones (RFC 5322 §3.6.4 allows trimming, and
// some servers refuse very long header fields).
const maxReferences = 20

// replyReferences is the References of a reply to a message with the given
// references and id: the parent's references plus the parent.
func replyReferences(parentRefs []string, parentID string) []string {
	var refs []string
	seen := map[string]bool{}
	for _, r := range append(append([]string(nil), parentRefs...), parentID) {
		r = strings.Trim(strings.TrimSpace(r), "<>")
		if r == "" || seen[r] || strings.ContainsAny(r, " \t\r\n<>") {
			continue
		}
		seen[r] = true
		refs = append(refs, r)
	}
	if len(refs) > maxReferences {
		refs = append(refs[:1:1], refs[len(refs)-(maxReferences-1):]...)
	}
	return refs
}
