package profile

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/workday"
)

// Profile is one evaluation profile.
type Profile struct {
	// Base names a built-in profile this one starts from; its own keys
	// override the base's.
	Base        string `yaml:"base,omitempty"`
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Timezone of the windows and of the working-day calendar.
	Timezone         string            `yaml:"timezone"`
	Calls            CallRules         `yaml:"calls"`
	Tickets          TicketRules       `yaml:"tickets"`
	SatisfiedRatings []string          `yaml:"satisfied_ratings"`
	Deadlines        Deadlines         `yaml:"deadlines"`
	Targets          map[string]Target `yaml:"targets"`
	Scoring          Scoring           `yaml:"scoring"`
	Calendar         CalendarRules     `yaml:"calendar"`
	Alerting         Alerting          `yaml:"alerting"`
	Staffing         Staffing          `yaml:"staffing"`
	QA               QA                `yaml:"qa"`
	// AgentSessionTimeout ends an agent's session that has had no event
	// for this long at its last event (revision 1.2; 0: the default, 12h).
	AgentSessionTimeout time.Duration `yaml:"agent_session_timeout"`
	// AgentTeams gives the team (班组 or 外包单位) of an agent whose
	// agent.logged_in names none.
	AgentTeams map[string]string `yaml:"agent_teams"`

	// Citizen needs (revision 1.2). TopicsFile names the topic code table
	// (CSV code,name,parent or a YAML list; relative to the profile file,
	// or to pipelines/ for a built-in profile); TopicTable is it loaded
	// (nil: no table, every code its own level 1).
	TopicsFile    string        `yaml:"topics,omitempty"`
	TopicTable    *Topics       `yaml:"-"`
	RepeatCall    RepeatCall    `yaml:"repeat_call"`
	RepeatRequest RepeatRequest `yaml:"repeat_request"`
	Hotspot       Hotspot       `yaml:"hotspot"`
}

// DefaultAgentSessionTimeout is agent_session_timeout when a profile sets
// none.
const DefaultAgentSessionTimeout = 12 * time.Hour

// SessionTimeout returns the profile's agent_session_timeout.
func (p *Profile) SessionTimeout() time.Duration {
	if p.AgentSessionTimeout == 0 {
		return DefaultAgentSessionTimeout
	}
	return p.AgentSessionTimeout
}

// QA sets the quality-inspection indicators (质检, revision 1.2).
type QA struct {
	// PassPercent: an evaluation without `passed` and without an automatic
	// fail passes at this percent of its maximum score or more.
	PassPercent float64 `yaml:"pass_percent"`
}

// Staffing sets the Erlang C model of the staffing indicators and of
// `hotlineqc staffing` (indicators.md, revision 1.2).
type Staffing struct {
	// Interval is the staffing window: 15m, 30m or hour.
	Interval string `yaml:"interval"`
	// DefaultAHT is the handle time of a window whose answered calls have
	// none.
	DefaultAHT time.Duration `yaml:"default_aht"`
	// MaxOccupancy, when set (0 < x ≤ 1), also bounds the occupancy A/N of
	// the required agents.
	MaxOccupancy float64 `yaml:"max_occupancy"`
}

// StaffingIntervals are the allowed staffing windows and their lengths.
var StaffingIntervals = map[string]time.Duration{"15m": 15 * time.Minute, "30m": 30 * time.Minute, "hour": time.Hour}

// Alerting shapes the Prometheus rules generated from the profile.
type Alerting struct {
	// SLAIndicators are the call rates alerted on by burn rate.
	SLAIndicators []string `yaml:"sla_indicators"`
	// QAIndicators are the quality-inspection rates alerted on when their
	// last seven days miss the target (质检, revision 1.2).
	QAIndicators []string `yaml:"qa_indicators"`
	// MinVolume is the least denominator (calls) in an alert's long window:
	// below it the rate means nothing and nobody is paged.
	MinVolume int `yaml:"min_volume"`
	// BusinessHours, when enabled, lets rate alerts fire only in these
	// local hours (on Monday to Friday with WeekdaysOnly).
	BusinessHours struct {
		Enabled      bool `yaml:"enabled"`
		StartHour    int  `yaml:"start_hour"`
		EndHour      int  `yaml:"end_hour"`
		WeekdaysOnly bool `yaml:"weekdays_only"`
	} `yaml:"business_hours"`
	// DispatchBacklog alerts when more tickets wait for dispatch.
	DispatchBacklog int `yaml:"dispatch_backlog"`
}

