package dynamodb

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of [Config].
const (
	DefaultConversationIndex = "by_conversation_id"
	DefaultIdentifier        = "_"
	DefaultTTL               = 30 * 24 * time.Hour
	DefaultQueueSize         = 4096             // items waiting to be written
	DefaultTimeout           = 10 * time.Second // per request
	DefaultShutdownTimeout   = 5 * time.Second  // final flush when Shutdown's ctx has no deadline
	DefaultMinBackoff        = 50 * time.Millisecond
	DefaultMaxBackoff        = 5 * time.Second
	DefaultAttempts          = 6 // requests per batch before its items count as failed
	WarnInterval             = time.Minute
	// BatchSize is the most items BatchWriteItem takes in one request.
	BatchSize = 25
)

// ErrConfig is wrapped by every error of [ConfigFromEnv] and [New]; the
// message names the variable at fault.
var ErrConfig = errors.New("dynamodb exporter configuration")

// Config configures an [Exporter]. The zero value of a field means its
// default; Table is required.
type Config struct {
	// Table is the table's name (TRACEGEN_DYNAMODB_TABLE).
	Table string
	// Region overrides the AWS SDK's region (AWS_REGION, the shared
	// config); empty leaves it to the SDK.
	Region string
	// Endpoint overrides the DynamoDB endpoint URL
	// (TRACEGEN_DYNAMODB_ENDPOINT); empty leaves it to the SDK, which
	// reads AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL.
	Endpoint string
	// CreateTable creates the table and its index when they are missing,
	// before the first write (TRACEGEN_DYNAMODB_CREATE_TABLE=true).
	CreateTable bool
	// ConversationIndex is the name of the global secondary index on
	// conversation_id (TRACEGEN_DYNAMODB_CONVERSATION_INDEX).
	ConversationIndex string
	// Identifier separates the spans of applications sharing the table;
	// it is part of the sort key (TRACEGEN_DYNAMODB_IDENTIFIER).
	Identifier string
	// TTL sets expire_at to the span's start plus TTL
	// (TRACEGEN_DYNAMODB_TTL, a Go duration; "0" writes no expire_at).
	TTL time.Duration
	// NoTTL writes no expire_at attribute.
	NoTTL bool
	// QueueSize is how many items may wait to be written; further spans
	// are dropped and counted (TRACEGEN_DYNAMODB_QUEUE_SIZE).
	QueueSize int
	// Timeout bounds each request.
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the delay between retries; Attempts
	// is how many requests a batch gets before its items count as failed.
	MinBackoff, MaxBackoff time.Duration
	Attempts               int
	// Log receives the warning lines; nil means os.Stderr.
	Log io.Writer
}

func (c Config) withDefaults() Config {
	if c.ConversationIndex == "" {
		c.ConversationIndex = DefaultConversationIndex
	}
	if c.Identifier == "" {
		c.Identifier = DefaultIdentifier
	}
	if c.TTL <= 0 && !c.NoTTL {
		c.TTL = DefaultTTL
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	c.MaxBackoff = max(c.MaxBackoff, c.MinBackoff)
	if c.Attempts <= 0 {
		c.Attempts = DefaultAttempts
	}
	return c
}

func (c Config) check() error {
	if c.Table == "" {
		return fmt.Errorf("%w: TRACEGEN_DYNAMODB_TABLE is not set: name the table spans are written to", ErrConfig)
	}
	if c.Endpoint != "" {
		if err := checkEndpoint(c.Endpoint); err != nil {
			return fmt.Errorf("%w: endpoint: %v", ErrConfig, err)
		}
	}
	return nil
}

// ConfigFromEnv reads the exporter's variables through lookup (os.LookupEnv
// in programs):
//
//	TRACEGEN_DYNAMODB_TABLE               the table (required)
//	TRACEGEN_DYNAMODB_ENDPOINT            endpoint URL (else the SDK's AWS_ENDPOINT_URL_DYNAMODB)
//	TRACEGEN_DYNAMODB_CREATE_TABLE        true: create the table when missing
//	TRACEGEN_DYNAMODB_CONVERSATION_INDEX  the index on conversation_id
//	TRACEGEN_DYNAMODB_IDENTIFIER          the application's part of the sort key
//	TRACEGEN_DYNAMODB_TTL                 expire_at after the start (Go duration; 0: none)
//	TRACEGEN_DYNAMODB_QUEUE_SIZE          items waiting to be written
//
// The region (AWS_REGION) and the credentials are the AWS SDK's.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	get := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	c := Config{
		Table:             get("TRACEGEN_DYNAMODB_TABLE"),
		Endpoint:          get("TRACEGEN_DYNAMODB_ENDPOINT"),
		ConversationIndex: get("TRACEGEN_DYNAMODB_CONVERSATION_INDEX"),
		Identifier:        get("TRACEGEN_DYNAMODB_IDENTIFIER"),
	}
	if c.Table == "" {
		bad("TRACEGEN_DYNAMODB_TABLE is not set: name the table spans are written to")
	}
	if c.Endpoint != "" {
		if err := checkEndpoint(c.Endpoint); err != nil {
			bad("TRACEGEN_DYNAMODB_ENDPOINT: %v", err)
		}
	}
	if v := get("TRACEGEN_DYNAMODB_CREATE_TABLE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("TRACEGEN_DYNAMODB_CREATE_TABLE=%q: want true or false", v)
		}
		c.CreateTable = b
	}
	if v := get("TRACEGEN_DYNAMODB_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case v == "0":
			c.NoTTL = true
		case err != nil || d < 0:
			bad("TRACEGEN_DYNAMODB_TTL=%q: want a duration such as 720h, or 0 for none", v)
		case d == 0:
			c.NoTTL = true
		default:
			c.TTL = d
		}
	}
	if v := get("TRACEGEN_DYNAMODB_QUEUE_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			bad("TRACEGEN_DYNAMODB_QUEUE_SIZE=%q: want a positive integer", v)
		}
		c.QueueSize = n
	}
	return c, errors.Join(errs...)
}

// checkEndpoint accepts absolute http and https URLs; its errors show the
// URL without user information.
func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%q: want an http:// or https:// URL with a host", u.Redacted())
	}
	return nil
}
