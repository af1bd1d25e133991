// Package profile is an evaluation profile: the definitions, variants,
// targets, deadline rules and scoring a hotline centre is judged by
// (docs/spec/indicators.md), decoded strictly from YAML. The default
// profile gbt33358-2016 and the jurisdiction profiles live in pipelines/.
package profile

import "strconv"

// Kind is how an indicator's value is formed.
type Kind uint8

// Indicator kinds.
const (
	Count Kind = iota + 1 // value only
	Rate                  // numerator ÷ denominator
	Mean                  // total ÷ count
)

// Entity is what an indicator is computed from: each contribution is one
// entity's, with that entity's dimensions.
type Entity uint8

// Indicator entities.
const (
	Calls Entity = iota + 1
	Tickets
	Agents // agent sessions (revision 1.2)
)

// Unit is what an indicator's value measures. Means are summed in
// milliseconds; Scale converts a stored amount to the unit.
type Unit uint8

// Indicator units.
const (
	Number      Unit = iota + 1 // calls, tickets: a count
	Ratio                       // a rate, 0..1
	Seconds                     // a mean duration, summed in ms
	WorkingDays                 // a mean working time, summed in working ms
	Percent                     // a mean percentage (0..100), summed in millionths of a point
)

// Scale converts a stored numerator amount to the unit.
func (u Unit) Scale(v int64) float64 {
	switch u {
	case Seconds:
		return float64(v) / 1000
	case WorkingDays:
		return float64(v) / 86_400_000
	case Percent:
		return float64(v) / 1e6
	}
	return float64(v)
}

// Indicator describes one indicator: what profiles, reports, metrics and
// dashboards know of it. Each is declared once, with the function that
// counts it, in the indicator package's catalogue (indicator.Catalogue).
type Indicator struct {
	ID     string
	Name   string // 中文名称, for reports and dashboards
	Kind   Kind
	Entity Entity
	Unit   Unit
	// Anchor is the instant that places a contribution in its window
	// (the spec's "window by"), for the documentation.
	Anchor string
	// Target is the default target of the specification (the built-in
	// profile gbt33358-2016 carries it); nil when there is none. A rate's
	// profile target must point the same way.
	Target *Target
}

// Better reports whether a higher value is better: a rate whose default
// target is "<=" (abandon, return, reopen) is better lower.
func (ind Indicator) Better() string {
	if ind.Target != nil && ind.Target.Op == "<=" {
		return "lower"
	}
	return "higher"
}

// catalogue looks an indicator up in the indicator package's catalogue,
// which installs it at start-up (UseCatalogue): profiles name indicators,
// the indicator package declares them and counts them. Until it is
// installed no indicator is known, so a profile naming one fails to load
// rather than loading unchecked.
var catalogue func(id string) (Indicator, bool)

// UseCatalogue sets the catalogue profiles are checked against.
func UseCatalogue(lookup func(id string) (Indicator, bool)) { catalogue = lookup }

// lookup returns the indicator with the given id.
func lookup(id string) (Indicator, bool) {
	if catalogue == nil {
		return Indicator{}, false
	}
	return catalogue(id)
}

// ServiceLevel is the id of the service-level indicator. The id keeps "15s"
// whatever the profile's threshold (ids are an API); its name and every
// output that shows it state the threshold (indicators.md v1.1, decision 14).
const ServiceLevelID = "answered_within_15s_rate"

// IndicatorName returns the Chinese name of indicator id under p: the
// service level is named with p's threshold (20秒接通率 for 20 s).
func (p *Profile) IndicatorName(id string) string {
	if id == ServiceLevelID {
		return strconv.FormatFloat(p.Calls.ServiceLevel.ThresholdSeconds, 'f', -1, 64) + "秒接通率"
	}
	ind, _ := lookup(id)
	return ind.Name
}
