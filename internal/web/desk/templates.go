package desk

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/richtext"
	"github.com/touchpoint-hub/touchpoint/internal/staffing"
)

// pageTemplates finds the page templates and parses each on first use,
// together with the layout and the partials, so each page defines its own
// "title", "content" and, where live, "live" blocks. Parsed, the pages are
// about 4 MB that a node serving only the API and the event API never needs;
// TestEveryPageParses parses them all.
func pageTemplates() map[string]func() (*template.Template, error) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err) // only a malformed pattern fails, and this one is constant
	}
	pages := map[string]func() (*template.Template, error){}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		pages[name] = sync.OnceValues(func() (*template.Template, error) {
			return template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", f)
		})
	}
	return pages
}

var channelNames = map[string]string{
	"phone": "Phone", "email": "Email", "web_chat": "Chat", "sms": "SMS", "whatsapp": "WhatsApp", "social": "Social",
	"website": "Website", "mobile_app": "App", "kiosk": "Kiosk", "store": "Store", "field_sales": "Field sales",
	"field_service": "Field service", "delivery": "Delivery", "billing": "Billing", "credit": "Credit",
	"collections": "Collections", "mail": "Mail", "advertising": "Advertising", "review_site": "Reviews",
	"word_of_mouth": "Word of mouth", "api": "API",
}

func labelText(s string) string {
	if s == "" {
		return "—"
	}
	s = strings.ReplaceAll(s, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

func channelText(kind string) string {
	if n, ok := channelNames[kind]; ok {
		return n
	}
	return kind
}

func whenText(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006, 15:04 UTC") }

func durationText(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d.Seconds()))
	}
	return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
}

func starsText(r int) string {
	return strings.Repeat("★", max(0, min(5, r))) + strings.Repeat("☆", max(0, 5-r))
}

func moneyText(minor int64, currency string) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s %s%d.%02d", currency, sign, minor/100, minor%100)
}

// contentHTML shows a contact's content: email bodies arrive as HTML,
// chats and notes as text.
func contentHTML(s string) template.HTML {
	if looksLikeHTML(s) {
		return richtext.HTML(s)
	}
	return richtext.Text(s)
}

var funcs = template.FuncMap{
	"label":   labelText,
	"channel": channelText,
	"when": func(t any) string {
		tm, ok := asTime(t)
		if !ok {
			return "—"
		}
		return whenText(tm)
	},
	"iso": func(t any) string {
		tm, ok := asTime(t)
		if !ok {
			return ""
		}
		return tm.UTC().Format(time.RFC3339)
	},
	"ago":     func(t any) string { tm, ok := asTime(t); return agoText(tm, ok, time.Now()) },
	"due":     func(t any) string { tm, ok := asTime(t); return dueText(tm, ok, time.Now()) },
	"html":    func(s string) template.HTML { return richtext.HTML(s) },
	"text":    func(s string) template.HTML { return richtext.Text(s) },
	"content": contentHTML,
	"preview": func(s string, n int) string { return richtext.Preview(richtext.PlainFromHTML(s), n) },
	"idstr":   func(v id.ID) string { return v.String() },
	"optid": func(v *id.ID) string {
		if v == nil {
			return ""
		}
		return v.String()
	},
	"eqid": func(a *id.ID, b id.ID) bool { return a != nil && *a == b },
	"has": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
	"hasid": func(list []id.ID, v id.ID) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
	"json":  func(v any) string { b, _ := json.Marshal(v); return string(b) },
	"join":  strings.Join,
	"money": moneyText,
	"stars": func(r *int) string {
		if r == nil {
			return ""
		}
		return starsText(*r)
	},
	"describe": describe,
	"pct":      func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
	"secs": func(d time.Duration) string {
		if d == staffing.Unbounded {
			return "unbounded"
		}
		return fmt.Sprintf("%.1f s", d.Seconds())
	},
	"localtime": func(t time.Time, loc *time.Location) string {
		if loc == nil {
			loc = time.UTC
		}
		return t.In(loc).Format("Mon 2 Jan 15:04")
	},
	"add": func(a, b int) int { return a + b },
	// dict passes several values to a shared block: dict "Key" value ...
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			if k, ok := kv[i].(string); ok {
				m[k] = kv[i+1]
			}
		}
		return m
	},
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", n, many)
	},
	"duration": func(ms *int64) string {
		if ms == nil {
			return ""
		}
		return durationText(*ms)
	},
	"deref": func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	},
}

func looksLikeHTML(s string) bool {
	i := strings.IndexByte(s, '<')
	return i >= 0 && strings.IndexByte(s[i:], '>') > 0 && strings.Contains(strings.ToLower(s), "</")
}

func asTime(t any) (time.Time, bool) {
	switch v := t.(type) {
	case time.Time:
		return v, !v.IsZero()
	case *time.Time:
		if v == nil {
			return time.Time{}, false
		}
		return *v, !v.IsZero()
	}
	return time.Time{}, false
}

func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
}

func agoText(t time.Time, ok bool, now time.Time) string {
	if !ok {
		return "—"
	}
	d := now.Sub(t)
	if d < 0 {
		return "in " + span(-d)
	}
	if d < time.Minute {
		return "just now"
	}
	return span(d) + " ago"
}

func dueText(t time.Time, ok bool, now time.Time) string {
	if !ok {
		return "—"
	}
	d := t.Sub(now)
	if d < 0 {
		return "overdue by " + span(-d)
	}
	return "due in " + span(d)
}

// describe says in words what a history entry changed.
func describe(kind string, detail map[string]any) string {
	str := func(k string) string {
		v, ok := detail[k]
		if !ok || v == nil {
			return "none"
		}
		return strings.ReplaceAll(fmt.Sprint(v), "_", " ")
	}
	switch kind {
	case "created":
		return "opened the case (" + str("status") + ", " + str("priority") + ")"
	case "status", "priority", "reason", "subject", "team":
		s := kind + " " + str("from") + " → " + str("to")
		if b, ok := detail["because"]; ok {
			s += " (" + fmt.Sprint(b) + ")"
		}
		return s
	case "reopened":
		return "reopened (" + str("from") + " → " + str("to") + ")"
	case "assigned":
		return "owner " + str("from") + " → " + str("to")
	case "tags":
		return "tags " + str("from") + " → " + str("to")
	case "note":
		return "added an internal note"
	case "resolution":
		return "resolution: " + str("to")
	case "interaction_linked":
		s := str("direction") + " " + str("kind") + " joined"
		if _, ok := detail["opened_case"]; ok {
			s += " and opened the case"
		}
		return s
	case "interaction_moved_in":
		return "a contact was moved here from case " + str("from")
	case "interaction_moved_out":
		return "a contact was moved to case " + str("to")
	case "merged_into":
		return "merged into case " + str("case_id")
	case "merged_from":
		return "case " + str("case_id") + " was merged into this one"
	case "split":
		return str("interactions") + " contacts split off into case " + str("case_id")
	case "split_from":
		return "split off from case " + str("case_id")
	case "sla_warning":
		return str("clock") + " target near (due " + str("due") + ")"
	case "sla_breach":
		return str("clock") + " target missed (was due " + str("due") + ")"
	}
	return strings.ReplaceAll(kind, "_", " ")
}
