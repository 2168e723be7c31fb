package desk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
)

// registerKnowledge adds the knowledge base pages: lists, editors with the
// review steps, history and diffs, content gaps, corrections after a fact
// changed, and the consistency report.
func (d *Desk) registerKnowledge(mux *http.ServeMux) {
	mux.Handle("GET /knowledge", d.page(access.KnowledgeRead, d.knowledgeList))
	mux.Handle("GET /knowledge/gaps", d.page(access.KnowledgeRead, d.knowledgeGaps))
	// The consistency report is for supervisors (and admins): cases:manage.
	mux.Handle("GET /knowledge/consistency", d.page(access.ManageCases, d.knowledgeConsistency))

	mux.Handle("GET /knowledge/articles/new", d.page(access.KnowledgeWrite, d.articleNew))
	mux.Handle("POST /knowledge/articles", d.page(access.KnowledgeWrite, d.articleCreate))
	mux.Handle("GET /knowledge/articles/{id}", d.page(access.KnowledgeRead, d.articlePage))
	mux.Handle("POST /knowledge/articles/{id}", d.page(access.KnowledgeWrite, d.articleSave))
	mux.Handle("POST /knowledge/articles/{id}/versions/{version}/submit", d.page(access.KnowledgeWrite, d.reviewStep("/knowledge/articles/", "submitted", d.Knowledge.SubmitArticle)))
	mux.Handle("POST /knowledge/articles/{id}/versions/{version}/withdraw", d.page(access.KnowledgeWrite, d.reviewStep("/knowledge/articles/", "withdrawn", d.Knowledge.WithdrawArticle)))
	mux.Handle("POST /knowledge/articles/{id}/versions/{version}/publish", d.page(access.KnowledgePublish, d.reviewStep("/knowledge/articles/", "published", d.Knowledge.PublishArticle)))
	mux.Handle("GET /knowledge/articles/{id}/diff", d.page(access.KnowledgeRead, d.articleDiff))

	mux.Handle("GET /knowledge/facts/new", d.page(access.KnowledgeWrite, d.factNew))
	mux.Handle("POST /knowledge/facts", d.page(access.KnowledgeWrite, d.factCreate))
	mux.Handle("GET /knowledge/facts/{id}", d.page(access.KnowledgeRead, d.factPage))
	mux.Handle("POST /knowledge/facts/{id}", d.page(access.KnowledgeWrite, d.factSave))
	mux.Handle("POST /knowledge/facts/{id}/versions/{version}/submit", d.page(access.KnowledgeWrite, d.reviewStep("/knowledge/facts/", "submitted", d.Knowledge.SubmitFact)))
	mux.Handle("POST /knowledge/facts/{id}/versions/{version}/withdraw", d.page(access.KnowledgeWrite, d.reviewStep("/knowledge/facts/", "withdrawn", d.Knowledge.WithdrawFact)))
	mux.Handle("POST /knowledge/facts/{id}/versions/{version}/publish", d.page(access.KnowledgePublish, d.reviewStep("/knowledge/facts/", "published", d.Knowledge.PublishFact)))
	mux.Handle("GET /knowledge/facts/{id}/diff", d.page(access.KnowledgeRead, d.factDiff))
	// Corrections write notes on cases, so they need cases:write.
	mux.Handle("POST /knowledge/facts/{id}/corrections", d.page(access.WriteCases, d.factCorrections))
}

// ---- Lists ----

// kbRow is one article or fact in the list, with the version that names it.
type kbRow struct {
	ID                           id.ID
	Name, Locale, Title, Summary string
	Published, Open              int
	OpenStatus                   knowledge.Status
	Updated                      time.Time
}

// statusMatch tells whether a row passes the status filter: published
// (has a published version), draft or in_review (its open version is).
// kbPage is how many articles and facts the list shows at a time.
const kbPage = 100

