package directives

import "context"

// Chat calls a model.
//
//trace:llm name="chat completion" kind=client model=gpt-4o-mini agent=support tags=prod,eu
func Chat(ctx context.Context, prompt string) (string, error) { return prompt, nil }

// Lookup is a tool with attributes.
//
//trace:tool attr.source="knowledge base" attr.k=v attr.limit=10 attr.score=0.5 attr.cached=false inherit.tenant="acme corp" input output
func Lookup(ctx context.Context, q string, limit int) (hits []string, err error) {
	return nil, nil
}

//trace:chain kind=internal name=`raw "name"`
func chain() {}

//trace:task kind=consumer
func task() {}

//trace:agent agent=planner
func agent() {}
