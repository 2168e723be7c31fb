// Package access decides who may do what: roles and their permissions, users
// with passwords, API tokens, and the audit log.
package access

import (
	"slices"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// Role is what a user or token may do.
type Role string

const (
	Admin       Role = "admin"       // everything, including users, tokens and contact points
	Supervisor  Role = "supervisor"  // runs the contact center: queues, reassignments, merges
	Agent       Role = "agent"       // serves customers in the desk
	Staff       Role = "staff"       // store, field and collections staff away from a desk
	Analyst     Role = "analyst"     // reads, never writes
	Integration Role = "integration" // machine clients: ingest and read
)

// Roles lists every role.
var Roles = []Role{Admin, Supervisor, Agent, Staff, Analyst, Integration}

// ParseRole checks a role name.
func ParseRole(s string) (Role, bool) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	return r, slices.Contains(Roles, r)
}

// Permission names an action guarded on the routes.
type Permission string

const (
	ReadCustomers      Permission = "customers:read"
	WriteCustomers     Permission = "customers:write"
	MergeCustomers     Permission = "customers:merge"
	WriteInteractions  Permission = "interactions:write"
	ReadContactPoints  Permission = "contact_points:read"
	ManageContactPoint Permission = "contact_points:manage"
	ManageAccess       Permission = "access:manage"
	ReadStats          Permission = "stats:read"
	ReadCases          Permission = "cases:read"
	WriteCases         Permission = "cases:write"    // open, change, note, reply, move
	ManageCases        Permission = "cases:manage"   // reasons, SLA policies, calendars, canned responses, join rule
	RoutingRead        Permission = "routing:read"   // queues, work items, queue stats
	RoutingWork        Permission = "routing:work"   // one's own presence and offers; enqueue, complete, abandon
	RoutingManage      Permission = "routing:manage" // queues, agent profiles, reassignments, anyone's presence

	// Outgoing webhook subscriptions, their secrets and delivery logs.
	ManageWebhooks Permission = "webhooks:manage"

	// The knowledge base: read (search, versions, gaps, citations), write
	// drafts and send them to review, publish reviewed versions.
	KnowledgeRead    Permission = "knowledge:read"
	KnowledgeWrite   Permission = "knowledge:write"
	KnowledgePublish Permission = "knowledge:publish"
)

var grants = map[Role][]Permission{
	Admin:       {ReadCustomers, WriteCustomers, MergeCustomers, WriteInteractions, ReadContactPoints, ManageContactPoint, ManageAccess, ReadStats, ReadCases, WriteCases, ManageCases, RoutingRead, RoutingWork, RoutingManage, ManageWebhooks, KnowledgeRead, KnowledgeWrite, KnowledgePublish},
	Supervisor:  {ReadCustomers, WriteCustomers, MergeCustomers, WriteInteractions, ReadContactPoints, ReadStats, ReadCases, WriteCases, ManageCases, RoutingRead, RoutingWork, RoutingManage, KnowledgeRead, KnowledgeWrite, KnowledgePublish},
	Agent:       {ReadCustomers, WriteCustomers, WriteInteractions, ReadContactPoints, ReadStats, ReadCases, WriteCases, RoutingRead, RoutingWork, KnowledgeRead, KnowledgeWrite},
	Staff:       {ReadCustomers, WriteCustomers, WriteInteractions, ReadContactPoints, ReadCases, WriteCases, KnowledgeRead},
	Analyst:     {ReadCustomers, ReadContactPoints, ReadStats, ReadCases, RoutingRead, KnowledgeRead},
	Integration: {ReadCustomers, WriteCustomers, WriteInteractions, ReadContactPoints, ReadStats, ReadCases, WriteCases, KnowledgeRead},
}

// Can tells whether role has permission p.
func (r Role) Can(p Permission) bool { return slices.Contains(grants[r], p) }

// Principal is who is making a request.
type Principal struct {
	Kind   string // "token" or "user"
	ID     id.ID
	Name   string
	Role   Role
	UserID id.ID // the user behind a session or a personal token, 0 otherwise
}

// Actor is how the principal is named in audit entries and records.
func (p *Principal) Actor() string {
	if p == nil {
		return "system"
	}
	return p.Kind + ":" + p.ID.String() + ":" + p.Name
}
