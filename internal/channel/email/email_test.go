package email

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func parseFile(t testing.TB, name string) *Message {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(raw, Limits{})
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return m
}

type wantAtt struct {
	name, ctype string
	inline      bool
	innerFrom   string
}

// TestFixtures checks what the desk relies on for messages as real
// clients send them.
func TestFixtures(t *testing.T) {
	tests := []struct {
		file      string
		from      Address
		subject   string
		date      string // RFC 3339, UTC
		kind      Kind
		visible   string   // exact
		notVis    []string // must not be in Visible
		threadIDs []string
		token     string
		atts      []wantAtt
		hasHTML   bool
	}{
		{
			file: "outlook.eml", from: Address{"Margaret O’Neill", "margaret.oneill@outlook.example"},
			subject: "RE: Kettle keeps switching off [#TP-4521]", date: "2024-06-04T08:12:41Z", kind: KindPerson,
			visible:   "Hi Sam,\n\nThe replacement kettle arrived today but it has the same fault – it switches off before the water boils. Order number is 55821.\n\nKind regards,\nMargaret O’Neill\n\nTel: 020 7946 0958",
			notVis:    []string{"From: Sam", "replacement kettle. It should"},
			threadIDs: []string{"tp.mzx4c2vb7n1q0w9e@acme.example", "tp.k3j2h1g0f9e8d7c6@acme.example"},
			token:     "4521", hasHTML: true,
		},
		{
			file: "outlook-htmlonly.eml", from: Address{"Margaret O’Neill", "margaret.oneill@outlook.example"},
			subject: "RE: Kettle keeps switching off [#TP-4521]", date: "2024-06-04T08:30:02Z", kind: KindPerson,
			visible:   "Hi Sam,\n\nThe replacement kettle arrived today but it has the same fault – it switches off before the water boils. Order number is 55821.\n\nKind regards,\n\nMargaret O’Neill\n\nTel: 020 7946 0958",
			notVis:    []string{"Sent:", "It should arrive tomorrow"},
			threadIDs: []string{"tp.mzx4c2vb7n1q0w9e@acme.example"}, token: "4521", hasHTML: true,
		},
		{
			file: "gmail.eml", from: Address{"Jane Customer", "jane.customer@gmail.example"},
			subject: "Re: Wrong size delivered [#TP-1042]", date: "2024-06-04T08:02:05Z", kind: KindPerson,
			visible:   "Hi,\n\nThanks for the quick answer! The size is 42 and I'd like the blue one.\nCan you also email me a prepaid return label?\n\nBest,\nJane",
			notVis:    []string{"wrote:", "Which size"},
			threadIDs: []string{"tp.a1b2c3d4e5f6g7h8@acme.example"}, token: "1042", hasHTML: true,
		},
		{
			file: "apple.eml", from: Address{"Tom Baker", "tom.b@icloud.example"},
			subject: "Re: Damaged coffee grinder", date: "2024-06-03T18:04:51Z", kind: KindPerson,
			visible:   "Here is a photo of the scratch on the lid.\n\nIt was like this when I opened the box.\n\nTom",
			threadIDs: []string{"tp.q9w8e7r6t5y4u3i2@acme.example"},
			atts:      []wantAtt{{name: "IMG_4031.jpeg", ctype: "image/jpeg", inline: true}}, hasHTML: true,
		},
		{
			file: "forward-attached.eml", from: Address{"Lena Fischer", "lena.fischer@posteo.example"},
			subject: "Fwd: Ihre Sendung ist unterwegs", date: "2024-06-03T09:20:33Z", kind: KindPerson,
			visible: "Hallo, das Paket wurde angeblich zugestellt, ist aber nie angekommen. Siehe die Nachricht des Paketdienstes im Anhang.\n\nLena",
			atts:    []wantAtt{{name: "Ihre Sendung ist unterwegs.eml", ctype: "message/rfc822", innerFrom: "noreply@carrier.example"}},
		},
		{
			file: "forward-inline.eml", from: Address{"Raj Patel", "raj.patel@gmail.example"},
			subject: "Fwd: Your receipt #8841-2210", date: "2024-06-03T03:30:12Z", kind: KindPerson,
			visible: "Please see below, I was charged twice.\n\n---------- Forwarded message ---------\nFrom: Payments <payments@shop.example>\nDate: Sat, Jun 1, 2024 at 2:14\u202fPM\nSubject: Your receipt #8841-2210\nTo: <raj.patel@gmail.example>\n\n\nThank you for your order. Amount charged: $59.90",
			hasHTML: true,
		},
		{
			file: "latin1.eml", from: Address{"Hélène Dupré", "helene.dupre@orange.example"},
			subject: "Facture erronée", date: "2024-06-03T12:22:10Z", kind: KindPerson,
			visible: "Bonjour,\n\nJ'ai reçu la facture n° 2024-118 mais le montant est erroné : 149,00 EUR au lieu de 129,00.\nMerci de corriger.\n\nCordialement,\nHélène Dupré",
		},
		{
			file: "iso2022jp.eml", from: Address{"山田 花子", "hanako.yamada@example.ne.jp"},
			subject: "配送について", date: "2024-06-03T07:45:00Z", kind: KindPerson,
			visible: "お世話になっております。\n\n注文番号 7731 の商品がまだ届いていません。\n確認をお願いします。\n\n山田 花子",
		},
		{
			file: "shiftjis.eml", from: Address{"佐藤 健", "ken.sato@docomo.example"},
			subject: "返品について", date: "2024-06-03T08:02:11Z", kind: KindPerson,
			visible: "いつもお世話になっております。\n返品の手続きを教えてください。",
		},
		{
			file: "autoreply.eml", from: Address{"Peter Novak", "peter.novak@contoso.example"},
			subject: "Automatic reply: Your order has shipped [#TP-2210]", date: "2024-06-03T12:00:03Z", kind: KindAutoReply,
			visible:   "I am out of the office until 10 June with no access to email.\nFor urgent matters please contact sales@contoso.example.",
			threadIDs: []string{"tp.z1x2c3v4b5n6m7l8@acme.example"}, token: "2210",
		},
		{
			file: "bounce.eml", from: Address{"Mail Delivery System", "MAILER-DAEMON@mx1.acme.example"},
			subject: "Undelivered Mail Returned to Sender", date: "2024-06-03T12:01:02Z", kind: KindBounce,
			atts: []wantAtt{
				{ctype: "message/delivery-status"},
				{name: "Re: Refund request [#TP-3307].eml", ctype: "message/rfc822", innerFrom: "support@acme.example"},
			},
		},
		{
			file: "list.eml", from: Address{"Alex Kim", "alex@kim.example"},
			subject: "[users] Anyone else seeing late deliveries this week?", date: "2024-06-03T12:15:44Z", kind: KindList,
		},
		{
			file: "rfc2231.eml", from: Address{"Jörg Müller", "joerg.mueller@web.example"},
			subject: "Rechnung für Bestellung 7731", date: "2024-06-03T08:11:12Z", kind: KindPerson,
			visible: "Guten Tag,\n\nanbei die Rechnung. Bitte prüfen Sie die Position 3, die doppelt berechnet wurde.\n\nJörg Müller",
			atts:    []wantAtt{{name: "Rechnung Nr. 2024-118 für Jörg Müller.pdf", ctype: "application/pdf"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := parseFile(t, tt.file)
			if m.From != tt.from {
				t.Errorf("From = %+v, want %+v", m.From, tt.from)
			}
			if m.Subject != tt.subject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.subject)
			}
			if got := m.Date.Format(time.RFC3339); got != tt.date {
				t.Errorf("Date = %s, want %s", got, tt.date)
			}
			if k := Classify(m); k != tt.kind {
				t.Errorf("Classify = %s, want %s", k, tt.kind)
			}
			if tt.visible != "" && m.Visible != tt.visible {
				t.Errorf("Visible =\n%q\nwant\n%q", m.Visible, tt.visible)
			}
			for _, s := range tt.notVis {
				if strings.Contains(m.Visible, s) {
					t.Errorf("Visible holds quoted %q", s)
				}
			}
			if got := m.ThreadIDs(); !slices.Equal(got, tt.threadIDs) {
				t.Errorf("ThreadIDs = %q, want %q", got, tt.threadIDs)
			}
			if id, _ := CaseToken(m.Subject); id != tt.token {
				t.Errorf("CaseToken = %q, want %q", id, tt.token)
			}
			if (m.HTML != "") != tt.hasHTML {
				t.Errorf("HTML present = %v, want %v", m.HTML != "", tt.hasHTML)
			}
			if m.MessageID == "" || m.Text == "" {
				t.Errorf("MessageID %q, Text %q: want both", m.MessageID, m.Text)
			}
			if len(m.Attachments) != len(tt.atts) {
				t.Fatalf("%d attachments, want %d", len(m.Attachments), len(tt.atts))
			}
			for i, w := range tt.atts {
				a := m.Attachments[i]
				if a.Filename != w.name || a.ContentType != w.ctype || a.Inline != w.inline {
					t.Errorf("attachment %d = %q %s inline=%v, want %q %s inline=%v", i, a.Filename, a.ContentType, a.Inline, w.name, w.ctype, w.inline)
				}
				if a.Size != int64(len(a.Data)) || a.Size == 0 {
					t.Errorf("attachment %d: Size %d, %d bytes", i, a.Size, len(a.Data))
				}
				if w.innerFrom != "" && (a.Message == nil || a.Message.From.Email != w.innerFrom) {
					t.Errorf("attachment %d: inner message %+v, want from %s", i, a.Message, w.innerFrom)
				}
			}
			if len(m.Warnings) > 0 {
				t.Errorf("warnings: %q", m.Warnings)
			}
		})
	}
}

