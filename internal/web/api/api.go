// Package api is the REST API under /api/v1: thin handlers that decode,
// call the domain services and encode. One file per resource.
package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/web/problem"
	"github.com/touchpoint-hub/touchpoint/internal/web/ratelimit"
	"github.com/touchpoint-hub/touchpoint/internal/webhook"
)

// API holds the services the handlers call.
type API struct {
	Log           *slog.Logger
	Access        *access.Service
	ContactPoints *contactpoint.Service
	Customers     *customer.Service
	Interactions  *interaction.Service
	Cases         *cases.Service
	Routing       *routing.Service
	Webhooks      *webhook.Service
	Knowledge     *knowledge.Service
	// PerCaller limits requests per token or user (nil: no limit).
	PerCaller *ratelimit.Limiter
	// Ingest, when set, is the event API's journal (its backlog is in the stats).
	Ingest interface{ Backlog() uint64 }
	// FailedAuth limits failed authentications per client address, which
	// slows down anyone guessing credentials (nil: no limit).
	FailedAuth *ratelimit.Limiter

	responseBufs sync.Pool // of *[]byte, for sendAppended
}

type principalKey struct{}

// PrincipalFrom returns who is calling, as set by the auth middleware.
func PrincipalFrom(ctx context.Context) *access.Principal {
	p, _ := ctx.Value(principalKey{}).(*access.Principal)
	return p
}

