// Package live adds the Electricity Maps API as a live source of grid
// carbon intensity. It is a separate package because it needs net/http,
// which would add about 2 MB to every instrumented program; a program opts in
// by importing it for its side effect:
//
//	import _ "github.com/tracegen-dev/tracegen/runtime/impact/live"
//
// (or by building with -tags tracegen_live). With TRACEGEN_ELECTRICITYMAPS_TOKEN
// set, the runtime then asks for the current intensity of the zone once per
// hour, with a 2 s timeout, and keeps the table value when that fails.
package live

import (
	"context"

	"encoding/json"
	"errors"
	"fmt"
	"github.com/tracegen-dev/tracegen/runtime/impact"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Environment variables of the live source (names kept in package impact so
// that the runtime and doctor can show them without importing net/http).
const (
	EnvToken = impact.EnvElectricityMapsToken
	EnvZone  = impact.EnvElectricityMapsZone
	EnvURL   = impact.EnvElectricityMapsURL
)

// DefaultElectricityMapsURL is the Electricity Maps API base.
const DefaultElectricityMapsURL = "https://api.electricitymap.org/v3"

// Live fetches the current grid intensity of a zone from the Electricity Maps
// API (GET {BaseURL}/carbon-intensity/latest?zone=Z, header auth-token).
// Results are cached for TTL; failures are cached for FailTTL so that a
// broken network costs one timeout per FailTTL, not one per call. A Live is
// safe for concurrent use.
type Live struct {
	Token   string
	BaseURL string
	Client  *http.Client
	// Timeout bounds one request (default 2 s).
	Timeout time.Duration
	// TTL is how long a value is reused (default 1 h); FailTTL how long a
	// failure is (default 5 min).
	TTL, FailTTL time.Duration
	// Now is the clock (default time.Now); tests replace it.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]liveEntry
}

type liveEntry struct {
	v   float64
	err error
	at  time.Time
}

// NewLive returns a Live for token with the defaults, or nil when token is
// empty (no live source configured).
func NewLive(token, baseURL string) *Live {
	if token == "" {
		return nil
	}
	if baseURL == "" {
		baseURL = DefaultElectricityMapsURL
	}
	return &Live{Token: token, BaseURL: strings.TrimRight(baseURL, "/")}
}

// Intensity returns the latest carbon intensity of zone in gCO2e/kWh.
func (l *Live) Intensity(ctx context.Context, zone string) (float64, error) {
	if l == nil {
		return 0, errors.New("electricity maps: no token")
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	ttl, failTTL := l.TTL, l.FailTTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	if failTTL <= 0 {
		failTTL = 5 * time.Minute
	}
	l.mu.Lock()
	if e, ok := l.cache[zone]; ok {
		age := now().Sub(e.at)
		if (e.err == nil && age < ttl) || (e.err != nil && age < failTTL) {
			l.mu.Unlock()
			return e.v, e.err
		}
	}
	l.mu.Unlock()

	v, err := l.fetch(ctx, zone)
	l.mu.Lock()
	if l.cache == nil {
		l.cache = make(map[string]liveEntry)
	}
	l.cache[zone] = liveEntry{v: v, err: err, at: now()}
	l.mu.Unlock()
	return v, err
}

func (l *Live) fetch(ctx context.Context, zone string) (float64, error) {
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.BaseURL+"/carbon-intensity/latest?zone="+zone, nil)
	if err != nil {
		return 0, fmt.Errorf("electricity maps: %w", err)
	}
	req.Header.Set("auth-token", l.Token)
	c := l.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, fmt.Errorf("electricity maps: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, fmt.Errorf("electricity maps: reading response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("electricity maps: zone %s: HTTP %d: %s", zone, resp.StatusCode, strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	var r struct {
		Zone            string   `json:"zone"`
		CarbonIntensity *float64 `json:"carbonIntensity"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("electricity maps: zone %s: decoding response: %w", zone, err)
	}
	if r.CarbonIntensity == nil || *r.CarbonIntensity < 0 {
		return 0, fmt.Errorf("electricity maps: zone %s: no carbonIntensity in response", zone)
	}
	return *r.CarbonIntensity, nil
}

// Zone is the Electricity Maps zone for c: the explicit zone when set,
// else the alpha-2 code of the country (given or implied by the cloud
// region); "" when unknown.
func Zone(c impact.Config, explicit string) string {
	if explicit != "" {
		return explicit
	}
	in := impact.GridIntensity(impact.Config{Provider: c.Provider, Region: c.Region, Country: c.Country})
	if in.Zone == "" || in.Zone == impact.WorldZone {
		return ""
	}
	return impact.CountryISO2(in.Zone)
}

// Resolve is impact.Resolve, with the grid intensity replaced by the live value
// for zone when l is non-nil, no explicit TRACEGEN_GRID_INTENSITY is set and
// the request succeeds. On failure the table value stays and a note says
// why.
func Resolve(ctx context.Context, c impact.Config, l *Live, zone string) impact.Factors {
	f := impact.Resolve(c)
	if l == nil || c.GridIntensity > 0 {
		return f
	}
	if zone == "" {
		f.Notes = append(f.Notes, "electricity maps: no zone known (set TRACEGEN_COUNTRY or "+EnvZone+"); using the table")
		return f
	}
	v, err := l.Intensity(ctx, zone)
	if err != nil {
		f.Notes = append(f.Notes, err.Error()+"; using the table")
		return f
	}
	f.Intensity.GCO2ePerKWh = v
	f.Intensity.Source = "Electricity Maps live, zone " + zone
	return f
}

// FromEnv returns the live resolver configured by getenv, for
// impact.RegisterLive: nil without a token.
func FromEnv(getenv func(string) string) func(ctx context.Context, c impact.Config) impact.Factors {
	l := NewLive(getenv(EnvToken), getenv(EnvURL))
	if l == nil {
		return nil
	}
	zone := getenv(EnvZone)
	return func(ctx context.Context, c impact.Config) impact.Factors {
		return Resolve(ctx, c, l, Zone(c, zone))
	}
}

func init() { impact.RegisterLive(FromEnv) }