func (d *Desk) knowledgeList(w http.ResponseWriter, r *http.Request, v *viewer) {
	ctx := r.Context()
	qs := r.URL.Query()
	q := strings.TrimSpace(qs.Get("q"))
	status := qs.Get("status")
	arts, nextArticles, err := d.Knowledge.ListArticles(ctx, knowledge.ArticleFilter{Text: q, Status: status, Limit: kbPage, Cursor: qs.Get("articles_after")})
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	var articles []kbRow
	for _, a := range arts {
		row := kbRow{ID: a.ID, Name: a.Slug, Locale: a.Locale, Updated: a.UpdatedAt}
		cur := a.Published
		if a.Open != nil {
			row.Open, row.OpenStatus = a.Open.Version, a.Open.Status
			if cur == nil {
				cur = a.Open
			}
		}
		if a.Published != nil {
			row.Published = a.Published.Version
		}
		if cur != nil {
			row.Title, row.Summary = cur.Title, string(cur.Audience)
		}
		articles = append(articles, row)
	}
	facts, nextFacts, err := d.Knowledge.ListFacts(ctx, knowledge.FactFilter{Text: q, Status: status, Limit: kbPage, Cursor: qs.Get("facts_after")})
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	var factRows []kbRow
	for _, f := range facts {
		row := kbRow{ID: f.ID, Name: f.Name, Locale: f.Locale, Updated: f.UpdatedAt}
		if f.Published != nil {
			row.Published, row.Summary = f.Published.Version, f.Published.Value
		}
		if f.Open != nil {
			row.Open, row.OpenStatus = f.Open.Version, f.Open.Status
			if row.Summary == "" {
				row.Summary = f.Open.Value
			}
		}
		factRows = append(factRows, row)
	}
	more := func(key, cursor string) string {
		if cursor == "" {
			return ""
		}
		next := url.Values{"q": {q}, "status": {status}, key: {cursor}}
		return "/knowledge?" + next.Encode()
	}
	data := map[string]any{"Q": q, "Status": status, "Articles": articles, "Facts": factRows,
		"MoreArticles": more("articles_after", nextArticles), "MoreFacts": more("facts_after", nextFacts)}
	if q != "" {
		// Editors' searches are not customers' questions: no content gap.
		hits, err := d.Knowledge.Search(ctx, knowledge.Query{Text: q, Audience: knowledge.Agents, Limit: 20, NoGap: true})
		if err != nil {
			d.fail(w, r, v, err)
			return
		}
		data["Hits"] = hits
	}
	d.render(w, r, "knowledge", v, data)
}

func (d *Desk) knowledgeGaps(w http.ResponseWriter, r *http.Request, v *viewer) {
	days := dayCount(r, 30)
	gaps, err := d.Knowledge.Gaps(r.Context(), knowledge.GapFilter{Since: time.Now().AddDate(0, 0, -days), Limit: 200})
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	d.render(w, r, "knowledge_gaps", v, map[string]any{"Gaps": gaps, "Days": days})
}

// dayCount reads ?days=, within 1 to 366.
func dayCount(r *http.Request, def int) int {
	n, err := strconv.Atoi(r.URL.Query().Get("days"))
	if err != nil || n < 1 {
		return def
	}
	return min(n, 366)
}

// ---- Articles ----

// articleForm is what the article editor shows: the stored draft or what was
// just sent (after a preview or a refused save).
type articleForm struct {
	Slug, Locale, Title, Body, Category, Audience string
}

func articleFormFrom(r *http.Request) articleForm {
	return articleForm{Slug: r.PostFormValue("slug"), Locale: r.PostFormValue("locale"), Title: r.PostFormValue("title"),
		Body: r.PostFormValue("body"), Category: r.PostFormValue("category"), Audience: r.PostFormValue("audience")}
}

func (f articleForm) spec(create bool) knowledge.ArticleSpec {
	s := knowledge.ArticleSpec{Title: &f.Title, Body: &f.Body, Category: &f.Category, Audience: &f.Audience}
	if create {
		s.Slug, s.Locale = &f.Slug, &f.Locale
	}
	return s
}

