package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/customer"
)

// country is where a customer lives: names, phone numbers, currency, the
// support line they call and the store they visit.
type country struct {
	code     string // ISO 3166
	currency string
	language string
	utcOff   int // hours, standard time; good enough for daily rhythms
	loc      *time.Location
	firsts   []string
	lasts    []string
	cities   []string
	line     cpKey
	store    cpKey
	kiosk    cpKey
	agents   []staffMember
	clerks   []staffMember
	// phoneRanges are fictional number blocks: a prefix and then the numbers
	// phoneLo..phoneHi written with phoneDigits digits.
	phoneRanges      []string
	phoneLo, phoneHi int
	phoneDigits      int
	// phoneWide formats a number beyond the fictional blocks (large benchmark pools).
	phoneWide func(n int) string
	priceRate float64 // local price per US dollar
}

var countries = []*country{
	{
		code: "US", currency: "USD", language: "en-US", utcOff: -5,
		firsts: []string{"James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda", "William",
			"Elizabeth", "Jose", "Maria", "Daniel", "Ashley", "Tyler", "Brittany", "Kevin", "Jessica", "Brian",
			"Emily", "Jamal", "Keisha", "Wei", "Mei", "Carlos", "Sofia", "Ethan", "Madison", "Noah", "Olivia",
			"DeShawn", "Hannah", "Raj", "Ana", "Connor", "Grace"},
		lasts: []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
			"Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
			"Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King",
			"Nguyen", "Patel", "Kim", "Washington", "Rivera", "Cohen"},
		cities: []string{"New York", "Brooklyn", "Chicago", "Boston", "Philadelphia", "Newark", "Jersey City",
			"Stamford", "Baltimore", "Washington"},
		line: cpLineUS, store: cpStoreMain, kiosk: cpKioskMain, agents: agentsUS, clerks: clerksMain,
		// Area codes with the 555-0100..0199 fictional range (212 is kept for Voltmart).
		phoneRanges: []string{"+1 646 555 01", "+1 718 555 01", "+1 917 555 01", "+1 312 555 01", "+1 617 555 01",
			"+1 215 555 01", "+1 202 555 01", "+1 410 555 01", "+1 973 555 01", "+1 201 555 01", "+1 203 555 01",
			"+1 347 555 01", "+1 773 555 01", "+1 857 555 01", "+1 267 555 01", "+1 301 555 01", "+1 516 555 01",
			"+1 914 555 01", "+1 860 555 01", "+1 401 555 01", "+1 484 555 01", "+1 732 555 01", "+1 908 555 01",
			"+1 443 555 01", "+1 571 555 01", "+1 703 555 01", "+1 224 555 01", "+1 630 555 01"},
		phoneLo: 0, phoneHi: 99, phoneDigits: 2,
		phoneWide: func(n int) string {
			return fmt.Sprintf("+1 %03d %03d %04d", 201+n%700, 200+(n/700)%800, (n/560000)%10000)
		},
		priceRate: 1,
	},
	{
		code: "GB", currency: "GBP", language: "en-GB", utcOff: 0,
		firsts: []string{"Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily", "Charlie", "Poppy",
			"Thomas", "Sophie", "Oscar", "Jessica", "William", "Lily", "James", "Evie", "Alfie", "Ruby", "Mohammed",
			"Aisha", "Rhys", "Megan", "Callum", "Niamh", "Arjun", "Freya", "Lewis", "Eleanor"},
		lasts: []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
			"Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
			"Patel", "Khan", "Hughes", "Edwards", "Lewis", "Turner", "Murphy", "Campbell", "Morgan", "Ahmed"},
		cities: []string{"London", "Manchester", "Birmingham", "Leeds", "Bristol", "Liverpool", "Sheffield",
			"Edinburgh", "Glasgow", "Cardiff"},
		line: cpLineUK, store: cpStoreHarbour, kiosk: cpKioskHarbour, agents: agentsUK, clerks: clerksHarbour,
		// Ofcom's numbers for drama use (Voltmart's own end in 0100-0199).
		phoneRanges: []string{"+44 20 7946 0", "+44 161 496 0", "+44 121 496 0", "+44 113 496 0", "+44 117 496 0",
			"+44 114 496 0", "+44 115 496 0", "+44 118 496 0", "+44 131 496 0", "+44 141 496 0", "+44 151 496 0",
			"+44 191 498 0", "+44 7700 900", "+44 28 9649 6"},
		phoneLo: 200, phoneHi: 999, phoneDigits: 3,
		phoneWide: func(n int) string {
			return fmt.Sprintf("+44 7%03d %06d", 400+n%500, (n/500)%1000000)
		},
		priceRate: 0.85,
	},
	{
		code: "DE", currency: "EUR", language: "de-DE", utcOff: 1,
		firsts: []string{"Lukas", "Anna", "Leon", "Lea", "Finn", "Hannah", "Jonas", "Lena", "Paul", "Marie", "Felix",
			"Sophie", "Maximilian", "Laura", "Elias", "Julia", "Ben", "Katharina", "Tim", "Sarah", "Jürgen", "Monika",
			"Stefan", "Sabine", "Uwe", "Petra", "Emre", "Ayşe", "Niklas", "Johanna"},
		lasts: []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
			"Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz",
			"Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Werner", "Krause", "Lehmann", "Yılmaz",
			"Öztürk"},
		cities: []string{"Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Düsseldorf",
			"Leipzig", "Dortmund", "Bremen"},
		line: cpLineDE, store: cpStoreAirport, kiosk: cpKioskAirport, agents: agentsDE, clerks: clerksAirport,
		// Blocks kept for use in films and examples (Voltmart's own end in 100-199).
		phoneRanges: []string{"+49 30 23125 ", "+49 40 66969 ", "+49 69 90009 ", "+49 89 99998 ", "+49 221 4710 "},
		phoneLo:     200, phoneHi: 999, phoneDigits: 3,
		phoneWide: func(n int) string {
			return fmt.Sprintf("+49 15%d %08d", 1+n%9, 10000000+(n/9)%90000000)
		},
		priceRate: 0.95,
	},
}

