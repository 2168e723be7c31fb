// Package knowledgetest publishes articles and facts for tests of the
// packages that show them, through the same review steps as the desk.
package knowledgetest

import (
	"context"
	"errors"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
)

const (
	Editor    = "Kim Editor"
	Publisher = "Sam Supervisor"
)

// PublishArticle creates an article and publishes its first version.
func PublishArticle(t testing.TB, kb *knowledge.Service, slug, title, body, category string, aud knowledge.Audience) *knowledge.Article {
	t.Helper()
	ctx := context.Background()
	a, err := kb.CreateArticle(ctx, knowledge.ArticleSpec{Slug: &slug, Title: &title, Body: &body, Category: &category, Audience: (*string)(&aud)}, Editor)
	if err != nil {
		t.Fatalf("creating article %s: %v", slug, err)
	}
	if err := kb.SubmitArticle(ctx, a.ID, 1, Editor); err != nil {
		t.Fatal(err)
	}
	if err := kb.PublishArticle(ctx, a.ID, 1, Publisher); err != nil {
		t.Fatal(err)
	}
	return a
}

// SetFact creates or changes a fact, publishes the value and returns the
// fact and the published version.
func SetFact(t testing.TB, kb *knowledge.Service, name, value string) (id.ID, int) {
	t.Helper()
	ctx := context.Background()
	f, err := kb.FactByName(ctx, name, "")
	var version int
	switch {
	case errors.Is(err, errs.ErrNotFound):
		if f, err = kb.CreateFact(ctx, knowledge.FactSpec{Name: &name, Value: &value}, Editor); err != nil {
			t.Fatalf("creating fact %s: %v", name, err)
		}
		version = 1
	case err != nil:
		t.Fatal(err)
	default:
		v, err := kb.NewFactDraft(ctx, f.ID, knowledge.FactSpec{Value: &value}, Editor)
		if err != nil {
			t.Fatalf("changing fact %s: %v", name, err)
		}
		version = v.Version
	}
	if err := kb.SubmitFact(ctx, f.ID, version, Editor); err != nil {
		t.Fatal(err)
	}
	if err := kb.PublishFact(ctx, f.ID, version, Publisher); err != nil {
		t.Fatal(err)
	}
	return f.ID, version
}
