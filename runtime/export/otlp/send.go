package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// outcome is what one request achieved.
type outcome int

const (
	delivered outcome = iota
	retryable         // the server did not take the batch (connection refused, 429, 503): send again
	rejected          // the server refused the batch for good (400, 500): drop it
	uncertain         // the server may have the batch (no answer in time): never resend it
)

type attempt struct {
	outcome    outcome
	answered   bool          // the server sent a status
	retryAfter time.Duration // from a Retry-After header; 0 when absent
	rejected   int64         // spans a partial success reported rejected
	err        error         // why it failed; never a header value
}

// maxBody is the largest request body sent when the batch can be split.
var maxBody = 8 << 20

// maxRetryAfter caps a server's Retry-After, so that one odd header cannot
// stall delivery for hours.
const maxRetryAfter = 5 * time.Minute

// encode builds the request body of a batch: an ExportTraceServiceRequest
// (wire-identical to TracesData, whose package does not link gRPC).
func (e *Exporter) encode(batch []queued) ([]byte, error) {
	req := &tracepb.TracesData{}
	for _, q := range batch {
		var ss *tracepb.ScopeSpans
		for _, rs := range req.ResourceSpans {
			if rs.Resource == q.res {
				ss = rs.ScopeSpans[0]
				break
			}
		}
		if ss == nil {
			ss = &tracepb.ScopeSpans{Scope: e.scope}
			req.ResourceSpans = append(req.ResourceSpans,
				&tracepb.ResourceSpans{Resource: q.res, ScopeSpans: []*tracepb.ScopeSpans{ss}})
		}
		ss.Spans = append(ss.Spans, q.span)
	}
	var body []byte
	if e.cfg.Protocol == ProtocolJSON {
		body = appendJSON(make([]byte, 0, 512*len(batch)), req)
	} else {
		var err error
		body, err = proto.Marshal(req)
		if err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
	}
	if !e.cfg.Gzip {
		return body, nil
	}
	var buf bytes.Buffer
	buf.Grow(len(body)/4 + 64)
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	zw.Write(body)
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return buf.Bytes(), nil
}

// gzipWriters keeps compressors (about 1 MB of state each) across batches.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

// deliver sends one batch, retrying with capped exponential backoff and
// jitter while the server did not take it. Once the exporter is shutting
// down, a batch is retried only while the server answers (it is busy, not
// gone) and the delay ends before the shutdown deadline; when nothing
// answers, it is dropped at once rather than waited for.
func (e *Exporter) deliver(batch []queued) {
	n := len(batch)
	body, err := e.encode(batch)
	if err == nil && len(body) > maxBody && n > 1 {
		// Receivers limit request sizes (the Collector to 20 MiB by
		// default): halve the batch until it fits.
		e.deliver(batch[:n/2])
		e.deliver(batch[n/2:])
		return
	}
	if err != nil {
		e.count(cFailed, n) // a bug, not the endpoint: failing stays as it is
		e.warnf("%d spans dropped: %v", n, err)
		return
	}
	for try := 0; ; try++ {
		a := e.post(body)
		e.setFailing(a.outcome != delivered)
		switch a.outcome {
		case delivered:
			e.count(cSent, n-int(a.rejected))
			e.count(cRejected, int(a.rejected))
			if a.rejected > 0 {
				e.warnf("%s rejected %d of %d spans: %v", e.where, a.rejected, n, a.err)
			}
			return
		case rejected:
			e.count(cFailed, n)
			e.warnf("%d spans dropped: %v", n, a.err)
			return
		case uncertain:
			e.count(cFailed, n)
			e.warnf("%d spans not resent (the server may have them; a batch is sent at most once): %v", n, a.err)
			return
		}
		d := a.retryAfter
		if d <= 0 {
			d = backoff(try, e.cfg.MinBackoff, e.cfg.MaxBackoff)
		}
		if e.stop.Err() != nil || e.shuttingDown() && (!a.answered || time.Now().Add(d).After(e.deadline)) {
			e.count(cFailed, n)
			e.warnf("%d spans dropped at shutdown: %v", n, a.err)
			return
		}
		e.count(cRetries, 1)
		e.warnf("%v; retrying in %s (up to %d spans are kept meanwhile, then dropped)", a.err, d.Round(time.Millisecond), e.cfg.QueueSize)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-e.closingCh: // shutting down: try once more now
		case <-e.stop.Done():
		}
		t.Stop()
	}
}

// shuttingDown reports whether Shutdown began; e.deadline is set then.
func (e *Exporter) shuttingDown() bool {
	select {
	case <-e.closingCh:
		return true
	default:
		return false
	}
}

