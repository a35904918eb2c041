// Package session ties spans to users, sessions and conversations, records
// user feedback, and sums LLM usage per user.
//
// [WithSession] and [WithConversation] return a context whose spans, and
// every span beneath them, carry session.id, user.id, session.metadata.* and
// gen_ai.conversation.id as inherited attributes (runtime/trace context
// scopes). The same context also watches its spans end and remembers, per
// session id, the latest LLM span (trace id, span id, name): a small record
// in a bounded table (the MaxTracked most recently used sessions).
//
// [Feedback] records a rating and a comment on that latest LLM span. The
// span has usually been exported already and records are immutable, so
// feedback is its own short span named "feedback", whose parent is the
// rated LLM span (same trace id, parent span id = the LLM span's id) and
// which holds one event "gen_ai.feedback" with the rating, the comment and
// the rated span's id. Exporters and trace viewers thus show the feedback
// under the answer it rates, even when it arrives in a later request:
// [FeedbackFor] rates a session by id, without its context.
//
// [SumBy] and [ByUser] total tokens, calls, errors and the footprint of LLM
// spans per user (or any attribute) from records in memory
// (export.Memory.Spans), and [ReadJSONL] from a stored JSONL file.
package session
