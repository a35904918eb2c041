package pii

import (
	"fmt"
	"strings"
	"testing"
)

type want struct {
	t Type
	v string
}

// labelled is a text and the findings expected in it.
type labelled struct {
	text string
	want []want
}

type counts struct{ tp, fp, fn int }

// measure runs Find on every text and counts, per type, the expected
// findings it reports (tp), those it misses (fn) and those it reports
// beyond them (fp), logging each miss and false positive.
func measure(t *testing.T, texts []labelled) map[Type]*counts {
	t.Helper()
	per := map[Type]*counts{}
	for _, ty := range AllTypes {
		per[ty] = &counts{}
	}
	for _, c := range texts {
		got := map[want]bool{}
		for _, f := range Find(c.text, AllTypes) {
			got[want{f.Type, c.text[f.Start:f.End]}] = true
		}
		exp := map[want]bool{}
		for _, w := range c.want {
			exp[w] = true
			if got[w] {
				per[w.t].tp++
			} else {
				per[w.t].fn++
				t.Logf("missed %s %q in %q", w.t, w.v, c.text)
			}
		}
		for g := range got {
			if !exp[g] {
				per[g.t].fp++
				t.Logf("false positive %s %q in %q", g.t, g.v, c.text)
			}
		}
	}
	return per
}

// corpus holds realistic positives (with the exact substring expected) and
// near-misses (want nil). Card and IBAN positives are checksum-valid test
// numbers; near-misses differ by one digit or are other numeric shapes.
var corpus = []labelled{
	// emails
	{"contact me at jane.doe@example.com please", []want{{Email, "jane.doe@example.com"}}},
	{"Reply-To: <ops+alerts@mail.example.co.uk>", []want{{Email, "ops+alerts@mail.example.co.uk"}}},
	{`{"user":"Bob_99@sub-domain.example.org"}`, []want{{Email, "Bob_99@sub-domain.example.org"}}},
	{"send it to a@b.io.", []want{{Email, "a@b.io"}}},
	{"ping @channel about it", nil},
	{"user@localhost is not routable", nil},
	{"the decorator @property is fine", nil},
	{"git@github: permission denied", nil},
	{"price: 3@4.5 each", nil},
	{"email me: john..smith@example.com", nil},
	// phones
	{"call +33 1 23 45 67 89 tomorrow", []want{{Phone, "+33 1 23 45 67 89"}}},
	{"US office: (555) 123-4567.", []want{{Phone, "(555) 123-4567"}}},
	{"mobile 415-555-2671 or", []want{{Phone, "415-555-2671"}}},
	{"+14155552671", []want{{Phone, "+14155552671"}}},
	{"UK: +44 20 7946 0958", []want{{Phone, "+44 20 7946 0958"}}},
	{"tel. 030 12345678 (Berlin)", []want{{Phone, "030 12345678"}}},
	{"dial 0049 30 1234567", []want{{Phone, "0049 30 1234567"}}},
	{"order 1234567890 shipped", nil},
	{"released 2024-01-15 at 12:30:45", nil},
	{"version 1.2.3.4 of the lib", nil},
	{"took 1234 ms, 5678 tokens", nil},
	{"amount 1,234,567.89 EUR", nil},
	{"coordinates 48.8566, 2.3522", nil},
	{"ratio 3.14159265358979", nil},
	{"span id 5f3c2a1b9e8d7c6a", nil},
	{"ISBN 978-3-16-148410-0", nil},
	{"population 12 345 678 901", nil},
	{"range 100-200-300-400", nil},
	{"id 123e4567-e89b-12d3-a456-426614174000", nil},
	{"Paris office 01 23 45 67 89", []want{{Phone, "01 23 45 67 89"}}},
	// credit cards
	{"card 4111 1111 1111 1111 exp 12/27", []want{{CreditCard, "4111 1111 1111 1111"}}},
	{"pay with 5500-0000-0000-0004", []want{{CreditCard, "5500-0000-0000-0004"}}},
	{"amex 378282246310005", []want{{CreditCard, "378282246310005"}}},
	{"4012888888881881", []want{{CreditCard, "4012888888881881"}}},
	{"discover 6011 1111 1111 1117.", []want{{CreditCard, "6011 1111 1111 1117"}}},
	{"card 4111 1111 1111 1112 (invalid)", nil},
	{"tracking 1Z999AA10123456784", nil},
	{"id 1234567812345678", nil},
	{"unix ms 1700000000000", nil},
	// IPs
	{"client 192.168.1.20 connected", []want{{IP, "192.168.1.20"}}},
	{"from 8.8.8.8:53", []want{{IP, "8.8.8.8"}}},
	{"ipv6 2001:db8:85a3::8a2e:370:7334 seen", []want{{IP, "2001:db8:85a3::8a2e:370:7334"}}},
	{"link-local fe80::1ff:fe23:4567:890a%eth0", []want{{IP, "fe80::1ff:fe23:4567:890a%eth0"}}},
	{"host 999.1.1.1 is bogus", nil},
	{"listening on 127.0.0.1:8080 and 0.0.0.0:9090", nil},
	{"go version go1.26.8 and 1.2.3", nil},
	{"semver 10.20.30.40.50", nil},
	{"meeting at 10:30:00 UTC", nil},
	{"map[a:b c:d]", nil},
	// IBANs
	{"IBAN GB82 WEST 1234 5698 7654 32 for the refund", []want{{IBAN, "GB82 WEST 1234 5698 7654 32"}}},
	{"DE89370400440532013000", []want{{IBAN, "DE89370400440532013000"}}},
	{"virement FR1420041010050500013M02606", []want{{IBAN, "FR1420041010050500013M02606"}}},
	{"IBAN GB82 WEST 1234 5698 7654 33 typo", nil},
	{"DE89370400440532013001", nil},
	{"model ID AB12CDEF34567890", nil},
	// API keys
	{"OPENAI_API_KEY=sk-proj-4f9XbT2kQ8wLmN3pR7vS1yZ6aB0cD5eF", []want{{APIKey, "sk-proj-4f9XbT2kQ8wLmN3pR7vS1yZ6aB0cD5eF"}}},
	{"key sk-ant-api03-AbCdEf123456GhIjKl7890MnOpQr", []want{{APIKey, "sk-ant-api03-AbCdEf123456GhIjKl7890MnOpQr"}}},
	{"aws AKIAIOSFODNN7EXAMPLE in env", []want{{APIKey, "AKIAIOSFODNN7EXAMPLE"}}},
	{"gcp AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q here", []want{{APIKey, "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"}}},
	{"token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", []want{{APIKey, "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"}}},
	{"Authorization: Bearer abc123DEF456ghi789JKL012mno", []want{{APIKey, "Bearer abc123DEF456ghi789JKL012mno"}}},
	{"jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", []want{{APIKey, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}}},
	{"use sk-learn-compatible-estimators-here for", nil},
	{"task-list-item-abcdefghijklmnopqrstuvwxyz", nil},
	{"sk-short", nil},
	{"the bearer of bad news arrived yesterday morning", nil},
	{"AKIA is the prefix of AWS access keys", nil},
	// SSN
	{"SSN 123-45-6789 on file", []want{{SSN, "123-45-6789"}}},
	{"bogus 000-12-3456 and 666-12-3456", nil},
	// mixed
	{"Jane (jane@corp.example, +1 415 555 2671) paid with 4111111111111111 from 10.0.0.7",
		[]want{{Email, "jane@corp.example"}, {Phone, "+1 415 555 2671"}, {CreditCard, "4111111111111111"}, {IP, "10.0.0.7"}}},
	{`{"messages":[{"role":"user","content":"my iban is DE89 3704 0044 0532 0130 00"}]}`, []want{{IBAN, "DE89 3704 0044 0532 0130 00"}}},
	{"plain text with no personal data at all", nil},
	{"chat gpt-4o-mini 2024-07-18 in 1.234s", nil},
}

