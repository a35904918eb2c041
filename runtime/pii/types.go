package pii

import (
	"fmt"
	"strings"
)

// Type is a kind of personal data or secret.
type Type string

// The types a Redactor can look for. AllTypes is the default set.
const (
	Email      Type = "email"       // user@example.com
	Phone      Type = "phone"       // +33 1 23 45 67 89, (555) 123-4567; 10-15 digits with a + or separators
	CreditCard Type = "credit_card" // 13-19 digits, Luhn-valid, known issuer prefix
	IP         Type = "ip"          // IPv4 (octets <= 255) and IPv6 (parsed)
	IBAN       Type = "iban"        // ISO 13616, mod-97 valid, country length checked
	APIKey     Type = "api_key"     // OpenAI/Anthropic sk-, AWS AKIA, Google AIza, GitHub, Slack, GitLab, JWT, Bearer tokens
	SSN        Type = "ssn"         // US social security number 123-45-6789 (valid area/group/serial)
)

// AllTypes lists every type, in the priority order used to settle overlaps.
var AllTypes = []Type{APIKey, Email, CreditCard, IBAN, IP, SSN, Phone}

// ParseTypes parses a comma-separated list such as "email,phone". Empty or
// "all" means AllTypes. Unknown names are an error naming them.
func ParseTypes(s string) ([]Type, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "all") {
		return append([]Type(nil), AllTypes...), nil
	}
	var out []Type
	seen := map[Type]bool{}
	for _, f := range strings.Split(s, ",") {
		t := Type(strings.ToLower(strings.TrimSpace(f)))
		if t == "" {
			continue
		}
		if t == "creditcard" || t == "card" {
			t = CreditCard
		}
		if t == "apikey" || t == "secret" {
			t = APIKey
		}
		if !known(t) {
			return nil, fmt.Errorf("pii: unknown type %q (known: %s)", f, typeNames())
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

func known(t Type) bool {
	for _, k := range AllTypes {
		if k == t {
			return true
		}
	}
	return false
}

func typeNames() string {
	n := make([]string, len(AllTypes))
	for i, t := range AllTypes {
		n[i] = string(t)
	}
	return strings.Join(n, ",")
}

// Mode is what happens to a finding.
type Mode int

// Modes, see the package documentation.
const (
	ModeNone Mode = iota
	ModeMask
	ModeRedact
	ModeHash
)

// String returns the TRACEGEN_PII spelling of m.
func (m Mode) String() string {
	switch m {
	case ModeMask:
		return "mask"
	case ModeRedact:
		return "redact"
	case ModeHash:
		return "hash"
	}
	return "none"
}

// ParseMode parses a TRACEGEN_PII value: mask, redact, hash or none (empty,
// "off", "false" and "0" also mean none).
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "none", "off", "false", "0":
		return ModeNone, nil
	case "mask":
		return ModeMask, nil
	case "redact":
		return ModeRedact, nil
	case "hash":
		return ModeHash, nil
	}
	return ModeNone, fmt.Errorf("pii: TRACEGEN_PII=%q: want mask, redact, hash or none", s)
}
