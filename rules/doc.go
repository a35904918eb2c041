// Package rules describes, as data, the calls into LLM client SDKs that
// tracegen turns into spans without any annotation in the user's code.
//
// A [Rule] names one or more functions or methods by the full name of their
// go/types object (types.Func.FullName of the generic origin, for example
// "(*github.com/openai/openai-go/v3.ChatCompletionService).New"), so a call is
// recognised whatever the receiver expression looks like: through aliases,
// embedded fields (genai.Chat embeds genai.Models) or interface methods
// (langchaingo's llms.Model). The rule also says where the request model is,
// where the response id, model, finish reasons and token counts are, and
// whether and how the call streams. Rules are written in YAML; the built-in set
// is embedded ([Builtin]) and users add their own with `tracegen -rules file.yaml`
// ([Load]); the schema is in docs/llm.md.
//
// [Matcher] implements the rewriter's call hook: for each call expression it
// picks the rule by identity and a wrapper in runtime/genai by the call's
// signature (the "shape"), so the rewritten call site reads
// genai.Call1V("openai.chat", client.Chat.Completions.New, ctx, params). The
// wrapper opens the span, calls the original function and reads the result by
// reflection with the rule's field paths; the runtime never imports an SDK.
// Stream objects are followed through their Next/Recv/Events/Close methods,
// which the matcher rewrites in the same files.
package rules
