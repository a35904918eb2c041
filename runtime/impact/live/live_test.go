package live

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/impact"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestLive(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("auth-token") != "tok" {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		switch r.URL.Query().Get("zone") {
		case "FR":
			fmt.Fprint(w, `{"zone":"FR","carbonIntensity":42,"datetime":"2026-11-23T12:00:00Z"}`)
		case "SLOW":
			time.Sleep(300 * time.Millisecond)
			fmt.Fprint(w, `{"carbonIntensity":1}`)
		default:
			fmt.Fprint(w, `{"zone":"XX"}`)
		}
	}))
	defer srv.Close()
	clock := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	l := NewLive("tok", srv.URL)
	l.Now = func() time.Time { return clock }
	l.Timeout = 50 * time.Millisecond
	ctx := context.Background()

	c := impact.Config{Country: "FR"}
	f := Resolve(ctx, c, l, Zone(c, ""))
	if f.Intensity.GCO2ePerKWh != 42 || !strings.Contains(f.Intensity.Source, "live") {
		t.Fatalf("live intensity = %+v", f.Intensity)
	}
	Resolve(ctx, c, l, "FR")
	if hits.Load() != 1 {
		t.Errorf("cache: %d requests, want 1", hits.Load())
	}
	clock = clock.Add(2 * time.Hour)
	Resolve(ctx, c, l, "FR")
	if hits.Load() != 2 {
		t.Errorf("after TTL: %d requests, want 2", hits.Load())
	}

	// Timeout and malformed answers fall back to the table with a note.
	for _, zone := range []string{"SLOW", "XX"} {
		f := Resolve(ctx, c, l, zone)
		if !near(f.Intensity.GCO2ePerKWh, 56.039) || len(f.Notes) == 0 {
			t.Errorf("zone %s: intensity %v notes %v; want table fallback with note", zone, f.Intensity.GCO2ePerKWh, f.Notes)
		}
	}
	// An explicit intensity is never replaced.
	f = Resolve(ctx, impact.Config{GridIntensity: 7, Country: "FR"}, l, "FR")
	if f.Intensity.GCO2ePerKWh != 7 {
		t.Errorf("explicit intensity replaced: %v", f.Intensity)
	}
	// Bad token: HTTP error surfaces in the note.
	bad := NewLive("nope", srv.URL)
	if _, err := bad.Intensity(ctx, "FR"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("bad token error = %v", err)
	}
	var nilLive *Live
	if _, err := nilLive.Intensity(ctx, "FR"); err == nil {
		t.Error("nil Live returned no error")
	}
	if NewLive("", "") != nil {
		t.Error("NewLive without token is not nil")
	}
}

func TestRegistered(t *testing.T) {
	if impact.LiveFromEnv(func(string) string { return "" }) != nil {
		t.Error("live resolver without a token")
	}
	r := impact.LiveFromEnv(func(k string) string {
		if k == EnvToken {
			return "tok"
		}
		if k == EnvURL {
			return "http://127.0.0.1:1" // refused: falls back to the table
		}
		return ""
	})
	if r == nil {
		t.Fatal("no live resolver with a token")
	}
	f := r(context.Background(), impact.Config{Country: "FR"})
	if f.Intensity.GCO2ePerKWh != 56.039 || len(f.Notes) == 0 {
		t.Errorf("unreachable API: %+v", f)
	}
}
