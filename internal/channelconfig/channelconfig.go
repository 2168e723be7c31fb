// Package channelconfig describes, per contact point kind, the channel
// settings an administrator fills in (the keys the channel adapters read
// from a contact point's Settings JSON and its write-only secrets), checks
// them field by field, and turns a form into a contactpoint.Spec. The
// adapters own the meaning of the keys; this package only knows their names,
// shapes and what a channel needs before it can work. It imports no HTTP.
package channelconfig

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// Field types.
const (
	Text     = "text"
	Email    = "email"
	Host     = "host"
	Port     = "port"
	Seconds  = "seconds"
	Select   = "select"
	Checkbox = "checkbox"
	URL      = "url"
	Origins  = "origins" // web origins, one a line
)

// Field is one setting, stored at Key in the settings ("imap.host" is the
// host of the "imap" object).
type Field struct {
	Key, Label, Type, Help string
	Options                []string
	// Pattern, when set, is what a non-empty value must match, and
	// PatternHelp says so in plain words.
	Pattern     *regexp.Regexp
	PatternHelp string
	// Required: the channel cannot work without it (shown as "not
	// configured", not refused: a contact point may be set up in steps).
	Required bool
}

// Secret is a write-only setting (a password or token).
type Secret struct {
	Name, Label, Help string
	Required          bool
}

// Group is a fieldset of a form.
type Group struct {
	Legend, Help string
	Fields       []Field
	Secrets      []Secret
	// When lists the platforms (the "platform" setting) the group is for;
	// empty: all. Its required items count only for those.
	When []string
	// OneOf lists keys of which at least one must be set to be configured.
	OneOf []string
}

// Form is the channel settings form of a kind.
type Form struct {
	Groups []Group
	// Hook is the path of the inbound webhook the provider calls, with
	// {id} for the contact point; "" when the channel takes none. HookBy
	// gives it by platform instead.
	Hook   string
	HookBy map[string]string
}

