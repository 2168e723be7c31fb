package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/web/problem"
)

// The knowledge base: articles and facts with versions, search, content
// gaps, citations and the consistency report. Handlers decode and call
// internal/knowledge; the lifecycle rules live there.

// versionParam reads the {version} path value.
func versionParam(r *http.Request) (int, error) {
	v, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || v < 1 {
		return 0, &problem.Status{Code: http.StatusNotFound, Detail: "no such version: " + r.PathValue("version")}
	}
	return v, nil
}

// intQuery reads an optional positive integer query parameter.
func intQuery(r *http.Request, name string) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, errs.Invalidf(name, "must be a non-negative integer")
	}
	return v, nil
}

// timeQuery reads an optional RFC 3339 time query parameter.
func timeQuery(r *http.Request, name string, def time.Time) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errs.Invalidf(name, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	return t, nil
}

func audienceQuery(r *http.Request, name string, def knowledge.Audience) (knowledge.Audience, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	aud, ok := knowledge.ParseAudience(s)
	if !ok {
		return "", errs.Invalidf(name, "must be public, kiosk or agents")
	}
	return aud, nil
}

func actor(r *http.Request) string { return PrincipalFrom(r.Context()).Actor() }

func (a *API) listArticles(w http.ResponseWriter, r *http.Request) {
	aud, err := audienceQuery(r, "audience", "")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	limit, err := intQuery(r, "limit")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	items, next, err := a.Knowledge.ListArticles(r.Context(), knowledge.ArticleFilter{Locale: q.Get("locale"), Category: q.Get("category"),
		Audience: aud, Text: q.Get("q"), Status: q.Get("status"), Limit: limit, Cursor: q.Get("cursor")})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*knowledge.Article]{Items: items, NextCursor: next})
}

func (a *API) createArticle(w http.ResponseWriter, r *http.Request) {
	var spec knowledge.ArticleSpec
	if err := decode(w, r, maxBody, &spec); err != nil {
		a.fail(w, r, err)
		return
	}
	art, err := a.Knowledge.CreateArticle(r.Context(), spec, actor(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/knowledge/articles/"+art.ID.String())
	send(w, http.StatusCreated, art)
}

func (a *API) getArticle(w http.ResponseWriter, r *http.Request) {
	aid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	art, err := a.Knowledge.Article(r.Context(), aid)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, art)
}

// renderedArticle is the published version as the audience sees it, with
// the citations to record when it is shown to a customer.
func (a *API) renderedArticle(w http.ResponseWriter, r *http.Request) {
	aid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	aud, err := audienceQuery(r, "audience", knowledge.Public)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out, err := a.Knowledge.RenderArticle(r.Context(), aid, aud, r.URL.Query().Get("locale"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, out)
}

func (a *API) listArticleVersions(w http.ResponseWriter, r *http.Request) {
	listOf(a, w, r, a.Knowledge.ArticleVersions)
}

func (a *API) createArticleDraft(w http.ResponseWriter, r *http.Request) {
	createDraft(a, w, r, "/api/v1/knowledge/articles/", a.Knowledge.NewArticleDraft, func(v *knowledge.ArticleVersion) int { return v.Version })
}

// idAndVersion reads the {id} and {version} path values.
func idAndVersion(r *http.Request) (id.ID, int, error) {
	pid, err := pathID(r)
	if err != nil {
		return 0, 0, err
	}
	v, err := versionParam(r)
	return pid, v, err
}

func (a *API) getArticleVersion(w http.ResponseWriter, r *http.Request) {
	getVersion(a, w, r, a.Knowledge.ArticleVersion)
}

func (a *API) updateArticleDraft(w http.ResponseWriter, r *http.Request) {
	updateDraft(a, w, r, a.Knowledge.UpdateArticleDraft)
}

// articleStep runs a lifecycle step (submit, withdraw, publish) and answers
// with the version as it is now.
func (a *API) articleStep(step func(*knowledge.Service, context.Context, id.ID, int, string) error) http.HandlerFunc {
	return versionStep(a, step, (*knowledge.Service).ArticleVersion)
}

// diffVersions reads ?from= and ?to=, both required.
func diffVersions(r *http.Request) (int, int, error) {
	from, err := intQuery(r, "from")
	if err != nil {
		return 0, 0, err
	}
	to, err := intQuery(r, "to")
	if err != nil {
		return 0, 0, err
	}
	if from == 0 {
		return 0, 0, errs.Invalidf("from", "is required: the older version's number")
	}
	if to == 0 {
		return 0, 0, errs.Invalidf("to", "is required: the newer version's number")
	}
	return from, to, nil
}

func (a *API) diffArticle(w http.ResponseWriter, r *http.Request) {
	diffOf(a, w, r, a.Knowledge.DiffArticle)
}

func (a *API) articleHistory(w http.ResponseWriter, r *http.Request) {
	listOf(a, w, r, a.Knowledge.ArticleHistory)
}

func (a *API) listFacts(w http.ResponseWriter, r *http.Request) {
	limit, err := intQuery(r, "limit")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	items, next, err := a.Knowledge.ListFacts(r.Context(), knowledge.FactFilter{Prefix: q.Get("prefix"), Text: q.Get("q"), Status: q.Get("status"), Limit: limit, Cursor: q.Get("cursor")})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*knowledge.Fact]{Items: items, NextCursor: next})
}