// CallRules are the call-indicator variants.
type CallRules struct {
	ServiceLevel ServiceLevel `yaml:"service_level"`
	// ShortAbandonSeconds: abandons with a wait below it are short abandons.
	ShortAbandonSeconds float64 `yaml:"short_abandon_seconds"`
	// ExcludeShortAbandons removes short abandons from calls_offered and
	// calls_abandoned.
	ExcludeShortAbandons bool `yaml:"exclude_short_abandons"`
}

// Service-level denominators.
const (
	DenomAnswered                  = "answered"
	DenomOffered                   = "offered"
	DenomOfferedMinusShortAbandons = "offered_minus_short_abandons"
)

// ServiceLevel defines answered_within_15s_rate.
type ServiceLevel struct {
	ThresholdSeconds float64 `yaml:"threshold_seconds"`
	Denominator      string  `yaml:"denominator"`
}

// Windows of on_time_closure_rate.
const (
	ByDeadline = "deadline"
	ByReply    = "reply"
)

// Starts of the resolve clock (indicators.md v1.1, decision 1).
const (
	// LatestDispatch: the clock runs from the dispatch that gave the
	// ticket to the department holding it; a re-dispatch starts a new one.
	LatestDispatch = "latest_dispatch"
	// FirstDispatch: the clock runs from the first dispatch (the
	// requester's view); a re-dispatch does not restart it.
	FirstDispatch = "first_dispatch"
)

// TicketRules are the ticket-indicator variants.
type TicketRules struct {
	OnTimeClosure struct {
		WindowBy string `yaml:"window_by"`
	} `yaml:"on_time_closure"`
	// WrittenResponse is the first-response limit per written channel.
	WrittenResponse map[string]Rule `yaml:"written_response"`
	// ResolveClock is where the resolve clock starts: LatestDispatch
	// (default) or FirstDispatch.
	ResolveClock string `yaml:"resolve_clock"`
}

// Rule is a time limit: "5wd", "24h", "30m", or {unit: wd, amount: 5}.
type Rule struct{ event.Limit }

// UnmarshalYAML accepts the compact string form and the {unit, amount} form.
func (r *Rule) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if n.Kind == yaml.ScalarNode {
		if err := n.Decode(&s); err != nil {
			return err
		}
	} else {
		var m struct {
			Unit   string `yaml:"unit"`
			Amount int    `yaml:"amount"`
		}
		dec := n
		if err := decodeStrict(dec, &m); err != nil {
			return err
		}
		s = fmt.Sprint(m.Amount) + m.Unit
	}
	l, err := event.ParseLimit(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	r.Limit = l
	return nil
}

// MarshalYAML writes the compact form.
func (r Rule) MarshalYAML() (any, error) { return r.String(), nil }

// ByUrgency holds one limit per urgency.
type ByUrgency struct {
	Normal Rule `yaml:"normal"`
	Urgent Rule `yaml:"urgent"`
}

// Deadlines are the deadline rules of ticket handling.
type Deadlines struct {
	Dispatch ByUrgency `yaml:"dispatch"`
	Accept   ByUrgency `yaml:"accept"`
	Contact  ByUrgency `yaml:"contact"`
	Resolve  struct {
		ByUrgency  `yaml:",inline"`
		ByCategory map[string]ByUrgency `yaml:"by_category"`
	} `yaml:"resolve"`
}

// ResolveLimit returns the resolve limit of a category and urgency.
func (d Deadlines) ResolveLimit(c event.Category, u event.Urgency) event.Limit {
	r := d.Resolve.ByUrgency
	if bc, ok := d.Resolve.ByCategory[c.String()]; ok {
		if l := pick(bc, u); !l.IsZero() {
			return l
		}
	}
	return pick(r, u) // a category without a rule (for its urgency) falls back
}

