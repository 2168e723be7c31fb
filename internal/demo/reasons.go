package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Contact reasons (contact drivers), as the agents code them.
const (
	reasonShippingCharges = "shipping_charges"
	reasonDeliveryTime    = "delivery_time"
	reasonOrderStatus     = "order_status"
	reasonReturn          = "return_request"
	reasonProduct         = "product_question"
	reasonWarranty        = "warranty"
	reasonInstallation    = "installation_booking"
	reasonRepair          = "repair_request"
	reasonBilling         = "billing_question"
	reasonFinancing       = "financing_question"
	reasonStoreHours      = "store_hours"
	reasonPriceMatch      = "price_match"
	reasonLogin           = "account_login"
	reasonComplaint       = "complaint"
	reasonOverdue         = "overdue_payment"
)

// reason is a contact driver with what the customer says and what the agent notes.
type reason struct {
	code     string
	stage    string
	subject  string // the customer's subject line (written channels)
	words    string // the customer's words (written channels)
	summary  string // the agent's one-line summary
	notes    string // the agent's notes (calls, visits)
	minutes  [2]int // call length
	mood     [2]float64
	outcomes []string
}

// Placeholders in the texts: {product} {first} {fee} {threshold} {days} {city} {order} {store}.
var reasons = map[string]*reason{
	reasonShippingCharges: {
		code: reasonShippingCharges, stage: pre,
		subject: "What does delivery cost?",
		words:   "Hi, I have the {product} in my basket but I can't see anywhere what shipping costs. Can you tell me before I order? Thanks, {first}",
		summary: "Customer asked what shipping costs before ordering; not shown on the website.",
		notes:   "Had the {product} in the cart and could not find the shipping charge on the cart or checkout page. Quoted {fee} standard delivery, free over {threshold}. Customer asked why the website does not say so.",
		minutes: [2]int{3, 8}, mood: [2]float64{-0.5, 0.1},
		outcomes: []string{"answered", "answered", "order_placed", "customer_will_think_about_it"},
	},
	reasonDeliveryTime: {
		code: reasonDeliveryTime, stage: pre,
		subject: "How long does delivery take?",
		words:   "Hello, how long does delivery of the {product} to {city} take? The website doesn't say and I need it soon. {first}",
		summary: "Customer asked how long delivery takes before ordering; delivery times are not shown on the website.",
		notes:   "Was at checkout with the {product}; no delivery estimate on the product or checkout page. Told {days} working days to {city}.",
		minutes: [2]int{3, 7}, mood: [2]float64{-0.4, 0.2},
		outcomes: []string{"answered", "answered", "order_placed", "customer_will_think_about_it"},
	},
	reasonOrderStatus: {
		code: reasonOrderStatus, stage: post,
		subject: "Where is my order {order}?",
		words:   "Hi, I ordered the {product} (order {order}) and haven't heard anything since. When will it arrive? {first}",
		summary: "Customer asked about the status of order {order}; gave the delivery date.",
		notes:   "Order {order} ({product}) is with the carrier; expected in {days} working days. Sent tracking link.",
		minutes: [2]int{2, 6}, mood: [2]float64{-0.4, 0.2},
		outcomes: []string{"resolved", "resolved", "tracking_sent"},
	},
	reasonReturn: {
		code: reasonReturn, stage: post,
		subject: "Return of {product}",
		words:   "I'd like to return the {product}, it isn't what I expected. How do I do that? {first}",
		summary: "Customer wants to return the {product}; return label sent.",
		notes:   "Within the 30-day return window. Sent prepaid label; refund once received. Offered return in store ({store}).",
		minutes: [2]int{4, 9}, mood: [2]float64{-0.3, 0.2},
		outcomes: []string{"return_label_sent", "resolved"},
	},
	reasonProduct: {
		code: reasonProduct, stage: pre,
		subject: "Question about the {product}",
		words:   "Does the {product} come with a plug for my country and what is in the box? Thanks, {first}",
		summary: "Questions about the {product} (features, compatibility); answered.",
		notes:   "Explained features and what is in the box of the {product}; sent the spec sheet.",
		minutes: [2]int{3, 10}, mood: [2]float64{0, 0.5},
		outcomes: []string{"answered", "answered", "order_placed"},
	},
	reasonWarranty: {
		code: reasonWarranty, stage: post,
		subject: "{product} faulty",
		words:   "My {product} stopped working after a few weeks. It should still be under warranty. {first}",
		summary: "{product} faulty within warranty; replacement arranged.",
		notes:   "Checked purchase ({order}); fault reproducible from the description. Replacement to be collected in store or delivered.",
		minutes: [2]int{6, 14}, mood: [2]float64{-0.7, -0.1},
		outcomes: []string{"replacement_arranged", "repair_booked"},
	},
	reasonInstallation: {
		code: reasonInstallation, stage: post,
		subject: "Installation appointment",
		words:   "Can I book the installation of my {product} for a morning next week? {first}",
		summary: "Booked the installation of the {product}.",
		notes:   "Installation of the {product} booked; technician will call 30 minutes ahead.",
		minutes: [2]int{3, 7}, mood: [2]float64{0, 0.5},
		outcomes: []string{"appointment_booked"},
	},
	reasonRepair: {
		code: reasonRepair, stage: post,
		subject: "Repair needed: {product}",
		words:   "My {product} is making a loud noise and stopped mid-cycle. Can someone come and look at it? {first}",
		summary: "{product} stopped working; technician visit booked.",
		notes:   "Fault described: stops mid-cycle with error light. Booked technician visit; parts may be needed.",
		minutes: [2]int{5, 12}, mood: [2]float64{-0.6, -0.1},
		outcomes: []string{"repair_booked"},
	},
	reasonBilling: {
		code: reasonBilling, stage: post,
		subject: "Question about my statement",
		words:   "There is a charge on my latest statement I don't recognise. Can you explain? {first}",
		summary: "Customer queried a charge on the latest statement; explained.",
		notes:   "Charge is the monthly instalment for the {product}. Explained the statement layout.",
		minutes: [2]int{4, 10}, mood: [2]float64{-0.4, 0.1},
		outcomes: []string{"explained", "resolved"},
	},
	reasonFinancing: {
		code: reasonFinancing, stage: buy,
		subject: "Financing for the {product}",
		words:   "Can I pay for the {product} in monthly instalments? {first}",
		summary: "Asked about 0% financing for the {product}; explained the terms.",
		notes:   "0% over 12 months for purchases over {threshold}; credit check at checkout or in store.",
		minutes: [2]int{5, 12}, mood: [2]float64{0, 0.4},
		outcomes: []string{"answered", "application_started"},
	},
	reasonStoreHours: {
		code: reasonStoreHours, stage: pre,
		subject: "Opening hours",
		words:   "What are the opening hours of the {store} on Sunday? {first}",
		summary: "Asked for the opening hours of the {store}.",
		notes:   "Gave opening hours of the {store}.",
		minutes: [2]int{1, 3}, mood: [2]float64{0, 0.4},
		outcomes: []string{"answered"},
	},
	reasonPriceMatch: {
		code: reasonPriceMatch, stage: buy,
		subject: "Price match for the {product}?",
		words:   "I've seen the {product} cheaper elsewhere. Do you match prices? {first}",
		summary: "Asked to match a competitor's price for the {product}; approved.",
		notes:   "Competitor price checked online; matched and applied to the order.",
		minutes: [2]int{4, 9}, mood: [2]float64{-0.1, 0.4},
		outcomes: []string{"price_matched", "declined"},
	},
	reasonLogin: {
		code: reasonLogin, stage: post,
		subject: "Can't sign in",
		words:   "I can't sign in to my account in the web shop, the password reset mail never arrives. {first}",
		summary: "Could not sign in to the web shop; password reset link sent again.",
		notes:   "Reset mail was in the spam folder. Sent a new link; customer signed in while on the line.",
		minutes: [2]int{3, 8}, mood: [2]float64{-0.4, 0.1},
		outcomes: []string{"resolved"},
	},
	reasonComplaint: {
		code: reasonComplaint, stage: post,
		subject: "Complaint about my delivery",
		words:   "The delivery crew for my {product} came three hours late and nobody called ahead. Not good enough. {first}",
		summary: "Unhappy with the delivery of the {product}: crew late, no call ahead. Apologised; voucher issued.",
		notes:   "Crew ran late on the route; no call-ahead. Apologised and issued a voucher.",
		minutes: [2]int{6, 15}, mood: [2]float64{-0.9, -0.4},
		outcomes: []string{"voucher_issued", "escalated"},
	},
}

