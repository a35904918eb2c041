package impact

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Environment variables read by ConfigFromEnv.
const (
	EnvGridIntensity = "TRACEGEN_GRID_INTENSITY" // gCO2e/kWh, overrides every table
	EnvCloudProvider = "TRACEGEN_CLOUD_PROVIDER" // aws, gcp or azure
	EnvCloudRegion   = "TRACEGEN_CLOUD_REGION"   // provider region name, e.g. us-east-1
	EnvCountry       = "TRACEGEN_COUNTRY"        // ISO 3166-1 alpha-2 or alpha-3
	EnvPUE           = "TRACEGEN_PUE"            // power usage effectiveness, >= 1
	EnvWUE           = "TRACEGEN_WUE"            // on-site water, L per kWh of IT energy

	// Live intensity (package runtime/impact/live).
	EnvElectricityMapsToken = "TRACEGEN_ELECTRICITYMAPS_TOKEN"
	EnvElectricityMapsZone  = "TRACEGEN_ELECTRICITYMAPS_ZONE" // e.g. "US-CAL-CISO"; default: the country's alpha-2
	EnvElectricityMapsURL   = "TRACEGEN_ELECTRICITYMAPS_URL"  // API base, for tests and proxies
)

// Errors of ConfigFromEnv, wrapped by the error about each variable (whose
// message names it): test them with errors.Is.
var (
	// ErrBadNumber: a numeric variable does not parse or is out of range.
	ErrBadNumber = errors.New("not a number in range")
	// ErrUnknownProvider: TRACEGEN_CLOUD_PROVIDER is not aws, gcp or azure.
	ErrUnknownProvider = errors.New("unknown cloud provider")
	// ErrMissingRegion: a cloud provider is set but no region, neither
	// TRACEGEN_CLOUD_REGION nor the provider's own variable (AWS_REGION,
	// AWS_DEFAULT_REGION; FUNCTION_REGION, GOOGLE_CLOUD_REGION; REGION_NAME).
	ErrMissingRegion = errors.New("cloud provider without a region")
	// ErrUnknownCountry: TRACEGEN_COUNTRY is no ISO 3166-1 code we know.
	ErrUnknownCountry = errors.New("unknown country")
)

// varError is a message about a variable that wraps one of the errors
// above without repeating it.
type varError struct {
	msg string
	err error
}

func (e *varError) Error() string { return e.msg }
func (e *varError) Unwrap() error { return e.err }

func envError(err error, format string, args ...any) error {
	return &varError{msg: fmt.Sprintf(format, args...), err: err}
}

// LiveFactory builds a live resolver from the environment; nil when not
// configured. Package live registers one.
type LiveFactory func(getenv func(string) string) func(ctx context.Context, c Config) Factors

var liveFactory LiveFactory

// RegisterLive installs the live source (called by package live's init).
func RegisterLive(f LiveFactory) { liveFactory = f }

// LiveFromEnv returns the registered live resolver configured by getenv, or
// nil when package live is not linked or no token is set.
func LiveFromEnv(getenv func(string) string) func(ctx context.Context, c Config) Factors {
	if liveFactory == nil {
		return nil
	}
	return liveFactory(getenv)
}

// Provider PUE defaults from Cloud Carbon Footprint; on-premises default 1.0
// (CodeCarbon's default: no data-centre overhead assumed).
var providerPUE = map[string]float64{"aws": 1.135, "gcp": 1.1, "azure": 1.185}

// DefaultPUE is the PUE used outside any known cloud.
const DefaultPUE = 1.0

// Config is what the user told us about the location of the program. The
// zero value means "nothing known": world average, PUE 1, no on-site water.
type Config struct {
	// GridIntensity, when > 0, is used as is (gCO2e/kWh).
	GridIntensity float64
	// Provider is "aws", "gcp", "azure" or "" (on-premises / unknown).
	Provider string
	// Region is the provider's region name.
	Region string
	// Country is an ISO 3166-1 alpha-2 or alpha-3 code.
	Country string
	// PUE, when > 0, overrides the default PUE.
	PUE float64
	// WUE is the on-site water usage effectiveness, L/kWh (0: none).
	WUE float64
	// Detected says where Provider/Region came from when they were not
	// given through TRACEGEN_CLOUD_* (e.g. "AWS_EXECUTION_ENV").
	Detected string
}

// NormProvider maps provider spellings ("AWS", "amazon", "google", "GCP",
// "microsoft", ...) to "aws", "gcp" or "azure"; anything else to itself,
// lower-cased.
func NormProvider(p string) string {
	switch p = strings.ToLower(strings.TrimSpace(p)); p {
	case "amazon", "ec2":
		return "aws"
	case "google", "gce", "googlecloud", "google-cloud":
		return "gcp"
	case "microsoft":
		return "azure"
	}
	return p
}

