package demo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// Voltmart is the demo company: an electronics and appliance retailer with
// three stores, a call center with lines in three countries, a web shop and
// an app, delivery and installation crews, a business sales team, its own
// credit, and the usual advertising.
const companyName = "Voltmart"

const (
	pre  = "pre_purchase"
	buy  = "purchase"
	post = "post_purchase"
)

// cpKey names a contact point of the catalog inside this package.
type cpKey int

const (
	cpStoreMain cpKey = iota
	cpStoreHarbour
	cpStoreAirport
	cpLineUS
	cpLineUK
	cpLineDE
	cpEmail
	cpChat
	cpSMS
	cpWhatsApp
	cpInstagram
	cpX
	cpWeb
	cpApp
	cpKioskMain
	cpKioskHarbour
	cpKioskAirport
	cpDelivery
	cpFieldService
	cpFieldSales
	cpBilling
	cpCredit
	cpCollections
	cpMail
	cpAdPrint
	cpAdTV
	cpAdSearch
	cpAdBanner
	cpReviews
	cpWordOfMouth
	numContactPoints
)

// The company's own numbers. They are fictional numbers (the 555-01xx range in
// North America, Ofcom's drama ranges in the UK, the Bundesnetzagentur's
// reserved Berlin block in Germany) that the phone number library accepts as
// possible numbers.
const (
	phoneLineUS   = "+1 212 555 0100"
	phoneLineUK   = "+44 20 7946 0100"
	phoneLineDE   = "+49 30 23125 100"
	phoneSMS      = "+1 212 555 0150"
	phoneWhatsApp = "+44 7700 900100"
)

// cpDef is one contact point of the catalog.
type cpDef struct {
	key         cpKey
	kind        contactpoint.Kind
	name        string
	online      bool
	stages      []string
	level       string
	description string
	settings    map[string]any
}