// phoneNumber returns the n-th customer number of the country (n ≥ 0),
// unique per n.
func (c *country) phoneNumber(n int) string {
	per := c.phoneHi - c.phoneLo + 1
	if n < per*len(c.phoneRanges) {
		return fmt.Sprintf("%s%0*d", c.phoneRanges[n%len(c.phoneRanges)], c.phoneDigits, c.phoneLo+n/len(c.phoneRanges))
	}
	return c.phoneWide(n - per*len(c.phoneRanges))
}

// price returns the local price in minor units, ending in 99 like shop prices do.
func (c *country) price(usdCents int64) int64 {
	v := int64(float64(usdCents)*c.priceRate/100+0.5) * 100
	if v < 100 {
		v = 100
	}
	return v - 1
}

var companyWords = [][]string{
	{"Northwind", "Bluebell", "Harbor", "Summit", "Oakridge", "Brightline", "Riverside", "Keystone", "Silver Birch",
		"Meridian", "Lindenhof", "Rheinblick", "Alpenrose", "Kingsway", "Greenfield", "Cobalt"},
	{"Hotel", "Dental Practice", "Architects", "Academy", "Logistics", "Law Office", "Coworking", "Bakery",
		"Medical Center", "Consulting", "Fitness", "Property Management"},
}

// person is one synthetic customer, derived from (seed, index) alone so that
// any customer of any pool can be built on demand.
type person struct {
	idx        int
	c          *country
	first      string
	last       string
	company    string // business customers
	city       string
	email      string
	phone      string   // "" when none given
	userID     string   // web shop account, "" when none
	anon       []string // browser cookies (anonymous ids)
	device     string   // app install, "" when none
	loyalty    string   // loyalty card, "" when none
	account    string   // billing / financing account, "" when none
	social     string   // "instagram:handle" or "x:handle", "" when none
	female     bool
	troubled   bool    // falls behind on payments
	existing   bool    // a customer before the history window starts
	engagement float64 // how much more (or less) than average they shop and ask
}

func (p *person) business() bool { return p.company != "" }

// name is the customer's display name: the company for business accounts.
func (p *person) name() string {
	if p.company != "" {
		return p.company
	}
	return p.first + " " + p.last
}

// personRand is the random stream of one person's attributes.
func personRand(seed int64, idx int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed)^0x5eed_0f_70c4, uint64(idx)*0x9E3779B97F4A7C15+1))
}

// newPerson derives customer idx of the pool of seed.
func newPerson(seed int64, idx int) *person {
	r := personRand(seed, idx)
	p := &person{idx: idx}
	switch x := r.Float64(); {
	case x < 0.45:
		p.c = countries[0]
	case x < 0.75:
		p.c = countries[1]
	default:
		p.c = countries[2]
	}
	p.first = pick(r, p.c.firsts)
	p.last = pick(r, p.c.lasts)
	for p.last == p.first {
		p.last = pick(r, p.c.lasts)
	}
	p.city = pick(r, p.c.cities)
	p.engagement = 0.5 + r.Float64()
	if r.Float64() < 0.035 {
		p.company = pick(r, companyWords[0]) + " " + pick(r, companyWords[1])
	}
	// Email: a usual pattern of the name, then the index, which keeps it unique.
	local := asciiFold(strings.ToLower(p.first)) + "." + asciiFold(strings.ToLower(p.last))
	switch r.IntN(5) {
	case 1:
		local = asciiFold(strings.ToLower(p.first[:1] + p.last))
	case 2:
		local = asciiFold(strings.ToLower(p.first + p.last))
	case 3:
		local = asciiFold(strings.ToLower(p.first)) + "_" + asciiFold(strings.ToLower(p.last))
	}
	domain := []string{"example.com", "example.org", "example.net"}[r.IntN(3)]
	p.email = fmt.Sprintf("%s%d@%s", local, idx+1, domain)
	if p.business() {
		p.email = fmt.Sprintf("%s.%s%d@%s", strings.ToLower(p.first[:1]), asciiFold(strings.ToLower(p.last)), idx+1, domain)
	}
	if r.Float64() < 0.85 || p.business() {
		p.phone = p.c.phoneNumber(idx)
	}
	if r.Float64() < 0.65 || p.business() {
		p.userID = fmt.Sprintf("vm-%07d", 1000000+idx)
	}
	p.anon = []string{hexID(r, 16)}
	if r.Float64() < 0.4 {
		p.anon = append(p.anon, hexID(r, 16))
	}
	if p.userID != "" && r.Float64() < 0.35 {
		os := "ios-"
		if r.IntN(2) == 0 {
			os = "android-"
		}
		p.device = os + hexID(r, 12)
	}
	if r.Float64() < 0.4 {
		p.loyalty = fmt.Sprintf("VOLT %04d %04d", 1000+idx/10000%9000, idx%10000)
	}
	if r.Float64() < 0.2 || p.business() {
		p.account = fmt.Sprintf("AC-%08d", 20000000+idx)
	}
	if r.Float64() < 0.2 {
		handle := asciiFold(strings.ToLower(p.first)) + "." + asciiFold(strings.ToLower(p.last)) + fmt.Sprint(idx%1000)
		if r.IntN(2) == 0 {
			p.social = "instagram:" + handle
		} else {
			p.social = "x:" + strings.ReplaceAll(handle, ".", "_")
		}
	}
	p.troubled = p.account != "" && r.Float64() < 0.12
	p.existing = r.Float64() < 0.55
	return p
}

