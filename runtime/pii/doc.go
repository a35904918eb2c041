// Package pii finds personal data and secrets in text and masks, redacts or
// hashes them before a span leaves the process.
//
// A Redactor is built from a Mode and a set of Types (usually by FromEnv,
// which reads TRACEGEN_PII, TRACEGEN_PII_TYPES and TRACEGEN_PII_KEY). Its
// Redact method scans a string with one detector per type: regular
// expressions find candidates and a validator rejects near-misses (the Luhn
// check for credit cards, ISO 13616 mod-97 for IBANs, octet ranges for IPv4,
// net.ParseIP for IPv6, digit counts and separators for phone numbers, known
// vendor prefixes for API keys). Overlapping findings keep the earliest,
// then longest. Each finding is then
//
//   - masked: most characters replaced by '*', keeping what helps a human
//     (an email's domain, a card's or phone's last digits, a key's vendor prefix);
//   - redacted: replaced by "[REDACTED:type]";
//   - hashed: replaced by "[type:" + 16 hex digits of HMAC-SHA256(key,
//     normalised value) + "]". The same value always gives the same token under
//     the same key, so spans can be joined on it, and without the key the
//     value cannot be recovered or confirmed by guessing. With
//     TRACEGEN_PII_KEY unset a random key is drawn per process: tokens then
//     join within one run only.
//
// Detection is heuristic: it is tuned for precision on ordinary prose, logs
// and JSON, and the tests measure precision and recall on a corpus of
// positives and near-misses. It does not find names or postal addresses.
package pii