func (a *API) createFact(w http.ResponseWriter, r *http.Request) {
	var spec knowledge.FactSpec
	if err := decode(w, r, maxBody, &spec); err != nil {
		a.fail(w, r, err)
		return
	}
	f, err := a.Knowledge.CreateFact(r.Context(), spec, actor(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/knowledge/facts/"+f.ID.String())
	send(w, http.StatusCreated, f)
}

func (a *API) getFact(w http.ResponseWriter, r *http.Request) {
	fid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f, err := a.Knowledge.Fact(r.Context(), fid)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, f)
}

func (a *API) listFactVersions(w http.ResponseWriter, r *http.Request) {
	listOf(a, w, r, a.Knowledge.FactVersions)
}

func (a *API) createFactDraft(w http.ResponseWriter, r *http.Request) {
	createDraft(a, w, r, "/api/v1/knowledge/facts/", a.Knowledge.NewFactDraft, func(v *knowledge.FactVersion) int { return v.Version })
}

func (a *API) getFactVersion(w http.ResponseWriter, r *http.Request) {
	getVersion(a, w, r, a.Knowledge.FactVersion)
}

func (a *API) updateFactDraft(w http.ResponseWriter, r *http.Request) {
	updateDraft(a, w, r, a.Knowledge.UpdateFactDraft)
}

func (a *API) factStep(step func(*knowledge.Service, context.Context, id.ID, int, string) error) http.HandlerFunc {
	return versionStep(a, step, (*knowledge.Service).FactVersion)
}

func (a *API) diffFact(w http.ResponseWriter, r *http.Request) {
	diffOf(a, w, r, a.Knowledge.DiffFact)
}

func (a *API) factHistory(w http.ResponseWriter, r *http.Request) {
	listOf(a, w, r, a.Knowledge.FactHistory)
}

// factCitations lists who was given the fact: by default any version other
// than the published one in the last 30 days (whom to correct).
func (a *API) factCitations(w http.ResponseWriter, r *http.Request) {
	fid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ver, err := intQuery(r, "version")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	since, err := timeQuery(r, "since", time.Now().AddDate(0, 0, -30))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f, err := a.Knowledge.Fact(r.Context(), fid)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	cs, err := a.Knowledge.WhoGotFact(r.Context(), f.Name, ver, since)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[knowledge.Citation]{Items: cs})
}

type citeRequest struct {
	InteractionID id.ID           `json:"interaction_id"`
	Cites         []knowledge.Ref `json:"cites"`
}

func (a *API) createCitations(w http.ResponseWriter, r *http.Request) {
	var req citeRequest
	if err := decode(w, r, maxBody, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.InteractionID == 0 {
		a.fail(w, r, errs.Invalidf("interaction_id", "is required"))
		return
	}
	if len(req.Cites) == 0 || len(req.Cites) > 100 {
		a.fail(w, r, errs.Invalidf("cites", "must list 1 to 100 articles or facts"))
		return
	}
	if err := a.Knowledge.Cite(r.Context(), req.InteractionID, req.Cites); err != nil {
		a.fail(w, r, err)
		return
	}
	cs, err := a.Knowledge.Citations(r.Context(), req.InteractionID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusCreated, list[knowledge.Citation]{Items: cs})
}

func (a *API) searchKnowledge(w http.ResponseWriter, r *http.Request) {
	aud, err := audienceQuery(r, "audience", knowledge.Public)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	limit, err := intQuery(r, "limit")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	hits, err := a.Knowledge.Search(r.Context(), knowledge.Query{Text: q.Get("q"), Audience: aud, Locale: q.Get("locale"),
		Limit: limit, NoGap: q.Get("partial") == "true"})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[knowledge.Hit]{Items: hits})
}

