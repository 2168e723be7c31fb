package email

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	mtext "github.com/emersion/go-message/textproto"
	htmlcharset "golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/charmap"
)

// Parse parses a raw message. A message over lim.MaxSize is refused before
// anything is read from it.
func Parse(raw []byte, lim Limits) (*Message, error) {
	lim = lim.withDefaults()
	if n := int64(len(raw)); n > lim.MaxSize {
		return nil, &LimitError{Err: ErrTooLarge, What: "message size", Limit: lim.MaxSize, Got: n}
	}
	return parseStream(bytes.NewReader(raw), lim)
}

// ParseReader parses a message as it streams in (from IMAP or a file)
// without holding the raw message in memory: only decoded bodies and
// attachments are kept. It stops reading as soon as the message is over
// lim.MaxSize.
func ParseReader(r io.Reader, lim Limits) (*Message, error) {
	return parseStream(r, lim.withDefaults())
}

// errOverSize is what countingReader returns past the size limit; it never
// leaves the package (parseStream turns it into a *LimitError).
var errOverSize = errors.New("email: over size limit")

// countingReader counts the raw bytes read and fails once more than max
// have come through.
type countingReader struct {
	r    io.Reader
	n    int64
	max  int64
	over bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.over {
		return 0, errOverSize
	}
	if rem := c.max + 1 - c.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		c.over = true
		return 0, errOverSize
	}
	return n, err
}

func parseStream(r io.Reader, lim Limits) (*Message, error) {
	cr := &countingReader{r: r, max: lim.MaxSize}
	p := &parser{lim: lim, dec: &mime.WordDecoder{CharsetReader: charset.Reader}}
	m, err := p.message(cr, 0, "")
	if err == nil {
		// The epilogue after the last boundary counts towards the size too.
		_, err = io.Copy(io.Discard, cr)
	}
	if cr.over {
		return nil, &LimitError{Err: ErrTooLarge, What: "message size", Limit: lim.MaxSize}
	}
	if err != nil {
		return nil, err
	}
	m.Size = cr.n
	return m, nil
}

// parser holds the budget shared by a message and the messages attached to
// it, so nesting cannot multiply the limits.
type parser struct {
	lim   Limits
	dec   *mime.WordDecoder
	parts int
	total int64 // decoded attachment bytes so far
}

// content is what a MIME subtree contributes to the body.
type content struct {
	text []string
	html []string
}

// headerLimiter bounds one header block; off after the header is read.
type headerLimiter struct {
	r   io.Reader
	n   int64
	on  bool
	hit bool
}

func (h *headerLimiter) Read(p []byte) (int, error) {
	if !h.on {
		return h.r.Read(p)
	}
	if h.n <= 0 {
		h.hit = true
		return 0, errOverSize
	}
	if int64(len(p)) > h.n {
		p = p[:h.n]
	}
	n, err := h.r.Read(p)
	h.n -= int64(n)
	return n, err
}

// message parses one message (the top level or an attached one).
func (p *parser) message(r io.Reader, depth int, path string) (*Message, error) {
	hl := &headerLimiter{r: r, n: p.lim.MaxHeaderBytes, on: true}
	br := bufio.NewReader(hl)
	h, err := mtext.ReadHeader(br)
	hl.on = false
	m := &Message{}
	if err != nil {
		switch {
		case errors.Is(err, errOverSize) && hl.hit:
			return nil, &LimitError{Err: ErrTooLarge, What: "header size", Part: path, Limit: p.lim.MaxHeaderBytes}
		case errors.Is(err, errOverSize):
			return nil, err
		case h.Len() == 0:
			return nil, &ParseError{Part: path, Reason: "no header: " + firstLine(err.Error())}
		}
		// A bad line in the middle: keep what came before it and read the
		// rest as the body, as mail clients do.
		m.warn(path, "header: "+firstLine(err.Error()))
	}
	if h.Len() == 0 {
		return nil, &ParseError{Part: path, Reason: "empty message"}
	}
	p.headers(m, h)
	c, err := p.entity(m, h, br, depth, path, "")
	if err != nil {
		return nil, err
	}
	p.finish(m, c)
	return m, nil
}

