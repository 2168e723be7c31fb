package desk

import (
	"net/http"

	"github.com/touchpoint-hub/touchpoint/internal/access"
)

// registerMore adds the staff view and the administration pages.
func (d *Desk) registerMore(mux *http.ServeMux) {
	// Staff away from a desk: store counters, field sales and service,
	// delivery, billing, credit and collections (staff.go).
	mux.Handle("GET /staff", d.page(access.ReadCustomers, d.staffHome))
	mux.Handle("GET /staff/customers/{id}", d.page(access.ReadCustomers, d.staffCustomer))
	mux.Handle("POST /staff/customers/{id}/log", d.page(access.WriteInteractions, d.staffLog))

	// Administration (admin.go).
	mux.Handle("GET /admin", d.page("", d.adminIndex))
	mux.Handle("GET /admin/users", d.page(access.ManageAccess, d.adminUsers))
	mux.Handle("POST /admin/users", d.page(access.ManageAccess, d.adminCreateUser))
	mux.Handle("POST /admin/users/{id}", d.page(access.ManageAccess, d.adminUpdateUser))
	mux.Handle("GET /admin/teams", d.page(access.ManageAccess, d.adminTeams))
	mux.Handle("POST /admin/teams", d.page(access.ManageAccess, d.adminCreateTeam))
	mux.Handle("POST /admin/teams/{id}", d.page(access.ManageAccess, d.adminUpdateTeam))
	mux.Handle("GET /admin/reasons", d.page(access.ManageCases, d.adminReasons))
	mux.Handle("POST /admin/reasons", d.page(access.ManageCases, d.adminSaveReason))
	mux.Handle("GET /admin/canned", d.page(access.ManageCases, d.adminCanned))
	mux.Handle("POST /admin/canned", d.page(access.ManageCases, d.adminSaveCanned))
	mux.Handle("GET /admin/sla", d.page(access.ManageCases, d.adminSLA))
	mux.Handle("POST /admin/sla", d.page(access.ManageCases, d.adminSavePolicy))

	// Contact points and their channel settings (channels.go).
	mux.Handle("GET /admin/contact-points", d.page(access.ManageContactPoint, d.adminContactPoints))
	mux.Handle("POST /admin/contact-points", d.page(access.ManageContactPoint, d.adminCreateContactPoint))
	mux.Handle("GET /admin/contact-points/{id}", d.page(access.ManageContactPoint, d.adminContactPoint))
	mux.Handle("POST /admin/contact-points/{id}", d.page(access.ManageContactPoint, d.adminSaveContactPoint))

	// Outgoing webhooks (webhooks.go).
	mux.Handle("GET /admin/webhooks", d.page(access.ManageWebhooks, d.adminWebhooks))
	mux.Handle("POST /admin/webhooks", d.page(access.ManageWebhooks, d.adminCreateWebhook))
	mux.Handle("GET /admin/webhooks/{id}", d.page(access.ManageWebhooks, d.adminWebhook))
	mux.Handle("POST /admin/webhooks/{id}", d.page(access.ManageWebhooks, d.adminSaveWebhook))
	mux.Handle("POST /admin/webhooks/{id}/active", d.page(access.ManageWebhooks, d.adminWebhookActive))
	mux.Handle("POST /admin/webhooks/{id}/secret", d.page(access.ManageWebhooks, d.adminRotateWebhookSecret))
	mux.Handle("POST /admin/webhooks/{id}/ping", d.page(access.ManageWebhooks, d.adminPingWebhook))
	mux.Handle("POST /admin/webhooks/{id}/deliveries/{delivery_id}/replay", d.page(access.ManageWebhooks, d.adminReplayWebhook))
}