// catalog lists Voltmart's contact points. Its order is the order of the ids
// that CreateContactPoints returns and that NewGenerator expects.
var catalog = [numContactPoints]cpDef{
	{cpStoreMain, "store", "Main Street store", false, []string{pre, buy, post}, contactpoint.HighContact,
		"Flagship store at 120 Main Street: sales floor, pick-up counter, returns and repairs desk.",
		map[string]any{"country": "US", "opening_hours": "Mo-Sa 09:00-21:00, Su 11:00-18:00"}},
	{cpStoreHarbour, "store", "Harbour Mall store", false, []string{pre, buy, post}, contactpoint.HighContact,
		"Store in the Harbour Mall, level 1, next to the food court.",
		map[string]any{"country": "GB", "opening_hours": "Mo-Sa 09:00-20:00, Su 10:00-16:00"}},
	{cpStoreAirport, "store", "Airport store", false, []string{pre, buy, post}, contactpoint.HighContact,
		"Store in Terminal 1, landside: travel electronics, chargers, headphones; pick-up of web orders.",
		map[string]any{"country": "DE", "opening_hours": "daily 06:00-22:00"}},
	{cpLineUS, "phone", "Support line US " + phoneLineUS, false, []string{pre, buy, post}, contactpoint.HighContact,
		"Call center, US line: orders, deliveries, returns, repairs.",
		map[string]any{"number": phoneLineUS, "country": "US", "hours": "Mo-Fr 08:00-20:00, Sa 09:00-17:00"}},
	{cpLineUK, "phone", "Support line UK " + phoneLineUK, false, []string{pre, buy, post}, contactpoint.HighContact,
		"Call center, UK line.",
		map[string]any{"number": phoneLineUK, "country": "GB", "hours": "Mo-Fr 08:00-20:00, Sa 09:00-17:00"}},
	{cpLineDE, "phone", "Support line Germany " + phoneLineDE, false, []string{pre, buy, post}, contactpoint.HighContact,
		"Call center, German line (Kundenservice).",
		map[string]any{"number": phoneLineDE, "country": "DE", "hours": "Mo-Fr 08:00-20:00, Sa 09:00-17:00"}},
	{cpEmail, "email", "support@voltmart.example", true, []string{pre, buy, post}, contactpoint.HighContact,
		"Customer service mailbox, answered by the call center agents.",
		map[string]any{"address": "support@voltmart.example"}},
	{cpChat, "web_chat", "Web chat", true, []string{pre, buy, post}, contactpoint.HighContact,
		"Chat widget on the web shop, staffed by agents during call center hours.",
		// Pages opened from a file (origin "null") or served on port 8000 of
		// this machine may use the widget: examples/chat-widget.html works as it is.
		map[string]any{"allowed_origins": []string{"null", "http://localhost:8000", "http://127.0.0.1:8000"},
			"pre_chat_form": true, "title": "Voltmart help", "greeting": "Hi! Ask us about orders, deliveries and repairs."}},
	{cpSMS, "sms", "SMS " + phoneSMS, true, []string{buy, post}, contactpoint.LowContact,
		"Order and delivery notifications by text message; replies reach the agents.",
		map[string]any{"number": phoneSMS}},
	{cpWhatsApp, "whatsapp", "WhatsApp " + phoneWhatsApp, true, []string{pre, post}, contactpoint.HighContact,
		"WhatsApp Business account for questions and delivery updates.",
		map[string]any{"number": phoneWhatsApp}},
	{cpInstagram, "social", "Instagram @voltmart", true, []string{pre, post}, contactpoint.LowContact,
		"Instagram account: posts, comments and direct messages.", map[string]any{"network": "instagram", "handle": "voltmart"}},
	{cpX, "social", "X @voltmart", true, []string{pre, post}, contactpoint.LowContact,
		"X account: mentions and direct messages.", map[string]any{"network": "x", "handle": "voltmart"}},
	{cpWeb, "website", "Web shop voltmart.example", true, []string{pre, buy, post}, contactpoint.LowContact,
		"The web shop: catalog, cart, checkout, order tracking.",
		// The help center's callback and email forms open cases.
		map[string]any{"url": "https://voltmart.example", "opens_cases": true}},
	{cpApp, "mobile_app", "Voltmart app", true, []string{pre, buy, post}, contactpoint.LowContact,
		"iOS and Android app: shopping, loyalty card, order tracking.", nil},
	{cpKioskMain, "kiosk", "Kiosk, Main Street store", false, []string{pre, buy}, contactpoint.LowContact,
		"Self-service kiosk at the entrance: stock check, loyalty points, order pick-up.", nil},
	{cpKioskHarbour, "kiosk", "Kiosk, Harbour Mall store", false, []string{pre, buy}, contactpoint.LowContact,
		"Self-service kiosk: stock check, loyalty points, order pick-up.", nil},
	{cpKioskAirport, "kiosk", "Kiosk, Airport store", false, []string{pre, buy}, contactpoint.LowContact,
		"Self-service kiosk: stock check, loyalty points, order pick-up.", nil},
	{cpDelivery, "delivery", "Home delivery", false, []string{post}, contactpoint.HighContact,
		"Two-person delivery crews for TVs and large appliances.", nil},
	{cpFieldService, "field_service", "Installation and repair technicians", false, []string{post}, contactpoint.HighContact,
		"Technicians who install appliances and repair them at the customer's home.", nil},
	{cpFieldSales, "field_sales", "Business sales team", false, []string{pre, buy}, contactpoint.HighContact,
		"Visiting salespeople for business customers: offices, hotels, schools.", nil},
	{cpBilling, "billing", "Billing", false, []string{post}, contactpoint.LowContact,
		"Invoices and monthly statements for account and financing customers.", nil},
	{cpCredit, "credit", "Voltmart Credit (financing)", false, []string{buy, post}, contactpoint.HighContact,
		"Financing for larger purchases: 6 to 24 months.", nil},
	{cpCollections, "collections", "Collections desk", false, []string{post}, contactpoint.HighContact,
		"Follows up overdue accounts: reminders, calls, payment plans.", nil},
	{cpMail, "mail", "Mail (catalogs and letters)", false, []string{pre, post}, contactpoint.LowContact,
		"Printed catalogs and letters.", nil},
	{cpAdPrint, "advertising", "Spring print campaign", false, []string{pre}, contactpoint.LowContact,
		"Flyers and newspaper inserts with promo code SPRING15 and a QR code to the web shop.",
		map[string]any{"medium": "print", "utm_campaign": "spring_print"}},
	{cpAdTV, "advertising", "TV spot \"Switch on spring\"", false, []string{pre}, contactpoint.LowContact,
		"30-second TV spot on national channels.", map[string]any{"medium": "tv", "utm_campaign": "tv_spot"}},
	{cpAdSearch, "advertising", "Search ads", true, []string{pre}, contactpoint.LowContact,
		"Paid search on the brand and product terms.", map[string]any{"medium": "cpc", "utm_campaign": "search_brand"}},
	{cpAdBanner, "advertising", "Banner ads", true, []string{pre}, contactpoint.LowContact,
		"Display and retargeting banners.", map[string]any{"medium": "banner", "utm_campaign": "spring_banner"}},
	{cpReviews, "review_site", "Review site (StarRate)", true, []string{pre, post}, contactpoint.LowContact,
		"Public reviews of Voltmart on a rating site.", nil},
	{cpWordOfMouth, "word_of_mouth", "Word of mouth", false, []string{pre}, contactpoint.LowContact,
		"Customers who came on a friend's recommendation (refer-a-friend codes, \"how did you hear about us\").", nil},
}

