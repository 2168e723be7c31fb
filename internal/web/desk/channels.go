package desk

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/channelconfig"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// Administration of contact points and their channels: the list with the
// state of each channel, and a page per contact point whose form follows
// its kind (channelconfig). Secrets are write-only: a page says whether one
// is set, never what it is; an empty password field keeps it.

// activityWindow bounds the "last inbound" and "failures" columns (and the
// index range they read).
const activityWindow = 30 * 24 * time.Hour

type cpRow struct {
	CP          *contactpoint.ContactPoint
	HasChannel  bool
	Missing     []string
	LastInbound *time.Time
	Failures    int
}

func (d *Desk) adminContactPoints(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.showContactPoints(w, r, v, http.StatusOK, map[string]any{"Done": doneMessages[r.URL.Query().Get("done")]})
}

func (d *Desk) showContactPoints(w http.ResponseWriter, r *http.Request, v *viewer, status int, data map[string]any) {
	ctx := r.Context()
	cps, err := d.ContactPoints.List(ctx, true)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	since := time.Now().Add(-activityWindow)
	last, err := d.Interactions.LastInbound(ctx, since)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	failures := map[id.ID]int{}
	if d.Outbox != nil {
		if failures, err = d.Outbox.FailuresSince(ctx, since); err != nil {
			d.fail(w, r, v, err)
			return
		}
	}
	rows := make([]cpRow, 0, len(cps))
	for _, cp := range cps {
		row := cpRow{CP: cp, Failures: failures[cp.ID]}
		if at, ok := last[cp.ID]; ok {
			row.LastInbound = &at
		}
		if f, ok := channelconfig.For(cp.Kind); ok {
			row.HasChannel, row.Missing = true, channelconfig.Missing(f, cp.Settings, cp.SecretsSet)
		}
		rows = append(rows, row)
	}
	if data["New"] == nil {
		data["New"] = map[string]string{}
	}
	data["Rows"] = rows
	data["Kinds"] = contactpoint.Kinds
	data["AdminNav"] = adminNav(v, "/admin/contact-points")
	d.renderStatus(w, r, "admin_channels", v, status, data)
}

func (d *Desk) adminCreateContactPoint(w http.ResponseWriter, r *http.Request, v *viewer) {
	kind, name := contactpoint.Kind(strings.TrimSpace(r.PostFormValue("kind"))), r.PostFormValue("name")
	created, err := d.ContactPoints.Create(r.Context(), contactpoint.Spec{Kind: &kind, Name: &name})
	if err != nil {
		d.formFailed(w, r, v, err, func(status int, data map[string]any) {
			data["Errors"] = fieldErrors(err)
			data["New"] = map[string]string{"kind": string(kind), "name": name}
			d.showContactPoints(w, r, v, status, data)
		})
		return
	}
	// The keys made with it are shown on this answer only: no redirect.
	var once []onceKey
	if created.WriteKey != "" {
		once = append(once, onceKey{"Write key", created.WriteKey})
	}
	if created.WidgetSecret != "" {
		once = append(once, onceKey{"Widget secret", created.WidgetSecret})
	}
	d.showContactPoint(w, r, v, created.ContactPoint, http.StatusOK, map[string]any{"Once": once, "Done": "Added. Fill in its channel settings below."})
}

// onceKey is a secret shown a single time, on the answer that made it.
type onceKey struct{ Label, Value string }

