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
	return PublishArticleAs(t, kb, Editor, Publisher, slug, title, body, category, aud)
}

// PublishArticleAs is PublishArticle by the given editor and publisher.
func PublishArticleAs(t testing.TB, kb *knowledge.Service, editor, publisher, slug, title, body, category string, aud knowledge.Audience) *knowledge.Article {
	t.Helper()
	ctx := context.Background()
	a, err := kb.CreateArticle(ctx, knowledge.ArticleSpec{Slug: &slug, Title: &title, Body: &body, Category: &category, Audience: (*string)(&aud)}, editor)
	if err != nil {
		t.Fatalf("creating article %s: %v", slug, err)
	}
	if err := kb.SubmitArticle(ctx, a.ID, 1, editor); err != nil {
		t.Fatal(err)
	}
	if err := kb.PublishArticle(ctx, a.ID, 1, publisher); err != nil {
		t.Fatal(err)
	}
	return a
}

// SetFact creates or changes a fact, publishes the value and returns the
// fact and the published version.
func SetFact(t testing.TB, kb *knowledge.Service, name, value string) (id.ID, int) {
	t.Helper()
	return SetFactAs(t, kb, Editor, Publisher, name, value)
}

// SetFactAs is SetFact by the given editor and publisher.
func SetFactAs(t testing.TB, kb *knowledge.Service, editor, publisher, name, value string) (id.ID, int) {
	t.Helper()
	ctx := context.Background()
	f, err := kb.FactByName(ctx, name, "")
	var version int
	switch {
	case errors.Is(err, errs.ErrNotFound):
		if f, err = kb.CreateFact(ctx, knowledge.FactSpec{Name: &name, Value: &value}, editor); err != nil {
			t.Fatalf("creating fact %s: %v", name, err)
		}
		version = 1
	case err != nil:
		t.Fatal(err)
	default:
		v, err := kb.NewFactDraft(ctx, f.ID, knowledge.FactSpec{Value: &value}, editor)
		if err != nil {
			t.Fatalf("changing fact %s: %v", name, err)
		}
		version = v.Version
	}
	if err := kb.SubmitFact(ctx, f.ID, version, editor); err != nil {
		t.Fatal(err)
	}
	if err := kb.PublishFact(ctx, f.ID, version, publisher); err != nil {
		t.Fatal(err)
	}
	return f.ID, version
}