func (d *cpDef) spec() contactpoint.Spec {
	kind, name, online, stages, level, desc := d.kind, d.name, d.online, d.stages, d.level, d.description
	s := contactpoint.Spec{Kind: &kind, Name: &name, Online: &online, JourneyStages: &stages, ContactLevel: &level, Description: &desc}
	if d.settings != nil {
		b, _ := json.Marshal(d.settings)
		s.Settings = b
	}
	return s
}

// CreateContactPoints makes sure Voltmart's contact points exist and returns
// their ids in catalog order, the order NewGenerator expects. Contact points
// that already exist (same kind and name) are reused, so it may run again.
func CreateContactPoints(ctx context.Context, svc *contactpoint.Service) ([]id.ID, error) {
	existing, err := svc.List(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("listing contact points: %w", err)
	}
	have := map[string]id.ID{}
	for _, cp := range existing {
		k := string(cp.Kind) + "\x00" + cp.Name
		if _, ok := have[k]; !ok {
			have[k] = cp.ID
		}
	}
	ids := make([]id.ID, len(catalog))
	for i := range catalog {
		d := &catalog[i]
		if cpID, ok := have[string(d.kind)+"\x00"+d.name]; ok {
			ids[i] = cpID
			continue
		}
		c, err := svc.Create(ctx, d.spec())
		if err != nil {
			return nil, fmt.Errorf("creating contact point %q: %w", d.name, err)
		}
		ids[i] = c.ID
	}
	return ids, nil
}

// staff of Voltmart. Those with a login are the demo sign-ins; the others
// appear on interactions by name only.
type staffMember struct {
	name  string
	email string // sign-in, if any
}

var (
	// Call center agents per line; the first of each is a demo sign-in.
	agentsUS = []staffMember{{"Alex Morgan", "agent@demo.example"}, {"Maria Lopez", ""}, {"Kevin Brooks", ""}, {"Tanya Reed", ""}}
	agentsUK = []staffMember{{"Priya Shah", "agent2@demo.example"}, {"Oliver Hughes", ""}, {"Chloe Evans", ""}}
	agentsDE = []staffMember{{"Jonas Becker", "agent3@demo.example"}, {"Lena Fischer", ""}, {"Mehmet Yilmaz", ""}}
	// Store clerks per store; Tom Baker is the staff sign-in.
	clerksMain    = []staffMember{{"Tom Baker", "staff@demo.example"}, {"Jessica Reed", ""}, {"Luis Ortega", ""}}
	clerksHarbour = []staffMember{{"Harry Clarke", ""}, {"Amelia Wright", ""}}
	clerksAirport = []staffMember{{"Felix Wagner", ""}, {"Sarah Koch", ""}}
	technicians   = []staffMember{{"Dave Miller", ""}, {"Stefan Braun", ""}, {"Ryan Cooper", ""}, {"Gareth Price", ""}}
	drivers       = []staffMember{{"Marco Rossi", ""}, {"Ben Turner", ""}, {"Jan Kowalczyk", ""}}
	salespeople   = []staffMember{{"Laura Chen", ""}, {"Matthias Hoffmann", ""}, {"James Whitfield", ""}}
	collectors    = []staffMember{{"Frank Delgado", ""}, {"Sam Rivera", "supervisor@demo.example"}}
	creditAdvisor = []staffMember{{"Emma Lewis", ""}, {"Karl Neumann", ""}}
)