// TestCorpusPrecisionRecall measures detection over the corpus, per type
// and overall, and fails below precision 0.95 or recall 0.9.
func TestCorpusPrecisionRecall(t *testing.T) {
	per := measure(t, corpus)
	var all counts
	for _, ty := range AllTypes {
		c := per[ty]
		all.tp += c.tp
		all.fp += c.fp
		all.fn += c.fn
		t.Logf("%-12s tp=%2d fp=%d fn=%d precision=%.3f recall=%.3f", ty, c.tp, c.fp, c.fn, ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn))
	}
	p, r := ratio(all.tp, all.tp+all.fp), ratio(all.tp, all.tp+all.fn)
	t.Logf("overall      tp=%2d fp=%d fn=%d precision=%.3f recall=%.3f", all.tp, all.fp, all.fn, p, r)
	if p < 0.95 || r < 0.9 {
		t.Errorf("precision %.3f (want >= 0.95), recall %.3f (want >= 0.9)", p, r)
	}
	if all.tp+all.fn < 30 {
		t.Errorf("corpus has only %d positives", all.tp+all.fn)
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func TestLuhnAndMod97(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want bool
	}{{"4111111111111111", true}, {"4111111111111112", false}, {"79927398713", true}, {"79927398710", false}} {
		if got := luhn(tt.s); got != tt.want {
			t.Errorf("luhn(%s) = %v", tt.s, got)
		}
	}
	for _, tt := range []struct {
		s    string
		want bool
	}{{"GB82WEST12345698765432", true}, {"GB82WEST12345698765433", false}, {"DE89370400440532013000", true}, {"DE8937040044053201300", false}} {
		if got := validIBAN(tt.s); got != tt.want {
			t.Errorf("validIBAN(%s) = %v", tt.s, got)
		}
	}
}

