package session

import (
	"context"
	"fmt"
	"math"

	"github.com/tracegen-dev/tracegen/runtime/internal/ctxparent"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// Rating is a user's judgement of an answer: a score, a thumb, or both.
type Rating struct {
	Score    float64 // meaningful when HasScore
	HasScore bool
	Thumbs   int // +1 up, -1 down, 0 none
}

// Score returns a numeric rating (any scale; 0..1 or 1..5 are common).
func Score(v float64) Rating { return Rating{Score: v, HasScore: true} }

// ThumbsUp is a positive rating.
func ThumbsUp() Rating { return Rating{Thumbs: 1} }

// ThumbsDown is a negative rating.
func ThumbsDown() Rating { return Rating{Thumbs: -1} }

// Feedback attribute keys (on the "gen_ai.feedback" event and the feedback span).
const (
	AttrFeedbackScore  = "feedback.score"
	AttrFeedbackThumbs = "feedback.thumbs" // "up" or "down"
	AttrFeedbackText   = "feedback.text"
	AttrFeedbackSpanID = "feedback.target.span_id"
	AttrFeedbackName   = "feedback.target.name"
	EventFeedback      = "gen_ai.feedback"
)

// Feedback records r and text on the latest LLM span of ctx's session (or
// conversation); see the package documentation for how. It returns
// ErrNoSession when ctx has neither, ErrNoLLMSpan when nothing has been
// rated yet (the feedback is then recorded under ctx's span, untargeted),
// and an error for a NaN or infinite score. It never panics.
func Feedback(ctx context.Context, r Rating, text string) error {
	if ctx == nil {
		return ErrNoSession
	}
	key, ok := ctx.Value(stateKey{}).(string)
	if !ok {
		return ErrNoSession
	}
	return feedback(ctx, key, r, text)
}

// FeedbackFor rates the latest LLM span of session id, for feedback that
// arrives without the session's context (a later HTTP request). The
// feedback span carries session.id.
func FeedbackFor(ctx context.Context, id string, r Rating, text string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if id == "" {
		return ErrNoSession
	}
	if IDFromContext(ctx) != id {
		ctx = trace.ContextWithInherited(ctx, record.String(AttrSessionID, id))
	}
	return feedback(ctx, id, r, text)
}

func feedback(ctx context.Context, key string, r Rating, text string) error {
	if r.HasScore && (math.IsNaN(r.Score) || math.IsInf(r.Score, 0)) {
		return fmt.Errorf("session: feedback score %v is not a number", r.Score)
	}
	attrs := make([]record.Attr, 0, 5)
	if r.HasScore {
		attrs = append(attrs, record.Float64(AttrFeedbackScore, r.Score))
	}
	switch {
	case r.Thumbs > 0:
		attrs = append(attrs, record.String(AttrFeedbackThumbs, "up"))
	case r.Thumbs < 0:
		attrs = append(attrs, record.String(AttrFeedbackThumbs, "down"))
	}
	if text != "" {
		attrs = append(attrs, record.String(AttrFeedbackText, text))
	}
	target, found := sessions.latest(key)
	if found {
		attrs = append(attrs, record.String(AttrFeedbackSpanID, target.SpanID.String()), record.String(AttrFeedbackName, target.Name))
		// Parent the feedback span on the rated span: same trace, that span as parent.
		ctx = ctxparent.With(withoutSpan{ctx}, ctxparent.Remote{TraceID: target.TraceID, SpanID: target.SpanID, Sampled: true})
	}
	_, s := trace.Start(ctx, "feedback", trace.KindInternal, trace.WithAttributes(attrs...))
	s.AddEvent(EventFeedback, attrs...)
	s.End()
	if !found {
		return ErrNoLLMSpan
	}
	return nil
}

// withoutSpan hides the tracegen span of a context (so that the remote
// parent set next is used) while keeping its values, scopes included.
type withoutSpan struct{ context.Context }

func (w withoutSpan) Value(key any) any {
	v := w.Context.Value(key)
	if _, isSpan := v.(*trace.Span); isSpan {
		return nil
	}
	return v
}