// Limit returns the limit of a ByUrgency for urgency u.
func pick(r ByUrgency, u event.Urgency) event.Limit {
	if u == event.UrgencyUrgent {
		return r.Urgent.Limit
	}
	return r.Normal.Limit
}

// For returns the limit of r for urgency u.
func (r ByUrgency) For(u event.Urgency) event.Limit { return pick(r, u) }

// Target is a goal for an indicator's value.
type Target struct {
	Op    string  `yaml:"op" json:"op"` // ">=" or "<="
	Value float64 `yaml:"value" json:"value"`
}

// Met reports whether v meets the target.
func (t Target) Met(v float64) bool {
	if t.Op == "<=" {
		return v <= t.Value
	}
	return v >= t.Value
}

// Scoring rules of the monthly department evaluation (考核).
type Scoring struct {
	Items []ScoreItem `yaml:"items"`
}

// Scoring rule names.
const (
	LinearBelowTarget = "linear_below_target"
	Threshold         = "threshold"
	PenaltyPerCount   = "penalty_per_count"
)

// ScoreItem is one weighted item of the department score.
type ScoreItem struct {
	Indicator string  `yaml:"indicator"`
	Rule      string  `yaml:"rule"`
	Points    float64 `yaml:"points"`
	// Step: points lost per percentage point below target (linear_below_target).
	Step float64 `yaml:"step"`
	// Floor: the least points of a linear item.
	Floor float64 `yaml:"floor"`
	// Penalty: points lost per counted event (penalty_per_count).
	Penalty float64 `yaml:"penalty"`
}

// CalendarRules override the statutory calendar for one centre.
type CalendarRules struct {
	Workdays []string `yaml:"workdays"` // extra working days, YYYY-MM-DD
	Holidays []string `yaml:"holidays"` // extra days off, YYYY-MM-DD
}

// Location returns the profile's time zone.
func (p *Profile) Location() *time.Location {
	loc, err := time.LoadLocation(p.Timezone)
	if err != nil {
		return time.UTC // unreachable for a validated profile
	}
	return loc
}

// NewCalendar returns the working-day calendar of the profile, with its
// overrides and any extra ones.
func (p *Profile) NewCalendar(extra ...CalendarRules) (*workday.Calendar, error) {
	o := map[workday.Day]bool{}
	for _, c := range append([]CalendarRules{p.Calendar}, extra...) {
		for _, set := range []struct {
			days []string
			work bool
		}{{c.Workdays, true}, {c.Holidays, false}} {
			for _, s := range set.days {
				d, err := workday.ParseDay(s)
				if err != nil {
					return nil, err
				}
				o[d] = set.work
			}
		}
	}
	return workday.New(p.Location(), o), nil
}

// Satisfied returns the satisfied-rating set as a lookup table.
func (p *Profile) Satisfied() [8]bool {
	var s [8]bool
	for _, name := range p.SatisfiedRatings {
		if r, ok := event.ParseRating(name); ok {
			s[r] = true
		}
	}
	return s
}

