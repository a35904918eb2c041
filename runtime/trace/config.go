package trace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/impact"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/resource"
	"github.com/tracegen-dev/tracegen/runtime/sensor"
)

// Defaults of the pipeline settings.
const (
	DefaultQueueSize       = 4096
	DefaultBatchSize       = 512
	DefaultFlushInterval   = time.Second
	DefaultShutdownTimeout = 5 * time.Second
)

// Config is the programmatic configuration. Configure applies it on top of
// the environment: every non-zero field overrides the matching variable,
// and IgnoreEnv drops the environment entirely.
type Config struct {
	// IgnoreEnv makes Configure ignore every TRACEGEN_* and OTEL_* variable.
	IgnoreEnv bool
	// Exporters replaces TRACEGEN_EXPORTER when non-nil; an empty non-nil
	// slice disables tracing.
	Exporters []export.Exporter
	// ServiceName overrides OTEL_SERVICE_NAME.
	ServiceName string
	// Resource is merged over OTEL_RESOURCE_ATTRIBUTES.
	Resource map[string]string
	// SampleRatio in (0, 1] overrides TRACEGEN_SAMPLE; 0 leaves it alone.
	SampleRatio float64
	// DisableContent switches RecordInput/RecordOutput off (like
	// TRACEGEN_CAPTURE_CONTENT=false).
	DisableContent bool
	// QueueSize, BatchSize, FlushInterval and ShutdownTimeout override
	// TRACEGEN_QUEUE_SIZE, TRACEGEN_BATCH_SIZE, TRACEGEN_FLUSH_INTERVAL and
	// TRACEGEN_SHUTDOWN_TIMEOUT.
	QueueSize       int
	BatchSize       int
	FlushInterval   time.Duration
	ShutdownTimeout time.Duration
	// Blocking makes End wait for room instead of dropping when the queue
	// is full (TRACEGEN_BLOCKING=1).
	Blocking bool
	// Sync exports every span inside End, with no queue and no goroutine
	// (TRACEGEN_SYNC=1); meant for serverless functions and short tools.
	Sync bool
	// ErrorLog receives the one-line "tracegen: ..." diagnostics; default
	// os.Stderr.
	ErrorLog io.Writer
	// EnvFile names a dotenv file read before the environment, which wins
	// (like TRACEGEN_ENV_FILE, which it replaces); see export.LookupEnv.
	EnvFile string
	// Limits override the span limits of the environment
	// (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT and the others, TRACEGEN_CONTENT_LIMIT)
	// field by field; see SpanLimits.
	Limits SpanLimits
}

// settings is the resolved configuration.
type settings struct {
	exporters       []namedExporter
	resource        []record.Attr
	sample          float64
	capture         bool
	queueSize       int
	batchSize       int
	flushInterval   time.Duration
	shutdownTimeout time.Duration
	blocking        bool
	syncMode        bool
	flushOnSignal   bool
	limits          limits
}

// envLookup reads the environment; tests replace it.
var envLookup = export.LookupEnv

// lastMemory is the memory exporter of the latest configuration.
var lastMemory atomic.Pointer[export.Memory]

// initFromEnv reads the environment once and installs the pipeline.
func initFromEnv() *pipeline {
	initMu.Lock()
	defer initMu.Unlock()
	if p := active.Load(); p != nil {
		return p
	}
	p := build(Config{})
	setActive(p)
	return p
}

// Configure replaces the tracing configuration: cfg on top of the
// environment. A running pipeline is flushed and shut down first (within
// its shutdown timeout). Call it early in main, before spans start.
func Configure(cfg Config) {
	initMu.Lock()
	p := build(cfg)
	old := setActive(p)
	initMu.Unlock()
	if old != nil && old != disabledP {
		shutdownWithTimeout(old)
	}
}