var audiences = []knowledge.Audience{knowledge.Agents, knowledge.Kiosk, knowledge.Public}

func (d *Desk) articleNew(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.render(w, r, "knowledge_article", v, map[string]any{"New": true, "Form": articleForm{Locale: "en", Audience: "agents"}, "Audiences": audiences})
}

// preview renders an unsaved body for the editor, through the same safe
// renderer the help center uses.
func (d *Desk) preview(r *http.Request, body, locale string, data map[string]any) {
	h, _, err := d.Knowledge.RenderMarkdown(r.Context(), body, locale)
	if err != nil {
		data["Error"] = err.Error()
		return
	}
	data["Preview"] = h
}

func (d *Desk) articleCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	f := articleFormFrom(r)
	data := map[string]any{"New": true, "Form": f, "Audiences": audiences}
	if r.PostFormValue("action") == "preview" {
		d.preview(r, f.Body, f.Locale, data)
		d.render(w, r, "knowledge_article", v, data)
		return
	}
	a, err := d.Knowledge.CreateArticle(r.Context(), f.spec(true), v.User.Name)
	if err != nil {
		d.refused(w, r, v, "knowledge_article", err, data)
		return
	}
	http.Redirect(w, r, "/knowledge/articles/"+a.ID.String(), http.StatusSeeOther)
}

// refused shows a form again with what was typed and why it was refused;
// errors other than bad input go to the error page.
func (d *Desk) refused(w http.ResponseWriter, r *http.Request, v *viewer, page string, err error, data map[string]any) {
	var inv *errs.Invalid
	if !errors.As(err, &inv) {
		d.fail(w, r, v, err)
		return
	}
	data["Error"] = err.Error()
	w.WriteHeader(http.StatusUnprocessableEntity)
	d.render(w, r, page, v, data)
}

// articleData loads an article with its versions and history.
func (d *Desk) articleData(r *http.Request, articleID id.ID) (map[string]any, error) {
	ctx := r.Context()
	a, err := d.Knowledge.Article(ctx, articleID)
	if err != nil {
		return nil, err
	}
	versions, err := d.Knowledge.ArticleVersions(ctx, articleID)
	if err != nil {
		return nil, err
	}
	history, err := d.Knowledge.ArticleHistory(ctx, articleID)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"Article": a, "Versions": versions, "History": history, "Audiences": audiences}
	// The editor starts from the open version, else from the published one.
	base := a.Open
	if base == nil {
		base = a.Published
	}
	if base != nil {
		data["Form"] = articleForm{Slug: a.Slug, Locale: a.Locale, Title: base.Title, Body: base.Body, Category: base.Category, Audience: string(base.Audience)}
	}
	if a.Published != nil {
		rd, err := d.Knowledge.RenderVersion(ctx, a, a.Published, a.Locale)
		if err != nil {
			return nil, err
		}
		data["PublishedHTML"] = rd.HTML
	}
	if a.Open != nil && a.Open.Status == knowledge.InReview {
		rd, err := d.Knowledge.RenderVersion(ctx, a, a.Open, a.Locale)
		if err != nil {
			return nil, err
		}
		data["Preview"] = rd.HTML
	}
	return data, nil
}

func (d *Desk) articlePage(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.versionedPage(w, r, v, d.articleData, "knowledge_article")
}

// versionedPage shows an article's or a fact's page.
func (d *Desk) versionedPage(w http.ResponseWriter, r *http.Request, v *viewer, load func(*http.Request, id.ID) (map[string]any, error), page string) {
	pid, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	data, err := load(r, pid)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	data["Done"] = doneText(r.URL.Query().Get("done"))
	d.render(w, r, page, v, data)
}

