package identifier

import (
	"regexp"
	"strings"
	"unicode"
)

// socialNetworks maps the known network names (and their aliases) to the name
// stored; caseless says whether the network's handles are case-insensitive, so
// are stored lower-cased. Numeric ids are unchanged by lower-casing.
var socialNetworks = map[string]struct {
	name     string
	caseless bool
}{
	"twitter":   {"x", true},
	"x":         {"x", true},
	"facebook":  {"facebook", false},
	"instagram": {"instagram", true},
	"telegram":  {"telegram", true},
	"whatsapp":  {"whatsapp", false},
	"tiktok":    {"tiktok", true},
	"linkedin":  {"linkedin", true},
	"youtube":   {"youtube", false},
	"messenger": {"messenger", false},
}

// customNetworkRE is what the name of a network not listed above must match.
var customNetworkRE = regexp.MustCompile(`^[a-z][a-z0-9_]{1,31}$`)

// normalizeSocial normalizes "network:handle": the network is lower-cased and
// aliases resolved ("Twitter" becomes "x"), the handle loses its leading "@"
// and is lower-cased where the network ignores case. The handle may itself
// hold colons ("matrix:ann:example.org").
func normalizeSocial(v string) (string, error) {
	network, handle, ok := strings.Cut(v, ":")
	if !ok {
		return "", reasonf(`want "network:handle"`)
	}
	network = strings.ToLower(strings.TrimSpace(network))
	caseless := false
	if known, ok := socialNetworks[network]; ok {
		network, caseless = known.name, known.caseless
	} else if !customNetworkRE.MatchString(network) {
		return "", reasonf("invalid network name: want 2 to 32 lower-case letters, digits and _ starting with a letter")
	}

	handle = strings.TrimLeft(strings.TrimSpace(handle), "@")
	if handle == "" {
		return "", reasonf("missing handle")
	}
	if strings.IndexFunc(handle, unicode.IsSpace) >= 0 {
		return "", reasonf("handle contains white space")
	}
	if caseless {
		handle = strings.ToLower(handle)
	}
	if isJunk(handle) {
		return "", blocked("junk handle")
	}
	return network + ":" + handle, nil
}