// build resolves cfg and the environment into a pipeline, or disabledP
// when no exporter is configured. Problems are reported on ErrorLog, one
// line each, and never stop the program.
func build(cfg Config) *pipeline {
	errLog := cfg.ErrorLog
	if errLog == nil {
		errLog = os.Stderr
	}
	st := resolve(cfg, func(err error) { fmt.Fprintf(errLog, "tracegen: %v\n", err) })
	var mem *export.Memory
	for _, ne := range st.exporters {
		if m := findMemory(ne.exp); m != nil && mem == nil {
			mem = m
		}
	}
	lastMemory.Store(mem)
	if len(st.exporters) == 0 || st.sample <= 0 {
		return disabledP
	}
	p := &pipeline{
		exporters:       st.exporters,
		resource:        st.resource,
		queueSize:       st.queueSize,
		batchSize:       st.batchSize,
		flushInterval:   st.flushInterval,
		shutdownTimeout: st.shutdownTimeout,
		blocking:        st.blocking,
		syncMode:        st.syncMode,
		captureContent:  st.capture,
		limits:          st.limits,
		sampleAll:       st.sample >= 1,
		sampleBound:     uint64(st.sample * math.MaxUint64),
		errLog:          errLog,
		kick:            make(chan struct{}, 1),
		flushReq:        make(chan chan struct{}),
		stopReq:         make(chan context.Context, 1),
		done:            make(chan struct{}),
	}
	p.pool = true
	for _, ne := range st.exporters {
		p.pool = p.pool && export.Releases(ne.exp)
	}
	if r := redactor.Load(); r != nil {
		p.redactor = *r
	}
	p.roomy = sync.NewCond(&p.mu)
	p.queue = make([]*Span, 0, p.queueSize)
	if st.flushOnSignal {
		FlushOnSignal()
	}
	return p
}

// resolve reads the env file, the environment and cfg into settings,
// reporting every problem.
func resolve(cfg Config, report func(error)) settings {
	lookup := envLookup
	if cfg.EnvFile != "" {
		if err := export.UseEnvFile(cfg.EnvFile); err != nil {
			reportEnvFile(err, "Config.EnvFile", report)
		}
		if !cfg.IgnoreEnv {
			configurePII(lookup, nil) // its variables may be in the file
		}
	} else if _, err := export.EnvFile(); err != nil {
		reportEnvFile(err, export.EnvFileVar, report)
	}
	if cfg.IgnoreEnv {
		lookup = func(string) (string, bool) { return "", false }
	}
	st := readEnv(lookup, report)
	if cfg.Exporters != nil {
		st.exporters = nil
		for _, e := range cfg.Exporters {
			if e != nil {
				st.exporters = append(st.exporters, namedExporter{name: fmt.Sprintf("%T", e), exp: e})
			}
		}
	}
	if cfg.ServiceName != "" {
		st.resource = setAttr(st.resource, record.String("service.name", cfg.ServiceName))
	}
	for k, v := range cfg.Resource {
		st.resource = setAttr(st.resource, record.String(k, v))
	}
	if cfg.SampleRatio > 0 {
		st.sample = min(cfg.SampleRatio, 1)
	}
	if cfg.DisableContent {
		st.capture = false
	}
	if cfg.QueueSize > 0 {
		st.queueSize = cfg.QueueSize
	}
	if cfg.BatchSize > 0 {
		st.batchSize = cfg.BatchSize
	}
	if cfg.FlushInterval > 0 {
		st.flushInterval = cfg.FlushInterval
	}
	if cfg.ShutdownTimeout > 0 {
		st.shutdownTimeout = cfg.ShutdownTimeout
	}
	st.limits.override(cfg.Limits)
	st.blocking = st.blocking || cfg.Blocking
	st.syncMode = st.syncMode || cfg.Sync
	st.batchSize = min(st.batchSize, st.queueSize)
	return st
}

// reportEnvFile reports each of the env file's problems on its own line:
// bad lines as file:line, a file that cannot be read under the name of
// the setting that named it.
func reportEnvFile(err error, name string, report func(error)) {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var fe *export.EnvFileError
		if errors.As(e, &fe) {
			report(e)
			continue
		}
		report(&EnvError{Var: name, Err: e, msg: name + ": " + e.Error()})
	}
}

