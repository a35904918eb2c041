// Command bedrock calls github.com/aws/aws-sdk-go-v2/service/bedrockruntime
// (Converse and ConverseStream) against a local fake server speaking the
// Bedrock wire format: JSON, and application/vnd.amazon.eventstream binary
// frames for the stream. No SDK call is annotated.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

const (
	chunkGap = 30 * time.Millisecond
	modelID  = "anthropic.claude-3-haiku-20240307-v1:0"
)

func main() {
	srv := httptest.NewServer(http.HandlerFunc(fake))
	defer srv.Close()
	client := bedrockruntime.New(bedrockruntime.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET"}, nil
		}),
		HTTPClient:       &http.Client{Transport: readOnlyBodies{srv.Client().Transport}},
		RetryMaxAttempts: 1,
	})
	if err := run(context.Background(), client); err != nil {
		log.Fatal(err)
	}
}

// readOnlyBodies hands net/http each request body as a plain io.Reader.
// smithy-go closes the body as soon as Client.Do returns, and net/http may
// still be reading it then: the body went to the socket straight after the
// headers, the fake answered, and the transport is checking for bytes past
// the Content-Length. smithy's closed body answers that check through its
// WriteTo with io.EOF, which net/http takes for a write error: it closes the
// connection under the response being read ("use of closed network
// connection", the family of aws/aws-sdk-go-v2#2737). Through Read the same
// closed body says io.EOF, which net/http takes for the end of the body.
// The race is the SDK's, in plain and instrumented builds alike; a local
// fake answers fast enough to lose it about one run in ten.
type readOnlyBodies struct{ next http.RoundTripper }

func (t readOnlyBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req = req.WithContext(req.Context()) // a shallow copy: a RoundTripper must not change the caller's request
		req.Body = struct{ io.ReadCloser }{req.Body}
	}
	return t.next.RoundTrip(req)
}

func userSays(text string) []types.Message {
	return []types.Message{{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: text}}}}
}

//trace:span
func run(ctx context.Context, client *bedrockruntime.Client) error {
	out, err := client.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(modelID), Messages: userSays("Say hello")})
	if err != nil {
		return fmt.Errorf("converse: %w", err)
	}
	fmt.Println("converse stop reason:", out.StopReason)

	stream, err := client.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(modelID), Messages: userSays("Say hello slowly")})
	if err != nil {
		return fmt.Errorf("converse stream: %w", err)
	}
	var text strings.Builder
	for ev := range stream.GetStream().Events() {
		if d, ok := ev.(*types.ConverseStreamOutputMemberContentBlockDelta); ok {
			if t, ok := d.Value.Delta.(*types.ContentBlockDeltaMemberText); ok {
				text.WriteString(t.Value)
			}
		}
	}
	if err := stream.GetStream().Err(); err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	stream.GetStream().Close()
	fmt.Println("stream:", text.String())
	return nil
}

func fake(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	switch {
	case strings.HasSuffix(r.URL.Path, "/converse"):
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"output":{"message":{"role":"assistant","content":[{"text":"Hello!"}]}},"stopReason":"end_turn","usage":{"inputTokens":10,"outputTokens":5,"totalTokens":17,"cacheReadInputTokens":2},"metrics":{"latencyMs":42}}`)
	case strings.HasSuffix(r.URL.Path, "/converse-stream"):
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		enc := eventstream.NewEncoder()
		for _, e := range [][2]string{
			{"messageStart", `{"role":"assistant"}`},
			{"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hel"}}`},
			{"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"lo"}}`},
			{"contentBlockStop", `{"contentBlockIndex":0}`},
			{"messageStop", `{"stopReason":"end_turn"}`},
			{"metadata", `{"usage":{"inputTokens":10,"outputTokens":5,"totalTokens":15},"metrics":{"latencyMs":42}}`},
		} {
			var buf bytes.Buffer
			enc.Encode(&buf, eventstream.Message{
				Headers: eventstream.Headers{
					{Name: ":message-type", Value: eventstream.StringValue("event")},
					{Name: ":event-type", Value: eventstream.StringValue(e[0])},
					{Name: ":content-type", Value: eventstream.StringValue("application/json")},
				},
				Payload: []byte(e[1]),
			})
			w.Write(buf.Bytes())
			w.(http.Flusher).Flush()
			time.Sleep(chunkGap)
		}
	default:
		http.NotFound(w, r)
	}
}
