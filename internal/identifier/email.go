package identifier

import (
	"strings"
)

// Limits of RFC 5321.
const (
	maxLocalLen  = 64
	maxDomainLen = 253
	maxLabelLen  = 63
)

// blockedLocalParts are local parts that people type when a form insists on an
// address they do not want to give, whatever the domain.
var blockedLocalParts = map[string]bool{
	"noemail": true,
	"none":    true,
	"null":    true,
	"unknown": true,
}

// blockedEmails are whole addresses typed as placeholders.
var blockedEmails = map[string]bool{
	"test@test.com":   true,
	"a@a.com":         true,
	"email@email.com": true,
}

// normalizeEmail lower-cases an address and checks its form. It takes dot-atom
// local parts only (no quoted strings, no comments) and ASCII only: addresses
// with Unicode would need IDNA mapping of the domain to compare reliably.
func normalizeEmail(v string) (string, error) {
	if len(v) >= len("mailto:") && strings.EqualFold(v[:len("mailto:")], "mailto:") {
		v = v[len("mailto:"):]
	}
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			return "", reasonf("non-ASCII characters are not supported in email addresses")
		}
	}
	v = strings.ToLower(v)

	switch n := strings.Count(v, "@"); {
	case n == 0:
		return "", reasonf("missing @")
	case n > 1:
		return "", reasonf("more than one @")
	}
	local, domain, _ := strings.Cut(v, "@")
	if local == "" {
		return "", reasonf("missing local part")
	}
	if blockedLocalParts[local] {
		return "", blocked("junk email address")
	}
	if domain == "" {
		return "", reasonf("missing domain")
	}
	if err := checkLocalPart(local); err != nil {
		return "", err
	}
	if err := checkDomain(domain); err != nil {
		return "", err
	}
	if blockedEmails[v] {
		return "", blocked("junk email address")
	}
	return v, nil
}

// localSpecials are the characters besides letters and digits that a dot-atom
// local part may hold (RFC 5322 atext, plus the dot).
const localSpecials = "!#$%&'*+/=?^_`{|}~.-"

func checkLocalPart(local string) error {
	if len(local) > maxLocalLen {
		return reasonf("local part longer than %d bytes", maxLocalLen)
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !isLetterOrDigit(c) && strings.IndexByte(localSpecials, c) < 0 {
			return reasonf("character %q not allowed in local part", c)
		}
	}
	if local[0] == '.' || local[len(local)-1] == '.' {
		return reasonf("local part starts or ends with a dot")
	}
	if strings.Contains(local, "..") {
		return reasonf("local part has two dots in a row")
	}
	return nil
}

func checkDomain(domain string) error {
	if len(domain) > maxDomainLen {
		return reasonf("domain longer than %d bytes", maxDomainLen)
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return reasonf("domain has no dot")
	}
	for _, l := range labels {
		if l == "" {
			return reasonf("domain has an empty label")
		}
		if len(l) > maxLabelLen {
			return reasonf("domain label longer than %d characters", maxLabelLen)
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !isLetterOrDigit(c) && c != '-' {
				return reasonf("character %q not allowed in domain", c)
			}
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return reasonf("domain label starts or ends with a hyphen")
		}
	}
	tld := labels[len(labels)-1]
	if strings.HasPrefix(tld, "xn--") { // punycode; the label checks above apply
		return nil
	}
	if len(tld) < 2 {
		return reasonf("top-level domain shorter than 2 letters")
	}
	for i := 0; i < len(tld); i++ {
		if !isLetter(tld[i]) {
			return reasonf("top-level domain must be letters only")
		}
	}
	return nil
}

func isLetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isLetterOrDigit(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9'
}
