package propagation

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unsafe"

	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// Do is what instrumented code calls for client.Do(req): it sends req
// through do (the method value client.Do) as a client span beneath the
// span that made it, carrying that span in its traceparent header. The
// request do receives is a clone of req (the caller's is not changed) with
// the span in its context. A request that already has a traceparent, and
// every request while tracing is disabled, is passed to do as it is.
func Do(do func(*http.Request) (*http.Response, error), req *http.Request) (resp *http.Response, err error) {
	span, out := startClient(req)
	if span == nil {
		return do(req)
	}
	defer span.End()
	resp, err = do(out)
	endClient(span, resp, err)
	return resp, err
}

// Get is what instrumented code calls for http.Get(url) and client.Get(url):
// the request the original builds, sent as Do sends it, through the same
// client (http.DefaultClient for http.Get). A get that is neither is
// called as it is.
func Get(get func(string) (*http.Response, error), rawURL string) (*http.Response, error) {
	return bodiless(get, rawURL, http.MethodGet, codeGet, codeClientGet)
}

// Head is Get for http.Head and client.Head.
func Head(head func(string) (*http.Response, error), rawURL string) (*http.Response, error) {
	return bodiless(head, rawURL, http.MethodHead, codeHead, codeClientHead)
}

func bodiless(f func(string) (*http.Response, error), rawURL, method string, pkgFunc, methodFunc uintptr) (*http.Response, error) {
	c := clientOf(f, pkgFunc, methodFunc)
	if c == nil || !trace.Enabled() {
		return f(rawURL)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, rawURL, nil)
	if err != nil {
		return f(rawURL) // the original reports it, word for word
	}
	return Do(c.Do, req)
}

// Post is Get for http.Post and client.Post.
func Post(post func(string, string, io.Reader) (*http.Response, error), rawURL, contentType string, body io.Reader) (*http.Response, error) {
	c := clientOf(post, codePost, codeClientPost)
	if c == nil || !trace.Enabled() {
		return post(rawURL, contentType, body)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, rawURL, body)
	if err != nil {
		return post(rawURL, contentType, body)
	}
	req.Header.Set("Content-Type", contentType)
	return Do(c.Do, req)
}

// PostForm is Get for http.PostForm and client.PostForm.
func PostForm(postForm func(string, url.Values) (*http.Response, error), rawURL string, data url.Values) (*http.Response, error) {
	c := clientOf(postForm, codePostForm, codeClientPostForm)
	if c == nil || !trace.Enabled() {
		return postForm(rawURL, data)
	}
	return Post(c.Post, rawURL, "application/x-www-form-urlencoded", strings.NewReader(data.Encode()))
}

// The code pointers of the functions Get, Head, Post and PostForm stand
// for: the package functions and the method values of *http.Client.
var (
	codeGet, codeClientGet           = funcCode(http.Get), funcCode((&http.Client{}).Get)
	codeHead, codeClientHead         = funcCode(http.Head), funcCode((&http.Client{}).Head)
	codePost, codeClientPost         = funcCode(http.Post), funcCode((&http.Client{}).Post)
	codePostForm, codeClientPostForm = funcCode(http.PostForm), funcCode((&http.Client{}).PostForm)
)

func funcCode(f any) uintptr { return reflect.ValueOf(f).Pointer() }

// clientOf returns the client f sends through: http.DefaultClient when f
// is the package function, the receiver when f is a method value of
// *http.Client, or nil. The gc compiler makes a method value c.Get a
// closure {code of (*Client).Get-fm, c}: the code pointer, the same for
// every such value, proves the layout before the receiver is read.
func clientOf[F any](f F, pkgFunc, methodFunc uintptr) *http.Client {
	fv := reflect.ValueOf(f)
	if fv.IsNil() {
		return nil
	}
	switch fv.Pointer() {
	case pkgFunc:
		return http.DefaultClient
	case methodFunc:
		closure := *(*unsafe.Pointer)(unsafe.Pointer(&f))
		return *(**http.Client)(unsafe.Add(closure, unsafe.Sizeof(uintptr(0))))
	}
	return nil
}

// startClient starts the client span of req and returns the request to
// send in its place, or a nil span when req goes as it is.
func startClient(req *http.Request) (*trace.Span, *http.Request) {
	if req == nil || req.URL == nil || len(req.Header.Values(TraceparentHeader)) > 0 {
		return nil, req
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	ctx, span := trace.Start(req.Context(), method, trace.KindClient, trace.WithAttributes(clientAttrs(method, req.URL)...))
	if span == nil {
		return nil, req
	}
	out := req.Clone(ctx)
	if out.Header == nil {
		out.Header = http.Header{}
	}
	if tc, ok := fromSpan(ctx, span); ok {
		Inject(out.Header, tc)
	}
	return span, out
}

// clientAttrs are the OpenTelemetry HTTP client attributes known before
// the request is sent. url.full has no user info, query or fragment, which
// may hold credentials.
func clientAttrs(method string, u *url.URL) []record.Attr {
	attrs := []record.Attr{
		record.String("http.request.method", method),
		record.String("url.full", cleanURL(u)),
		record.String("server.address", u.Hostname()),
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if n, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, record.Int("server.port", n))
	}
	return attrs
}

// cleanURL is u without user info, query or fragment.
func cleanURL(u *url.URL) string {
	clean := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return clean.String()
}

// endClient records the outcome of the request: the status code, and an
// error for a failed request or a 4xx or 5xx response.
func endClient(span *trace.Span, resp *http.Response, err error) {
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			if u, perr := url.Parse(ue.URL); perr == nil {
				// The message names the URL: not its query or user info.
				err = &url.Error{Op: ue.Op, URL: cleanURL(u), Err: ue.Err}
			}
		}
		span.RecordError(err)
	case resp != nil:
		span.SetAttr("http.response.status_code", resp.StatusCode)
		if resp.StatusCode >= 400 {
			span.SetAttr("error.type", strconv.Itoa(resp.StatusCode))
			span.SetStatus(record.StatusError, resp.Status)
		}
	}
}

// Transport returns an http.RoundTripper that sends each request through
// base (nil: http.DefaultTransport) as Do does: a client span carrying the
// trace in its headers, for clients of code built without tracegen
// (client := &http.Client{Transport: propagation.Transport(nil)}).
func Transport(base http.RoundTripper) http.RoundTripper { return &transport{base: base} }

type transport struct{ base http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	return Do(base.RoundTrip, req)
}