func TestModes(t *testing.T) {
	in := "mail jane@example.com, card 4111 1111 1111 1111, key sk-proj-4f9XbT2kQ8wLmN3pR7vS1yZ6"
	tests := []struct {
		mode Mode
		want string
	}{
		{ModeNone, in},
		{ModeRedact, "mail [REDACTED:email], card [REDACTED:credit_card], key [REDACTED:api_key]"},
		{ModeMask, "mail j***@example.com, card **** **** **** 1111, key sk-proj-********"},
	}
	for _, tt := range tests {
		if got := New(tt.mode, nil, nil).Redact(in); got != tt.want {
			t.Errorf("%v: got %q, want %q", tt.mode, got, tt.want)
		}
	}
	var nilR *Redactor
	if nilR.Redact(in) != in {
		t.Error("nil Redactor changed the text")
	}
}

func TestHashJoinsButHides(t *testing.T) {
	k := []byte("secret-key")
	r1, r2 := New(ModeHash, nil, k), New(ModeHash, nil, k)
	a := r1.Redact("from Jane@Example.com")
	b := r2.Redact("to jane@example.com")
	ta, tb := a[len("from "):], b[len("to "):]
	if ta != tb {
		t.Errorf("same key, same email: %q vs %q", ta, tb)
	}
	if len(ta) != len("[email:")+16+1 || ta[:7] != "[email:" {
		t.Errorf("token shape %q", ta)
	}
	if r3 := New(ModeHash, nil, []byte("other")); r3.Redact("to jane@example.com") == b {
		t.Error("different keys gave the same token")
	}
	// Random per-process keys differ between Redactors.
	if New(ModeHash, nil, nil).Redact(b) == New(ModeHash, nil, nil).Redact("to jane@example.com") {
		t.Error("two random keys gave the same token")
	}
	// Spellings of one phone number join.
	if x, y := r1.Redact("+33 1 23 45 67 89"), r1.Redact("0033 1 23 45 67 89"); x != y {
		t.Errorf("phone spellings: %q vs %q", x, y)
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		env     map[string]string
		mode    Mode
		types   int
		wantErr bool
	}{
		{map[string]string{}, ModeNone, 0, false},
		{map[string]string{EnvMode: "mask"}, ModeMask, len(AllTypes), false},
		{map[string]string{EnvMode: "HASH", EnvTypes: "email, phone", EnvKey: "k"}, ModeHash, 2, false},
		{map[string]string{EnvMode: "scramble"}, ModeRedact, len(AllTypes), true},
		{map[string]string{EnvMode: "redact", EnvTypes: "email,postcode"}, ModeRedact, len(AllTypes), true},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			r, err := FromLookup(func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if r.Mode() != tt.mode || len(r.Types()) != tt.types {
				t.Errorf("mode %v types %v, want %v and %d types", r.Mode(), r.Types(), tt.mode, tt.types)
			}
		})
	}
}

// raceEnabled is set under -race, whose instrumentation allocates.
var raceEnabled bool

func TestNoAllocWhenClean(t *testing.T) {
	if raceEnabled {
		t.Log("allocation counts are not meaningful under -race; checked in plain go test")
		return
	}
	r := New(ModeRedact, nil, nil)
	s := "a perfectly ordinary sentence without anything sensitive"
	if n := testing.AllocsPerRun(100, func() { _ = r.Redact(s) }); n != 0 {
		t.Errorf("Redact of clean text allocated %v times", n)
	}
}

func BenchmarkRedactClean(b *testing.B) {
	r := New(ModeMask, nil, nil)
	s := `{"role":"assistant","content":"The capital of France is Paris. It has 2.1 million inhabitants as of 2024."}`
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = r.Redact(s)
	}
}

// BenchmarkRedactLarge redacts 77 KB of captured content with 600 phone
// numbers and many other numbers in it.
func BenchmarkRedactLarge(b *testing.B) {
	r := New(ModeMask, nil, nil)
	s := strings.Repeat(`{"role":"assistant","content":"The capital of France is Paris. It has 2.1 million inhabitants as of 2024, call +33 1 23 45 67 89."}`, 600)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = r.Redact(s)
	}
}
