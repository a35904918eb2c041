package pii

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// Redactor applies one Mode to the findings of a set of Types. The zero
// value and a nil *Redactor change nothing. A Redactor is immutable and safe
// for concurrent use.
type Redactor struct {
	mode  Mode
	types []Type
	key   []byte
}

// New returns a Redactor. types nil means AllTypes. key is the HMAC key for
// ModeHash; nil draws a random per-process key.
func New(mode Mode, types []Type, key []byte) *Redactor {
	if types == nil {
		types = AllTypes
	}
	if mode == ModeHash && len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			// crypto/rand does not fail on supported platforms; never hash unkeyed.
			mode = ModeRedact
		}
	}
	return &Redactor{mode: mode, types: append([]Type(nil), types...), key: key}
}

// Environment variables read by FromEnv.
const (
	EnvMode  = "TRACEGEN_PII"       // mask | redact | hash | none (default none)
	EnvTypes = "TRACEGEN_PII_TYPES" // comma-separated Types, default all
	EnvKey   = "TRACEGEN_PII_KEY"   // HMAC key for hash mode; random per process when unset
)

// FromEnv builds a Redactor from TRACEGEN_PII, TRACEGEN_PII_TYPES and
// TRACEGEN_PII_KEY. It returns nil and no error when the mode is none. On a
// bad value it returns an error naming the variable, and a Redactor that
// redacts all types, so that a typo never leaks data.
func FromEnv() (*Redactor, error) {
	return FromLookup(os.Getenv)
}

// FromLookup is FromEnv reading variables through get.
func FromLookup(get func(string) string) (*Redactor, error) {
	mode, err := ParseMode(get(EnvMode))
	if err != nil {
		return New(ModeRedact, nil, nil), err
	}
	if mode == ModeNone {
		return nil, nil
	}
	types, err := ParseTypes(get(EnvTypes))
	if err != nil {
		return New(mode, nil, []byte(get(EnvKey))), fmt.Errorf("%s: %w", EnvTypes, err)
	}
	return New(mode, types, []byte(get(EnvKey))), nil
}

// Mode returns r's mode.
func (r *Redactor) Mode() Mode {
	if r == nil {
		return ModeNone
	}
	return r.mode
}

// Types returns the types r looks for.
func (r *Redactor) Types() []Type {
	if r == nil {
		return nil
	}
	return append([]Type(nil), r.types...)
}

// Redact returns s with every finding replaced according to r's mode. It
// returns s itself (no allocation) when nothing is found.
func (r *Redactor) Redact(s string) string {
	if r == nil || r.mode == ModeNone || s == "" {
		return s
	}
	fs := Find(s, r.types)
	if len(fs) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16*len(fs))
	prev := 0
	for _, f := range fs {
		b.WriteString(s[prev:f.Start])
		b.WriteString(r.replace(f.Type, s[f.Start:f.End]))
		prev = f.End
	}
	b.WriteString(s[prev:])
	return b.String()
}

func (r *Redactor) replace(t Type, v string) string {
	switch r.mode {
	case ModeRedact:
		return "[REDACTED:" + string(t) + "]"
	case ModeHash:
		return "[" + string(t) + ":" + r.Hash(t, v) + "]"
	}
	return mask(t, v)
}

// Hash returns 16 hex digits of HMAC-SHA256(key, type ":" normalised v). The
// value is normalised first (emails lower-cased; phones, cards and IBANs
// reduced to digits and letters) so that spellings of one value join.
func (r *Redactor) Hash(t Type, v string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(t))
	m.Write([]byte{':'})
	m.Write([]byte(normalise(t, v)))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

func normalise(t Type, v string) string {
	switch t {
	case Email:
		return strings.ToLower(v)
	case Phone, CreditCard, SSN:
		d := digitsOf(v)
		if t == Phone && strings.HasPrefix(v, "00") {
			d = d[2:]
		}
		return d
	case IBAN:
		return strings.ToUpper(strings.ReplaceAll(v, " ", ""))
	case IP:
		return strings.ToLower(v)
	}
	return v
}

// mask hides most of v and keeps what helps a human tell values apart.
func mask(t Type, v string) string {
	switch t {
	case Email:
		at := strings.LastIndexByte(v, '@')
		return v[:1] + "***" + v[at:]
	case CreditCard, Phone, IBAN, SSN:
		return keepLast(v, 4)
	case APIKey:
		keep := 3
		for _, p := range []string{"sk-proj-", "sk-ant-", "sk-", "AKIA", "ASIA", "AIza", "github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "glpat-", "hf_", "eyJ", "Bearer ", "bearer "} {
			if strings.HasPrefix(v, p) {
				keep = len(p)
				break
			}
		}
		return v[:keep] + strings.Repeat("*", 8)
	}
	return stars(v, len(v))
}

// keepLast masks every letter and digit of v except the last n digits,
// keeping separators so the shape stays readable.
func keepLast(v string, n int) string {
	b := []byte(v)
	kept := 0
	for i := len(b) - 1; i >= 0; i-- {
		if !isAlnum(b[i]) {
			continue
		}
		if kept < n {
			kept++
			continue
		}
		b[i] = '*'
	}
	return string(b)
}

func stars(v string, n int) string {
	b := []byte(v[:n])
	for i := range b {
		if isAlnum(b[i]) {
			b[i] = '*'
		}
	}
	return string(b) + v[n:]
}