func (p *parser) headers(m *Message, h mtext.Header) {
	m.Header = textproto.MIMEHeader(h.Map())
	m.Subject = p.text(h.Get("Subject"))
	if l := p.addrs(h.Get("From")); len(l) > 0 {
		m.From = l[0]
	}
	if l := p.addrs(h.Get("Sender")); len(l) > 0 {
		m.Sender = l[0]
	}
	m.ReplyTo = p.addrs(h.Get("Reply-To"))
	m.To = p.addrs(h.Get("To"))
	m.Cc = p.addrs(h.Get("Cc"))
	if ids := msgIDs(h.Get("Message-Id"), 1); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	m.InReplyTo = msgIDs(h.Get("In-Reply-To"), p.lim.MaxReferenceIDs)
	m.References = msgIDs(h.Get("References"), p.lim.MaxReferenceIDs)
	if h.Has("Return-Path") {
		m.HasReturnPath = true
		m.ReturnPath = strings.Trim(strings.TrimSpace(h.Get("Return-Path")), "<> ")
	}
	if v := h.Get("Date"); v != "" {
		if t, ok := parseDate(v); ok {
			m.Date = t.UTC()
		} else {
			m.warn("", "unreadable Date")
		}
	}
}

func (m *Message) warn(path, what string) {
	if len(m.Warnings) >= 50 { // a hostile message could make thousands
		return
	}
	if path != "" {
		what = "part " + path + ": " + what
	}
	m.Warnings = append(m.Warnings, what)
}

// entity parses one MIME entity: it collects attachments into m and
// returns its body content. parent is the media type of the enclosing
// multipart ("" at the top), which sets the default type of parts.
func (p *parser) entity(m *Message, h mtext.Header, body io.Reader, depth int, path, parent string) (content, error) {
	p.parts++
	if p.parts > p.lim.MaxParts {
		return content{}, &LimitError{Err: ErrTooManyParts, What: "part count", Part: path, Limit: int64(p.lim.MaxParts)}
	}
	if depth > p.lim.MaxDepth {
		return content{}, &LimitError{Err: ErrTooDeep, What: "nesting depth", Part: path, Limit: int64(p.lim.MaxDepth)}
	}
	mt, params := p.params(h.Get("Content-Type"))
	if mt == "" || !strings.Contains(mt, "/") {
		mt = "text/plain" // RFC 2045 §5.2
		if parent == "multipart/digest" {
			mt = "message/rfc822"
		}
	}
	disp, dparams := p.params(h.Get("Content-Disposition"))
	name := cleanFilename(dparams["filename"])
	if name == "" {
		name = cleanFilename(params["name"])
	}
	label := partLabel(path, name)

	if strings.HasPrefix(mt, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" || len(boundary) > 200 {
			m.warn(path, "multipart without a usable boundary, read as text")
			mt = "text/plain"
		} else {
			return p.multipart(m, mt, boundary, body, depth, path)
		}
	}

	data, err := p.readBody(m, h, body, label)
	if err != nil {
		return content{}, err
	}

	if mt == "message/rfc822" || mt == "message/global" {
		a := Attachment{Filename: name, ContentType: mt, Size: int64(len(data)), Data: data}
		inner, err := p.message(bytes.NewReader(data), depth+1, childPath(path, 1))
		switch {
		case err == nil:
			inner.Size = int64(len(data))
			a.Message = inner
			if a.Filename == "" {
				a.Filename = cleanFilename(inner.Subject + ".eml")
			}
		case errors.Is(err, ErrMalformed):
			m.warn(path, "attached message unreadable")
		default:
			return content{}, err
		}
		return content{}, p.attach(m, a, label)
	}

	if (mt == "text/plain" || mt == "text/html") && disp != "attachment" && name == "" {
		s := p.decodeText(m, path, data, params["charset"], mt == "text/html")
		if mt == "text/html" {
			return content{html: []string{s}}, nil
		}
		if strings.EqualFold(params["format"], "flowed") {
			s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
		}
		return content{text: []string{s}}, nil
	}

	a := Attachment{
		Filename:    name,
		ContentType: mt,
		ContentID:   strings.Trim(strings.TrimSpace(h.Get("Content-Id")), "<>"),
		Size:        int64(len(data)),
		Data:        data,
	}
	return content{}, p.attach(m, a, label)
}

