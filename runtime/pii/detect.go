package pii

import (
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Finding is one detected value: s[Start:End] is of type Type.
type Finding struct {
	Type       Type
	Start, End int
}

// detector finds candidates with re and keeps those valid accepts. left and
// right reject candidates glued to a neighbouring character (Go regexp has
// no look-around).
type detector struct {
	re          *regexp.Regexp
	valid       func(s string) bool
	left, right func(b byte) bool
	quick       func(s string) bool // cheap pre-filter on the whole text
	// With window > 0 the pattern is tried, anchored, only at the offsets
	// where start holds and over at most window bytes: Go's regexp has no
	// literal prefix to skip ahead with for patterns that begin with a
	// character class, and scanning every offset made them slow on long
	// content.
	window   int
	start    func(s string, i int) bool
	anchored *regexp.Regexp
}

// detectors returns the detector of each type, compiled on first use, so a
// program that never masks personal data pays nothing at start-up.
var detectors = sync.OnceValue(func() map[Type]detector {
	m := newDetectors()
	for t, d := range m {
		if d.window > 0 {
			d.anchored = regexp.MustCompile(`^(?:` + d.re.String() + `)`)
			m[t] = d
		}
	}
	return m
})

// startOfDigits reports whether a run of digits begins at i.
func startOfDigits(s string, i int) bool {
	return isDigit(s[i]) && (i == 0 || !isDigit(s[i-1]))
}

// digitsWithin counts the digits in s[i:i+n].
func digitsWithin(s string, i, n int) int {
	return digitCount(s[i:min(len(s), i+n)])
}

func isHex(b byte) bool { return isDigit(b) || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' }

// soonHas reports whether one of chars occurs in s[i+1 : i+1+n].
func soonHas(s string, i, n int, chars string) bool {
	end := min(len(s), i+1+n)
	return i+1 < end && strings.ContainsAny(s[i+1:end], chars)
}

func ipStart(s string, i int) bool {
	c := s[i]
	switch {
	case i > 0 && (isHex(s[i-1]) || s[i-1] == ':' || s[i-1] == '.'):
		return false
	case isDigit(c):
		return soonHas(s, i, 4, ".:")
	case isHex(c):
		return soonHas(s, i, 4, ":")
	case c == ':':
		return i+1 < len(s) && s[i+1] == ':'
	}
	return false
}

func phoneStart(s string, i int) bool {
	c := s[i]
	if c == '+' || c == '(' {
		return true
	}
	return startOfDigits(s, i) && (i == 0 || (s[i-1] != '+' && s[i-1] != '('))
}

func ibanStart(s string, i int) bool {
	return i+4 <= len(s) && s[i] >= 'A' && s[i] <= 'Z' && s[i+1] >= 'A' && s[i+1] <= 'Z' && isDigit(s[i+2]) && isDigit(s[i+3]) &&
		(i == 0 || !isAlnum(s[i-1]))
}

func isAlnum(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}
func isDigit(b byte) bool     { return b >= '0' && b <= '9' }
func isWordish(b byte) bool   { return isAlnum(b) || b == '_' }
func isNumberish(b byte) bool { return isAlnum(b) || b == '.' || b == '-' || b == '_' || b == '/' }
func isEmailChar(b byte) bool { return isAlnum(b) || strings.IndexByte("._%+-", b) >= 0 }
func isKeyChar(b byte) bool   { return isAlnum(b) || b == '_' || b == '-' }
func hasDigits(s string) bool { return strings.ContainsAny(s, "0123456789") }
func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func newDetectors() map[Type]detector {
	return map[Type]detector{
		Email: {
			re:    regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}`),
			valid: validEmail,
			left:  isEmailChar, right: isWordish,
			quick: func(s string) bool { return strings.IndexByte(s, '@') >= 0 },
		},
		CreditCard: {
			re:    regexp.MustCompile(`\d(?:[ -]?\d){12,18}`),
			valid: validCard,
			left:  isNumberish, right: isNumberish,
			window: 40, start: func(s string, i int) bool { return startOfDigits(s, i) && digitsWithin(s, i, 40) >= 13 },
			quick: func(s string) bool { return digitCount(s) >= 13 },
		},
		IBAN: {
			re:    regexp.MustCompile(`[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?`),
			valid: validIBAN,
			left:  isAlnum, right: isAlnum,
			window: 50, start: ibanStart,
			quick: func(s string) bool { return digitCount(s) >= 6 },
		},
		IP: {
			re:     regexp.MustCompile(`\d{1,3}(?:\.\d{1,3}){3}|(?i:[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:%[0-9a-z]+)?)`),
			valid:  validIP,
			window: 64, start: ipStart,
			left: func(b byte) bool { return isAlnum(b) || b == '.' || b == ':' }, right: func(b byte) bool { return isAlnum(b) || b == '.' },
			quick: func(s string) bool { return strings.ContainsAny(s, ".:") && hasDigits(s) },
		},
		SSN: {
			re:    regexp.MustCompile(`\d{3}-\d{2}-\d{4}`),
			valid: validSSN,
			left:  isNumberish, right: isNumberish,
			quick: func(s string) bool { return digitCount(s) >= 9 && strings.IndexByte(s, '-') >= 0 },
		},
		Phone: {
			re:     regexp.MustCompile(`(?:\+|00)?\(?\d{1,4}\)?(?:[ .-]?\(?\d{1,5}\)?){1,6}`),
			valid:  validPhone,
			window: 40, start: func(s string, i int) bool { return phoneStart(s, i) && digitsWithin(s, i, 40) >= 10 },
			quick: func(s string) bool { return digitCount(s) >= 10 },
			left:  func(b byte) bool { return isNumberish(b) || b == '+' || b == ':' || b == '$' }, right: func(b byte) bool { return isNumberish(b) || b == ':' || b == '%' },
		},
		APIKey: {
			re: regexp.MustCompile(`sk-(?:proj-|ant-(?:api\d\d-)?|svcacct-|admin-)?[A-Za-z0-9_-]{20,}` +
				`|(?:AKIA|ASIA)[0-9A-Z]{16}` +
				`|AIza[0-9A-Za-z_-]{35}` +
				`|gh[pousr]_[A-Za-z0-9]{36,}` +
				`|github_pat_[A-Za-z0-9_]{50,}` +
				`|glpat-[A-Za-z0-9_-]{20,}` +
				`|xox[abposr]-[A-Za-z0-9-]{10,}` +
				`|hf_[A-Za-z0-9]{30,}` +
				`|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}` +
				`|(?i:bearer) [A-Za-z0-9._~+/-]{20,}=*`),
			valid: validKey,
			left:  isKeyChar, right: isKeyChar,
			quick: func(s string) bool {
				for _, p := range keyHints {
					if strings.Contains(s, p) {
						return true
					}
				}
				return false
			},
		},
	}
}

// keyHints are substrings every APIKey pattern contains.
var keyHints = []string{"sk-", "AKIA", "ASIA", "AIza", "gh", "github_pat_", "glpat-", "xox", "hf_", "eyJ", "earer ", "EARER "}

func digitCount(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
		}
	}
	return n
}

func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if local == "" || local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
	}
	return true
}

// luhn reports whether the digit string passes the Luhn checksum.
func luhn(d string) bool {
	sum, double := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

func validCard(s string) bool {
	d := digitsOf(s)
	if len(d) < 13 || len(d) > 19 || !luhn(d) {
		return false
	}
	// Separators, if any, must be consistent (4-4-4-4 style groups).
	if strings.ContainsAny(s, " -") && strings.Contains(s, " ") && strings.Contains(s, "-") {
		return false
	}
	if strings.Trim(d, "0") == "" {
		return false
	}
	switch {
	case d[0] == '4': // Visa
		return true
	case d[0] == '5' && d[1] >= '1' && d[1] <= '5', d[0] == '2' && d[1] >= '2' && d[1] <= '7': // Mastercard
		return true
	case d[0] == '3' && (d[1] == '4' || d[1] == '7'), d[0] == '3' && (d[1] == '0' || d[1] == '6' || d[1] == '8'): // Amex, Diners
		return true
	case d[0] == '6', d[0] == '3' && d[1] == '5': // Discover, UnionPay, JCB
		return true
	}
	return false
}

// ibanLengths are the IBAN lengths of common countries (ISO 13616 registry).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21, "CY": 28, "CZ": 24,
	"DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28,
	"IE": 22, "IL": 23, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31,
	"NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
	"TR": 26, "UA": 29,
}

func validIBAN(s string) bool {
	c := strings.ReplaceAll(s, " ", "")
	if n, ok := ibanLengths[c[:2]]; ok && n != len(c) {
		return false
	} else if !ok && (len(c) < 15 || len(c) > 34) {
		return false
	}
	// mod-97 over the rearranged string, letters as 10..35.
	r := c[4:] + c[:4]
	rem := 0
	for i := 0; i < len(r); i++ {
		ch := r[i]
		switch {
		case isDigit(ch):
			rem = (rem*10 + int(ch-'0')) % 97
		case ch >= 'A' && ch <= 'Z':
			rem = (rem*100 + int(ch-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}

func validIP(s string) bool {
	if strings.Contains(s, ":") {
		h := s
		if i := strings.IndexByte(h, '%'); i >= 0 {
			h = h[:i]
		}
		// At least two groups with hex digits, so "a::b" in prose or "12:30:45" pass only if real.
		ip := net.ParseIP(h)
		if ip == nil || ip.To4() != nil || strings.Count(h, ":") < 2 {
			return false
		}
		// Times like 12:30:45 are not valid IPv6 (too few groups, no ::); ParseIP rejects them.
		return len(h) >= 6 && !ip.IsUnspecified() && !ip.IsLoopback()
	}
	parts := strings.Split(s, ".")
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n > 255 || (len(p) > 1 && p[0] == '0') {
			return false
		}
	}
	// Loopback, unspecified and broadcast addresses identify nobody.
	return parts[0] != "127" && s != "0.0.0.0" && s != "255.255.255.255"
}

func validSSN(s string) bool {
	area, group, serial := s[0:3], s[4:6], s[7:11]
	return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000"
}

func validPhone(s string) bool {
	d := digitsOf(s)
	plus := strings.HasPrefix(s, "+") || strings.HasPrefix(s, "00")
	if len(d) < 10 || len(d) > 15 {
		return false
	}
	seps := strings.Count(s, " ") + strings.Count(s, "-") + strings.Count(s, ".") + strings.Count(s, "(")
	if !plus && seps == 0 {
		return false // a bare run of digits is an id, not evidently a phone number
	}
	if strings.Count(s, ".") > 0 && (strings.Count(s, " ") > 0 || strings.Count(s, "-") > 0) {
		return false // mixed dots with other separators: a version or decimal
	}
	if strings.Count(s, "(") != strings.Count(s, ")") {
		return false
	}
	groups := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '+' })
	if strings.Contains(s, ".") && !dottedPhone().MatchString(s) {
		return false // 3.14159265, 10.20.30.40.50: decimals and versions
	}
	if !plus && len(groups) > 1 {
		fours, threes := 0, 0
		for _, g := range groups[1:] {
			switch len(g) {
			case 3:
				threes++
			case 4:
				fours++
			}
		}
		if len(groups[0]) == 4 {
			fours++
		}
		switch {
		case fours >= 3:
			return false // 1234 5678 9012: card or account number shape
		case threes == len(groups)-1 && len(groups) > 2:
			return false // 12 345 678 901: thousands separators
		case len(groups[len(groups)-1]) == 1:
			return false // 978-3-16-148410-0: ISBN-like check digit
		}
	}
	// ISO dates and times: 2024-01-15, 2024.01.15.
	if regexpDate().MatchString(s) {
		return false
	}
	return true
}

// dottedPhone is the shapes of dot-separated phone numbers: 555.123.4567,
// +33.1.23.45.67.89, 01.23.45.67.89.
var dottedPhone = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:(?:\+|00)\d{1,3}\.)?(?:\d{3}\.\d{3}\.\d{4}|0?\d(?:\.\d\d){4})$`)
})

// precededByVersion reports whether the text before an IPv4-looking match
// names a version ("v1.2.3.4", "version 1.2.3.4").
func precededByVersion(before string) bool {
	b := strings.ToLower(before)
	return strings.HasSuffix(b, "v") || strings.HasSuffix(b, "version ") || strings.HasSuffix(b, "version: ")
}

var regexpDate = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:19|20)\d\d[-.](?:0[1-9]|1[0-2])[-.](?:0[1-9]|[12]\d|3[01])`)
})

func validKey(s string) bool {
	if strings.HasPrefix(strings.ToLower(s), "bearer ") {
		tok := s[7:]
		// A real token mixes letters and digits.
		return strings.ContainsAny(tok, "0123456789") && strings.IndexFunc(tok, func(r rune) bool { return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' }) >= 0
	}
	if strings.HasPrefix(s, "sk-") {
		body := s[3:]
		// Prose such as "sk-learn-compatible-..." has no digits; real keys do.
		return strings.ContainsAny(body, "0123456789") && !strings.Contains(body, "--")
	}
	return true
}

// Find returns the findings of the given types in s, in order, without
// overlaps.
func Find(s string, types []Type) []Finding {
	var all []Finding
	for _, t := range AllTypes {
		if !contains(types, t) {
			continue
		}
		d := detectors()[t]
		if d.quick != nil && !d.quick(s) {
			continue
		}
		try := func(start, end int) bool {
			// Trim trailing separators the greedy patterns may take.
			for end > start && strings.IndexByte(" .-", s[end-1]) >= 0 {
				end--
			}
			if end <= start {
				return false
			}
			if t == Phone && s[end-1] == ')' && strings.Count(s[start:end], "(") < strings.Count(s[start:end], ")") {
				end--
			}
			if t == IP && !strings.Contains(s[start:end], ":") && precededByVersion(s[:start]) {
				return false
			}
			if start > 0 && d.left != nil && d.left(s[start-1]) && !(t == Phone && s[start-1] == '+') {
				return false
			}
			if end < len(s) && d.right != nil && d.right(s[end]) && !(s[end] == '.' && (end+1 == len(s) || !isAlnum(s[end+1]))) && !(s[end] == '-' && (end+1 == len(s) || !isAlnum(s[end+1]))) {
				return false
			}
			if d.valid != nil && !d.valid(s[start:end]) {
				return false
			}
			all = append(all, Finding{Type: t, Start: start, End: end})
			return true
		}
		if d.window == 0 {
			for _, loc := range d.re.FindAllStringIndex(s, -1) {
				try(loc[0], loc[1])
			}
			continue
		}
		for i := 0; i < len(s); i++ {
			if !d.start(s, i) {
				continue
			}
			loc := d.anchored.FindStringIndex(s[i:min(len(s), i+d.window)])
			if loc == nil {
				continue
			}
			// Accepted or not, the text the pattern took is done with (a
			// rejected 1234 5678 9012 34 is not retried from 5678).
			if try(i, i+loc[1]) {
				i = all[len(all)-1].End - 1
			} else if loc[1] > 0 {
				i += loc[1] - 1
			}
		}
	}
	if len(all) < 2 {
		return all
	}
	rank := func(t Type) int {
		for i, k := range AllTypes {
			if k == t {
				return i
			}
		}
		return len(AllTypes)
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		if a.End-a.Start != b.End-b.Start {
			return a.End-a.Start > b.End-b.Start
		}
		return rank(a.Type) < rank(b.Type)
	})
	out := all[:0]
	lastEnd := -1
	for _, f := range all {
		if f.Start < lastEnd {
			continue
		}
		out = append(out, f)
		lastEnd = f.End
	}
	return out
}

func contains(ts []Type, t Type) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}