func TestInlineImage(t *testing.T) {
	m := parseFile(t, "apple.eml")
	if !strings.Contains(m.HTML, `src="cid:part-0"`) || m.CIDs["cid:part-0"] != 0 {
		t.Fatalf("placeholder missing: CIDs %v, HTML %s", m.CIDs, m.HTML)
	}
	if m.Attachments[0].ContentID != "E3B9F0C2-7A44-4D8E-B1C5-6F2A9D3E1B07" {
		t.Errorf("ContentID = %q", m.Attachments[0].ContentID)
	}
	if strings.Contains(m.VisibleHTML, "Could you send") || !strings.Contains(m.VisibleHTML, "cid:part-0") {
		t.Errorf("VisibleHTML = %s", m.VisibleHTML)
	}
	// Nothing of the sender's markup that could act survives.
	for _, bad := range []string{"apple-inline", "id=", "class="} {
		if strings.Contains(m.HTML, bad) {
			t.Errorf("HTML keeps %q", bad)
		}
	}
}

func TestInnerHeaders(t *testing.T) {
	m := parseFile(t, "forward-attached.eml")
	in := m.Attachments[0].Message
	if in.Subject != "Ihre Sendung ist unterwegs – 1Z999AA10123456784" ||
		in.MessageID != "20240531051500.8f3e2a1b@mailer.carrier.example" ||
		!strings.Contains(in.Text, "wird am Montag zugestellt") {
		t.Errorf("inner = %+v", in)
	}
}