// WithPrincipal puts a principal in the context (used by session auth too).
func WithPrincipal(ctx context.Context, p *access.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// Register adds every API route to mux. Each route names the permission it
// needs; there is no route without one.
func (a *API) Register(mux *http.ServeMux) {
	route := func(pattern string, perm access.Permission, h http.HandlerFunc) {
		mux.Handle(pattern, a.authorize(perm, h))
	}
	route("GET /api/v1/contact-points", access.ReadContactPoints, a.listContactPoints)
	route("POST /api/v1/contact-points", access.ManageContactPoint, a.createContactPoint)
	route("GET /api/v1/contact-points/{id}", access.ReadContactPoints, a.getContactPoint)
	route("PATCH /api/v1/contact-points/{id}", access.ManageContactPoint, a.updateContactPoint)
	route("POST /api/v1/contact-points/{id}/disable", access.ManageContactPoint, a.disableContactPoint)
	route("POST /api/v1/contact-points/{id}/write-key", access.ManageContactPoint, a.rotateWriteKey)
	route("POST /api/v1/contact-points/{id}/widget-secret", access.ManageContactPoint, a.rotateWidgetSecret)

	route("GET /api/v1/customers", access.ReadCustomers, a.findCustomers)
	route("POST /api/v1/customers", access.WriteCustomers, a.createCustomer)
	route("GET /api/v1/customers/{id}", access.ReadCustomers, a.getCustomer)
	route("PATCH /api/v1/customers/{id}", access.WriteCustomers, a.updateCustomer)
	route("GET /api/v1/customers/{id}/timeline", access.ReadCustomers, a.customerTimeline)
	route("GET /api/v1/customers/{id}/merges", access.ReadCustomers, a.customerMerges)
	route("POST /api/v1/customers/{id}/merge", access.MergeCustomers, a.mergeCustomers)
	route("POST /api/v1/merges/{id}/undo", access.MergeCustomers, a.undoMerge)

	route("POST /api/v1/interactions", access.WriteInteractions, a.createInteraction)
	route("POST /api/v1/interactions/batch", access.WriteInteractions, a.createInteractionBatch)
	route("GET /api/v1/interactions/{id}", access.ReadCustomers, a.getInteraction)

	route("GET /api/v1/cases", access.ReadCases, a.listCases)
	route("GET /api/v1/cases/counts", access.ReadCases, a.caseCounts)
	route("POST /api/v1/cases", access.WriteCases, a.createCase)
	route("GET /api/v1/cases/{id}", access.ReadCases, a.getCase)
	route("PATCH /api/v1/cases/{id}", access.WriteCases, a.updateCase)
	route("GET /api/v1/cases/{id}/history", access.ReadCases, a.caseHistory)
	route("GET /api/v1/cases/{id}/timeline", access.ReadCases, a.caseTimeline)
	route("GET /api/v1/cases/{id}/notes", access.ReadCases, a.caseNotes)
	route("POST /api/v1/cases/{id}/notes", access.WriteCases, a.addCaseNote)
	route("POST /api/v1/cases/{id}/replies", access.WriteCases, a.replyToCase)
	route("POST /api/v1/cases/{id}/merge", access.WriteCases, a.mergeCase)
	route("POST /api/v1/cases/{id}/split", access.WriteCases, a.splitCase)
	route("POST /api/v1/cases/{id}/interactions", access.WriteCases, a.moveToCase)
	route("GET /api/v1/customers/{id}/cases", access.ReadCases, a.customerCases)

	route("GET /api/v1/reasons", access.ReadCases, a.listReasons)
	route("POST /api/v1/reasons", access.ManageCases, a.saveReason)
	route("GET /api/v1/sla-policies", access.ReadCases, a.listPolicies)
	route("POST /api/v1/sla-policies", access.ManageCases, a.createPolicy)
	route("PUT /api/v1/sla-policies/{id}", access.ManageCases, a.replacePolicy)
	route("GET /api/v1/calendars", access.ReadCases, a.listCalendars)
	route("POST /api/v1/calendars", access.ManageCases, a.createCalendar)
	route("PUT /api/v1/calendars/{id}", access.ManageCases, a.replaceCalendar)
	route("GET /api/v1/canned-responses", access.ReadCases, a.listCanned)
	route("POST /api/v1/canned-responses", access.ManageCases, a.createCanned)
	route("PUT /api/v1/canned-responses/{id}", access.ManageCases, a.replaceCanned)
	route("GET /api/v1/settings/case-join-rule", access.ReadCases, a.getJoinRule)
	route("PUT /api/v1/settings/case-join-rule", access.ManageCases, a.setJoinRule)

	route("GET /api/v1/stats", access.ReadStats, a.stats)
	route("GET /api/v1/staffing/erlang-c", access.ReadStats, a.staffingErlangC)
	route("GET /api/v1/staffing/erlang-a", access.ReadStats, a.staffingErlangA)

	route("GET /api/v1/routing/queues", access.RoutingRead, a.listRoutingQueues)
	route("POST /api/v1/routing/queues", access.RoutingManage, a.createRoutingQueue)
	route("PUT /api/v1/routing/queues/{id}", access.RoutingManage, a.replaceRoutingQueue)
	route("GET /api/v1/routing/queues/{id}/stats", access.RoutingRead, a.routingQueueStats)
	route("GET /api/v1/routing/metrics", access.RoutingRead, a.routingMetrics)
	route("PUT /api/v1/routing/agents/{user_id}", access.RoutingManage, a.setRoutingAgent)
	route("PUT /api/v1/routing/agents/{user_id}/presence", access.RoutingWork, a.setRoutingPresence)
	route("GET /api/v1/routing/work-items", access.RoutingRead, a.listWorkItems)
	route("POST /api/v1/routing/work-items", access.RoutingWork, a.enqueueWorkItem)
	route("POST /api/v1/routing/work-items/{id}/accept", access.RoutingWork, a.workItemAction((*routing.Service).Accept))
	route("POST /api/v1/routing/work-items/{id}/decline", access.RoutingWork, a.workItemAction((*routing.Service).Decline))
	route("POST /api/v1/routing/work-items/{id}/complete", access.RoutingWork, a.workItemAction((*routing.Service).Complete))
	route("POST /api/v1/routing/work-items/{id}/abandon", access.RoutingWork, a.abandonWorkItem)
	route("POST /api/v1/routing/work-items/{id}/reassign", access.RoutingManage, a.reassignWorkItem)

	route("GET /api/v1/webhooks", access.ManageWebhooks, a.listWebhooks)
	route("POST /api/v1/webhooks", access.ManageWebhooks, a.createWebhook)
	route("GET /api/v1/webhooks/{id}", access.ManageWebhooks, a.getWebhook)
	route("PATCH /api/v1/webhooks/{id}", access.ManageWebhooks, a.updateWebhook)
	route("DELETE /api/v1/webhooks/{id}", access.ManageWebhooks, a.deleteWebhook)
	route("POST /api/v1/webhooks/{id}/secret", access.ManageWebhooks, a.rotateWebhookSecret)
	route("POST /api/v1/webhooks/{id}/ping", access.ManageWebhooks, a.pingWebhook)
	route("GET /api/v1/webhooks/{id}/deliveries", access.ManageWebhooks, a.listWebhookDeliveries)
	route("GET /api/v1/webhooks/{id}/deliveries/{delivery_id}", access.ManageWebhooks, a.getWebhookDelivery)
	route("POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/replay", access.ManageWebhooks, a.replayWebhookDelivery)

	route("GET /api/v1/knowledge/articles", access.KnowledgeRead, a.listArticles)
	route("POST /api/v1/knowledge/articles", access.KnowledgeWrite, a.createArticle)
	route("GET /api/v1/knowledge/articles/{id}", access.KnowledgeRead, a.getArticle)
	route("GET /api/v1/knowledge/articles/{id}/rendered", access.KnowledgeRead, a.renderedArticle)
	route("GET /api/v1/knowledge/articles/{id}/versions", access.KnowledgeRead, a.listArticleVersions)
	route("POST /api/v1/knowledge/articles/{id}/versions", access.KnowledgeWrite, a.createArticleDraft)
	route("GET /api/v1/knowledge/articles/{id}/versions/{version}", access.KnowledgeRead, a.getArticleVersion)
	route("PATCH /api/v1/knowledge/articles/{id}/versions/{version}", access.KnowledgeWrite, a.updateArticleDraft)
	route("POST /api/v1/knowledge/articles/{id}/versions/{version}/submit", access.KnowledgeWrite, a.articleStep((*knowledge.Service).SubmitArticle))
	route("POST /api/v1/knowledge/articles/{id}/versions/{version}/withdraw", access.KnowledgeWrite, a.articleStep((*knowledge.Service).WithdrawArticle))
	route("POST /api/v1/knowledge/articles/{id}/versions/{version}/publish", access.KnowledgePublish, a.articleStep((*knowledge.Service).PublishArticle))
	route("GET /api/v1/knowledge/articles/{id}/diff", access.KnowledgeRead, a.diffArticle)
	route("GET /api/v1/knowledge/articles/{id}/history", access.KnowledgeRead, a.articleHistory)
	route("GET /api/v1/knowledge/facts", access.KnowledgeRead, a.listFacts)
	route("POST /api/v1/knowledge/facts", access.KnowledgeWrite, a.createFact)
	route("GET /api/v1/knowledge/facts/{id}", access.KnowledgeRead, a.getFact)
	route("GET /api/v1/knowledge/facts/{id}/versions", access.KnowledgeRead, a.listFactVersions)
	route("POST /api/v1/knowledge/facts/{id}/versions", access.KnowledgeWrite, a.createFactDraft)
	route("GET /api/v1/knowledge/facts/{id}/versions/{version}", access.KnowledgeRead, a.getFactVersion)
	route("PATCH /api/v1/knowledge/facts/{id}/versions/{version}", access.KnowledgeWrite, a.updateFactDraft)
	route("POST /api/v1/knowledge/facts/{id}/versions/{version}/submit", access.KnowledgeWrite, a.factStep((*knowledge.Service).SubmitFact))
	route("POST /api/v1/knowledge/facts/{id}/versions/{version}/withdraw", access.KnowledgeWrite, a.factStep((*knowledge.Service).WithdrawFact))
	route("POST /api/v1/knowledge/facts/{id}/versions/{version}/publish", access.KnowledgePublish, a.factStep((*knowledge.Service).PublishFact))
	route("GET /api/v1/knowledge/facts/{id}/diff", access.KnowledgeRead, a.diffFact)
	route("GET /api/v1/knowledge/facts/{id}/history", access.KnowledgeRead, a.factHistory)
	route("GET /api/v1/knowledge/facts/{id}/citations", access.KnowledgeRead, a.factCitations)
	route("POST /api/v1/knowledge/citations", access.WriteInteractions, a.createCitations)
	route("POST /api/v1/knowledge/render", access.KnowledgeRead, a.renderFacts)
	route("GET /api/v1/knowledge/search", access.KnowledgeRead, a.searchKnowledge)
	route("GET /api/v1/knowledge/gaps", access.KnowledgeRead, a.listGaps)
	route("GET /api/v1/knowledge/consistency", access.KnowledgeRead, a.consistencyReport)

	route("GET /api/v1/tokens", access.ManageAccess, a.listTokens)
	route("POST /api/v1/tokens", access.ManageAccess, a.createToken)
	route("DELETE /api/v1/tokens/{id}", access.ManageAccess, a.revokeToken)
	route("GET /api/v1/users", access.ManageAccess, a.listUsers)
	route("POST /api/v1/users", access.ManageAccess, a.createUser)

	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, a.Log, &problem.Status{Code: http.StatusNotFound, Detail: "no API route " + r.Method + " " + r.URL.Path + "; see docs/openapi.yaml"})
	})
}