// Validate checks every setting and returns all problems with their keys.
func (p *Profile) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if p.ID == "" {
		add("id", "must be set")
	}
	if _, err := time.LoadLocation(p.Timezone); err != nil || p.Timezone == "" {
		add("timezone", "unknown time zone %q", p.Timezone)
	}
	sl := p.Calls.ServiceLevel
	if sl.ThresholdSeconds <= 0 {
		add("calls.service_level.threshold_seconds", "must be positive")
	}
	switch sl.Denominator {
	case DenomAnswered, DenomOffered, DenomOfferedMinusShortAbandons:
	default:
		add("calls.service_level.denominator", "%q: want answered, offered or offered_minus_short_abandons", sl.Denominator)
	}
	if p.Calls.ShortAbandonSeconds < 0 {
		add("calls.short_abandon_seconds", "must not be negative")
	}
	if w := p.Tickets.OnTimeClosure.WindowBy; w != ByDeadline && w != ByReply {
		add("tickets.on_time_closure.window_by", "%q: want deadline or reply", w)
	}
	if p.Tickets.ResolveClock == "" {
		p.Tickets.ResolveClock = LatestDispatch // profiles written before v1.1
	}
	if c := p.Tickets.ResolveClock; c != LatestDispatch && c != FirstDispatch {
		add("tickets.resolve_clock", "%q: want latest_dispatch or first_dispatch", c)
	}
	for ch, r := range p.Tickets.WrittenResponse {
		if c := channelOf(ch); !c.Written() {
			add("tickets.written_response."+ch, "not a written channel (sms, web, wechat, app, email)")
		}
		if r.IsZero() {
			add("tickets.written_response."+ch, "limit missing")
		}
	}
	if len(p.SatisfiedRatings) == 0 {
		add("satisfied_ratings", "must list at least one rating")
	}
	for _, r := range p.SatisfiedRatings {
		if _, ok := event.ParseRating(r); !ok {
			add("satisfied_ratings", "%q is not a rating", r)
		}
	}
	p.validateAlerting(add)
	if _, ok := StaffingIntervals[p.Staffing.Interval]; !ok {
		add("staffing.interval", "%q: want 15m, 30m or hour", p.Staffing.Interval)
	}
	if p.Staffing.DefaultAHT <= 0 {
		add("staffing.default_aht", "%v: want a duration > 0 such as 240s", p.Staffing.DefaultAHT)
	}
	if v := p.QA.PassPercent; !(v > 0 && v <= 100) {
		add("qa.pass_percent", "%v: want a percentage in (0, 100]", v)
	}
	if p.AgentSessionTimeout < 0 {
		add("agent_session_timeout", "%v: want a duration > 0 such as 12h", p.AgentSessionTimeout)
	}
	if p.RepeatCall.Window <= 0 {
		add("repeat_call.window", "%v: want a look-back such as 7d", time.Duration(p.RepeatCall.Window))
	}
	if p.RepeatCall.MinGap < 0 || p.RepeatCall.MinGap > p.RepeatCall.Window {
		add("repeat_call.min_gap", "%v: want 0s up to the window", time.Duration(p.RepeatCall.MinGap))
	}
	if p.RepeatRequest.Window <= 0 {
		add("repeat_request.window", "%v: want a look-back such as 30d", time.Duration(p.RepeatRequest.Window))
	}
	if l := p.RepeatRequest.Level; l < 1 || l > 3 {
		add("repeat_request.level", "%d: want 1, 2 or 3", l)
	}
	if l := p.Hotspot.Level; l < 1 || l > 3 {
		add("hotspot.level", "%d: want 1, 2 or 3", l)
	}
	if p.Hotspot.BaselineDays < 1 {
		add("hotspot.baseline_days", "%d: want 1 or more days", p.Hotspot.BaselineDays)
	}
	if p.Hotspot.MinCount < 1 {
		add("hotspot.min_count", "%d: want 1 or more tickets", p.Hotspot.MinCount)
	}
	if b := p.Hotspot.BaselineBy; b != BaselineAllDays && b != BaselineDayType {
		add("hotspot.baseline_by", "%q: want %s or %s", b, BaselineAllDays, BaselineDayType)
	}
	if p.Hotspot.Z < 0 {
		add("hotspot.z", "%v: want 0 or more", p.Hotspot.Z)
	}
	if m := p.Staffing.MaxOccupancy; m < 0 || m > 1 {
		add("staffing.max_occupancy", "%v: want 0 (no cap) or a share in (0, 1]", m)
	}
	p.validateDeadlines(add)
	p.validateTargets(add)
	p.validateScoring(add)
	if _, err := p.NewCalendar(); err != nil {
		add("calendar", "%v", err)
	}
	return errors.Join(errs...)
}

func (p *Profile) validateAlerting(add func(string, string, ...any)) {
	a := p.Alerting
	for _, id := range a.SLAIndicators {
		ind, ok := lookup(id)
		if _, hasTarget := p.Targets[id]; !ok || ind.Kind != Rate || ind.Entity != Calls || !hasTarget {
			add("alerting.sla_indicators", "%q is not a call rate with a target", id)
		}
	}
	for _, id := range a.QAIndicators {
		ind, ok := lookup(id)
		if _, hasTarget := p.Targets[id]; !ok || ind.Kind != Rate || !hasTarget {
			add("alerting.qa_indicators", "%q is not a rate with a target", id)
		}
	}
	if a.MinVolume < 0 || a.DispatchBacklog < 0 {
		add("alerting", "min_volume and dispatch_backlog must not be negative")
	}
	bh := a.BusinessHours
	if bh.Enabled && (bh.StartHour < 0 || bh.EndHour > 24 || bh.StartHour >= bh.EndHour) {
		add("alerting.business_hours", "want 0 ≤ start_hour < end_hour ≤ 24")
	}
}