func (p *parser) multipart(m *Message, mt, boundary string, body io.Reader, depth int, path string) (content, error) {
	mr := mtext.NewMultipartReader(body, boundary)
	var kids []content
	for i := 1; ; i++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, errOverSize) {
				return content{}, err
			}
			// A missing final boundary or a broken part header: keep what
			// was read, as mail clients show it.
			m.warn(path, "multipart: "+firstLine(err.Error()))
			break
		}
		c, err := p.entity(m, part.Header, part, depth+1, childPath(path, i), mt)
		if err != nil {
			return content{}, err
		}
		kids = append(kids, c)
	}
	var out content
	if mt == "multipart/alternative" {
		// Parts go from plainest to richest: take the first text and the
		// last HTML.
		for _, k := range kids {
			if len(k.text) > 0 && out.text == nil {
				out.text = k.text
			}
			if len(k.html) > 0 {
				out.html = k.html
			}
		}
		return out, nil
	}
	for _, k := range kids {
		out.text = append(out.text, k.text...)
		out.html = append(out.html, k.html...)
	}
	return out, nil
}

// readBody reads and decodes a leaf part's body, bounded by MaxPartSize.
func (p *parser) readBody(m *Message, h mtext.Header, body io.Reader, label string) ([]byte, error) {
	enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	tooBig := func(got int64) error {
		return &LimitError{Err: ErrTooLarge, What: "part size", Part: label, Limit: p.lim.MaxPartSize, Got: got}
	}
	switch enc {
	case "base64":
		dec := base64.NewDecoder(base64.StdEncoding, &base64Filter{r: body})
		data, err := io.ReadAll(io.LimitReader(dec, p.lim.MaxPartSize+1))
		if int64(len(data)) > p.lim.MaxPartSize {
			return nil, tooBig(0)
		}
		if err != nil {
			if errors.Is(err, errOverSize) {
				return nil, err
			}
			m.warn(label, "base64: "+firstLine(err.Error()))
		}
		return data, nil
	case "quoted-printable":
		// Decoded QP is never longer than encoded, and the encoded body is
		// bounded by the message size.
		raw, err := io.ReadAll(body)
		if err != nil {
			if errors.Is(err, errOverSize) {
				return nil, err
			}
			m.warn(label, "body: "+firstLine(err.Error()))
		}
		data := decodeQP(raw)
		if int64(len(data)) > p.lim.MaxPartSize {
			return nil, tooBig(int64(len(data)))
		}
		return data, nil
	}
	data, err := io.ReadAll(io.LimitReader(body, p.lim.MaxPartSize+1))
	if int64(len(data)) > p.lim.MaxPartSize {
		return nil, tooBig(0)
	}
	if err != nil {
		if errors.Is(err, errOverSize) {
			return nil, err
		}
		m.warn(label, "body: "+firstLine(err.Error()))
	}
	return data, nil
}

// attach adds an attachment after checking the total and zip limits.
func (p *parser) attach(m *Message, a Attachment, label string) error {
	p.total += a.Size
	if p.total > p.lim.MaxTotalSize {
		return &LimitError{Err: ErrTooLarge, What: "attachments total", Part: label, Limit: p.lim.MaxTotalSize, Got: p.total}
	}
	if isZip(a) {
		if err := checkZip(a.Data, p.lim, label); err != nil {
			return err
		}
	}
	m.Attachments = append(m.Attachments, a)
	return nil
}

// base64Filter passes only base64 alphabet bytes: real mail has stray
// spaces, indentation and garbage lines inside base64 bodies.
type base64Filter struct{ r io.Reader }

func (f *base64Filter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// decodeQP decodes quoted-printable leniently: a "=" that does not start a
// valid escape or soft break is kept as it is, as mail clients do.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		if i+2 < len(b) {
			if hi, lo := unhex(b[i+1]), unhex(b[i+2]); hi >= 0 && lo >= 0 {
				out = append(out, byte(hi<<4|lo))
				i += 2
				continue
			}
		}
		// Soft line break: "=" then optional trailing blanks then a newline.
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		switch {
		case j < len(b) && b[j] == '\n':
			i = j
		case j+1 < len(b) && b[j] == '\r' && b[j+1] == '\n':
			i = j + 1
		case j == len(b):
			i = j
		default:
			out = append(out, '=')
		}
	}
	return out
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c - 'A' + 10)
	case c >= 'a' && c <= 'f':
		return int(c - 'a' + 10)
	}
	return -1
}

