package richtext

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The checks below are written independently of the package's own
// allow-lists: they look at the output the way a browser parses it.

var (
	// safeElements may appear in the output of HTML.
	safeElements = map[string]bool{}
	// safeAttrs may appear on any element in the output of HTML.
	safeAttrs = map[string]bool{}
	// styleProps are the CSS properties a style attribute may set.
	styleProps = map[string]bool{}
	// rasterData is the only data: URL form an <img> may use.
	rasterData = regexp.MustCompile(`^data:image/(png|gif|jpeg|webp);base64,[A-Za-z0-9+/]*=*$`)
)

func init() {
	for _, el := range strings.Fields(`a img p br div span hr center h1 h2 h3 h4 h5 h6
		b i u s strike strong em small sub sup mark del ins q cite abbr tt kbd samp
		code pre blockquote ul ol li dl dt dd table caption colgroup col thead
		tbody tfoot tr th td`) {
		safeElements[el] = true
	}
	for _, a := range strings.Fields(`href src alt title width height align valign
		colspan rowspan span border cellpadding cellspacing bgcolor start type
		value dir style rel target`) {
		safeAttrs[a] = true
	}
	for _, p := range strings.Fields(`color background-color font-weight font-style
		text-decoration text-align`) {
		styleProps[p] = true
	}
}

// scheme returns the lower-cased scheme of a URL as a browser finds it:
// after stripping leading and trailing C0 controls and spaces and removing
// tabs and newlines. It returns "" for a relative URL.
func scheme(v string) string {
	v = strings.TrimFunc(v, func(r rune) bool { return r <= ' ' })
	v = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(v)
	i := strings.IndexByte(v, ':')
	if i <= 0 {
		return ""
	}
	for j, c := range v[:i] {
		alpha := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !alpha && (j == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return ""
		}
	}
	return strings.ToLower(v[:i])
}

// htmlProblems parses out as a browser would, both as the content of a
// <div> in the desk and inside a whole document, and lists every way the
// result breaks the safety rules.
func htmlProblems(out string) []string {
	var probs []string
	report := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if !utf8.ValidString(out) {
		report("output is not valid UTF-8")
	}

	var check func(n *html.Node, wrapper bool)
	check = func(n *html.Node, wrapper bool) {
		switch n.Type {
		case html.CommentNode:
			report("comment %q", n.Data)
		case html.ElementNode:
			structural := wrapper && (n.DataAtom == atom.Html || n.DataAtom == atom.Head || n.DataAtom == atom.Body)
			if n.Namespace != "" {
				report("foreign element %s:%s", n.Namespace, n.Data)
			}
			if !safeElements[n.Data] && !structural {
				report("element <%s>", n.Data)
			}
			checkAttrs(n, report)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			check(c, wrapper)
		}
	}

	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(out), ctx)
	if err != nil {
		report("fragment parse: %v", err)
	}
	for _, n := range nodes {
		check(n, false)
	}
	doc, err := html.Parse(strings.NewReader("<!DOCTYPE html><html><head></head><body><div>" + out + "</div></body></html>"))
	if err != nil {
		report("document parse: %v", err)
	} else {
		for c := doc.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.DoctypeNode {
				check(c, true)
			}
		}
	}
	return probs
}

func checkAttrs(n *html.Node, report func(string, ...any)) {
	if n.Data == "div" && n.Parent != nil && n.Parent.DataAtom == atom.Body && len(n.Attr) == 0 {
		return // the wrapper
	}
	for _, a := range n.Attr {
		key := strings.ToLower(a.Key)
		switch {
		case a.Namespace != "":
			report("namespaced attribute %s:%s on <%s>", a.Namespace, a.Key, n.Data)
		case strings.HasPrefix(key, "on"):
			report("event handler %s on <%s>", a.Key, n.Data)
		case !safeAttrs[key]:
			report("attribute %s on <%s>", a.Key, n.Data)
		case key == "href":
			if n.Data != "a" {
				report("href on <%s>", n.Data)
			}
			if s := scheme(a.Val); s != "http" && s != "https" && s != "mailto" && s != "tel" {
				report("link scheme %q in href %q", s, a.Val)
			}
		case key == "src":
			if n.Data != "img" {
				report("src on <%s>", n.Data)
			}
			if s := scheme(a.Val); s != "cid" && !(s == "data" && rasterData.MatchString(a.Val)) {
				report("image source %q (scheme %q) would load from the network or run code", a.Val, s)
			}
		case key == "style":
			if p := styleProblem(a.Val); p != "" {
				report("style %q on <%s>: %s", a.Val, n.Data, p)
			}
		}
	}
	if n.Data == "a" {
		if v, ok := getAttr(n, "href"); ok && v != "" {
			if rel, _ := getAttr(n, "rel"); !hasTokens(rel, "noopener", "noreferrer", "nofollow") {
				report("link %q has rel %q", v, rel)
			}
			if target, _ := getAttr(n, "target"); target != "_blank" {
				report("link %q has target %q", v, target)
			}
		}
	}
}

