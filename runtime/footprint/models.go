package footprint

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

//go:embed data/*.json
var dataFS embed.FS

// Params is a model's parameter count in billions. For a dense model Active
// and Total are equal; ranges are EcoLogits' estimates for models whose size
// is not published.
type Params struct {
	ActiveMin, ActiveMax float64
	TotalMin, TotalMax   float64
	MoE                  bool
}

// ActiveMid is the midpoint of the active parameter range.
func (p Params) ActiveMid() float64 { return (p.ActiveMin + p.ActiveMax) / 2 }

// TotalMid is the midpoint of the total parameter range.
func (p Params) TotalMid() float64 { return (p.TotalMin + p.TotalMax) / 2 }

// catalogue is the parsed EcoLogits model table: provider -> model name -> params.
type catalogue struct {
	models  map[string]map[string]Params
	aliases map[string]map[string]string // provider -> alias name -> model name
}

var (
	catOnce sync.Once
	cat     *catalogue
	catErr  error
)

func loadCatalogue() (*catalogue, error) {
	catOnce.Do(func() { cat, catErr = parseCatalogue() })
	return cat, catErr
}

// rangeOrNumber decodes a number or a {min,max} object.
type rangeOrNumber struct{ min, max float64 }

func (r *rangeOrNumber) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err == nil {
		r.min, r.max = f, f
		return nil
	}
	var mm struct{ Min, Max *float64 }
	if err := json.Unmarshal(b, &mm); err != nil {
		return err
	}
	if mm.Min == nil || mm.Max == nil {
		return fmt.Errorf("range %s: want a number or {min,max}", b)
	}
	r.min, r.max = *mm.Min, *mm.Max
	return nil
}