func findMemory(e export.Exporter) *export.Memory {
	switch e := e.(type) {
	case *export.Memory:
		return e
	case *export.Tee:
		for _, x := range e.Exporters() {
			if m := findMemory(x); m != nil {
				return m
			}
		}
	}
	return nil
}

func setAttr(attrs []record.Attr, a record.Attr) []record.Attr {
	for i := range attrs {
		if attrs[i].Key == a.Key {
			attrs[i] = a
			return attrs
		}
	}
	return append(attrs, a)
}

// readEnv reads every variable; bad values are reported and replaced by
// defaults.
func readEnv(lookup func(string) (string, bool), report func(error)) settings {
	st := settings{
		sample:          1,
		capture:         true,
		queueSize:       DefaultQueueSize,
		batchSize:       DefaultBatchSize,
		flushInterval:   DefaultFlushInterval,
		shutdownTimeout: DefaultShutdownTimeout,
		limits:          defaultLimits,
	}
	get := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	if v := get("TRACEGEN_EXPORTER"); v != "" {
		st.exporters = exportersFromList(v, report)
	}
	st.resource = resourceFromEnv(get("OTEL_SERVICE_NAME"), get("OTEL_RESOURCE_ATTRIBUTES"), report)
	if v := get("TRACEGEN_SAMPLE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 || math.IsNaN(f) {
			report(envErr("TRACEGEN_SAMPLE", ErrInvalidValue, "TRACEGEN_SAMPLE=%q: want a number between 0 and 1; sampling everything", v))
		} else {
			st.sample = f
		}
	}
	envBool := func(k string, dst *bool) {
		v := get(k)
		if v == "" {
			return
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			report(envErr(k, ErrInvalidValue, "%s=%q: want true or false; using %t", k, v, *dst))
			return
		}
		*dst = b
	}
	envInt := func(k string, dst *int) {
		v := get(k)
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			report(envErr(k, ErrInvalidValue, "%s=%q: want a positive integer; using %d", k, v, *dst))
			return
		}
		*dst = n
	}
	envDur := func(k string, dst *time.Duration) {
		v := get(k)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			if ms, err2 := strconv.Atoi(v); err2 == nil {
				d, err = time.Duration(ms)*time.Millisecond, nil
			}
		}
		if err != nil || d <= 0 {
			report(envErr(k, ErrInvalidValue, "%s=%q: want a duration such as 500ms or 2s; using %s", k, v, *dst))
			return
		}
		*dst = d
	}
	envBool("TRACEGEN_CAPTURE_CONTENT", &st.capture)
	envInt("TRACEGEN_QUEUE_SIZE", &st.queueSize)
	envInt("TRACEGEN_BATCH_SIZE", &st.batchSize)
	envDur("TRACEGEN_FLUSH_INTERVAL", &st.flushInterval)
	envDur("TRACEGEN_SHUTDOWN_TIMEOUT", &st.shutdownTimeout)
	envBool("TRACEGEN_BLOCKING", &st.blocking)
	envBool("TRACEGEN_SYNC", &st.syncMode)
	envBool("TRACEGEN_FLUSH_ON_SIGNAL", &st.flushOnSignal)
	st.limits = limitsFromEnv(get, report)
	return st
}

// exportersFromList builds the exporters named in TRACEGEN_EXPORTER.
func exportersFromList(list string, report func(error)) []namedExporter {
	var out []namedExporter
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		f, ok := export.Lookup(name)
		if !ok {
			report(envErr("TRACEGEN_EXPORTER", export.ErrUnknownExporter, "unknown exporter %q in TRACEGEN_EXPORTER (known: %s)", name, strings.Join(export.Names(), ", ")))
			continue
		}
		if name == "none" {
			continue
		}
		e, err := f()
		if err != nil {
			report(&EnvError{Var: "TRACEGEN_EXPORTER", Err: err, msg: fmt.Sprintf("exporter %s in TRACEGEN_EXPORTER: %v", name, err)})
			continue
		}
		out = append(out, namedExporter{name: name, exp: e})
	}
	return out
}