func (p *Profile) validateDeadlines(add func(string, string, ...any)) {
	d := p.Deadlines
	for _, kv := range [...]struct {
		key string
		r   ByUrgency
	}{{"dispatch", d.Dispatch}, {"accept", d.Accept}, {"contact", d.Contact}, {"resolve", d.Resolve.ByUrgency}} {
		if kv.r.Normal.IsZero() || kv.r.Urgent.IsZero() {
			add("deadlines."+kv.key, "needs both normal and urgent limits")
		}
	}
	for _, c := range slices.Sorted(maps.Keys(d.Resolve.ByCategory)) {
		r := d.Resolve.ByCategory[c]
		if categoryOf(c) == event.CategoryNone {
			add("deadlines.resolve.by_category."+c, "unknown category")
		}
		if r.Normal.IsZero() || r.Urgent.IsZero() {
			add("deadlines.resolve.by_category."+c, "needs both normal and urgent limits")
		}
	}
}

func (p *Profile) validateTargets(add func(string, string, ...any)) {
	for _, id := range sortedKeys(p.Targets) {
		t := p.Targets[id]
		ind, ok := lookup(id)
		switch {
		case !ok:
			add("targets."+id, "unknown indicator")
		case ind.Kind != Rate:
			add("targets."+id, "targets apply to rates only")
		case ind.Target != nil && t.Op != ind.Target.Op && (t.Op == ">=" || t.Op == "<="):
			add("targets."+id+".op", "%q: %s is better %s, so its target is %s", t.Op, id, ind.Better(), ind.Target.Op)
		}
		if t.Op != ">=" && t.Op != "<=" {
			add("targets."+id+".op", "%q: want >= or <=", t.Op)
		}
		if t.Value < 0 || t.Value > 1 {
			add("targets."+id+".value", "%v: a rate target lies in [0, 1]", t.Value)
		}
	}
}

func (p *Profile) validateScoring(add func(string, string, ...any)) {
	for i, it := range p.Scoring.Items {
		key := fmt.Sprintf("scoring.items[%d]", i)
		if _, ok := lookup(it.Indicator); !ok {
			add(key+".indicator", "unknown indicator %q", it.Indicator)
		}
		if it.Points <= 0 {
			add(key+".points", "must be positive")
		}
		switch it.Rule {
		case LinearBelowTarget, Threshold:
			if _, ok := p.Targets[it.Indicator]; !ok {
				add(key+".rule", "%s needs a target for %s", it.Rule, it.Indicator)
			}
			if it.Rule == LinearBelowTarget && (it.Step <= 0 || it.Floor < 0 || it.Floor > it.Points) {
				add(key, "linear_below_target needs step > 0 and 0 ≤ floor ≤ points")
			}
		case PenaltyPerCount:
			if it.Penalty <= 0 {
				add(key+".penalty", "must be positive")
			}
		default:
			add(key+".rule", "%q: want linear_below_target, threshold or penalty_per_count", it.Rule)
		}
	}
}

func channelOf(s string) event.Channel {
	for c := event.ChannelVoice; c <= event.ChannelOther; c++ {
		if c.String() == s {
			return c
		}
	}
	return event.ChannelNone
}

func categoryOf(s string) event.Category {
	for c := event.CategoryConsultation; c <= event.CategoryPraise; c++ {
		if c.String() == s {
			return c
		}
	}
	return event.CategoryNone
}

// WrittenLimit returns the first-response limit of a written channel.
func (p *Profile) WrittenLimit(c event.Channel) (event.Limit, bool) {
	r, ok := p.Tickets.WrittenResponse[c.String()]
	return r.Limit, ok
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