func parseCatalogue() (*catalogue, error) {
	const name = "data/ecologits_models.json"
	b, err := dataFS.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var raw struct {
		Aliases []struct{ Provider, Name, Alias string }
		Models  []struct {
			Provider, Name string
			Architecture   struct {
				Type       string
				Parameters json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &catalogue{models: map[string]map[string]Params{}, aliases: map[string]map[string]string{}}
	for _, m := range raw.Models {
		var p Params
		switch m.Architecture.Type {
		case "dense":
			var r rangeOrNumber
			if err := json.Unmarshal(m.Architecture.Parameters, &r); err != nil {
				return nil, fmt.Errorf("%s: model %s/%s: %w", name, m.Provider, m.Name, err)
			}
			p = Params{ActiveMin: r.min, ActiveMax: r.max, TotalMin: r.min, TotalMax: r.max}
		case "moe":
			var moe struct{ Total, Active rangeOrNumber }
			if err := json.Unmarshal(m.Architecture.Parameters, &moe); err != nil {
				return nil, fmt.Errorf("%s: model %s/%s: %w", name, m.Provider, m.Name, err)
			}
			p = Params{ActiveMin: moe.Active.min, ActiveMax: moe.Active.max,
				TotalMin: moe.Total.min, TotalMax: moe.Total.max, MoE: true}
		default:
			return nil, fmt.Errorf("%s: model %s/%s: unknown architecture %q", name, m.Provider, m.Name, m.Architecture.Type)
		}
		if c.models[m.Provider] == nil {
			c.models[m.Provider] = map[string]Params{}
		}
		c.models[m.Provider][m.Name] = p
	}
	for _, a := range raw.Aliases {
		if c.aliases[a.Provider] == nil {
			c.aliases[a.Provider] = map[string]string{}
		}
		c.aliases[a.Provider][a.Name] = a.Alias
	}
	return c, nil
}

// Match kinds reported in Estimate.Match.
const (
	MatchExact     = "exact"      // the name is in EcoLogits' table
	MatchAlias     = "alias"      // an EcoLogits alias, or the name minus a date/version suffix
	MatchPrefix    = "family"     // the closest family member (e.g. gpt-5.1 -> gpt-5); ModelKnown is false
	MatchSizeClass = "size-class" // no table entry: a size class, see SizeClasses
)

var (
	dateSuffix    = regexp.MustCompile(`(-\d{4}-\d{2}-\d{2}|-\d{8}|-\d{4}|@\d{8}|-v\d+(:\d+)?|:\d+)$`)
	paramsInName  = regexp.MustCompile(`(?i)(?:^|[-_:/.])(\d+(?:\.\d+)?)b(?:$|[-_:/.])`)
	bedrockPrefix = regexp.MustCompile(`^(?:(?:us|eu|apac|global|us-gov|jp|au)\.)?([a-z0-9]+)\.(.+)$`)
)

// lookup finds a model's parameters in provider's table (see catalogueProvider).
// It returns the matched table name and how it matched.
func (c *catalogue) lookup(provider, model string) (Params, string, string, bool) {
	table := c.models[provider]
	if table == nil {
		return Params{}, "", "", false
	}
	try := func(name string) (Params, string, bool) {
		if p, ok := table[name]; ok {
			return p, name, true
		}
		if target, ok := c.aliases[provider][name]; ok {
			if p, ok := table[target]; ok {
				return p, target, true
			}
		}
		return Params{}, "", false
	}
	m := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(model)), "models/")
	if p, name, ok := try(m); ok {
		if name == m {
			return p, name, MatchExact, true
		}
		return p, name, MatchAlias, true
	}
	// Strip date or version suffixes one at a time: claude-3-5-haiku-20241022-v1:0.
	base := m
	for s := m; ; {
		t := dateSuffix.ReplaceAllString(s, "")
		if t == s {
			break
		}
		s, base = t, t
		if p, name, ok := try(s); ok {
			return p, name, MatchAlias, true
		}
		if p, name, ok := try(s + "-latest"); ok {
			return p, name, MatchAlias, true
		}
	}
	// An undated name whose dated form is in the table: claude-sonnet-4-5,
	// claude-sonnet-4-5@20250929 (Vertex).
	best := ""
	for name := range table {
		if strings.HasPrefix(name, base+"-") && dateSuffix.MatchString(name) && dateSuffix.ReplaceAllString(name, "") == base {
			if best == "" || name < best {
				best = name
			}
		}
	}
	if best != "" {
		return table[best], best, MatchAlias, true
	}
	// Family: the longest table name that is a prefix of m at a boundary.
	for name := range table {
		if len(name) > len(best) && len(m) > len(name) && strings.HasPrefix(m, name) && strings.ContainsRune("-.:@_", rune(m[len(name)])) {
			best = name
		}
	}
	// A tier word the family lacks (gpt-5.1-mini vs gpt-5) makes the family
	// a worse guess than the size class.
	if best != "" && tierWords(m) == tierWords(best) {
		return table[best], best, MatchPrefix, true
	}
	return Params{}, "", "", false
}

// lookupAnyProvider finds name in any provider's table, exact or alias
// matches only, providers in name order; it also returns the provider.
func (c *catalogue) lookupAnyProvider(name string) (Params, string, string, string, bool) {
	provs := make([]string, 0, len(c.models))
	for p := range c.models {
		provs = append(provs, p)
	}
	sort.Strings(provs)
	for _, p := range provs {
		if params, m, how, ok := c.lookup(p, name); ok && how != MatchPrefix {
			return params, m, how, p, true
		}
	}
	return Params{}, "", "", "", false
}

func (c *catalogue) lookupAny(name string) (Params, string, string, bool) {
	p, m, how, _, ok := c.lookupAnyProvider(name)
	return p, m, how, ok
}

// SizeClass is the stand-in used for a model EcoLogits does not list.
type SizeClass struct {
	Name   string
	Params Params
	Doc    string
}

// SizeClasses are the fallbacks for unknown models, chosen by name: a
// parameter count in the name ("llama3.1:70b", "qwen2.5-7b") is used as a
// dense model of that size; names with mini, nano, small, haiku, lite, tiny
// or flash-lite are "small"; names with opus, large, ultra or pro are
// "large"; anything else is "medium". The sizes mirror EcoLogits' own
// estimates for models of each tier (gpt-4o-mini, a 70B dense model, gpt-4o).
var SizeClasses = map[string]SizeClass{
	"small":  {Name: "small", Params: Params{ActiveMin: 8, ActiveMax: 28, TotalMin: 8, TotalMax: 28}, Doc: "dense 8-28B, as EcoLogits estimates gpt-4o-mini"},
	"medium": {Name: "medium", Params: Params{ActiveMin: 70, ActiveMax: 70, TotalMin: 70, TotalMax: 70}, Doc: "dense 70B, a Llama-3-70B class model"},
	"large":  {Name: "large", Params: Params{ActiveMin: 44, ActiveMax: 132, TotalMin: 440, TotalMax: 440, MoE: true}, Doc: "MoE 440B total, 44-132B active, as EcoLogits estimates gpt-4o"},
}

var (
	smallWords = regexp.MustCompile(`(?i)(mini|nano|small|haiku|lite|tiny)`)
	largeWords = regexp.MustCompile(`(?i)(opus|large|ultra|-pro\b|-pro-)`)
)

// tierWords summarises the size words in a name, for comparing two names.
func tierWords(name string) string {
	return strings.Join(smallWords.FindAllString(name, -1), ",") + "|" + strings.Join(largeWords.FindAllString(name, -1), ",")
}

// classify picks the size class of an unknown model by name.
func classify(model string) (string, Params) {
	if m := paramsInName.FindStringSubmatch(model); m != nil {
		if b, err := strconv.ParseFloat(m[1], 64); err == nil && b > 0 && b < 5000 {
			return "named-" + m[1] + "b", Params{ActiveMin: b, ActiveMax: b, TotalMin: b, TotalMax: b}
		}
	}
	switch {
	case smallWords.MatchString(model):
		return "small", SizeClasses["small"].Params
	case largeWords.MatchString(model):
		return "large", SizeClasses["large"].Params
	}
	return "medium", SizeClasses["medium"].Params
}