// backoff is the delay before retry number try (0-based): min·2^try capped
// at max, with "equal jitter" (a uniform draw in [d/2, d]) so that many
// processes do not retry in step.
func backoff(try int, lo, hi time.Duration) time.Duration {
	d := hi
	if try < 30 && lo<<try < hi {
		d = lo << try
	}
	return d/2 + rand.N(d/2+1)
}

// post makes one request.
func (e *Exporter) post(body []byte) attempt {
	e.count(cRequests, 1)
	ctx, cancel := context.WithTimeout(e.stop, e.cfg.Timeout)
	defer cancel()
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.cfg.Endpoint, bytes.NewReader(body))
	if err != nil {
		return attempt{outcome: rejected, err: fmt.Errorf("POST %s: bad request", e.where)}
	}
	for k, v := range e.cfg.Headers {
		req.Header.Set(k, v)
	}
	if e.cfg.Protocol == ProtocolJSON {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "application/x-protobuf")
	}
	if e.cfg.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	req.Header.Set("User-Agent", "tracegen-otlp/"+runtimeVersion)
	resp, err := e.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL, which may hold credentials
		}
		err = fmt.Errorf("POST %s: %w", e.where, err)
		if wrote.Load() {
			return attempt{outcome: uncertain, err: err}
		}
		return attempt{outcome: retryable, err: err}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // keep the connection reusable
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		n, msg := partialSuccess(data, resp.Header.Get("Content-Type"))
		return attempt{outcome: delivered, rejected: n, err: errors.New(e.scrub(msg))}
	}
	err = fmt.Errorf("POST %s: %s%s", e.where, resp.Status, e.bodyExcerpt(data, resp.Header.Get("Content-Type")))
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return attempt{outcome: retryable, answered: true, retryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()), err: err}
	}
	return attempt{outcome: rejected, answered: true, err: err}
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(v); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// partialSuccess reads the rejected span count and message of an
// ExportTraceServiceResponse (field 1, partial_success: rejected_spans = 1,
// error_message = 2), in protobuf or JSON.
func partialSuccess(data []byte, contentType string) (int64, string) {
	if len(data) == 0 {
		return 0, ""
	}
	if strings.HasPrefix(contentType, "application/json") {
		var r struct {
			PartialSuccess struct {
				RejectedSpans json.Number `json:"rejectedSpans"`
				ErrorMessage  string      `json:"errorMessage"`
			} `json:"partialSuccess"`
		}
		if json.Unmarshal(data, &r) != nil {
			return 0, ""
		}
		n, _ := strconv.ParseInt(r.PartialSuccess.RejectedSpans.String(), 10, 64)
		return n, r.PartialSuccess.ErrorMessage
	}
	ps, ok := protoField(data, 1)
	if !ok {
		return 0, ""
	}
	var n int64
	var msg string
	for b := ps; len(b) > 0; {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			break
		}
		b = b[l:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, l := protowire.ConsumeVarint(b)
			if l < 0 {
				return n, msg
			}
			n, b = int64(v), b[l:]
		case num == 2 && typ == protowire.BytesType:
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return n, msg
			}
			msg, b = string(v), b[l:]
		default:
			l := protowire.ConsumeFieldValue(num, typ, b)
			if l < 0 {
				return n, msg
			}
			b = b[l:]
		}
	}
	return n, msg
}

// protoField returns the bytes of the first length-delimited field num.
func protoField(b []byte, num protowire.Number) ([]byte, bool) {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return nil, false
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			return v, l >= 0
		}
		l = protowire.ConsumeFieldValue(n, typ, b)
		if l < 0 {
			return nil, false
		}
		b = b[l:]
	}
	return nil, false
}

// bodyExcerpt is ": <message>" from an error response: the message of a
// google.rpc.Status (field 2) in protobuf, or the start of a text body,
// with every header value scrubbed.
func (e *Exporter) bodyExcerpt(data []byte, contentType string) string {
	msg := ""
	if strings.HasPrefix(contentType, "application/x-protobuf") || strings.HasPrefix(contentType, "application/protobuf") {
		if v, ok := protoField(data, 2); ok {
			msg = string(v)
		}
	} else if utf8.Valid(data) {
		msg = string(data)
	}
	msg = e.scrub(strings.Join(strings.Fields(msg), " ")) // before cutting, which could split a secret
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		return ""
	}
	return ": " + msg
}

// scrub removes the configured header values from a server's message,
// which might echo a credential back.
func (e *Exporter) scrub(s string) string {
	for _, v := range e.secrets {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	return s
}