// everyday drivers and their weights, for contacts that are not the story.
var everydayReasons = []struct {
	code   string
	weight float64
}{
	{reasonOrderStatus, 20}, {reasonProduct, 15}, {reasonReturn, 9}, {reasonWarranty, 6}, {reasonInstallation, 5},
	{reasonRepair, 5}, {reasonBilling, 6}, {reasonFinancing, 4}, {reasonStoreHours, 5}, {reasonPriceMatch, 4},
	{reasonLogin, 6}, {reasonComplaint, 5},
}

func everydayReason(r *rand.Rand) *reason {
	var sum float64
	for _, e := range everydayReasons {
		sum += e.weight
	}
	x := r.Float64() * sum
	for _, e := range everydayReasons {
		if x < e.weight {
			return reasons[e.code]
		}
		x -= e.weight
	}
	return reasons[reasonOrderStatus]
}

// fill replaces the placeholders of a reason text.
func (p *person) fill(text string, prod *product, order string) string {
	if !strings.Contains(text, "{") {
		return text
	}
	fee, threshold, days := "$9.99", "$99", "3 to 5"
	switch p.c.code {
	case "GB":
		fee, threshold, days = "£4.99", "£50", "2 to 4"
	case "DE":
		fee, threshold, days = "4,99 €", "50 €", "2 to 3"
	}
	if prod != nil && prod.delivery {
		fee = map[string]string{"US": "$59", "GB": "£39", "DE": "49 €"}[p.c.code]
		days = "5 to 10"
	}
	pname := "order"
	if prod != nil {
		pname = prod.name
	}
	if order == "" {
		order = fmt.Sprintf("W%07d", 3000000+p.idx)
	}
	var b strings.Builder
	b.Grow(len(text) + 32)
	for {
		i := strings.IndexByte(text, '{')
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		j := strings.IndexByte(text[i:], '}')
		if j < 0 {
			b.WriteString(text)
			return b.String()
		}
		b.WriteString(text[:i])
		switch text[i+1 : i+j] {
		case "product":
			b.WriteString(pname)
		case "first":
			b.WriteString(p.first)
		case "fee":
			b.WriteString(fee)
		case "threshold":
			b.WriteString(threshold)
		case "days":
			b.WriteString(days)
		case "city":
			b.WriteString(p.city)
		case "order":
			b.WriteString(order)
		case "store":
			b.WriteString(catalog[p.c.store].name)
		default:
			b.WriteString(text[i : i+j+1])
		}
		text = text[i+j+1:]
	}
}
