package help

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Source is the interaction source of the help center on a contact point;
// with the external ids below it makes votes and forms idempotent.
func Source(cpID id.ID) string { return "help:" + cpID.String() }

// begin reads what every page needs: the site, the locale and the visitor.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request) (site, string, string, bool) {
	s, err := h.siteInfo(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return site{}, "", "", false
	}
	return s, pickLocale(r.Header.Get("Accept-Language"), s.locales), visitor(w, r), true
}

// view queues the page view of a visitor with what it showed (cites).
func (h *Handler) view(r *http.Request, s site, vis, title string, cites []knowledge.Ref) {
	if s.web == nil || isBot(r) {
		return
	}
	in := interaction.Input{
		Identifiers:    []customer.RawIdentifier{{Kind: "anonymous_id", Value: vis}},
		ContactPointID: s.web.ID, Kind: "page_view", Direction: interaction.Passive, OccurredAt: h.now(),
		Subject: title, Content: r.URL.RequestURI(), Source: Source(s.web.ID), ExternalID: "view:" + randomHex(12),
	}
	if len(cites) > 0 {
		in.Then = func(ctx context.Context, tx *store.Tx, rec interaction.Recorded) error {
			return h.kb.CiteTx(ctx, tx, rec.ID, cites)
		}
	}
	h.views.add(r.Context(), in)
}

type homeData struct {
	Categories []knowledge.Category
	Popular    []knowledge.Listing
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	s, loc, vis, ok := h.begin(w, r)
	if !ok {
		return
	}
	cats, err := h.kb.Categories(r.Context(), knowledge.Public, loc)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pop, err := h.kb.Popular(r.Context(), knowledge.Public, loc, h.now().Add(-30*24*time.Hour), 8)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.view(r, s, vis, "Help center", nil)
	h.render(w, r, http.StatusOK, "home", page{Title: "Help center", Lang: loc, HasChat: s.chat != nil, Data: homeData{cats, pop}})
}

type categoryData struct {
	Name     string
	Articles []knowledge.Listing
}

