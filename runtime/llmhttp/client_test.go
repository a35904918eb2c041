package llmhttp

import (
	"context"
	"net/http"
	"testing"
)

// Fake SDK configurations: a Stainless-like request config set through an
// interface option implemented by a func type, a langchaingo-like options
// struct with an unexported field, and a config passed by value.

type requestConfig struct{ HTTPClient *http.Client }

type requestOption interface{ Apply(*requestConfig) error }

type requestOptionFunc func(*requestConfig) error

func (f requestOptionFunc) Apply(r *requestConfig) error { return f(r) }

type stainless struct{ cfg requestConfig }

func newStainless(opts ...requestOption) stainless {
	cfg := requestConfig{HTTPClient: http.DefaultClient}
	for _, o := range opts {
		o.Apply(&cfg)
	}
	return stainless{cfg}
}

type lcOptions struct {
	httpClient interface {
		Do(*http.Request) (*http.Response, error)
	}
}

type lcOption func(*lcOptions)

func newLC(opts ...lcOption) (*lcOptions, error) {
	o := &lcOptions{httpClient: http.DefaultClient}
	for _, opt := range opts {
		opt(o)
	}
	return o, nil
}

type byValue struct{ HTTPClient any }

func traced(c any) bool {
	hc, ok := c.(*http.Client)
	if !ok {
		return false
	}
	_, ok = hc.Transport.(*Transport)
	return ok
}

func TestClientConstructors(t *testing.T) {
	custom := &http.Client{}
	tests := []struct {
		name string
		got  func() any // the client the SDK ended up with
		want bool
	}{
		{"interface option, no option to copy the type of", func() any { return ClientV("HTTPClient", newStainless).cfg.HTTPClient }, false},
		{"func option, unexported field", func() any {
			o, _ := ClientVE("httpClient", newLC)
			return o.httpClient
		}, true},
		{"config by value", func() any {
			return Client1("HTTPClient", func(c byValue) byValue { return c }, byValue{HTTPClient: custom}).HTTPClient
		}, true},
		{"config by pointer, nil client left alone", func() any {
			c, _ := ClientCtx("HTTPClient", func(_ context.Context, c *byValue) (*byValue, error) { return c, nil }, context.Background(), &byValue{})
			return c.HTTPClient
		}, false},
		{"no such field", func() any {
			return Client1("Other", func(c byValue) byValue { return c }, byValue{HTTPClient: custom}).HTTPClient
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got(); traced(got) != tt.want {
				t.Errorf("client %#v: traced = %v, want %v", got, !tt.want, tt.want)
			}
		})
	}
	// An interface option: the added option takes the func type of one of the caller's.
	s := ClientV("HTTPClient", newStainless, requestOption(requestOptionFunc(func(*requestConfig) error { return nil })))
	if !traced(s.cfg.HTTPClient) || s.cfg.HTTPClient == http.DefaultClient {
		t.Errorf("ClientV: the SDK's client %v is not a traced copy", s.cfg.HTTPClient)
	}
	if _, changed := http.DefaultClient.Transport.(*Transport); changed || custom.Transport != nil {
		t.Errorf("the user's clients were changed (they must be copied)")
	}
}
