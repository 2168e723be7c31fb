package chat

import (
	"net/http"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/channel/webchat"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/web/problem"
)

// suggest offers help articles for what the visitor is writing (?q=).
func (h *Handler) suggest(w http.ResponseWriter, r *http.Request, p *webchat.Point) {
	items, err := h.Chat.Suggest(r.Context(), r.URL.Query().Get("q"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, struct {
		Items []webchat.Suggestion `json:"items"`
	}{items})
}

// article shows one help article in the widget. A visitor with a
// conversation sends its token; one without sends ?visitor=, the widget's
// own id, so that the view lands on someone's timeline either way.
func (h *Handler) article(w http.ResponseWriter, r *http.Request, p *webchat.Point) {
	articleID, err := id.Parse(r.PathValue("article"))
	if err != nil {
		h.fail(w, r, &problem.Status{Code: http.StatusNotFound, Detail: "no article " + r.PathValue("article")})
		return
	}
	var conv *webchat.Conversation
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if conv, err = h.Chat.Conversation(r.Context(), p, strings.TrimSpace(token)); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	a, err := h.Chat.ShowArticle(r.Context(), p, conv, r.URL.Query().Get("visitor"), articleID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, a)
}