func TestHTMLOnlyGetsText(t *testing.T) {
	m := parseFile(t, "outlook-htmlonly.eml")
	if !strings.Contains(m.Text, "It should arrive tomorrow") {
		t.Errorf("Text from HTML lacks the quoted message: %q", m.Text)
	}
	if strings.Contains(m.VisibleHTML, "divRplyFwdMsg") || strings.Contains(m.VisibleHTML, "It should arrive") {
		t.Errorf("VisibleHTML = %s", m.VisibleHTML)
	}
	if strings.Contains(m.HTML, "<style") || strings.Contains(m.HTML, "font-family") {
		t.Errorf("HTML not sanitized: %s", m.HTML)
	}
}

func TestVisibleText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"bottom posting", "On Mon, 3 Jun 2024 at 10:00, Sam <s@a.example> wrote:\n> What size?\n\n42, please.", "42, please."},
		{"inline answers", "> Size?\n42\n> Colour?\nblue", "42\nblue"},
		{"original message", "Thanks!\n\n-----Original Message-----\nFrom: Sam\nSent: Monday\nSubject: x\n\nold", "Thanks!"},
		{"german outlook", "Danke!\n\nVon: Sam <s@a.example>\nGesendet: Montag, 3. Juni 2024 09:41\nAn: Jörg\nBetreff: AW: x\n\nalt", "Danke!"},
		{"french attribution", "Merci\n\nLe lun. 3 juin 2024 à 10:12, Sam <s@a.example> a écrit :\n> vieux", "Merci"},
		{"unquoted attribution", "Yes.\n\nOn Jun 3, 2024, at 10:12, Sam wrote:\n\nold text", "Yes."},
		{"only quote", "> all quoted", "> all quoted"},
		{"from in prose", "From: my phone\nI will call you.", "From: my phone\nI will call you."},
	}
	for _, tt := range tests {
		if got := visibleText(tt.in); got != tt.want {
			t.Errorf("%s: visibleText = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestClassify(t *testing.T) {
	mk := func(subject string, kv ...string) *Message {
		raw := "From: a@b.example\r\nSubject: " + subject + "\r\n"
		for i := 0; i < len(kv); i += 2 {
			raw += kv[i] + ": " + kv[i+1] + "\r\n"
		}
		m, err := Parse([]byte(raw+"\r\nhello\r\n"), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	tests := []struct {
		name string
		m    *Message
		want Kind
	}{
		{"plain", mk("Question"), KindPerson},
		{"auto-submitted no", mk("Hi", "Auto-Submitted", "no"), KindPerson},
		{"auto-submitted", mk("Hi", "Auto-Submitted", "auto-replied"), KindAutoReply},
		{"x-autoreply", mk("Hi", "X-Autoreply", "yes"), KindAutoReply},
		{"x-autorespond", mk("Hi", "X-Autorespond", "Vacation"), KindAutoReply},
		{"precedence auto_reply", mk("Hi", "Precedence", "auto_reply"), KindAutoReply},
		{"ooo subject alone", mk("Out of office next week?"), KindPerson},
		{"ooo subject and suppress", mk("Out of Office: Re: order", "X-Auto-Response-Suppress", "All"), KindAutoReply},
		{"ooo subject and null sender", mk("Abwesenheitsnotiz: Ihre Bestellung", "Return-Path", "<>"), KindAutoReply},
		{"null sender", mk("Delivery failure", "Return-Path", "<>"), KindBounce},
		{"postmaster", func() *Message { m := mk("x"); m.From.Email = "postmaster@x.example"; return m }(), KindBounce},
		{"report", mk("x", "Content-Type", `multipart/report; report-type="delivery-status"; boundary=x`), KindBounce},
		{"list-id", mk("x", "List-Id", "<l.example>"), KindList},
		{"list-unsubscribe", mk("x", "List-Unsubscribe", "<mailto:u@l.example>"), KindList},
		{"precedence bulk", mk("x", "Precedence", "bulk"), KindList},
		{"precedence junk", mk("x", "Precedence", "junk"), KindList},
	}
	for _, tt := range tests {
		if got := Classify(tt.m); got != tt.want {
			t.Errorf("%s: Classify = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestCaseToken(t *testing.T) {
	for _, tt := range []struct {
		in, id string
		ok     bool
	}{
		{"Re: Broken [#TP-123]", "123", true},
		{"[#tp-7] hello", "7", true},
		{"Fwd: a [#TP-1] b [# TP-2 ]", "2", true},
		{"Order #TP-5", "", false},
		{"[#TP-abc]", "", false},
	} {
		id, ok := CaseToken(tt.in)
		if id != tt.id || ok != tt.ok {
			t.Errorf("CaseToken(%q) = %q, %v", tt.in, id, ok)
		}
	}
	for _, tt := range []struct{ in, id, want string }{
		{"Broken kettle", "42", "Broken kettle [#TP-42]"},
		{"Re: Broken kettle [#TP-42]", "42", "Re: Broken kettle [#TP-42]"},
		{"Re: [#TP-9] Broken kettle", "42", "Re: Broken kettle [#TP-42]"},
		{"", "42", "[#TP-42]"},
		{"x", "4x", "x"},
	} {
		if got := WithCaseToken(tt.in, tt.id); got != tt.want {
			t.Errorf("WithCaseToken(%q, %q) = %q, want %q", tt.in, tt.id, got, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"Question", "Re: Question"},
		{"Re: Question", "Re: Question"},
		{"RE: Question", "RE: Question"},
		{"AW: Frage", "AW: Frage"},
		{"Re[2]: Question", "Re[2]: Question"},
		{"Fwd: Question", "Re: Fwd: Question"},
	} {
		if got := ReplySubject(tt.in); got != tt.want {
			t.Errorf("ReplySubject(%q) = %q", tt.in, got)
		}
	}
}

func TestThreadIDs(t *testing.T) {
	m := &Message{MessageID: "self@x", InReplyTo: []string{"c@x"}, References: []string{"a@x", "b@x", "c@x", "self@x"}}
	if got, want := m.ThreadIDs(), []string{"c@x", "b@x", "a@x"}; !slices.Equal(got, want) {
		t.Errorf("ThreadIDs = %q, want %q", got, want)
	}
	refs := make([]string, 50)
	for i := range refs {
		refs[i] = fmt.Sprintf("r%d@x", i)
	}
	got := replyReferences(refs, "p@x")
	if len(got) != maxReferences || got[0] != "r0@x" || got[len(got)-1] != "p@x" || got[len(got)-2] != "r49@x" {
		t.Errorf("replyReferences = %q", got)
	}
}

// bigReader yields a message of n bytes without holding it.
type bigReader struct{ head, n int64 }

func (b *bigReader) Read(p []byte) (int, error) {
	const hdr = "From: a@b.example\r\nSubject: big\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	if b.n <= 0 {
		return 0, io.EOF
	}
	i := 0
	for ; i < len(p) && b.n > 0; i++ {
		if b.head < int64(len(hdr)) {
			p[i] = hdr[b.head]
			b.head++
		} else {
			p[i] = 'A'
		}
		b.n--
	}
	return i, nil
}

func TestLimits(t *testing.T) {
	t.Run("50 MB message", func(t *testing.T) {
		r := &bigReader{n: 50 << 20}
		_, err := ParseReader(r, Limits{})
		var le *LimitError
		if !errors.Is(err, ErrTooLarge) || !errors.As(err, &le) || le.What != "message size" {
			t.Fatalf("err = %v", err)
		}
		// Reading stopped at the limit.
		if read := int64(50<<20) - r.n; read > DefaultMaxSize+64<<10 {
			t.Errorf("read %d bytes", read)
		}
		if _, err := Parse(make([]byte, 50<<20), Limits{}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("Parse: %v", err)
		}
	})
	t.Run("part size", func(t *testing.T) {
		raw := []byte("From: a@b.example\r\nContent-Type: application/pdf\r\n\r\n" + strings.Repeat("x", 2000))
		if _, err := Parse(raw, Limits{MaxPartSize: 1000}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("parts", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
		for range 20 {
			b.WriteString("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n")
		}
		b.WriteString("--b--\r\n")
		_, err := Parse([]byte(b.String()), Limits{MaxParts: 10})
		if !errors.Is(err, ErrTooManyParts) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("depth", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: a@b.example\r\n")
		for i := range 30 {
			fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
		}
		b.WriteString("\r\nx\r\n")
		_, err := Parse([]byte(b.String()), Limits{})
		if !errors.Is(err, ErrTooDeep) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("attachments total", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
		for range 3 {
			b.WriteString("--b\r\nContent-Type: application/octet-stream\r\n\r\n" + strings.Repeat("y", 600) + "\r\n")
		}
		b.WriteString("--b--\r\n")
		if _, err := Parse([]byte(b.String()), Limits{MaxTotalSize: 1000}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("not email", func(t *testing.T) {
		for _, in := range []string{"", "\x00\x01\x02", " leading space\r\n\r\n"} {
			if _, err := Parse([]byte(in), Limits{}); !errors.Is(err, ErrMalformed) {
				t.Errorf("Parse(%q) err = %v", in, err)
			}
		}
	})
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func withAttachment(t *testing.T, name, ctype string, data []byte) []byte {
	t.Helper()
	raw, err := Compose(Outbound{
		From: Address{"Acme", "support@acme.example"}, To: []Address{{"", "c@x.example"}},
		Subject: "zip", Text: "see attached",
		Attachments: []Attachment{{Filename: name, ContentType: ctype, Data: data}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestZipBomb(t *testing.T) {
	bomb := zipOf(t, map[string][]byte{"zeros.bin": make([]byte, 20<<20)}) // ~20 KB, 1000:1
	for _, tt := range []struct{ name, ctype string }{
		{"invoice.zip", "application/octet-stream"},
		{"invoice.bin", "application/zip"},
		{"invoice.dat", "application/octet-stream"}, // by signature
	} {
		_, err := Parse(withAttachment(t, tt.name, tt.ctype, bomb), Limits{})
		var le *LimitError
		if !errors.Is(err, ErrZipBomb) || !errors.As(err, &le) || !strings.Contains(le.Part, tt.name) {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
	// Declared size over the limit, ratio fine.
	big := zipOf(t, map[string][]byte{"a": make([]byte, 3<<20)})
	if _, err := Parse(withAttachment(t, "a.zip", "application/zip", big), Limits{MaxZipExpanded: 1 << 20, MaxZipRatio: 100000}); !errors.Is(err, ErrZipBomb) {
		t.Errorf("expanded: err = %v", err)
	}
	// An ordinary archive passes, and a small repetitive file is no bomb.
	ok := zipOf(t, map[string][]byte{"notes.txt": []byte(strings.Repeat("same line\n", 5000)), "r.txt": []byte("report")})
	m, err := Parse(withAttachment(t, "notes.zip", "application/zip", ok), Limits{})
	if err != nil || len(m.Attachments) != 1 {
		t.Errorf("ordinary zip: %v", err)
	}
}

func TestCompose(t *testing.T) {
	parent := parseFile(t, "gmail.eml")
	refs := parent.References
	out := Outbound{
		From:       Address{"Acme Support", "support@acme.example"},
		AgentName:  "Zoë Ångström",
		To:         []Address{parent.From},
		Cc:         []Address{{"Ops, Team", "ops@acme.example"}},
		Subject:    parent.Subject,
		CaseID:     "1042",
		InReplyTo:  parent.MessageID,
		References: refs,
		Text:       "Hello Jane,\n\nthe blue one in size 42 is on its way: https://acme.example/t/55821\n\nZoë",
		Date:       time.Date(2024, 6, 4, 10, 0, 0, 0, time.UTC),
		Attachments: []Attachment{
			{Filename: "Rücksendeetikett.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 label")},
			{Filename: "logo.png", ContentType: "image/png", ContentID: "logo@acme.example", Data: []byte("\x89PNG fake")},
		},
	}
	out.HTML = `<p>Hello Jane,</p><p>the <b>blue</b> one is on its way.</p><img src="cid:logo@acme.example" alt="Acme" width="80" height="20">`
	raw, err := Compose(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(raw, Limits{})
	if err != nil {
		t.Fatalf("parse back: %v\n%s", err, raw)
	}
	if m.From.Name != "Zoë Ångström via Acme Support" || m.From.Email != "support@acme.example" {
		t.Errorf("From = %+v", m.From)
	}
	if !bytes.Contains(raw, []byte("From: =?utf-8?")) {
		t.Errorf("display name not encoded:\n%s", raw[:400])
	}
	if m.Subject != "Re: Wrong size delivered [#TP-1042]" {
		t.Errorf("Subject = %q", m.Subject)
	}
	if len(m.To) != 1 || m.To[0] != parent.From || len(m.Cc) != 1 || m.Cc[0].Name != "Ops, Team" {
		t.Errorf("To %+v Cc %+v", m.To, m.Cc)
	}
	if !strings.HasSuffix(m.MessageID, "@acme.example") || m.MessageID == parent.MessageID {
		t.Errorf("MessageID = %q", m.MessageID)
	}
	if !slices.Equal(m.InReplyTo, []string{parent.MessageID}) ||
		!slices.Equal(m.References, append(slices.Clone(refs), parent.MessageID)) {
		t.Errorf("In-Reply-To %q References %q", m.InReplyTo, m.References)
	}
	if !m.Date.Equal(out.Date) {
		t.Errorf("Date = %v", m.Date)
	}
	if m.Header.Get("Mime-Version") != "1.0" || !strings.HasPrefix(m.Header.Get("Content-Type"), "multipart/mixed") {
		t.Errorf("headers: %v", m.Header)
	}
	if !strings.Contains(m.HTML, "<b>blue</b>") || !strings.Contains(m.Text, "size 42 is on its way") {
		t.Errorf("bodies: %q / %q", m.Text, m.HTML)
	}
	if len(m.Attachments) != 2 {
		t.Fatalf("attachments: %+v", m.Attachments)
	}
	logo, pdf := m.Attachments[0], m.Attachments[1]
	if !logo.Inline || logo.ContentID != "logo@acme.example" || !strings.Contains(m.HTML, `src="cid:part-0"`) {
		t.Errorf("inline image: %+v", logo)
	}
	if pdf.Filename != "Rücksendeetikett.pdf" || string(pdf.Data) != "%PDF-1.4 label" || pdf.Inline {
		t.Errorf("pdf: %+v", pdf)
	}
	if Classify(m) != KindPerson {
		t.Errorf("Classify = %s", Classify(m))
	}

	// A reply to a reply adds "Re: " once; text alone makes an HTML part.
	raw2, err := Compose(Outbound{From: out.From, To: out.To, Subject: m.Subject, CaseID: "1042",
		InReplyTo: m.MessageID, References: m.References, Text: "Line <1>\nLine 2", AutoSubmitted: true})
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Parse(raw2, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m2.Subject != "Re: Wrong size delivered [#TP-1042]" || m2.Text != "Line <1>\nLine 2" ||
		!strings.Contains(m2.HTML, "Line &lt;1&gt;<br>") || Classify(m2) != KindAutoReply {
		t.Errorf("second reply: %q %q %q %s", m2.Subject, m2.Text, m2.HTML, Classify(m2))
	}
}

func TestComposeInvalid(t *testing.T) {
	good := Outbound{From: Address{"Acme", "support@acme.example"}, To: []Address{{"", "c@x.example"}}, Text: "hi"}
	for name, mut := range map[string]func(*Outbound){
		"from":       func(o *Outbound) { o.From.Email = "not an address" },
		"to":         func(o *Outbound) { o.To = []Address{{"", "x@y.example\r\nBcc: evil@z.example"}} },
		"none":       func(o *Outbound) { o.To = nil },
		"body":       func(o *Outbound) { o.Text = " " },
		"message id": func(o *Outbound) { o.MessageID = "a b@c" },
	} {
		o := good
		mut(&o)
		if _, err := Compose(o); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// Header injection through names and subjects is encoded away.
	o := good
	o.Subject = "Hi\r\nBcc: evil@z.example"
	o.AgentName = "Eve\r\nBcc: evil@z.example"
	raw, err := Compose(o)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("\r\nBcc:")) {
		t.Errorf("header injected:\n%s", raw)
	}
}
