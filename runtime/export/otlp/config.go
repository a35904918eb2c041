package otlp

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/export"
)

// Protocols, the values of OTEL_EXPORTER_OTLP_PROTOCOL this exporter speaks.
const (
	ProtocolProtobuf = "http/protobuf"
	ProtocolJSON     = "http/json"
)

// Defaults, as the OpenTelemetry exporter specification gives them where it
// gives one.
const (
	DefaultEndpoint        = "http://localhost:4318/v1/traces"
	DefaultTimeout         = 10 * time.Second // per request (OTEL_EXPORTER_OTLP_TIMEOUT)
	DefaultShutdownTimeout = 5 * time.Second  // final flush when Shutdown's ctx has no deadline
	DefaultQueueSize       = 2048             // spans waiting to be sent (TRACEGEN_OTLP_QUEUE_SIZE)
	DefaultBatchSize       = 512              // spans per request (TRACEGEN_OTLP_BATCH_SIZE)
	DefaultMinBackoff      = 500 * time.Millisecond
	DefaultMaxBackoff      = 30 * time.Second
	WarnInterval           = time.Minute // at most one warning line per interval
)

// ErrConfig is wrapped by every error of [ConfigFromEnv]; the message names
// the variable at fault but never a header value.
var ErrConfig = errors.New("otlp exporter configuration")

// Config configures an [Exporter]. The zero value of a field means its
// default.
type Config struct {
	// Endpoint is the full URL spans are POSTed to, path included.
	Endpoint string
	// Protocol is ProtocolProtobuf (the default) or ProtocolJSON.
	Protocol string
	// Headers are added to every request (credentials, tenant ids). Their
	// values never appear in logs or errors.
	Headers map[string]string
	// Gzip compresses request bodies.
	Gzip bool
	// Timeout bounds each request.
	Timeout time.Duration
	// QueueSize is how many spans may wait for delivery (while the
	// endpoint is slow or down); further spans are dropped and counted.
	// The batches in flight, at most two, are held besides.
	QueueSize int
	// BatchSize is the most spans sent in one request.
	BatchSize int
	// Blocking makes Export wait for room in the queue instead of
	// dropping (TRACEGEN_BLOCKING, like the span pipeline), while the
	// endpoint takes spans; see Exporter.Export.
	Blocking bool
	// MinBackoff and MaxBackoff bound the delay between retries.
	MinBackoff, MaxBackoff time.Duration
	// Log receives the warning lines; nil means os.Stderr.
	Log io.Writer
	// Transport sends the requests; nil means a transport of the
	// exporter's own (proxy from the environment, keep-alive).
	Transport http.RoundTripper
}

func (c Config) withDefaults() Config {
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	if c.Protocol == "" {
		c.Protocol = ProtocolProtobuf
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	c.BatchSize = min(c.BatchSize, c.QueueSize)
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	c.MaxBackoff = max(c.MaxBackoff, c.MinBackoff)
	return c
}

// ConfigFromEnv reads the OpenTelemetry exporter variables through lookup
// (os.LookupEnv in programs): for each setting the TRACES_ variable wins
// over the general one.
//
//	OTEL_EXPORTER_OTLP_TRACES_ENDPOINT   used as is
//	OTEL_EXPORTER_OTLP_ENDPOINT          base URL; /v1/traces is appended
//	OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL http/protobuf (default) or http/json
//	OTEL_EXPORTER_OTLP[_TRACES]_HEADERS  k=v,k2=v2 (values percent-decoded)
//	OTEL_EXPORTER_OTLP[_TRACES]_COMPRESSION gzip or none
//	OTEL_EXPORTER_OTLP[_TRACES]_TIMEOUT  milliseconds per request
//
// and TRACEGEN_OTLP_QUEUE_SIZE, TRACEGEN_OTLP_BATCH_SIZE and
// TRACEGEN_BLOCKING. OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are
// read by the span pipeline, which puts them in every record's resource.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	get := func(k string) (string, string) {
		for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_" + k, "OTEL_EXPORTER_OTLP_" + k} {
			if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
				return name, strings.TrimSpace(v)
			}
		}
		return "", ""
	}
	var c Config
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	if v, ok := lookup("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); ok && strings.TrimSpace(v) != "" {
		c.Endpoint = strings.TrimSpace(v)
	} else if v, ok := lookup("OTEL_EXPORTER_OTLP_ENDPOINT"); ok && strings.TrimSpace(v) != "" {
		c.Endpoint = strings.TrimRight(strings.TrimSpace(v), "/") + "/v1/traces"
	}
	if c.Endpoint != "" {
		if err := checkEndpoint(c.Endpoint); err != nil {
			bad("OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT: %w", err)
		}
	}
	if name, v := get("PROTOCOL"); v != "" {
		switch v {
		case ProtocolProtobuf, ProtocolJSON:
			c.Protocol = v
		case "grpc":
			bad("%s=grpc: not supported; use http/protobuf (port 4318) or http/json", name)
		default:
			bad("%s=%q: want http/protobuf or http/json", name, v)
		}
	}
	if name, v := get("HEADERS"); v != "" {
		h, err := parseHeaders(v)
		if err != nil {
			bad("%s: %v", name, err)
		}
		c.Headers = h
	}
	if name, v := get("COMPRESSION"); v != "" {
		switch strings.ToLower(v) {
		case "gzip":
			c.Gzip = true
		case "none":
		default:
			bad("%s=%q: want gzip or none", name, v)
		}
	}
	if name, v := get("TIMEOUT"); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms <= 0 {
			bad("%s=%q: want a positive number of milliseconds", name, v)
		}
		c.Timeout = time.Duration(ms) * time.Millisecond
	}
	for _, n := range []struct {
		name string
		dst  *int
	}{{"TRACEGEN_OTLP_QUEUE_SIZE", &c.QueueSize}, {"TRACEGEN_OTLP_BATCH_SIZE", &c.BatchSize}} {
		if v, ok := lookup(n.name); ok && strings.TrimSpace(v) != "" {
			i, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || i <= 0 {
				bad("%s=%q: want a positive integer", n.name, v)
			}
			*n.dst = i
		}
	}
	if v, ok := lookup("TRACEGEN_BLOCKING"); ok {
		c.Blocking, _ = strconv.ParseBool(strings.TrimSpace(v))
	}
	return c, errors.Join(errs...)
}

// checkEndpoint accepts absolute http and https URLs. Its errors show the
// URL without its user information.
func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %w", export.ErrBadEndpoint)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%q: want an http:// or https:// URL with a host: %w", u.Redacted(), export.ErrBadEndpoint)
	}
	return nil
}

// parseHeaders reads a W3C-baggage-like list, key=value pairs separated by
// commas with percent-encoded values, as the OpenTelemetry specification
// defines OTEL_EXPORTER_OTLP_HEADERS. Errors name the key, never the value.
func parseHeaders(s string) (map[string]string, error) {
	h := map[string]string{}
	for i, kv := range strings.Split(s, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || !validHeaderKey(k) {
			return nil, fmt.Errorf("entry %d is not key=value with a valid header name", i+1)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("header %s: bad percent-encoding in its value", k)
		}
		h[k] = dv
	}
	return h, nil
}

// validHeaderKey reports whether k is an HTTP token (RFC 9110).
func validHeaderKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// redactedURL is the endpoint as it may appear in messages: no user
// information, no query (which may hold a token).
func redactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(invalid URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "redacted"
	}
	return u.String()
}
