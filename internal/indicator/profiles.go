package indicator

import (
	"time"

	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/workday"
)

// Profiles is what an engine evaluates against: the profile, calendar and
// time zone of each centre (profiles.by_center, default for the rest).
type Profiles struct {
	set *profile.Set
	def *centre
	by  map[string]*centre // nil: every centre has the default
	all []*centre          // distinct, the default first; index = centre.idx
}

// centre is one profile in the form the hot path uses.
type centre struct {
	idx       int
	p         *profile.Profile
	cal       *workday.Calendar
	loc       *time.Location
	rules     rules
	satisfied [8]bool
}

// Single is one profile and calendar for every centre.
func Single(p *profile.Profile, cal *workday.Calendar) *Profiles {
	c := newCentre(0, p, cal)
	return &Profiles{set: profile.Single(p), def: c, all: []*centre{c}}
}

// NewProfiles builds each profile's calendar, with the extra overrides
// applied to every one.
func NewProfiles(set *profile.Set, extra ...profile.CalendarRules) (*Profiles, error) {
	ps := &Profiles{set: set}
	byProfile := map[*profile.Profile]*centre{}
	for i, p := range set.Profiles() {
		cal, err := p.NewCalendar(extra...)
		if err != nil {
			return nil, err
		}
		byProfile[p] = newCentre(i, p, cal)
		ps.all = append(ps.all, byProfile[p])
	}
	ps.def = byProfile[set.Default]
	if set.Mixed() {
		ps.by = map[string]*centre{}
		for c, p := range set.ByCenter {
			ps.by[c] = byProfile[p]
		}
	}
	return ps, nil
}

func newCentre(idx int, p *profile.Profile, cal *workday.Calendar) *centre {
	sl := p.Calls.ServiceLevel
	r := rules{
		slThresholdMs:  int64(sl.ThresholdSeconds * 1000),
		shortAbandonMs: int64(p.Calls.ShortAbandonSeconds * 1000),
		excludeShort:   p.Calls.ExcludeShortAbandons,
		closureByReply: p.Tickets.OnTimeClosure.WindowBy == profile.ByReply,
		firstDispatch:  p.Tickets.ResolveClock == profile.FirstDispatch,
		passPercent:    p.QA.PassPercent,
	}
	switch sl.Denominator {
	case profile.DenomOffered:
		r.slDenominator = denomOffered
	case profile.DenomOfferedMinusShortAbandons:
		r.slDenominator = denomOfferedMinusShort
	}
	return &centre{idx: idx, p: p, cal: cal, loc: cal.Location(), rules: r, satisfied: p.Satisfied()}
}

// of returns a centre's profile.
func (ps *Profiles) of(center string) *centre {
	if c, ok := ps.by[center]; ok {
		return c
	}
	return ps.def
}

// Set returns the profiles by centre.
func (ps *Profiles) Set() *profile.Set { return ps.set }

// For returns the profile of a centre.
func (ps *Profiles) For(center string) *profile.Profile { return ps.of(center).p }

// Mixed reports whether centres have different profiles: then an engine
// keeps every aggregate by centre, to know each one's time zone and
// targets.
func (ps *Profiles) Mixed() bool { return ps.by != nil }