var (
	twilioSID   = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	twilioMG    = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	digits      = regexp.MustCompile(`^[0-9]{1,30}$`)
	graphVer    = regexp.MustCompile(`^v[0-9]{1,3}\.[0-9]{1,2}$`)
	botUsername = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{4,31}$`)
)

func twilioForm(channel, fromExample string) Form {
	return Form{Hook: "/hooks/twilio/{id}", Groups: []Group{{
		Legend: "Twilio account", OneOf: []string{"from", "messaging_service_sid"}, Help: "From the Twilio console: Account info and the " + channel + " sender.",
		Fields: []Field{
			{Key: "account_sid", Label: "Account SID", Type: Text, Required: true, Pattern: twilioSID,
				PatternHelp: "start with AC followed by 32 letters and digits (0-9, a-f)"},
			{Key: "from", Label: "From number", Type: Text, Help: "The sender, such as " + fromExample + ". Or give a messaging service instead."},
			{Key: "messaging_service_sid", Label: "Messaging service SID", Type: Text, Pattern: twilioMG,
				PatternHelp: "start with MG followed by 32 letters and digits (0-9, a-f)"},
			{Key: "public_url", Label: "Public address of Touchpoint", Type: URL,
				Help: "The address Twilio reaches this server at; it signs requests with it. Leave empty to use the address of this page."},
			{Key: "api_base_url", Label: "API base URL", Type: URL, Help: "Only for a test double of the Twilio API; leave empty."},
		},
		Secrets: []Secret{{Name: "auth_token", Label: "Auth token", Required: true, Help: "Signs Twilio's requests and authorizes sending."}},
	}}}
}

// forms are the kinds with channel settings.
var forms = map[contactpoint.Kind]Form{
	"email": {Groups: []Group{
		{Legend: "Mailbox", Fields: []Field{
			{Key: "address", Label: "Address", Type: Email, Required: true, Help: "The address customers write to; replies are sent from it."},
			{Key: "name", Label: "Sender name", Type: Text, Help: "Shown as the sender of replies; the contact point's name when empty."},
		}},
		{Legend: "Incoming mail (IMAP)", Help: "To read a mailbox at a mail provider. Leave the host empty when mail is delivered to this server's SMTP receiver.",
			Fields: []Field{
				{Key: "imap.host", Label: "Host", Type: Host},
				{Key: "imap.port", Label: "Port", Type: Port, Help: "993 with TLS, 143 with STARTTLS."},
				{Key: "imap.tls", Label: "Security", Type: Select, Options: []string{"tls", "starttls", "none"}, Help: "none only for tests and local servers."},
				{Key: "imap.user", Label: "User", Type: Text},
				{Key: "imap.mailbox", Label: "Folder", Type: Text, Help: "INBOX when empty."},
				{Key: "imap.move_to", Label: "Move read mail to", Type: Text, Help: "A folder; when empty, read mail is marked as seen."},
				{Key: "imap.poll_seconds", Label: "Check every (seconds)", Type: Seconds, Help: "Only for servers without IDLE; 60 when empty."},
			},
			Secrets: []Secret{{Name: "imap_password", Label: "IMAP password"}}},
		{Legend: "Outgoing mail (SMTP relay)", Help: "The server replies are sent through. Leave the host empty to send through this server's own relay settings.",
			Fields: []Field{
				{Key: "smtp.host", Label: "Host", Type: Host},
				{Key: "smtp.port", Label: "Port", Type: Port, Help: "465 with TLS, 587 with STARTTLS."},
				{Key: "smtp.tls", Label: "Security", Type: Select, Options: []string{"tls", "starttls", "none"}, Help: "none only for tests and local relays."},
				{Key: "smtp.user", Label: "User", Type: Text},
			},
			Secrets: []Secret{{Name: "smtp_password", Label: "SMTP password"}}},
	}},
	"sms":      twilioForm("SMS", "+15550100"),
	"whatsapp": twilioForm("WhatsApp", "whatsapp:+15550100"),
	// A social contact point is a Meta channel or a Telegram bot, by platform.
	"social": {HookBy: map[string]string{"messenger": "/hooks/meta/{id}", "instagram": "/hooks/meta/{id}",
		"whatsapp": "/hooks/meta/{id}", "telegram": "/hooks/telegram/{id}"}, Groups: []Group{
		{Legend: "Platform", Fields: []Field{
			{Key: "platform", Label: "Platform", Type: Select, Options: []string{"messenger", "instagram", "whatsapp", "telegram"}, Required: true},
			{Key: "public_url", Label: "Public address of Touchpoint", Type: URL, Help: "Leave empty to use the address of this page."},
			{Key: "api_base_url", Label: "API base URL", Type: URL, Help: "Only for a test double of the provider's API; leave empty."},
		}},
		{Legend: "Meta app (Messenger, Instagram, WhatsApp)", When: []string{"messenger", "instagram", "whatsapp"},
			Help:  "From the Meta developer console: the app, and the page, Instagram account or WhatsApp number it serves.",
			OneOf: []string{"page_id", "phone_number_id"},
			Fields: []Field{
				{Key: "page_id", Label: "Page ID", Type: Text, Pattern: digits, PatternHelp: "be digits only", Help: "Messenger and Instagram."},
				{Key: "phone_number_id", Label: "Phone number ID", Type: Text, Pattern: digits, PatternHelp: "be digits only", Help: "WhatsApp Cloud API."},
				{Key: "graph_version", Label: "Graph API version", Type: Text, Pattern: graphVer, PatternHelp: "look like v19.0", Help: "The default version when empty."},
			},
			Secrets: []Secret{
				{Name: "app_secret", Label: "App secret", Required: true, Help: "Checks the signature of Meta's requests."},
				{Name: "access_token", Label: "Access token", Required: true, Help: "Sends messages."},
				{Name: "verify_token", Label: "Verify token", Required: true, Help: "Any string; type the same one in Meta's webhook settings."},
			}},
		{Legend: "Telegram bot", When: []string{"telegram"}, Help: "From @BotFather.",
			Fields: []Field{
				{Key: "bot_username", Label: "Bot username", Type: Text, Pattern: botUsername, PatternHelp: "be 5 to 32 letters, digits and _, starting with a letter"},
			},
			Secrets: []Secret{
				{Name: "bot_token", Label: "Bot token", Required: true},
				{Name: "webhook_secret", Label: "Webhook secret", Help: "Telegram sends it with every update, so forged updates are refused."},
			}},
	}},
	"web_chat": {Groups: []Group{{
		Legend: "Chat widget",
		Fields: []Field{
			{Key: "allowed_origins", Label: "Websites allowed to show the widget", Type: Origins, Required: true,
				Help: "One origin a line, such as https://shop.example. The widget refuses every other page."},
			{Key: "title", Label: "Title", Type: Text, Help: "The contact point's name when empty."},
			{Key: "greeting", Label: "Greeting", Type: Text},
			{Key: "pre_chat_form", Label: "Ask for a name and an email before the first message", Type: Checkbox},
			{Key: "require_email", Label: "The email is required", Type: Checkbox},
		},
		Secrets: []Secret{{Name: contactpoint.WidgetSecretName, Label: "Widget secret",
			Help: "Signs the user ids of signed-in visitors (user_hash). Set when the contact point was made; paste a new one to replace it."}},
	}}},
}

// For returns the settings form of a kind; false when the kind has no
// channel settings.
func For(kind contactpoint.Kind) (Form, bool) {
	f, ok := forms[kind]
	return f, ok
}

// Fields lists every field of the form.
func (f Form) Fields() []Field {
	var out []Field
	for _, g := range f.Groups {
		out = append(out, g.Fields...)
	}
	return out
}

// Secrets lists every secret of the form.
func (f Form) Secrets() []Secret {
	var out []Secret
	for _, g := range f.Groups {
		out = append(out, g.Secrets...)
	}
	return out
}

// HookPath is the inbound webhook path of a contact point, "" if none.
func (f Form) HookPath(cpID id.ID, settings json.RawMessage) string {
	h := f.Hook
	if f.HookBy != nil {
		h = f.HookBy[Values(f, settings)["platform"]]
	}
	return strings.ReplaceAll(h, "{id}", cpID.String())
}

// Values are the settings as the form shows them, by key.
func Values(f Form, settings json.RawMessage) map[string]string {
	var m map[string]any
	_ = json.Unmarshal(settings, &m)
	out := map[string]string{}
	for _, fl := range f.Fields() {
		v, ok := lookup(m, fl.Key)
		if !ok {
			continue
		}
		switch v := v.(type) {
		case string:
			out[fl.Key] = v
		case float64:
			out[fl.Key] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			if v {
				out[fl.Key] = "true"
			}
		case []any:
			var lines []string
			for _, x := range v {
				if s, ok := x.(string); ok {
					lines = append(lines, s)
				}
			}
			out[fl.Key] = strings.Join(lines, "\n")
		}
	}
	return out
}

func lookup(m map[string]any, key string) (any, bool) {
	parent, leaf, nested := strings.Cut(key, ".")
	if !nested {
		v, ok := m[key]
		return v, ok
	}
	sub, _ := m[parent].(map[string]any)
	v, ok := sub[leaf]
	return v, ok
}

// Input is a submitted form: field values by key (a checkbox is "on" or
// absent), new secret values (empty: keep the secret), secrets to clear.
type Input struct {
	Values  map[string]string
	Secrets map[string]string
	Clear   []string
}

// Problems are the fields of a form that could not be taken, with why, in
// words meant for the person filling it in ("must be ...").
type Problems map[string]string

func (p Problems) Error() string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+": "+p[k])
	}
	return "channel settings: " + strings.Join(parts, "; ")
}

// Apply checks in against the form and returns the settings (old with the
// form's keys replaced; keys the form does not know are kept) and the
// secrets to set and clear, for contactpoint.Spec.
func Apply(f Form, old json.RawMessage, in Input) (json.RawMessage, map[string]string, error) {
	m := map[string]any{}
	_ = json.Unmarshal(old, &m)
	if m == nil {
		m = map[string]any{}
	}
	problems := Problems{}
	for _, fl := range f.Fields() {
		raw := strings.TrimSpace(in.Values[fl.Key])
		v, msg := parse(fl, raw)
		if msg != "" {
			problems[fl.Key] = msg
			continue
		}
		set(m, fl.Key, v)
	}
	secrets := map[string]string{}
	for _, s := range f.Secrets() {
		if slices.Contains(in.Clear, s.Name) {
			secrets[s.Name] = ""
			continue
		}
		if v := strings.TrimSpace(in.Secrets[s.Name]); v != "" {
			if len(v) > 4096 || !utf8.ValidString(v) {
				problems["secret."+s.Name] = "must be at most 4096 characters"
				continue
			}
			secrets[s.Name] = v
		}
	}
	if len(problems) > 0 {
		return nil, nil, problems
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding channel settings: %w", err)
	}
	if len(secrets) == 0 {
		secrets = nil // nil leaves the stored secrets alone
	}
	return b, secrets, nil
}

// set stores v at key; nil removes it, and a nested object left empty.
func set(m map[string]any, key string, v any) {
	parent, leaf, nested := strings.Cut(key, ".")
	if !nested {
		if v == nil {
			delete(m, key)
		} else {
			m[key] = v
		}
		return
	}
	sub, _ := m[parent].(map[string]any)
	if sub == nil {
		sub = map[string]any{}
	}
	if v == nil {
		delete(sub, leaf)
	} else {
		sub[leaf] = v
	}
	if len(sub) == 0 {
		delete(m, parent)
	} else {
		m[parent] = sub
	}
}

// parse turns a form value into its JSON value (nil: not set), or says
// what is wrong with it.
func parse(fl Field, raw string) (any, string) {
	if fl.Type == Checkbox {
		if raw == "" {
			return nil, ""
		}
		return true, ""
	}
	if raw == "" {
		return nil, ""
	}
	if !utf8.ValidString(raw) || len(raw) > 2000 {
		return nil, "must be at most 2000 characters"
	}
	if fl.Type != Origins && strings.ContainsAny(raw, "\r\n") {
		return nil, "must be on one line"
	}
	if fl.Pattern != nil && !fl.Pattern.MatchString(raw) {
		return nil, "must " + fl.PatternHelp
	}
	switch fl.Type {
	case Email:
		a, err := mail.ParseAddress(raw)
		if err != nil || a.Address != raw || a.Name != "" {
			return nil, "must be an email address such as support@example.com"
		}
		return strings.ToLower(raw), ""
	case Host:
		if strings.ContainsAny(raw, " /:@") {
			return nil, "must be a host name such as mail.example.com, without https:// or a port"
		}
	case Port:
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 65535 {
			return nil, "must be a number from 1 to 65535"
		}
		return n, ""
	case Seconds:
		n, err := strconv.Atoi(raw)
		if err != nil || n < 5 || n > 86400 {
			return nil, "must be a number of seconds from 5 to 86400"
		}
		return n, ""
	case Select:
		if !slices.Contains(fl.Options, raw) {
			return nil, "must be one of " + strings.Join(fl.Options, ", ")
		}
	case URL:
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return nil, "must be an address such as https://support.example.com"
		}
		return strings.TrimRight(raw, "/"), ""
	case Origins:
		var out []any
		for _, line := range strings.Split(raw, "\n") {
			line = strings.TrimRight(strings.TrimSpace(line), "/")
			if line == "" {
				continue
			}
			if line != "null" {
				u, err := url.Parse(line)
				if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
					return nil, fmt.Sprintf("must list origins such as https://shop.example, without a path; %q is not one", line)
				}
			}
			out = append(out, line)
		}
		if len(out) == 0 {
			return nil, ""
		}
		return out, ""
	}
	return raw, ""
}

// Missing names, in words, what a contact point still lacks for its
// channel to work; empty when it is configured.
func Missing(f Form, settings json.RawMessage, secretsSet []string) []string {
	vals := Values(f, settings)
	var out []string
	for _, g := range f.Groups {
		if len(g.When) > 0 && !slices.Contains(g.When, vals["platform"]) {
			continue
		}
		var either []string
		found := len(g.OneOf) == 0
		for _, fl := range g.Fields {
			if fl.Required && vals[fl.Key] == "" {
				out = append(out, fl.Label)
			}
			if slices.Contains(g.OneOf, fl.Key) {
				either = append(either, fl.Label)
				found = found || vals[fl.Key] != ""
			}
		}
		if !found {
			out = append(out, strings.Join(either, " or "))
		}
		for _, s := range g.Secrets {
			if s.Required && !slices.Contains(secretsSet, s.Name) {
				out = append(out, s.Label)
			}
		}
	}
	return out
}