// authorize checks the bearer token and the permission before h runs.
func (a *API) authorize(perm access.Permission, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := PrincipalFrom(r.Context())
		if p == nil {
			auth := r.Header.Get("Authorization")
			scheme, token, ok := strings.Cut(auth, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") {
				problem.Write(w, r, a.Log, &problem.Status{Code: http.StatusUnauthorized, Detail: "send an API token as Authorization: Bearer <token>"})
				return
			}
			var err error
			p, err = a.Access.AuthenticateToken(r.Context(), strings.TrimSpace(token))
			if err != nil {
				if a.FailedAuth != nil {
					if ok, wait := a.FailedAuth.Allow(clientAddr(r)); !ok {
						tooMany(w, r, a, wait, "too many failed authentications from this address")
						return
					}
				}
				problem.Write(w, r, a.Log, err)
				return
			}
			r = r.WithContext(WithPrincipal(r.Context(), p))
		}
		if a.PerCaller != nil {
			if ok, wait := a.PerCaller.Allow(p.Kind + ":" + p.ID.String()); !ok {
				tooMany(w, r, a, wait, "too many requests with this credential")
				return
			}
		}
		if !p.Role.Can(perm) {
			problem.Write(w, r, a.Log, &problem.Status{Code: http.StatusForbidden, Detail: "role " + string(p.Role) + " lacks permission " + string(perm)})
			return
		}
		h(w, r)
	})
}

func tooMany(w http.ResponseWriter, r *http.Request, a *API, wait time.Duration, detail string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
	problem.Write(w, r, a.Log, &problem.Status{Code: http.StatusTooManyRequests, Detail: detail + "; retry later"})
}

// clientAddr is the client's IP address (the port varies per connection).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// pathID reads the {id} path value.
func pathID(r *http.Request) (id.ID, error) {
	v, err := id.Parse(r.PathValue("id"))
	if err != nil {
		return 0, &problem.Status{Code: http.StatusNotFound, Detail: "no such id: " + r.PathValue("id")}
	}
	return v, nil
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	problem.Write(w, r, a.Log, err)
}
