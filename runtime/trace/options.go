package trace

import "github.com/tracegen-dev/tracegen/runtime/record"

// StartOption configures a span at Start or Begin. The set of options is
// closed: [Kind], [Type], [WithAttr], [WithAttributes], [WithInherited],
// [WithTags] and [WithContentCapture]. Options are plain values; building them costs nothing when
// tracing is disabled.
type StartOption interface {
	startOption()
}

// Kind is the OpenTelemetry span kind; it is a StartOption.
type Kind record.Kind

// Span kinds.
const (
	KindInternal = Kind(record.KindInternal)
	KindServer   = Kind(record.KindServer)
	KindClient   = Kind(record.KindClient)
	KindProducer = Kind(record.KindProducer)
	KindConsumer = Kind(record.KindConsumer)
)

func (Kind) startOption() {}

// Type is the GenAI-style span type; it is a StartOption.
type Type record.Type

// Span types.
const (
	TypeLLM   = Type(record.TypeLLM)
	TypeTool  = Type(record.TypeTool)
	TypeAgent = Type(record.TypeAgent)
	TypeChain = Type(record.TypeChain)
	TypeTask  = Type(record.TypeTask)
)

func (Type) startOption() {}

type attrOption struct {
	key   string
	value any
}

func (attrOption) startOption() {}

// WithAttr sets one attribute at start. The value may be a string, any
// integer or float, a bool, a slice, a map or any other value (encoded with
// encoding/json by exporters).
func WithAttr(key string, value any) StartOption { return attrOption{key, value} }

type inheritedOption struct {
	key   string
	value any
}

func (inheritedOption) startOption() {}

// WithInherited sets an attribute that every descendant span copies
// (a session id, a user id, a tenant). A child can override it with its own
// WithInherited for the same key.
func WithInherited(key string, value any) StartOption { return inheritedOption{key, value} }

type attrsOption []record.Attr

func (attrsOption) startOption() {}

// WithAttributes sets several typed attributes at start.
func WithAttributes(attrs ...record.Attr) StartOption { return attrsOption(attrs) }

type tagsOption []string

func (tagsOption) startOption() {}

// WithTags adds free-form tags to the span.
func WithTags(tags ...string) StartOption { return tagsOption(tags) }

type contentOption struct{}

func (contentOption) startOption() {}

// WithContentCapture asks that the message content of LLM calls made beneath
// the span (prompts and completions, see package genai) be recorded even
// when TRACEGEN_CAPTURE_CONTENT is not "true"; TRACEGEN_CAPTURE_CONTENT=false
// still turns all content capture off. The rewriter adds it for directives
// with the input or output key.
func WithContentCapture() StartOption { return contentOption{} }