// decodeText converts a text body to UTF-8. Undeclared or wrongly
// declared 8-bit text is read as windows-1252, the usual culprit.
func (p *parser) decodeText(m *Message, path string, data []byte, cs string, isHTML bool) string {
	cs = strings.ToLower(strings.Trim(cs, "\"' "))
	switch cs {
	case "utf-8", "utf8":
		return strings.ToValidUTF8(string(data), "\uFFFD")
	case "", "us-ascii", "ascii", "7bit":
	default:
		r, err := charset.Reader(cs, bytes.NewReader(data))
		if err == nil {
			out, err := io.ReadAll(r)
			if err == nil {
				return strings.ToValidUTF8(string(out), "\uFFFD")
			}
		}
		m.warn(path, "unknown charset "+strconv.Quote(cs))
	}
	if utf8.Valid(data) {
		return string(data)
	}
	if isHTML {
		if enc, _, _ := htmlcharset.DetermineEncoding(data, "text/html"); enc != nil {
			if out, err := enc.NewDecoder().Bytes(data); err == nil {
				return strings.ToValidUTF8(string(out), "\uFFFD")
			}
		}
	}
	return latin(data)
}

func latin(b []byte) string {
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(out)
}

// text decodes an unstructured header (RFC 2047) and removes control
// characters.
func (p *parser) text(v string) string {
	if v == "" {
		return ""
	}
	if strings.Contains(v, "=?") {
		if d, err := p.dec.DecodeHeader(v); err == nil {
			v = d
		}
	}
	if !utf8.ValidString(v) {
		v = latin([]byte(v))
	}
	return cleanLine(v)
}

// cleanLine turns control characters into spaces and trims.
func cleanLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s))
}

// params parses a Content-Type or Content-Disposition value. Values are
// lower-cased media types and decoded parameters (RFC 2231 by mime, then
// RFC 2047, which Outlook and Gmail still use in file names).
func (p *parser) params(v string) (string, map[string]string) {
	if v == "" {
		return "", map[string]string{}
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil || params == nil {
		mt, params = looseParams(v)
	}
	for k, val := range params {
		params[k] = p.text(val)
	}
	return strings.ToLower(mt), params
}

// looseParams parses what mime.ParseMediaType refuses (duplicate or
// unquoted parameters, RFC 2231 in other charsets) as well as it can.
func looseParams(v string) (string, map[string]string) {
	params := map[string]string{}
	parts := splitOutsideQuotes(v, ';')
	mt := strings.ToLower(strings.TrimSpace(parts[0]))
	ext := map[string][]string{} // name → RFC 2231 pieces in order
	for _, part := range parts[1:] {
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = strings.ReplaceAll(val[1:len(val)-1], `\"`, `"`)
		}
		if base, _, isExt := strings.Cut(k, "*"); isExt {
			ext[base] = append(ext[base], k+"="+val)
			continue
		}
		if _, dup := params[k]; !dup {
			params[k] = val
		}
	}
	for base, pieces := range ext {
		if s := decode2231(pieces); s != "" {
			params[base] = s
		}
	}
	return mt, params
}

// decode2231 joins RFC 2231 continuations ("name*0*=utf-8”a%20", "name*1=b")
// and decodes them with their charset.
func decode2231(pieces []string) string {
	vals := map[int]string{}
	encoded := map[int]bool{}
	cs := ""
	for _, p := range pieces {
		k, v, _ := strings.Cut(p, "=")
		_, rest, _ := strings.Cut(k, "*")
		idx := 0
		enc := strings.HasSuffix(k, "*")
		rest = strings.TrimSuffix(rest, "*")
		if rest != "" {
			n, err := strconv.Atoi(rest)
			if err != nil || n < 0 || n > 100 {
				continue
			}
			idx = n
		}
		if enc && idx == 0 {
			if c, after, ok := strings.Cut(v, "'"); ok {
				if _, after2, ok := strings.Cut(after, "'"); ok {
					cs, v = c, after2
				}
			}
		}
		vals[idx], encoded[idx] = v, enc
	}
	var b []byte
	for i := 0; i <= 100; i++ {
		v, ok := vals[i]
		if !ok {
			break
		}
		if encoded[i] {
			b = append(b, percentDecode(v)...)
		} else {
			b = append(b, v...)
		}
	}
	cs = strings.ToLower(cs)
	if cs != "" && cs != "utf-8" && cs != "us-ascii" {
		if r, err := charset.Reader(cs, bytes.NewReader(b)); err == nil {
			if out, err := io.ReadAll(r); err == nil {
				return string(out)
			}
		}
	}
	if !utf8.Valid(b) {
		return latin(b)
	}
	return string(b)
}