// ConfigFromEnv reads the TRACEGEN_* location variables through getenv
// (os.Getenv in production). When TRACEGEN_CLOUD_PROVIDER is unset it looks
// at variables that managed cloud runtimes set (AWS Lambda/ECS:
// AWS_EXECUTION_ENV + AWS_REGION; Cloud Functions: FUNCTION_REGION; Azure
// App Service: WEBSITE_SITE_NAME + REGION_NAME). A variable that does not
// parse is ignored and reported in the returned errors, one per variable,
// each naming it; the rest of the configuration still applies.
func ConfigFromEnv(getenv func(string) string) (Config, []error) {
	var c Config
	var errs []error
	num := func(name string, min float64) float64 {
		s := strings.TrimSpace(getenv(name))
		if s == "" {
			return 0
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < min || v != v || v > 1e9 {
			errs = append(errs, envError(ErrBadNumber, "%s=%q: want a number >= %g; ignored", name, s, min))
			return 0
		}
		return v
	}
	c.GridIntensity = num(EnvGridIntensity, 0)
	c.PUE = num(EnvPUE, 1)
	c.WUE = num(EnvWUE, 0)
	c.Provider = NormProvider(getenv(EnvCloudProvider))
	c.Region = strings.TrimSpace(getenv(EnvCloudRegion))
	c.Country = strings.TrimSpace(getenv(EnvCountry))
	if c.Provider != "" {
		if _, ok := providerPUE[c.Provider]; !ok {
			errs = append(errs, envError(ErrUnknownProvider, "%s=%q: want aws, gcp or azure; ignored", EnvCloudProvider, getenv(EnvCloudProvider)))
			c.Provider = ""
		}
	}
	if c.Provider == "" {
		switch {
		case getenv("AWS_EXECUTION_ENV") != "" || getenv("AWS_LAMBDA_FUNCTION_NAME") != "":
			c.Provider, c.Detected = "aws", "AWS_EXECUTION_ENV"
			if c.Region == "" {
				c.Region = firstNonEmpty(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
			}
		case getenv("FUNCTION_REGION") != "":
			c.Provider, c.Detected = "gcp", "FUNCTION_REGION"
			if c.Region == "" {
				c.Region = getenv("FUNCTION_REGION")
			}
		case getenv("WEBSITE_SITE_NAME") != "" && getenv("REGION_NAME") != "":
			c.Provider, c.Detected = "azure", "WEBSITE_SITE_NAME"
			if c.Region == "" {
				c.Region = getenv("REGION_NAME")
			}
		}
	}
	if c.Provider != "" && c.Region == "" {
		c.Region = providerRegion(c.Provider, getenv)
		if c.Region == "" {
			errs = append(errs, envError(ErrMissingRegion, "%s: unset while %s=%s; using the provider's PUE and the country or world grid", EnvCloudRegion, EnvCloudProvider, c.Provider))
		}
	}
	if c.Country != "" {
		if _, ok := CountryISO3(c.Country); !ok {
			errs = append(errs, envError(ErrUnknownCountry, "%s=%q: not an ISO 3166-1 alpha-2 or alpha-3 code we know; ignored", EnvCountry, c.Country))
			c.Country = ""
		}
	}
	return c, errs
}

// providerRegion returns the region a provider's own variables give.
func providerRegion(provider string, getenv func(string) string) string {
	switch provider {
	case "aws":
		return firstNonEmpty(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
	case "gcp":
		return firstNonEmpty(getenv("FUNCTION_REGION"), getenv("GOOGLE_CLOUD_REGION"))
	case "azure":
		return getenv("REGION_NAME")
	}
	return ""
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// Intensity is a resolved grid carbon intensity.
type Intensity struct {
	// GCO2ePerKWh is the carbon intensity of the electricity, gCO2e/kWh.
	GCO2ePerKWh float64
	// Zone is the ISO alpha-3 country the value is for, "WOR" for the world
	// average, "" when unknown (explicit override).
	Zone string
	// Source says where the value came from, for humans (doctor, docs).
	Source string
}

// Factors are the conversion factors from IT energy to impact.
type Factors struct {
	Intensity Intensity
	// PUE is the power usage effectiveness applied to IT energy.
	PUE float64
	// PUESource says where PUE came from.
	PUESource string
	// WUE is the on-site water, litres per kWh of IT energy.
	WUE float64
	// OffsiteWaterLPerKWh is the water consumed to generate one kWh of
	// electricity in WaterZone.
	OffsiteWaterLPerKWh float64
	// WaterZone is the zone of OffsiteWaterLPerKWh ("WOR" when the country is
	// not in the table).
	WaterZone string
	// Location is the provider/region/country resolved, for display.
	Location string
	// Notes are non-fatal remarks (unknown region, fallback used).
	Notes []string
}

// CO2eG returns the operational emissions of energyKWh of IT energy:
// energyKWh × PUE × intensity.
func (f Factors) CO2eG(energyKWh float64) float64 {
	return energyKWh * f.PUE * f.Intensity.GCO2ePerKWh
}

// WaterL returns the water consumed for energyKWh of IT energy: on-site
// (WUE × energy) plus off-site (PUE × energy × water intensity of the grid).
func (f Factors) WaterL(energyKWh float64) float64 {
	return energyKWh * (f.WUE + f.PUE*f.OffsiteWaterLPerKWh)
}

// worldMix is the fallback when the tables are broken (they are tested, so
// this only guards against a corrupt build): EcoLogits' WOR row.
var worldMix = Mix{Zone: WorldZone, GCO2ePerKWh: 473.01, WaterLPerKWh: 3.908}

// GridIntensity resolves the grid intensity of c in the documented order:
// explicit value, cloud region, country, world average.
func GridIntensity(c Config) Intensity {
	in, _ := gridIntensity(c)
	return in
}

func gridIntensity(c Config) (Intensity, []string) {
	var notes []string
	if c.GridIntensity > 0 {
		zone := ""
		if c.Country != "" {
			zone, _ = CountryISO3(c.Country)
		}
		return Intensity{GCO2ePerKWh: c.GridIntensity, Zone: zone, Source: EnvGridIntensity}, nil
	}
	t, err := loadTables()
	if err != nil {
		return Intensity{GCO2ePerKWh: worldMix.GCO2ePerKWh, Zone: WorldZone, Source: "world average (built-in; tables unreadable: " + err.Error() + ")"}, nil
	}
	if c.Provider != "" && c.Region != "" {
		if r, ok := t.regions[NormProvider(c.Provider)+"/"+normRegion(c.Region)]; ok {
			return Intensity{GCO2ePerKWh: r.gco2ePerKWh, Zone: r.iso3, Source: fmt.Sprintf("cloud region %s/%s (%s)", r.provider, r.region, r.source)}, nil
		}
		notes = append(notes, fmt.Sprintf("cloud region %s/%s is not in the region table", c.Provider, c.Region))
	}
	if c.Country != "" {
		if co, ok := t.countries[strings.ToUpper(c.Country)]; ok {
			return Intensity{GCO2ePerKWh: co.gco2ePerKWh, Zone: co.iso3, Source: fmt.Sprintf("country %s (Our World in Data/Ember %d, via CodeCarbon)", co.iso3, co.year)}, notes
		}
	}
	w := t.mixes[WorldZone]
	return Intensity{GCO2ePerKWh: w.GCO2ePerKWh, Zone: WorldZone, Source: "world average (Ember, via EcoLogits)"}, notes
}

// Resolve turns a Config into conversion factors: grid intensity as
// GridIntensity, PUE from c.PUE or the provider's default (AWS 1.135, GCP
// 1.1, Azure 1.185, from Cloud Carbon Footprint) or 1.0, on-site WUE from
// c.WUE, and off-site water intensity from the EcoLogits mix of the zone
// (world average when the zone is not in that table).
func Resolve(c Config) Factors {
	in, notes := gridIntensity(c)
	f := Factors{Intensity: in, Notes: notes, WUE: c.WUE}
	switch {
	case c.PUE > 0:
		f.PUE, f.PUESource = c.PUE, EnvPUE
	case providerPUE[NormProvider(c.Provider)] > 0:
		f.PUE, f.PUESource = providerPUE[NormProvider(c.Provider)], NormProvider(c.Provider)+" default (Cloud Carbon Footprint)"
	default:
		f.PUE, f.PUESource = DefaultPUE, "on-premises default"
	}
	zone := in.Zone
	if zone == "" && c.Country != "" {
		zone, _ = CountryISO3(c.Country)
	}
	if m, ok := ElectricityMix(zone); ok && zone != "" {
		f.OffsiteWaterLPerKWh, f.WaterZone = m.WaterLPerKWh, m.Zone
	} else {
		w, ok := ElectricityMix(WorldZone)
		if !ok {
			w = worldMix
		}
		f.OffsiteWaterLPerKWh, f.WaterZone = w.WaterLPerKWh, WorldZone
	}
	var loc []string
	if c.Provider != "" {
		loc = append(loc, c.Provider)
		if c.Region != "" {
			loc = append(loc, c.Region)
		}
	}
	if zone != "" {
		loc = append(loc, zone)
	}
	if len(loc) == 0 {
		loc = append(loc, "unknown")
	}
	f.Location = strings.Join(loc, "/")
	return f
}