func (h *Handler) category(w http.ResponseWriter, r *http.Request) {
	s, loc, vis, ok := h.begin(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	list, err := h.kb.InCategory(r.Context(), knowledge.Public, loc, name, 200)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(list) == 0 {
		h.notFound(w, r)
		return
	}
	h.view(r, s, vis, name, nil)
	h.render(w, r, http.StatusOK, "category", page{Title: name, Lang: loc, HasChat: s.chat != nil, Data: categoryData{name, list}})
}

type articleData struct {
	Slug     string
	Title    string
	Category string
	Version  int
	Updated  string
	HTML     template.HTML
	Voted    bool
}

// findArticle reads the public article of a slug in the page locale, else
// in "en", else in any locale that has it.
func (h *Handler) findArticle(ctx context.Context, slug, loc string, have []string) (*knowledge.Rendered, string, error) {
	tried := map[string]bool{}
	for _, l := range append([]string{loc, "en"}, have...) {
		if tried[l] {
			continue
		}
		tried[l] = true
		a, err := h.kb.ArticleBySlug(ctx, slug, l)
		if errors.Is(err, errs.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		// RenderArticle hides what the public may not see as "not found".
		rd, err := h.kb.RenderArticle(ctx, a.ID, knowledge.Public, loc)
		if errors.Is(err, errs.ErrNotFound) {
			continue
		}
		return rd, a.Locale, err
	}
	return nil, "", errs.NotFoundf("article %q", slug)
}

func (h *Handler) article(w http.ResponseWriter, r *http.Request) {
	s, loc, vis, ok := h.begin(w, r)
	if !ok {
		return
	}
	slug := r.PathValue("slug")
	if utf8.RuneCountInString(slug) > 200 {
		h.notFound(w, r)
		return
	}
	rd, artLoc, err := h.findArticle(r.Context(), slug, loc, s.locales)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := rd.Version
	h.view(r, s, vis, v.Title, rd.Cites)
	updated := v.UpdatedAt
	if v.PublishedAt != nil {
		updated = *v.PublishedAt
	}
	h.render(w, r, http.StatusOK, "article", page{Title: v.Title, Lang: artLoc, HasChat: s.chat != nil, Data: articleData{
		Slug: slug, Title: v.Title, Category: v.Category, Version: v.Version, HTML: rd.HTML,
		Updated: updated.Format("2 January 2006"), Voted: r.URL.Query().Get("voted") == "1",
	}})
}

type searchData struct {
	Hits  []knowledge.Hit
	Empty bool
}

func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	s, loc, vis, ok := h.begin(w, r)
	if !ok {
		return
	}
	q := strings.ToValidUTF8(r.URL.Query().Get("q"), "")
	if utf8.RuneCountInString(q) > 200 {
		q = string([]rune(q)[:200])
	}
	var hits []knowledge.Hit
	if strings.TrimSpace(q) != "" {
		var err error
		// Every locale is searched: a visitor may type in another language
		// than the browser's; the page locale only breaks no ties here.
		hits, err = h.kb.Search(r.Context(), knowledge.Query{Text: q, Audience: knowledge.Public, Limit: 20})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.view(r, s, vis, "Search: "+q, nil)
	}
	h.render(w, r, http.StatusOK, "search", page{Title: "Search", Lang: loc, Query: q, HasChat: s.chat != nil,
		Data: searchData{Hits: hits, Empty: strings.TrimSpace(q) != "" && len(hits) == 0}})
}

// vote records "was this helpful?" once per visitor and article: the
// external id names both, so a second vote is a duplicate and changes
// nothing. It needs no CSRF token: a forged vote is worth no more than a
// real one, and the address limit bounds both.
func (h *Handler) vote(w http.ResponseWriter, r *http.Request) {
	if !h.allowPost(w, r) {
		return
	}
	s, loc, vis, ok := h.begin(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		h.badRequest(w, r, "The form could not be read.")
		return
	}
	slug := r.PathValue("slug")
	rd, _, err := h.findArticle(r.Context(), slug, loc, s.locales)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var outcome string
	switch r.PostForm.Get("helpful") {
	case "yes":
		outcome = "helpful"
	case "no":
		outcome = "not_helpful"
	default:
		h.badRequest(w, r, "Please choose Yes or No.")
		return
	}
	if s.web == nil {
		h.fail(w, r, errors.New("no website contact point to record the vote on"))
		return
	}
	art := rd.Cites[0]
	// The version the visitor read, when the form says it and it is one.
	if v, err := strconv.Atoi(r.PostForm.Get("version")); err == nil && v > 0 && v <= art.Version {
		art.Version = v
	}
	in := interaction.Input{
		Identifiers:    []customer.RawIdentifier{{Kind: "anonymous_id", Value: vis}},
		ContactPointID: s.web.ID, Kind: "article_feedback", Direction: interaction.Passive, OccurredAt: h.now(),
		Subject: rd.Version.Title, Outcome: outcome, Source: Source(s.web.ID), ExternalID: "vote:" + vis + ":" + art.ID.String(),
		Then: func(ctx context.Context, tx *store.Tx, rec interaction.Recorded) error {
			return h.kb.CiteTx(ctx, tx, rec.ID, []knowledge.Ref{art})
		},
	}
	if _, err := h.interactions.Record(r.Context(), []interaction.Input{in}); err != nil {
		var bad *errs.Batch
		if errors.As(err, &bad) {
			h.badRequest(w, r, "The vote could not be recorded.")
			return
		}
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/help/articles/"+url.PathEscape(slug)+"?voted=1#helpful", http.StatusSeeOther)
}

func (h *Handler) badRequest(w http.ResponseWriter, r *http.Request, msg string) {
	h.render(w, r, http.StatusBadRequest, "error", page{Title: "Please check the form", Lang: "en", Data: msg})
}
