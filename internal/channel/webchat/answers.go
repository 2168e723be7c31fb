package webchat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// The widget answers from the knowledge base before (and while) a person
// does: what the visitor types is matched against the public help
// articles, and an article opened in the widget is recorded with the
// versions it showed, like a help center page view, so the chat answers
// from the same source as every other contact point.

// UseKnowledge lets the widget suggest and show help articles.
func (s *Service) UseKnowledge(kb *knowledge.Service) { s.knowledge = kb }

// Suggestion is a help article offered for what the visitor wrote.
type Suggestion struct {
	ArticleID id.ID  `json:"article_id"`
	Title     string `json:"title"`
	// Snippet is escaped HTML whose only markup is <mark>.
	Snippet template.HTML `json:"snippet_html"`
}

// Article is a help article shown in the widget.
type Article struct {
	ArticleID id.ID         `json:"article_id"`
	Version   int           `json:"version"`
	Title     string        `json:"title"`
	HTML      template.HTML `json:"html"` // through the knowledge base's safe renderer
}

const (
	maxSuggestions    = 3
	maxSuggestWords   = 8
	maxSuggestText    = 500 // characters of the visitor's text looked at
	maxVisitorIDBytes = 64
)

// Suggest finds up to three public articles for text, best first; none
// when the text has no words worth searching.
func (s *Service) Suggest(ctx context.Context, text string) ([]Suggestion, error) {
	out := []Suggestion{}
	if s.knowledge == nil {
		return out, nil
	}
	if r := []rune(text); len(r) > maxSuggestText {
		text = string(r[:maxSuggestText])
	}
	words := knowledge.Keywords(maxSuggestWords, text)
	if len(words) == 0 {
		return out, nil
	}
	hits, err := s.knowledge.Relevant(ctx, words, knowledge.Public, "", maxSuggestions)
	if err != nil {
		return nil, err
	}
	for _, h := range hits {
		out = append(out, Suggestion{ArticleID: h.ArticleID, Title: h.Title, Snippet: h.Snippet})
	}
	return out, nil
}

// validVisitorID tells whether v can be the widget's own id of a visitor
// who has not started a conversation (letters, digits, - and _).
func validVisitorID(v string) bool {
	return len(v) >= 16 && len(v) <= maxVisitorIDBytes &&
		strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == ""
}

// visitorIdentifier is the widget's visitor id as an identifier.
func visitorIdentifier(visitorID string) customer.RawIdentifier {
	return customer.RawIdentifier{Kind: "anonymous_id", Value: "webchat-visitor-" + visitorID}
}

// viewKey names what a view showed (the article and fact versions), short
// enough for an external id.
func viewKey(cites []knowledge.Ref) string {
	sum := sha256.Sum256([]byte(knowledge.FormatRefs(cites)))
	return hex.EncodeToString(sum[:12])
}

// ShowArticle renders a published public article (another audience's is
// not found) and records that the visitor was shown it: a page_view on the
// chat contact point, on the conversation's customer when there is one and
// else on the widget's visitor id, citing the article and fact versions.
// Showing the same version again to the same visitor records nothing new.
func (s *Service) ShowArticle(ctx context.Context, p *Point, c *Conversation, visitorID string, articleID id.ID) (*Article, error) {
	if s.knowledge == nil {
		return nil, errs.NotFoundf("article %s", articleID)
	}
	var who []customer.RawIdentifier
	var viewer string
	switch {
	case c != nil:
		who, viewer = c.identifiers(), c.ID.String()
	case validVisitorID(visitorID):
		who, viewer = []customer.RawIdentifier{visitorIdentifier(visitorID)}, visitorID
	default:
		return nil, errs.Invalidf("visitor", "must be the widget's visitor id (16 to %d letters, digits, - or _) when no conversation is open", maxVisitorIDBytes)
	}
	rd, err := s.knowledge.RenderArticle(ctx, articleID, knowledge.Public, "")
	if err != nil {
		return nil, err
	}
	cites := rd.Cites
	_, err = s.interactions.Record(ctx, []interaction.Input{{
		Identifiers: who, ContactPointID: p.ID, Kind: "page_view", Direction: interaction.Passive, OccurredAt: s.now(),
		Subject: rd.Version.Title, Source: source(p.ID),
		ExternalID: "view:" + viewer + ":" + viewKey(cites),
		Then: func(ctx context.Context, tx *store.Tx, rec interaction.Recorded) error {
			return s.knowledge.CiteTx(ctx, tx, rec.ID, cites)
		},
	}})
	if err != nil {
		return nil, fmt.Errorf("recording the article view: %w", err)
	}
	return &Article{ArticleID: articleID, Version: rd.Version.Version, Title: rd.Version.Title, HTML: rd.HTML}, nil
}
