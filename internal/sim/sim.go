package sim

import (
	"container/heap"
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/workday"
)

// Event is one generated event, encoded as JSON.
type Event struct {
	Ticket bool   // a ticket event
	Agent  bool   // an agent event (else a call event)
	Key    string // call_id, ticket_id or agent_id: the Kafka message key
	TS     int64  // Unix milliseconds
	JSON   []byte
}

// Sink receives events in time order.
type Sink func(Event) error

// Pacer holds the simulation back to a pace; nil runs as fast as possible.
type Pacer interface {
	// Wait returns when simulated time simMs may be emitted.
	Wait(ctx context.Context, simMs int64) error
}

// action is a scheduled step of the simulation.
type action struct {
	at  int64
	seq uint64
	fn  func()
}

type agenda []action

func (a agenda) Len() int { return len(a) }
func (a agenda) Less(i, j int) bool {
	return a[i].at < a[j].at || (a[i].at == a[j].at && a[i].seq < a[j].seq)
}
func (a agenda) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *agenda) Push(x any)   { *a = append(*a, x.(action)) }
func (a *agenda) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

// Sim is one run of the simulation.
type Sim struct {
	cfg   Config
	rules profile.Deadlines
	// latestClock: the resolve clock restarts with a re-dispatch
	// (tickets.resolve_clock), for the ground truth.
	latestClock bool
	cal         *workday.Calendar
	rng         *rand.Rand
	// qa draws the quality inspection apart from rng, so that turning it
	// on or off leaves every other event as it was.
	qa *rand.Rand
	// nd draws the citizen needs (callers who call again, topics, areas,
	// surges), apart from rng for the same reason.
	nd    *rand.Rand
	qaIDs int
	now   int64
	end   int64
	seq   uint64
	todo  agenda
	sink  Sink
	err   error
	truth Truth
	ids   int
	inj   *injector // nil without Config.Inject
}

// New prepares a simulation. The profile's deadline rules and calendar let
// the simulation record which tickets it made late.
func New(cfg Config, p *profile.Profile, cal *workday.Calendar) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Sim{cfg: cfg, rules: p.Deadlines, latestClock: p.Tickets.ResolveClock != profile.FirstDispatch, cal: cal, rng: rand.New(rand.NewPCG(cfg.Seed, 0x12345)),
		qa: rand.New(rand.NewPCG(cfg.Seed, 0x9a)), nd: rand.New(rand.NewPCG(cfg.Seed, 0x12d)),
		now: cfg.Start.UnixMilli(), end: cfg.Start.Add(cfg.Span).UnixMilli()}
	if len(cfg.Inject) > 0 {
		s.inj = newInjector(s)
	}
	for i := range cfg.Centers {
		c := newCenter(s, &cfg.Centers[i])
		c.start()
		if s.inj != nil {
			s.inj.start(c)
		}
	}
	return s, nil
}

// at schedules fn at instant ms (not before now).
func (s *Sim) at(ms int64, fn func()) {
	s.seq++
	heap.Push(&s.todo, action{at: max(ms, s.now), seq: s.seq, fn: fn})
}

// Run emits every event up to the end of the span, in time order, and
// returns the ground truth of what it emitted.
func (s *Sim) Run(ctx context.Context, sink Sink, pace Pacer) (Truth, error) {
	s.sink = sink
	for s.todo.Len() > 0 && s.err == nil {
		a := heap.Pop(&s.todo).(action)
		if a.at >= s.end {
			break
		}
		if err := ctx.Err(); err != nil {
			return s.truth, err
		}
		if pace != nil {
			if err := pace.Wait(ctx, a.at); err != nil {
				return s.truth, err
			}
		}
		s.now = a.at
		a.fn()
	}
	s.truth.finish(s)
	return s.truth, s.err
}

// Now returns the simulated time of the last step, Unix ms.
func (s *Sim) Now() int64 { return s.now }

// exp draws an exponential duration with the given mean, in ms.
func (s *Sim) exp(mean time.Duration) int64 {
	return int64(s.rng.ExpFloat64() * float64(mean.Milliseconds()))
}

// uniform draws a duration in [lo, hi), in ms.
func (s *Sim) uniform(lo, hi time.Duration) int64 {
	return lo.Milliseconds() + s.rng.Int64N(max(hi.Milliseconds()-lo.Milliseconds(), 1))
}

// lognormal draws a positive duration with the given median and spread.
func (s *Sim) lognormal(median time.Duration, sigma float64) int64 {
	return int64(float64(median.Milliseconds()) * math.Exp(sigma*s.rng.NormFloat64()))
}

func (s *Sim) chance(p float64) bool { return s.rng.Float64() < p }

// diurnal is the relative call volume by local hour.
var diurnal = [24]float64{0.05, 0.03, 0.02, 0.02, 0.03, 0.06, 0.15, 0.35, 0.7, 0.95, 1.0, 0.95,
	0.7, 0.75, 0.9, 0.95, 0.9, 0.75, 0.55, 0.45, 0.35, 0.25, 0.15, 0.08}

// load is the relative volume at instant ms: the daily curve, lower on
// days off (weekends, statutory holidays) and higher on make-up days.
func (s *Sim) load(ms int64) float64 {
	t := time.UnixMilli(ms).In(s.cal.Location())
	f := diurnal[t.Hour()]
	if !s.cal.IsWorkday(s.cal.DayAt(ms)) {
		f *= 0.55
	}
	return f
}

// poisson schedules fn at the arrivals of a Poisson process whose rate is
// peakPerHour × load(t), by thinning.
func (s *Sim) poisson(peakPerHour float64, fn func()) {
	var next func()
	next = func() {
		gap := int64(s.rng.ExpFloat64() * 3600_000 / peakPerHour)
		s.at(s.now+gap, func() {
			if s.rng.Float64() < s.load(s.now) {
				fn()
			}
			next()
		})
	}
	next()
}

// poissonFlat schedules fn at the arrivals of a Poisson process of a
// constant rate.
func (s *Sim) poissonFlat(perHour float64, fn func()) {
	var next func()
	next = func() {
		s.at(s.now+int64(s.rng.ExpFloat64()*3600_000/perHour), func() {
			fn()
			next()
		})
	}
	next()
}

func (s *Sim) nextID(prefix string) string {
	s.ids++
	return prefix + itoa(s.cfg.Seed) + "-" + itoa(uint64(s.ids))
}