// articleSave saves the draft (version > 0), starts a new draft from the
// latest version (version 0), or previews what was typed without saving.
func (d *Desk) articleSave(w http.ResponseWriter, r *http.Request, v *viewer) {
	articleID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	data, err := d.articleData(r, articleID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	a := data["Article"].(*knowledge.Article)
	f := articleFormFrom(r)
	f.Slug, f.Locale = a.Slug, a.Locale
	data["Form"] = f
	if r.PostFormValue("action") == "preview" {
		d.preview(r, f.Body, a.Locale, data)
		d.render(w, r, "knowledge_article", v, data)
		return
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	if version > 0 {
		_, err = d.Knowledge.UpdateArticleDraft(r.Context(), articleID, version, f.spec(false), v.User.Name)
	} else {
		_, err = d.Knowledge.NewArticleDraft(r.Context(), articleID, f.spec(false), v.User.Name)
	}
	if err != nil {
		d.refused(w, r, v, "knowledge_article", err, data)
		return
	}
	http.Redirect(w, r, "/knowledge/articles/"+articleID.String()+"?done=saved", http.StatusSeeOther)
}

func doneText(s string) string {
	switch s {
	case "saved":
		return "Draft saved."
	case "submitted":
		return "Submitted for review."
	case "withdrawn":
		return "Sent back to draft."
	case "published":
		return "Published: every channel shows this version now."
	case "corrections":
		return "Correction notes were added to the cases listed."
	}
	return ""
}

// pathVersion reads the {id} and {version} of a step's path.
func pathVersion(r *http.Request) (id.ID, int, error) {
	x, err := pathID(r)
	if err != nil {
		return 0, 0, err
	}
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || n < 1 {
		return 0, 0, errs.Invalidf("version", "%q is not a version", r.PathValue("version"))
	}
	return x, n, nil
}

// reviewStep runs a review step (submit, withdraw, publish) on the version
// in the path of an article or fact under base, and goes back to its page
// saying done.
func (d *Desk) reviewStep(base, done string, run func(ctx context.Context, parentID id.ID, version int, actor string) error) func(http.ResponseWriter, *http.Request, *viewer) {
	return func(w http.ResponseWriter, r *http.Request, v *viewer) {
		parentID, version, err := pathVersion(r)
		if err == nil {
			err = run(r.Context(), parentID, version, v.User.Name)
		}
		if err != nil {
			d.fail(w, r, v, err)
			return
		}
		http.Redirect(w, r, base+parentID.String()+"?done="+done, http.StatusSeeOther)
	}
}

// diffVersions reads ?from= and ?to=.
func diffVersions(r *http.Request) (int, int, error) {
	from, err1 := strconv.Atoi(r.URL.Query().Get("from"))
	to, err2 := strconv.Atoi(r.URL.Query().Get("to"))
	if err1 != nil || err2 != nil || from < 1 || to < 1 {
		return 0, 0, errs.Invalidf("from", "choose two versions to compare")
	}
	return from, to, nil
}

func (d *Desk) articleDiff(w http.ResponseWriter, r *http.Request, v *viewer) {
	articleID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	from, to, err := diffVersions(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	diff, err := d.Knowledge.DiffArticle(r.Context(), articleID, from, to)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	d.render(w, r, "knowledge_diff", v, map[string]any{"Diff": diff, "Back": "/knowledge/articles/" + articleID.String(), "What": "article"})
}

// ---- Facts ----

type factForm struct{ Name, Locale, Value, Note string }

func factFormFrom(r *http.Request) factForm {
	return factForm{Name: r.PostFormValue("name"), Locale: r.PostFormValue("locale"), Value: r.PostFormValue("value"), Note: r.PostFormValue("note")}
}

func (d *Desk) factNew(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.render(w, r, "knowledge_fact", v, map[string]any{"New": true, "Form": factForm{}})
}

func (d *Desk) factCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	f := factFormFrom(r)
	fa, err := d.Knowledge.CreateFact(r.Context(), knowledge.FactSpec{Name: &f.Name, Locale: &f.Locale, Value: &f.Value, Note: &f.Note}, v.User.Name)
	if err != nil {
		d.refused(w, r, v, "knowledge_fact", err, map[string]any{"New": true, "Form": f})
		return
	}
	http.Redirect(w, r, "/knowledge/facts/"+fa.ID.String(), http.StatusSeeOther)
}

// correction is one interaction that gave a customer an older version.
type correction struct {
	C        knowledge.Citation
	CaseID   *id.ID
	Customer string // the customer's name, or "Customer <id>"
}

// customerNames names customers for lists of citations, asking the store
// once per customer.
type customerNames struct {
	d     *Desk
	names map[id.ID]string
}

func (d *Desk) customerNames() *customerNames { return &customerNames{d: d, names: map[id.ID]string{}} }

func (n *customerNames) of(ctx context.Context, custID id.ID) string {
	if v, ok := n.names[custID]; ok {
		return v
	}
	v := "Customer " + custID.String()
	if c, err := n.d.Customers.Get(ctx, custID); err == nil && strings.TrimSpace(c.Name) != "" {
		v = c.Name
	}
	n.names[custID] = v
	return v
}

// factData loads a fact, its versions, history and, once a newer version
// is published, who was given an older one in the last days.
func (d *Desk) factData(r *http.Request, factID id.ID) (map[string]any, error) {
	ctx := r.Context()
	f, err := d.Knowledge.Fact(ctx, factID)
	if err != nil {
		return nil, err
	}
	versions, err := d.Knowledge.FactVersions(ctx, factID)
	if err != nil {
		return nil, err
	}
	history, err := d.Knowledge.FactHistory(ctx, factID)
	if err != nil {
		return nil, err
	}
	days := dayCount(r, 30)
	data := map[string]any{"Fact": f, "Versions": versions, "History": history, "Days": days}
	base := f.Open
	if base == nil {
		base = f.Published
	}
	if base != nil {
		data["Form"] = factForm{Name: f.Name, Locale: f.Locale, Value: base.Value, Note: ""}
	}
	if f.Published != nil && f.Published.Version > 1 {
		got, err := d.corrections(r, f.Name, days)
		if err != nil {
			return nil, err
		}
		data["Corrections"] = got
	}
	return data, nil
}

// maxCorrections bounds the list on the page (and the notes one click adds).
const maxCorrections = 200

// corrections lists the interactions that gave an older version of the fact.
func (d *Desk) corrections(r *http.Request, name string, days int) ([]correction, error) {
	cites, err := d.Knowledge.WhoGotFact(r.Context(), name, 0, time.Now().AddDate(0, 0, -days))
	if err != nil {
		return nil, err
	}
	var out []correction
	names := d.customerNames()
	for _, c := range cites {
		if len(out) == maxCorrections {
			break
		}
		it, err := d.Interactions.Get(r.Context(), c.InteractionID)
		if err != nil {
			return nil, err
		}
		out = append(out, correction{C: c, CaseID: it.CaseID, Customer: names.of(r.Context(), c.CustomerID)})
	}
	return out, nil
}

func (d *Desk) factPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.versionedPage(w, r, v, d.factData, "knowledge_fact")
}

func (d *Desk) factSave(w http.ResponseWriter, r *http.Request, v *viewer) {
	factID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	data, err := d.factData(r, factID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	f := data["Fact"].(*knowledge.Fact)
	form := factFormFrom(r)
	form.Name, form.Locale = f.Name, f.Locale
	data["Form"] = form
	spec := knowledge.FactSpec{Value: &form.Value, Note: &form.Note}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	if version > 0 {
		_, err = d.Knowledge.UpdateFactDraft(r.Context(), factID, version, spec, v.User.Name)
	} else {
		_, err = d.Knowledge.NewFactDraft(r.Context(), factID, spec, v.User.Name)
	}
	if err != nil {
		d.refused(w, r, v, "knowledge_fact", err, data)
		return
	}
	http.Redirect(w, r, "/knowledge/facts/"+factID.String()+"?done=saved", http.StatusSeeOther)
}

func (d *Desk) factDiff(w http.ResponseWriter, r *http.Request, v *viewer) {
	factID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	from, to, err := diffVersions(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	diff, err := d.Knowledge.DiffFact(r.Context(), factID, from, to)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	d.render(w, r, "knowledge_diff", v, map[string]any{"Diff": diff, "Back": "/knowledge/facts/" + factID.String(), "What": "fact"})
}

// factCorrections adds one internal note to each case whose customer was
// given an older version of the fact in the window: the follow-up is the
// case's own, where its owner sees it. A note per case, not per citation.
func (d *Desk) factCorrections(w http.ResponseWriter, r *http.Request, v *viewer) {
	factID, err := pathID(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	f, err := d.Knowledge.Fact(r.Context(), factID)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	if f.Published == nil {
		d.fail(w, r, v, errs.Conflictf("fact %s has no published version to correct to", f.Name))
		return
	}
	days, _ := strconv.Atoi(r.PostFormValue("days"))
	days = max(1, min(days, 366))
	r.URL.RawQuery = "days=" + strconv.Itoa(days)
	got, err := d.corrections(r, f.Name, days)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	done := map[id.ID]bool{}
	for _, c := range got {
		if c.CaseID == nil || done[*c.CaseID] {
			continue
		}
		done[*c.CaseID] = true
		// The same correction twice (the button pressed again) is one note.
		same := fmt.Sprintf("%s version %d. The current answer (version %d)", f.Name, c.C.Version, f.Published.Version)
		notes, err := d.Cases.Notes(r.Context(), *c.CaseID)
		if err != nil {
			d.fail(w, r, v, err)
			return
		}
		if slices.ContainsFunc(notes, func(n *cases.Note) bool { return strings.Contains(n.Body, same) }) {
			continue
		}
		note := fmt.Sprintf("Correction needed: on %s this customer was given %s version %d. The current answer (version %d) is: %s",
			whenText(c.C.CitedAt), f.Name, c.C.Version, f.Published.Version, f.Published.Value)
		if _, err := d.Cases.AddNote(r.Context(), v.actor(), *c.CaseID, note); err != nil {
			d.fail(w, r, v, err)
			return
		}
	}
	http.Redirect(w, r, "/knowledge/facts/"+factID.String()+"?done=corrections&days="+strconv.Itoa(days), http.StatusSeeOther)
}

// ---- Consistency ----

func (d *Desk) knowledgeConsistency(w http.ResponseWriter, r *http.Request, v *viewer) {
	to := time.Now().UTC()
	from := to.AddDate(0, 0, -30)
	if t, err := time.Parse("2006-01-02", r.URL.Query().Get("from")); err == nil {
		from = t
	}
	if t, err := time.Parse("2006-01-02", r.URL.Query().Get("to")); err == nil {
		to = t.AddDate(0, 0, 1) // the whole last day
	}
	report, err := d.Knowledge.Consistency(r.Context(), from, to)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	cps, _, err := d.contactPoints(r)
	if err != nil {
		d.fail(w, r, v, err)
		return
	}
	cpName := func(x *id.ID) string {
		if x == nil {
			return "No contact point"
		}
		if cp := cps[*x]; cp != nil {
			return cp.Name
		}
		return "Contact point " + x.String()
	}
	names := d.customerNames()
	for _, it := range report {
		for _, c := range it.Outdated {
			names.of(r.Context(), c.CustomerID)
		}
	}
	d.render(w, r, "knowledge_consistency", v, map[string]any{"Report": report, "From": from.Format("2006-01-02"),
		"To": to.AddDate(0, 0, -1).Format("2006-01-02"), "CPName": cpName, "Names": names.names})
}