func (d *Desk) adminContactPoint(w http.ResponseWriter, r *http.Request, v *viewer) {
	cpID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	cp, err := d.ContactPoints.Get(r.Context(), cpID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	d.showContactPoint(w, r, v, cp, http.StatusOK, map[string]any{"Done": doneMessages[r.URL.Query().Get("done")]})
}

// cpForm is the general part of the form, as stored or as sent.
type cpForm struct {
	Name, Description, ContactLevel, SettingsJSON string
	Online, Disabled                              bool
	Stages                                        []string
}

func formOf(cp *contactpoint.ContactPoint) cpForm {
	return cpForm{Name: cp.Name, Description: cp.Description, ContactLevel: cp.ContactLevel, Online: cp.Online,
		Disabled: cp.Disabled, Stages: cp.JourneyStages, SettingsJSON: string(cp.Settings)}
}

// fieldView and secretView are one input of the channel form, ready to show.
type fieldView struct {
	channelconfig.Field
	ID, Value, Error, DescribedBy string
}

type secretView struct {
	channelconfig.Secret
	ID, Error, DescribedBy string
	Set                    bool
}

// describedBy lists the ids of the texts that describe an input: its
// state, its help and its error, for aria-describedby.
func describedBy(id string, state bool, help, problem string) string {
	var ids []string
	if state {
		ids = append(ids, "st-"+id)
	}
	if help != "" {
		ids = append(ids, "h-"+id)
	}
	if problem != "" {
		ids = append(ids, "e-"+id)
	}
	return strings.Join(ids, " ")
}

type groupView struct {
	Legend, Help string
	Fields       []fieldView
	Secrets      []secretView
}

// showContactPoint renders the page of a contact point. data may carry
// "Form" and "Values" (what was sent, shown again after a problem) and
// "Errors" (by field key).
func (d *Desk) showContactPoint(w http.ResponseWriter, r *http.Request, v *viewer, cp *contactpoint.ContactPoint, status int, data map[string]any) {
	errsByKey, _ := data["Errors"].(map[string]string)
	if _, ok := data["Form"]; !ok {
		data["Form"] = formOf(cp)
	}
	if f, ok := channelconfig.For(cp.Kind); ok {
		vals, _ := data["Values"].(map[string]string)
		if vals == nil {
			vals = channelconfig.Values(f, cp.Settings)
		}
		var groups []groupView
		for _, g := range f.Groups {
			gv := groupView{Legend: g.Legend, Help: g.Help}
			for _, fl := range g.Fields {
				fv := fieldView{Field: fl, ID: "s-" + strings.ReplaceAll(fl.Key, ".", "-"), Value: vals[fl.Key], Error: errsByKey[fl.Key]}
				fv.DescribedBy = describedBy(fv.ID, false, fl.Help, fv.Error)
				gv.Fields = append(gv.Fields, fv)
			}
			for _, s := range g.Secrets {
				sv := secretView{Secret: s, ID: "secret-" + s.Name, Set: slices.Contains(cp.SecretsSet, s.Name),
					Error: errsByKey["secret."+s.Name] + errsByKey["secrets."+s.Name]}
				sv.DescribedBy = describedBy(sv.ID, true, s.Help, sv.Error)
				gv.Secrets = append(gv.Secrets, sv)
			}
			groups = append(groups, gv)
		}
		data["Groups"] = groups
		data["Missing"] = channelconfig.Missing(f, cp.Settings, cp.SecretsSet)
		if p := f.HookPath(cp.ID, cp.Settings); p != "" {
			base := channelconfig.Values(f, cp.Settings)["public_url"]
			if base == "" {
				base = requestBase(r)
			}
			data["Hook"] = base + p
		}
	}
	data["CP"] = cp
	data["Stages"] = contactpoint.Stages
	data["AdminNav"] = adminNav(v, "/admin/contact-points")
	d.renderStatus(w, r, "admin_channel", v, status, data)
}

// requestBase is the address this page was asked for at, for the webhook
// URLs to paste into a provider's console.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (d *Desk) adminSaveContactPoint(w http.ResponseWriter, r *http.Request, v *viewer) {
	cpID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	ctx := r.Context()
	cp, err := d.ContactPoints.Get(ctx, cpID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		d.fail(w, r, v, errInvalid("form", "could not be read"))
		return
	}
	sent := cpForm{Name: r.PostFormValue("name"), Description: r.PostFormValue("description"), ContactLevel: r.PostFormValue("contact_level"),
		Online: r.PostFormValue("online") != "", Disabled: r.PostFormValue("disabled") != "", Stages: r.PostForm["journey_stages"],
		SettingsJSON: r.PostFormValue("settings")}
	spec := contactpoint.Spec{Name: &sent.Name, Description: &sent.Description, ContactLevel: &sent.ContactLevel,
		Online: &sent.Online, Disabled: &sent.Disabled, JourneyStages: &sent.Stages}
	if spec.JourneyStages == nil || *spec.JourneyStages == nil {
		spec.JourneyStages = &[]string{}
	}
	var vals map[string]string
	f, hasForm := channelconfig.For(cp.Kind)
	if hasForm {
		in := channelconfig.Input{Values: map[string]string{}, Secrets: map[string]string{}, Clear: r.PostForm["clear"]}
		for _, fl := range f.Fields() {
			in.Values[fl.Key] = r.PostFormValue("s." + fl.Key)
		}
		for _, s := range f.Secrets() {
			in.Secrets[s.Name] = r.PostFormValue("secret." + s.Name)
		}
		vals = in.Values
		spec.Settings, spec.Secrets, err = channelconfig.Apply(f, cp.Settings, in)
	} else if strings.TrimSpace(sent.SettingsJSON) != "" {
		spec.Settings = json.RawMessage(sent.SettingsJSON)
	}
	if err == nil {
		_, err = d.ContactPoints.Update(ctx, cpID, spec)
	}
	if err != nil {
		again := func(status int, data map[string]any) {
			data["Form"], data["Values"], data["Errors"] = sent, vals, fieldErrors(err)
			d.showContactPoint(w, r, v, cp, status, data)
		}
		var p channelconfig.Problems
		if errors.As(err, &p) {
			again(http.StatusUnprocessableEntity, map[string]any{"Error": "Some settings could not be saved; see the notes next to them."})
			return
		}
		d.formFailed(w, r, v, err, again)
		return
	}
	http.Redirect(w, r, "/admin/contact-points/"+cpID.String()+"?done=saved", http.StatusSeeOther)
}

// fieldErrors places an error next to its field: channel problems by key,
// a domain error by its field ("" holds what belongs to no field).
func fieldErrors(err error) map[string]string {
	out := map[string]string{}
	var p channelconfig.Problems
	var inv *errs.Invalid
	switch {
	case errors.As(err, &p):
		for k, msg := range p {
			out[k] = sentence(msg)
		}
	case errors.As(err, &inv):
		field, _, _ := strings.Cut(inv.Field, "[")
		out[field] = sentence(inv.Reason)
	}
	return out
}

// sentence capitalizes a reason and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return "Not accepted."
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}