func (a *API) listGaps(w http.ResponseWriter, r *http.Request) {
	aud, err := audienceQuery(r, "audience", "")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	since, err := timeQuery(r, "since", time.Now().AddDate(0, 0, -30))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	limit, err := intQuery(r, "limit")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	gaps, err := a.Knowledge.Gaps(r.Context(), knowledge.GapFilter{Since: since, Audience: aud, Locale: r.URL.Query().Get("locale"), Limit: limit})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[knowledge.Gap]{Items: gaps})
}

func (a *API) consistencyReport(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	from, err := timeQuery(r, "from", now.AddDate(0, 0, -7))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	to, err := timeQuery(r, "to", now)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	items, err := a.Knowledge.Consistency(r.Context(), from, to)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[knowledge.Inconsistency]{Items: items})
}

type renderRequest struct {
	Text   string `json:"text"`
	Locale string `json:"locale"`
}

type renderResponse struct {
	Text  string          `json:"text"`
	Cites []knowledge.Ref `json:"cites"`
}

// renderFacts fills the facts of a reply or template text.
func (a *API) renderFacts(w http.ResponseWriter, r *http.Request) {
	var req renderRequest
	if err := decode(w, r, maxBody, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	text, refs, err := a.Knowledge.RenderFacts(r.Context(), req.Text, req.Locale)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if refs == nil {
		refs = []knowledge.Ref{}
	}
	send(w, http.StatusOK, renderResponse{Text: text, Cites: refs})
}

// Articles and facts are versioned alike; these serve both.

func getVersion[V any](a *API, w http.ResponseWriter, r *http.Request, read func(context.Context, id.ID, int) (*V, error)) {
	pid, ver, err := idAndVersion(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v, err := read(r.Context(), pid, ver)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, v)
}

func updateDraft[V, S any](a *API, w http.ResponseWriter, r *http.Request, update func(context.Context, id.ID, int, S, string) (*V, error)) {
	pid, ver, err := idAndVersion(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var spec S
	if err := decode(w, r, maxBody, &spec); err != nil {
		a.fail(w, r, err)
		return
	}
	v, err := update(r.Context(), pid, ver, spec, actor(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, v)
}

func versionStep[V any](a *API, step func(*knowledge.Service, context.Context, id.ID, int, string) error,
	read func(*knowledge.Service, context.Context, id.ID, int) (*V, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pid, ver, err := idAndVersion(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if err := step(a.Knowledge, r.Context(), pid, ver, actor(r)); err != nil {
			a.fail(w, r, err)
			return
		}
		v, err := read(a.Knowledge, r.Context(), pid, ver)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		send(w, http.StatusOK, v)
	}
}

// listOf answers with the list read for the path's id (versions, history).
func listOf[T any](a *API, w http.ResponseWriter, r *http.Request, read func(context.Context, id.ID) ([]T, error)) {
	pid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	items, err := read(r.Context(), pid)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[T]{Items: items})
}

func createDraft[V, S any](a *API, w http.ResponseWriter, r *http.Request, base string,
	create func(context.Context, id.ID, S, string) (*V, error), number func(*V) int) {
	pid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var spec S
	if err := decode(w, r, maxBody, &spec); err != nil {
		a.fail(w, r, err)
		return
	}
	v, err := create(r.Context(), pid, spec, actor(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", base+pid.String()+"/versions/"+strconv.Itoa(number(v)))
	send(w, http.StatusCreated, v)
}

func diffOf(a *API, w http.ResponseWriter, r *http.Request, diff func(context.Context, id.ID, int, int) (*knowledge.Diff, error)) {
	pid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	from, to, err := diffVersions(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d, err := diff(r.Context(), pid, from, to)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, d)
}
