package propagation

import (
	"bufio"
	"net"
	"net/http"

	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// Handler returns an http.Handler that serves each request through h as a
// server span (kind server, named by the method) that joins the trace the
// request's traceparent names. h receives the request with the span in its
// context, so spans started from r.Context() beneath are its children,
// and requests sent from there with Do or Transport carry it. The response
// writer h gets records the status code and passes Flush, Hijack and
// http.ResponseController's Unwrap through. With tracing disabled, h
// serves the request directly.
func Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !trace.Enabled() {
			h.ServeHTTP(w, r)
			return
		}
		ctx, span := trace.Start(Context(r), r.Method, trace.KindServer, trace.WithAttributes(
			record.String("http.request.method", r.Method),
			record.String("url.path", r.URL.Path),
		))
		defer span.End()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r.WithContext(ctx))
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		span.SetAttr("http.response.status_code", code)
		if r.Pattern != "" {
			span.SetAttr("http.route", r.Pattern)
		}
		if code >= 500 {
			span.SetAttr("error.type", http.StatusText(code))
			span.SetStatus(record.StatusError, http.StatusText(code))
		}
	})
}

// statusWriter remembers the status code of the response.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher when the underlying writer does.
func (w *statusWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker when the underlying writer does.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