func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if hi, lo := unhex(s[i+1]), unhex(s[i+2]); hi >= 0 && lo >= 0 {
				out = append(out, byte(hi<<4|lo))
				i += 2
				continue
			}
		}
		out = append(out, s[i])
	}
	return out
}

// splitOutsideQuotes splits s at sep where sep is not inside a quoted
// string, angle brackets or a comment.
func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	quoted, angle, paren, start := false, 0, 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			angle++
		case c == '>' && angle > 0:
			angle--
		case c == '(':
			paren++
		case c == ')' && paren > 0:
			paren--
		case c == sep && angle == 0 && paren == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// addrs parses an address list, falling back to one address at a time and
// then to picking out anything that looks like an address, because a
// customer whose mail client writes a sloppy From header is still a
// customer.
func (p *parser) addrs(v string) []Address {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	ap := mail.AddressParser{WordDecoder: p.dec}
	var out []Address
	add := func(name, addr string) {
		addr = cleanLine(addr)
		if addr == "" || len(out) >= p.lim.MaxAddressesKept {
			return
		}
		out = append(out, Address{Name: p.text(name), Email: addr})
	}
	if list, err := ap.ParseList(v); err == nil {
		for _, a := range list {
			add(a.Name, a.Address)
		}
		return out
	}
	for _, piece := range splitOutsideQuotes(v, ',') {
		if strings.TrimSpace(piece) == "" {
			continue
		}
		if a, err := ap.Parse(piece); err == nil {
			add(a.Name, a.Address)
			continue
		}
		if i := strings.LastIndexByte(piece, '<'); i >= 0 {
			if j := strings.IndexByte(piece[i:], '>'); j > 0 && strings.Contains(piece[i:i+j], "@") {
				add(strings.Trim(strings.TrimSpace(piece[:i]), `"' `), piece[i+1:i+j])
				continue
			}
		}
		for _, f := range strings.Fields(piece) {
			if strings.Count(f, "@") == 1 {
				add("", strings.Trim(f, `"'<>();`))
				break
			}
		}
	}
	return out
}

// msgIDs extracts message ids (without brackets) from In-Reply-To,
// References or Message-ID, keeping the first one and the last max-1 when
// there are more than max.
func msgIDs(v string, max int) []string {
	var ids []string
	for rest := v; ; {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			break
		}
		if id := strings.TrimSpace(rest[i+1 : i+j]); id != "" && !strings.ContainsAny(id, " \t\r\n<") {
			ids = append(ids, id)
		}
		rest = rest[i+j+1:]
	}
	if len(ids) == 0 {
		// Some clients drop the brackets.
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' }) {
			if strings.Contains(f, "@") && !strings.ContainsAny(f, "<>()\"") {
				ids = append(ids, f)
			}
		}
	}
	if len(ids) > max {
		ids = append(ids[:1:1], ids[len(ids)-(max-1):]...)
	}
	return ids
}

var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006",
	"Mon, 2 Jan 2006 15:04:05",
	time.RFC3339,
}

func parseDate(v string) (time.Time, bool) {
	if t, err := mail.ParseDate(v); err == nil {
		return t, true
	}
	// Drop comments like "(PDT)" and doubled spaces, then try the shapes
	// that net/mail does not take.
	if i := strings.IndexByte(v, '('); i > 0 {
		v = v[:i]
	}
	v = strings.Join(strings.Fields(v), " ")
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// cleanFilename keeps the last path element of a file name and drops
// control characters, so that a name can never point outside a folder.
func cleanFilename(s string) string {
	s = cleanLine(s)
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSpace(s)
	if s == "." || s == ".." {
		return ""
	}
	if len(s) > 255 {
		cut := 255
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

func childPath(path string, i int) string {
	if path == "" {
		return strconv.Itoa(i)
	}
	return path + "." + strconv.Itoa(i)
}

func partLabel(path, name string) string {
	switch {
	case path == "":
		path = "body"
	case name != "":
		return path + " (" + strconv.Quote(name) + ")"
	}
	return path
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = strings.ToValidUTF8(s[:120], "")
	}
	return s
}

// unflow joins the soft line breaks of format=flowed text (RFC 3676).
func unflow(s string, delsp bool) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var b strings.Builder
	b.Grow(len(s))
	for i, l := range lines {
		soft := strings.HasSuffix(l, " ") && l != "-- " && i < len(lines)-1
		if soft && delsp {
			l = l[:len(l)-1]
		}
		b.WriteString(l)
		if !soft && i < len(lines)-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