// demoSignIns are the demo users. Every password is "demo".
var demoSignIns = []SignIn{
	{Email: "admin@demo.example", Password: "demo", Role: "admin", Name: "Ada Admin"},
	{Email: "supervisor@demo.example", Password: "demo", Role: "supervisor", Name: "Sam Rivera"},
	{Email: "agent@demo.example", Password: "demo", Role: "agent", Name: "Alex Morgan"},
	{Email: "agent2@demo.example", Password: "demo", Role: "agent", Name: "Priya Shah"},
	{Email: "agent3@demo.example", Password: "demo", Role: "agent", Name: "Jonas Becker"},
	{Email: "staff@demo.example", Password: "demo", Role: "staff", Name: "Tom Baker"},
	{Email: "analyst@demo.example", Password: "demo", Role: "analyst", Name: "Nina Kowalski"},
}

// product is something Voltmart sells. Prices are in US cents; other
// currencies are derived.
type product struct {
	name     string
	slug     string
	category string
	usd      int64
	delivery bool // delivered by the crews, not parcel
	install  bool // installed by a technician
}

var products = []product{
	{"Noise-cancelling headphones", "noise-cancelling-headphones", "audio", 19900, false, false},
	{"Bluetooth speaker", "bluetooth-speaker", "audio", 12900, false, false},
	{"USB-C fast charger", "usb-c-fast-charger", "accessories", 2900, false, false},
	{"Smartphone X12", "smartphone-x12", "phones", 79900, false, false},
	{"Laptop 14\" Pro", "laptop-14-pro", "computers", 109900, false, false},
	{"Tablet 11\"", "tablet-11", "computers", 49900, false, false},
	{"Smartwatch", "smartwatch", "wearables", 29900, false, false},
	{"Electric kettle", "electric-kettle", "kitchen", 4900, false, false},
	{"Espresso machine", "espresso-machine", "kitchen", 44900, false, false},
	{"Robot vacuum", "robot-vacuum", "home", 39900, false, false},
	{"Microwave", "microwave", "kitchen", 17900, false, false},
	{"55\" 4K TV", "55-4k-tv", "tv", 64900, true, false},
	{"65\" OLED TV", "65-oled-tv", "tv", 189900, true, true},
	{"Washing machine", "washing-machine", "appliances", 74900, true, true},
	{"Tumble dryer", "tumble-dryer", "appliances", 69900, true, true},
	{"Dishwasher", "dishwasher", "appliances", 59900, true, true},
	{"Fridge freezer", "fridge-freezer", "appliances", 119900, true, false},
	{"Built-in oven", "built-in-oven", "appliances", 89900, true, true},
}

// campaign is an advertising flight. Start and end are fractions of the
// history window, so that the flights move with "today".
type campaign struct {
	cp         cpKey
	utm        string
	source     string
	medium     string
	term       string
	promo      string
	start, end float64
}

var campaigns = []campaign{
	{cp: cpAdPrint, utm: "spring_print", source: "flyer", medium: "print", promo: "SPRING15", start: 0.45, end: 0.70},
	{cp: cpAdTV, utm: "tv_spot", source: "tv", medium: "video", start: 0.55, end: 0.72},
	{cp: cpAdSearch, utm: "search_brand", source: "google", medium: "cpc", term: "voltmart", start: 0, end: 1},
	{cp: cpAdBanner, utm: "spring_banner", source: "display_network", medium: "banner", start: 0.40, end: 0.85},
}