// styleProblem rejects anything in a style attribute beyond simple
// declarations of allowed properties.
func styleProblem(style string) string {
	low := strings.ToLower(style)
	for _, bad := range []string{"url", "expression", `\`, "/*", "@", "import", "javascript", "behavior", "binding", "position", "display", "<", "\"", "'"} {
		if strings.Contains(low, bad) {
			return "contains " + bad
		}
	}
	for decl := range strings.SplitSeq(low, ";") {
		if strings.TrimSpace(decl) == "" {
			continue
		}
		prop, _, ok := strings.Cut(decl, ":")
		if !ok || !styleProps[strings.TrimSpace(prop)] {
			return "declaration " + decl
		}
	}
	return ""
}

func getAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasTokens(v string, want ...string) bool {
	have := strings.Fields(v)
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func assertSafeHTML(t *testing.T, in, out string) {
	t.Helper()
	if probs := htmlProblems(out); len(probs) > 0 {
		t.Errorf("unsafe output:\n  input:  %q\n  output: %q\n  %s", in, out, strings.Join(probs, "\n  "))
	}
}

func hostileFiles(t testing.TB) map[string]string {
	t.Helper()
	paths, err := filepath.Glob("testdata/hostile/*.html")
	if err != nil {
		t.Fatal(err)
	}
	files := make(map[string]string, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = string(b)
	}
	return files
}

func TestHTMLHostileCorpus(t *testing.T) {
	files := hostileFiles(t)
	if len(files) < 25 {
		t.Fatalf("hostile corpus has %d files, want at least 25", len(files))
	}
	for name, in := range files {
		t.Run(name, func(t *testing.T) {
			out := string(HTML(in))
			assertSafeHTML(t, in, out)
			// The attack is neutralised, not the message: each file carries
			// text that must survive.
			if !strings.Contains(out, "visible-text") {
				t.Errorf("benign text lost: %q", out)
			}
			// Sanitizing again changes nothing and stays safe.
			if again := string(HTML(out)); again != out {
				t.Errorf("not stable:\n  once:  %q\n  twice: %q", out, again)
			}
		})
	}
}

// The checker itself must catch what it is meant to catch.
func TestHTMLProblemsDetectsAttacks(t *testing.T) {
	for _, bad := range []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror=alert(1)>`,
		`<img src="https://tracker.example/p.gif">`,
		`<img src="//tracker.example/p.gif">`,
		`<a href=" jav&#x09;ascript:alert(1)" rel="noopener noreferrer nofollow" target="_blank">x</a>`,
		`<a href="/relative" rel="noopener noreferrer nofollow" target="_blank">x</a>`,
		`<a href="https://ok.example/">no rel</a>`,
		`<svg><a href="https://ok.example/">x</a></svg>`,
		`<p style="background:url(https://tracker.example/)">x</p>`,
		`<p style="position:fixed">x</p>`,
		`<div id="app">x</div>`,
		`<!-- comment -->`,
		`<table><tr><td><img srcset="https://t.example/x 1x"></td></tr></table>`,
	} {
		if len(htmlProblems(bad)) == 0 {
			t.Errorf("checker passed %q", bad)
		}
	}
}