// detectedResource is the host, process, container, pod and cloud of this
// process, detected once (package resource).
var detectedResource = sync.OnceValue(func() []record.Attr {
	return resource.Detect(resource.Source{Getenv: export.Getenv})
})

// resourceFromEnv builds the process resource: OTEL_RESOURCE_ATTRIBUTES
// (k=v pairs, comma separated, values percent-encoded), OTEL_SERVICE_NAME
// on top, then defaults for service.name and the SDK attributes, then the
// detected resource (package resource) where these do not set a key.
func resourceFromEnv(service, attrs string, report func(error)) []record.Attr {
	var res []record.Attr
	if attrs != "" {
		for _, kv := range strings.Split(attrs, ",") {
			kv = strings.TrimSpace(kv)
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				report(envErr("OTEL_RESOURCE_ATTRIBUTES", ErrInvalidValue, "OTEL_RESOURCE_ATTRIBUTES: %q is not key=value; ignored", kv))
				continue
			}
			dv, err := url.PathUnescape(strings.TrimSpace(v))
			if err != nil {
				report(envErr("OTEL_RESOURCE_ATTRIBUTES", ErrInvalidValue, "OTEL_RESOURCE_ATTRIBUTES: %q: bad percent-encoding; ignored", kv))
				continue
			}
			res = setAttr(res, record.String(k, dv))
		}
	}
	if service != "" {
		res = setAttr(res, record.String("service.name", service))
	}
	has := func(k string) bool {
		for _, a := range res {
			if a.Key == k {
				return true
			}
		}
		return false
	}
	if !has("service.name") {
		exe := "go"
		if len(os.Args) > 0 {
			exe = filepath.Base(os.Args[0])
		}
		res = append(res, record.String("service.name", "unknown_service:"+exe))
	}
	res = append(res,
		record.String("telemetry.sdk.name", "tracegen"),
		record.String("telemetry.sdk.language", "go"),
	)
	for _, a := range detectedResource() {
		if !has(a.Key) {
			res = append(res, a)
		}
	}
	return res
}

// ConfigFromEnv reads the configuration Configure would apply from the
// environment and the env file (TRACEGEN_ENV_FILE): the exporters of
// TRACEGEN_EXPORTER, built but not started, and every setting and limit. It installs nothing; pass the Config to Configure (or
// shut its Exporters down). The resource is not in it: Configure detects
// it again. The error joins every problem found, the
// location and energy settings of packages impact and sensor included;
// each one names its variable and can be tested with errors.Is and
// errors.As (see EnvError and the sentinels it lists). Problems do not
// stop anything: what is returned is what applies despite them.
func ConfigFromEnv() (Config, error) {
	var errs []error
	st := resolve(Config{}, func(err error) { errs = append(errs, err) })
	getenv := func(k string) string { v, _ := envLookup(k); return v }
	_, ierrs := impact.ConfigFromEnv(getenv)
	_, serrs := sensor.OptionsFromEnv(getenv)
	errs = append(append(errs, ierrs...), serrs...)
	cfg := Config{
		SampleRatio:     st.sample,
		DisableContent:  !st.capture,
		QueueSize:       st.queueSize,
		BatchSize:       st.batchSize,
		FlushInterval:   st.flushInterval,
		ShutdownTimeout: st.shutdownTimeout,
		Blocking:        st.blocking,
		Sync:            st.syncMode,
		Limits:          st.limits.public(),
	}
	cfg.EnvFile, _ = export.EnvFile()
	for _, ne := range st.exporters {
		cfg.Exporters = append(cfg.Exporters, ne.exp)
	}
	if st.sample <= 0 {
		cfg.Exporters = []export.Exporter{} // TRACEGEN_SAMPLE=0: off
	}
	return cfg, errors.Join(errs...)
}
