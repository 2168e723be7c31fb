package identifier

import (
	"errors"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// extensionRE finds an extension at the end of a phone number: "ext. 12",
// "extension 12", "x12", "#12". Extensions are dropped: the identifier is the line.
var extensionRE = regexp.MustCompile(`(?i)^(.*?)[\s,]*(?:ext(?:ension)?\.?|x|#)\s*[0-9]{1,10}$`)

// normalizePhone returns the E.164 form of a phone number written in the usual
// ways: "+49 30 1234567", "(212) 555-0100" (in the default region),
// "0044 20 7946 0958", "tel:+1-212-555-0100".
//
// A number must be of a possible length for its country (IsPossibleNumber, not
// IsValidNumber, so that test and fictional numbers pass), with its area code.
func normalizePhone(v, region string) (string, error) {
	out, err := phoneOnce(v, region)
	if err != nil {
		return "", err
	}
	// libphonenumber strips what looks like a national prefix even after a
	// country code, so a few odd numbers read back as another number; refuse
	// those rather than hand out a value that does not normalize to itself.
	if again, err := phoneOnce(out, region); err != nil || again != out {
		return "", reasonf("ambiguous phone number: %s does not read back as itself", out)
	}
	return out, nil
}

func phoneOnce(v, region string) (string, error) {
	s := v
	if len(s) >= len("tel:") && strings.EqualFold(s[:len("tel:")], "tel:") {
		var params string
		s, params, _ = strings.Cut(s[len("tel:"):], ";")
		if params != "" {
			for _, p := range strings.Split(params, ";") {
				name, val, _ := strings.Cut(p, "=")
				if !strings.EqualFold(name, "ext") || !isDigits(val) {
					return "", reasonf("unsupported tel: parameter %q", p)
				}
			}
		}
	}
	s = strings.TrimSpace(s)
	if m := extensionRE.FindStringSubmatch(s); m != nil {
		s = m[1]
	}

	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return "", reasonf("not a phone number")
		}
	}
	if digits == 0 {
		return "", reasonf("not a phone number")
	}
	if strings.HasPrefix(s, "00") { // international prefix used in most of the world
		s = "+" + s[2:]
	}

	num, err := parsePhone(s, region)
	switch {
	case err == nil:
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return "", reasonf("invalid or missing country code")
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return "", reasonf("too short")
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return "", reasonf("too long")
	default:
		return "", reasonf("not a phone number")
	}

	switch phonenumbers.IsPossibleNumberWithReason(num) {
	case phonenumbers.IS_POSSIBLE:
	case phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return "", reasonf("missing area code")
	case phonenumbers.INVALID_COUNTRY_CODE:
		return "", reasonf("invalid or missing country code")
	case phonenumbers.TOO_SHORT:
		return "", reasonf("too short")
	case phonenumbers.TOO_LONG:
		return "", reasonf("too long")
	default:
		return "", reasonf("not a possible number for its country")
	}

	nsn := phonenumbers.GetNationalSignificantNumber(num)
	if zerosOnly(nsn) || oneRepeatedRune(nsn) {
		return "", blocked("junk phone number")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// errPhonePanic stands for a panic inside the phone number library, which
// must not take the caller down on odd input.
var errPhonePanic = errors.New("phonenumbers panicked")

func parsePhone(s, region string) (num *phonenumbers.PhoneNumber, err error) {
	defer func() {
		if recover() != nil {
			num, err = nil, errPhonePanic
		}
	}()
	return phonenumbers.Parse(s, region)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