func readEmail(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "email", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHTMLOutlookEmail(t *testing.T) {
	in := readEmail(t, "outlook.html")
	out := string(HTML(in))
	assertSafeHTML(t, in, out)
	for _, want := range []string{
		"<p>Hello Support Team,</p>",
		"Our invoice <b>INV-2024-0173</b> was charged <b><span style=\"color: #C00000\">twice</span></b>",
		`<ul type="disc">`,
		"<li>First charge on 3\u00a0March\u00a0– £120.00</li>",
		`<table border="1" cellspacing="0" cellpadding="0">`,
		`<td width="301" valign="top">`,
		"<p><b>Amount</b></p>",
		`<a href="https://billing.example.com/statements/2024-03?account=8812&amp;view=full" rel="noopener noreferrer nofollow" target="_blank">March statement</a>`,
		`<a href="mailto:jane.doe@example.com" rel="noopener noreferrer nofollow" target="_blank">`,
		"<p><i>Jane Doe</i><br>",
		`<img width="120" height="40" src="cid:image001.png@01DA75B2.9F3C1D40" alt="Example Ltd logo">`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, unwanted := range []string{"MsoNormal", "mso-", "font-family", "<style", "<o:p", "<html", "<head", "<body", "<meta", "behavior", "Picture_x0020_1", "lang="} {
		if strings.Contains(out, unwanted) {
			t.Errorf("output contains %q", unwanted)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

func TestHTMLGmailEmail(t *testing.T) {
	in := readEmail(t, "gmail.html")
	out := string(HTML(in))
	assertSafeHTML(t, in, out)
	for _, want := range []string{
		`<div dir="ltr"><div>Hi,</div><div><br></div>`,
		"<b>Trail Runner 2</b>",
		"<ol><li>send the right size, and</li><li>email me a <i>prepaid</i> return label?</li></ol>",
		`<a href="https://shop.example.com/orders/55821?ref=email" rel="noopener noreferrer nofollow" target="_blank">here</a>`,
		`<table cellpadding="0" cellspacing="0" border="0"><tbody><tr><td style="text-align: left"><b>Order</b></td><td>55821</td></tr>`,
		"<div>[image: Sam&#39;s signature]</div>",
		"<blockquote>Your order has shipped.</blockquote>",
		`&lt;<a href="mailto:support@shop.example.com" rel="noopener noreferrer nofollow" target="_blank">support@shop.example.com</a>&gt;`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, unwanted := range []string{"googleusercontent", "track/open.gif", "[image]", "gmail_quote", "border-left", "class="} {
		if strings.Contains(out, unwanted) {
			t.Errorf("output contains %q", unwanted)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

func TestHTMLCases(t *testing.T) {
	const rel = ` rel="noopener noreferrer nofollow" target="_blank"`
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain & simple", "plain &amp; simple"},
		{`<a href="https://example.com/x" target="_self" rel="opener" title="Docs">x</a>`, `<a href="https://example.com/x" title="Docs"` + rel + `>x</a>`},
		{`<a href="tel:+441234567890">call</a>`, `<a href="tel:+441234567890"` + rel + `>call</a>`},
		{`<a href="javascript:alert(1)">x</a> after`, `x after`},
		{`<a href="data:image/png;base64,iVBORw0KGgo=">x</a>`, `x`},
		{`<a href="https://a.example/"><a href="javascript:x">in</a>out</a>`, `<a href="https://a.example/"` + rel + `>inout</a>`},
		{`<img src="https://tracker.example/x.gif" alt=" Company   logo ">`, `[image: Company logo]`},
		{`<img src="https://tracker.example/x.gif">`, `[image]`},
		{`<img src="https://tracker.example/x.gif" width="1" height="1">`, ``},
		{`<img src="https://x.example/spacer.gif" width="600" height="2">`, ``},
		{`<img src="cid:part1@example" alt="chart" onload="x()">`, `<img src="cid:part1@example" alt="chart">`},
		{`<img src="data:image/png;base64,iVBORw0KGgo=" alt="dot">`, `<img src="data:image/png;base64,iVBORw0KGgo=" alt="dot">`},
		{`<img src="data:image/svg+xml;base64,PHN2Zz4=" alt="vector">`, `[image: vector]`},
		{`<a href="https://x.example/"><img src="https://x.example/banner.png" alt="Sale"></a>`, `<a href="https://x.example/"` + rel + `>[image: Sale]</a>`},
		{`<p style="COLOR: Red; font-size: 0; font-weight: 700; text-align: center">x</p>`, `<p style="color: Red; font-weight: 700; text-align: center">x</p>`},
		{`<p style="color: rgb(10, 20, 30)">x</p>`, `<p style="color: rgb(10, 20, 30)">x</p>`},
		{`<p id="x" class="y" name="z" align="center" dir="rtl">x</p>`, `<p align="center" dir="rtl">x</p>`},
		{`<table><tr><td colspan="2" bgcolor="#ffeeee" background="https://t.example/bg.png">x</td></tr></table>`, `<table><tr><td colspan="2" bgcolor="#ffeeee">x</td></tr></table>`},
		{`<h1>T</h1><hr><pre><code>x &lt; y</code></pre>`, `<h1>T</h1><hr><pre><code>x &lt; y</code></pre>`},
		{`<font face="Arial" color="red">old</font><center>mid</center>`, `old<center>mid</center>`},
		{"bad \xff utf8 \x00 nul", "bad \uFFFD utf8 \uFFFD nul"},
	} {
		got := string(HTML(tc.in))
		if got != tc.want {
			t.Errorf("HTML(%q)\n   got %q\n  want %q", tc.in, got, tc.want)
		}
		assertSafeHTML(t, tc.in, got)
	}
}

func TestHTMLConcurrent(t *testing.T) {
	files := hostileFiles(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, in := range files {
				if out := string(HTML(in)); !strings.Contains(out, "visible-text") {
					t.Errorf("concurrent HTML lost text: %q", out)
				}
			}
		})
	}
	wg.Wait()
}

func TestText(t *testing.T) {
	const rel = ` rel="noopener noreferrer nofollow" target="_blank"`
	link := func(u string) string { return `<a href="` + u + `"` + rel + `>` + u + `</a>` }
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"<b>hi</b>\nhttps://example.com/a?b=1&c=2",
			"&lt;b&gt;hi&lt;/b&gt;<br>" + link("https://example.com/a?b=1&amp;c=2")},
		{"a\r\nb\rc\n\nd", "a<br>b<br>c<br><br>d"},
		{`<script>alert("x")</script>`, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"},
		{"see https://example.com/x.", "see " + link("https://example.com/x") + "."},
		{"(https://example.com/x)", "(" + link("https://example.com/x") + ")"},
		{"https://en.example.org/wiki/Go_(language), ok", link("https://en.example.org/wiki/Go_(language)") + ", ok"},
		{"HTTP://EXAMPLE.COM/UP", link("HTTP://EXAMPLE.COM/UP")},
		{"<https://example.com/a>", "&lt;" + link("https://example.com/a") + "&gt;"},
		{`https://example.com/"onmouseover="alert(1)`, link("https://example.com/") + "&#34;onmouseover=&#34;alert(1)"},
		{"https://example.com/'onmouseover='x", link("https://example.com/&#39;onmouseover=&#39;x")},
		{"javascript:alert(1) and xhttps://example.com and http:// and https://.x", "javascript:alert(1) and xhttps://example.com and http:// and https://.x"},
		{"mail me at a@example.com", "mail me at a@example.com"},
		{"two https://a.example https://b.example", "two " + link("https://a.example") + " " + link("https://b.example")},
		{"nul\x00 and \xff", "nul\uFFFD and \uFFFD"},
		{"https://evil.example/\u202Emoc.knab", link("https://evil.example/") + "\u202Emoc.knab"},
	} {
		if got := string(Text(tc.in)); got != tc.want {
			t.Errorf("Text(%q)\n   got %q\n  want %q", tc.in, got, tc.want)
		}
	}
}

// textProblems checks the output of Text(in): only <br> and http(s) links
// whose text is their own href, and, read back, exactly the input text.
func textProblems(in, out string) []string {
	var probs []string
	report := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(out), ctx)
	if err != nil {
		return []string{err.Error()}
	}
	var text strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			text.WriteString(n.Data)
		case html.ElementNode:
			switch {
			case n.Namespace != "":
				report("foreign element %s", n.Data)
			case n.Data == "br":
				if len(n.Attr) > 0 || n.FirstChild != nil {
					report("<br> with attributes or children")
				}
				text.WriteString("\n")
			case n.Data == "a":
				href, _ := getAttr(n, "href")
				if s := scheme(href); s != "http" && s != "https" {
					report("link scheme %q", s)
				}
				if len(n.Attr) != 3 || !hasTokens(attrOr(n, "rel"), "noopener", "noreferrer", "nofollow") || attrOr(n, "target") != "_blank" {
					report("link attributes %v", n.Attr)
				}
				if n.FirstChild == nil || n.FirstChild != n.LastChild || n.FirstChild.Type != html.TextNode || n.FirstChild.Data != href {
					report("link text differs from href %q", href)
				}
			default:
				report("element <%s>", n.Data)
			}
		default:
			report("node type %v", n.Type)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	want := strings.ToValidUTF8(in, "\uFFFD")
	want = strings.NewReplacer("\x00", "\uFFFD", "\r\n", "\n", "\r", "\n").Replace(want)
	if text.String() != want {
		report("text read back is %q, want %q", text.String(), want)
	}
	return probs
}

func attrOr(n *html.Node, key string) string {
	v, _ := getAttr(n, key)
	return v
}

func TestPlainFromHTML(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"Hello &amp; welcome&nbsp;&mdash; &#x1F600; &lt;b&gt;", "Hello & welcome — 😀 <b>"},
		{"<p>One</p><p>Two</p>", "One\n\nTwo"},
		{"<div>a</div><div>b</div>c", "a\nb\nc"},
		{"line1<br>line2<br><br><br><br>line3", "line1\nline2\n\nline3"},
		{"  lots   of \n\t whitespace  ", "lots of whitespace"},
		{"<ul><li>one</li><li> two </li></ul>after", "- one\n- two\n\nafter"},
		{"<table><tr><td>A</td><td>B</td></tr><tr><td>1</td><td>2</td></tr></table>", "A B\n1 2"},
		{"<pre>  keep\n    this</pre>next", "keep\n    this\n\nnext"},
		{"<head><title>Subject</title><style>p{color:red}</style></head><body><p>Body</p></body>", "Body"},
		{"a<script>alert('x')</script>b<style>.x{}</style>c", "abc"},
		{"a<script/>alert(1)</script>b", "ab"},
		{"<svg><text>hidden</text></svg>shown<svg/>too", "showntoo"},
		{"<!-- note --><!--[if mso]>mso<![endif]-->x", "x"},
		{`<img src="cid:x" alt="Logo">Hi`, "Logo Hi"},
		{"<b>bold</b><i>it</i> <a href='https://x'>link</a>", "boldit link"},
		{"preheader\u200c\u00a0\u200c\u00a0\u200c\u00a0\u200b\ufeffText", "preheader Text"},
		{"می\u200cخواهم", "می\u200cخواهم"},
		{"<h1>Title</h1>Body", "Title\n\nBody"},
		{"<blockquote>quoted<blockquote>deeper</blockquote></blockquote>mine", "quoted\n\ndeeper\n\nmine"},
		{"unclosed <p>para <b>bold", "unclosed\n\npara bold"},
		{"bad \xff", "bad \uFFFD"},
	} {
		if got := PlainFromHTML(tc.in); got != tc.want {
			t.Errorf("PlainFromHTML(%q)\n   got %q\n  want %q", tc.in, got, tc.want)
		}
	}
}

func TestPlainFromHTMLEmails(t *testing.T) {
	got := PlainFromHTML(readEmail(t, "outlook.html"))
	want := "Hello Support Team,\n\n" +
		"Our invoice INV-2024-0173 was charged twice this month. Details below:\n\n" +
		"- First charge on 3 March – £120.00\n" +
		"- Second charge on 4 March – £120.00\n\n" +
		"Date\n\nAmount\n\n2024-03-03\n\n£120.00\n\n" +
		"You can see the statement here: March statement.\n\n" +
		"Kind regards,\n\n" +
		"Jane Doe\nAccounts Payable | Example Ltd\njane.doe@example.com\n\n" +
		"Example Ltd logo"
	if got != want {
		t.Errorf("Outlook email as plain text:\n%s\n--- want ---\n%s", got, want)
	}
	got = PlainFromHTML(readEmail(t, "gmail.html"))
	for _, want := range []string{"Hi,\n\nI ordered the Trail Runner 2 (size 44)", "- send the right size, and\n- email me a prepaid return label?", "Order 55821\nItem Trail Runner 2", "Sam's signature", "wrote:\n\nYour order has shipped."} {
		if !strings.Contains(got, want) {
			t.Errorf("Gmail email as plain text lacks %q:\n%s", want, got)
		}
	}
}

func TestPreview(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 0, ""},
		{"hello", -1, ""},
		{"hello", 5, "hello"},
		{"hello", 4, "hel…"},
		{"hello", 1, "…"},
		{"  Hello,\n\n  world\t again  ", 100, "Hello, world again"},
		{"The quick brown fox jumps", 12, "The quick…"},
		{"Thequickbrownfoxjumps", 10, "Thequickb…"},
		{"日本語のテキストです", 5, "日本語の…"},
		{"héllo wörld", 8, "héllo…"},
		{"cafe\u0301s", 5, "caf…"},       // é as e + combining accent stays whole
		{"ab👍🏽cd", 4, "ab…"},             // no bare skin-tone modifier
		{"ab👨\u200d👩\u200d👧x", 6, "ab…"}, // no half family
		{"🇺🇸🇬🇧🇫🇷", 4, "🇺🇸…"},             // no half flag
		{"a\u202Eevil\u202C b\u200Bc", 20, "aevil bc"},
		{"bad \xff\xfe end", 100, "bad \uFFFD end"},
	} {
		got := Preview(tc.in, tc.n)
		if got != tc.want {
			t.Errorf("Preview(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
		if c := utf8.RuneCountInString(got); c > max(tc.n, 0) {
			t.Errorf("Preview(%q, %d) has %d runes", tc.in, tc.n, c)
		}
	}
}

// Inputs on which a quadratic algorithm would take many seconds; linear
// ones take milliseconds.
func TestPathologicalInputsStayFast(t *testing.T) {
	inputs := map[string]string{
		"CSS escapes":       `<p style="color:` + strings.Repeat(`\41 `, 75000) + `">x</p>`,
		"nested svg":        strings.Repeat("<svg>", 100000) + strings.Repeat("</p>", 100000),
		"nested bad links":  strings.Repeat(`<a href="javascript:x">`, 20000) + strings.Repeat("</a>", 20000),
		"many declarations": `<p style="` + strings.Repeat("color: red;", 50000) + `">x</p>`,
		"many attributes":   "<p " + strings.Repeat(`title=x style="color:red" `, 20000) + ">",
	}
	for name, in := range inputs {
		start := time.Now()
		HTML(in)
		PlainFromHTML(in)
		Text(in)
		Preview(in, 100)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s (%d bytes) took %v", name, len(in), d)
		}
	}
}

func FuzzHTML(f *testing.F) {
	for _, in := range hostileFiles(f) {
		f.Add(in)
	}
	for _, name := range []string{"outlook.html", "gmail.html"} {
		b, err := os.ReadFile(filepath.Join("testdata", "email", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(`<a href="https://x.example/?a=1&b=<2>">x</a><img src="cid:a" alt='"'>`)
	f.Add(`<p style="color:red;;color:rgb(1,2,3)">x</p>`)
	f.Fuzz(func(t *testing.T, in string) {
		out := string(HTML(in))
		assertSafeHTML(t, in, out)
		if again := string(HTML(out)); again != out {
			t.Errorf("not stable:\n  input: %q\n  once:  %q\n  twice: %q", in, out, again)
		}
	})
}

func FuzzText(f *testing.F) {
	for _, s := range []string{
		"", "<b>hi</b>\nhttps://example.com/a?b=1&c=2", "a\r\nb\rc",
		`https://x.example/"><script>alert(1)</script>`,
		"(https://x.example/a_(b)) https://[::1]:8080/ HTTPS://X.EXAMPLE",
		"javascript:alert(1) http:// https://.x \x00 \xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := string(Text(in))
		if probs := textProblems(in, out); len(probs) > 0 {
			t.Errorf("Text(%q) = %q:\n  %s", in, out, strings.Join(probs, "\n  "))
		}
	})
}

func FuzzPreview(f *testing.F) {
	f.Add("Hello,\n  world 🇺🇸🇬🇧 cafe\u0301", 7)
	f.Add("\xff\u202e\u200d", 1)
	f.Fuzz(func(t *testing.T, in string, n int) {
		n %= 200
		got := Preview(in, n)
		if !utf8.ValidString(got) || strings.ContainsAny(got, "\n\r\t") {
			t.Fatalf("Preview(%q, %d) = %q: invalid or multi-line", in, n, got)
		}
		if c := utf8.RuneCountInString(got); c > max(n, 0) {
			t.Fatalf("Preview(%q, %d) = %q has %d runes", in, n, got, c)
		}
		if !strings.HasPrefix(oneLine(in), strings.TrimSuffix(got, "…")) {
			t.Fatalf("Preview(%q, %d) = %q is not a prefix of the text", in, n, got)
		}
	})
}