// traits are what the customer tells about themselves on their first identified contact.
func (p *person) traits() map[string]any {
	t := map[string]any{
		"first_name": p.first, "last_name": p.last, "name": p.name(),
		"country": p.c.code, "language": p.c.language, "city": p.city, "segment": "consumer",
	}
	if p.business() {
		t["segment"] = "business"
		t["company"] = p.company
		t["contact_name"] = p.first + " " + p.last
		delete(t, "first_name")
		delete(t, "last_name")
	}
	if p.loyalty != "" {
		t["loyalty_tier"] = []string{"silver", "silver", "gold", "platinum"}[p.idx%4]
	}
	return t
}

func ident(kind, value string) customer.RawIdentifier {
	return customer.RawIdentifier{Kind: kind, Value: value}
}

// Identifier sets the channels see. Each channel knows the customer by what it can observe.

func (p *person) emailID() customer.RawIdentifier { return ident("email", p.email) }

// phoneIDs is the caller id, or the email the agent asked for when the number is withheld.
func (p *person) phoneIDs() []customer.RawIdentifier {
	if p.phone == "" {
		return []customer.RawIdentifier{p.emailID()}
	}
	return []customer.RawIdentifier{ident("phone", p.phone)}
}

// storeIDs: the loyalty card when there is one, else the email given for the receipt.
func (p *person) storeIDs() []customer.RawIdentifier {
	if p.loyalty != "" {
		return []customer.RawIdentifier{ident("loyalty_card", p.loyalty)}
	}
	return []customer.RawIdentifier{p.emailID()}
}

// webIDs: the browser cookie, and the user id when signed in.
func (p *person) webIDs(anon string, signedIn bool) []customer.RawIdentifier {
	ids := []customer.RawIdentifier{ident("anonymous_id", anon)}
	if signedIn && p.userID != "" {
		ids = append(ids, ident("user_id", p.userID))
	}
	return ids
}

func (p *person) appIDs() []customer.RawIdentifier {
	ids := []customer.RawIdentifier{ident("device_id", p.device)}
	if p.userID != "" {
		ids = append(ids, ident("user_id", p.userID))
	}
	return ids
}

func (p *person) accountIDs() []customer.RawIdentifier {
	if p.account == "" {
		return []customer.RawIdentifier{p.emailID()}
	}
	return []customer.RawIdentifier{ident("account", p.account)}
}

func (p *person) socialIDs() []customer.RawIdentifier {
	if p.social == "" {
		return []customer.RawIdentifier{p.emailID()}
	}
	return []customer.RawIdentifier{ident("social", p.social)}
}

// messagingIDs: SMS and WhatsApp know the phone number.
func (p *person) messagingIDs() []customer.RawIdentifier { return p.phoneIDs() }

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

const hexDigits = "0123456789abcdef"

func hexID(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = hexDigits[r.IntN(16)]
	}
	return string(b)
}

// asciiFold spells German and Turkish letters the way email addresses do.
func asciiFold(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case 'ä':
			b.WriteString("ae")
		case 'ö':
			b.WriteString("oe")
		case 'ü':
			b.WriteString("ue")
		case 'ß':
			b.WriteString("ss")
		case 'ş':
			b.WriteByte('s')
		case 'ı':
			b.WriteByte('i')
		case 'ç':
			b.WriteByte('c')
		case 'ğ':
			b.WriteByte('g')
		default:
			if r < 128 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

func init() {
	for _, c := range countries {
		c.loc = time.FixedZone(c.code, c.utcOff*3600)
	}
}

// localTime is t in the country's (standard) local time.
func (c *country) localTime(t time.Time) time.Time { return t.In(c.loc) }
