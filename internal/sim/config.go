// Package sim generates realistic, seeded hotline traffic: calls arriving
// on a daily curve (quieter at night, on weekends and holidays), waiting in
// queues for agents who work shifts, abandoning when their patience runs
// out; tickets from calls and written channels, handled by departments
// that differ in speed and in how often they return tickets, with
// callbacks and reopens. It is a discrete-event simulation, so events come
// out in time order, and it keeps its own ground truth as it goes.
package sim

import (
	"errors"
	"fmt"
	"time"
)

// Config describes the traffic to generate.
type Config struct {
	Seed    uint64
	Start   time.Time     // simulated start
	Span    time.Duration // simulated duration
	Centers []Center
	// Inject adds calls and tickets with a records fault, per centre and
	// day, by audit class (see InjectableClasses); the truth lists them.
	Inject map[string]float64
	// Agents makes the agents visible (revision 1.2): agent.* events for
	// signing in and out at the shift changes, breaks and meals (示忙, when
	// an agent takes no call), busy, wrap-up and ready around each call.
	// Breaks make fewer agents ready, so the calls wait longer.
	Agents bool
	// Surges multiply a topic's share of the requests on a day (hot spots,
	// revision 1.2).
	Surges []Surge
}

// Center is one hotline centre.
type Center struct {
	ID string
	// PeakCallsPerHour is the call arrival rate at the busiest hour of a
	// working day.
	PeakCallsPerHour float64
	Queues           []Queue
	// TicketFromCall is the share of answered calls that become a ticket.
	TicketFromCall float64
	// WrittenPerHour is the peak arrival rate of written-channel requests
	// (sms, web, wechat, app, email).
	WrittenPerHour float64
	// IntakeFactor scales each category's share of requests answered on
	// intake (一次办结); 0 means 1.
	IntakeFactor float64
	Departments  []Department
	// QA is the centre's quality inspection (质检): the share of answered
	// calls and of closed tickets scored, days later; every call rated
	// dissatisfied is scored too (差评必检). Zero: none.
	QA QA
	// Erlang, when set, runs the centre under the assumptions of the
	// Erlang C model, with handle times exponential of this mean: a
	// constant Poisson arrival rate (PeakCallsPerHour), no IVR, infinite
	// patience, no hold, transfer, wrap-up, rating or ticket, every agent
	// (DayAgents of each queue) on duty around the clock without breaks.
	// A check of the simulator's realism against the model.
	Erlang time.Duration
}

// QA is a centre's quality-inspection practice.
type QA struct {
	CallShare, TicketShare float64
}

// Queue is a skill queue with its agents.
type Queue struct {
	Name        string
	Share       float64 // share of offered calls
	DayAgents   int     // agents on the 08:00–20:00 shift
	NightAgents int     // agents on the 20:00–08:00 shift
}

// Department handles dispatched tickets.
type Department struct {
	ID string
	// ResolveWorkdays is the mean handling time in working days.
	ResolveWorkdays float64
	// AcceptHours and ContactHours are mean delays after dispatch.
	AcceptHours, ContactHours float64
	// ReturnRate is the probability of sending a ticket back.
	ReturnRate float64
}

// Default returns a plausible configuration: n centres (any number; their
// sizes repeat every five) with three queues and five departments each,
// starting at start for span. Most targets of the default profile are met;
// a few are not (the environment department is slow, the market
// department returns tickets), as in a real month.
func Default(n int, start time.Time, span time.Duration, seed uint64) Config {
	c := Config{Seed: seed, Start: start, Span: span}
	for i := range n {
		scale := 1.0 - 0.2*float64(i%5)
		c.Centers = append(c.Centers, Center{
			ID:               fmt.Sprintf("c%d", 12345+i),
			PeakCallsPerHour: 420 * scale,
			Queues: []Queue{
				{Name: "general", Share: 0.7, DayAgents: int(30*scale) + 2, NightAgents: int(6*scale) + 1},
				{Name: "enterprise", Share: 0.2, DayAgents: int(6*scale) + 1, NightAgents: 1},
				{Name: "elderly", Share: 0.1, DayAgents: 3, NightAgents: 1},
			},
			TicketFromCall: 0.35,
			WrittenPerHour: 60 * scale,
			QA:             QA{CallShare: 0.04, TicketShare: 0.03},
			Departments: []Department{
				{ID: "housing", ResolveWorkdays: 2.0, AcceptHours: 2, ContactHours: 3, ReturnRate: 0.03},
				{ID: "water", ResolveWorkdays: 1.2, AcceptHours: 1, ContactHours: 1.5, ReturnRate: 0.02},
				{ID: "transport", ResolveWorkdays: 2.2, AcceptHours: 3, ContactHours: 5, ReturnRate: 0.03},
				{ID: "market", ResolveWorkdays: 1.8, AcceptHours: 2, ContactHours: 3, ReturnRate: 0.09},
				{ID: "environment", ResolveWorkdays: 3.0, AcceptHours: 6, ContactHours: 10, ReturnRate: 0.03},
			},
		})
	}
	return c
}

// Large returns one large centre (c12345, like the busiest 12345 hotlines:
// 50,000–60,000 calls offered on a working day, its agents and the
// tickets that go with them), for benchmarks and dashboards.
func Large(start time.Time, span time.Duration, seed uint64) Config {
	c := Default(1, start, span, seed)
	const k = 15 // the default first centre offers about 3,400 calls on a working day
	ct := &c.Centers[0]
	ct.PeakCallsPerHour *= k
	ct.WrittenPerHour *= k
	for i := range ct.Queues {
		ct.Queues[i].DayAgents *= k
		ct.Queues[i].NightAgents *= k
	}
	return c
}

// Strained returns n default centres under strain: most requests
// dispatched, departments three times slower, fewer agents. Many targets
// are missed and tickets run late: the traffic for tests of late, overdue
// and returned tickets, and for showing breaches.
func Strained(n int, start time.Time, span time.Duration, seed uint64) Config {
	c := Default(n, start, span, seed)
	for i := range c.Centers {
		ct := &c.Centers[i]
		ct.IntakeFactor = 0.3
		for j := range ct.Queues {
			ct.Queues[j].DayAgents = max(1, ct.Queues[j].DayAgents*3/4)
		}
		for j := range ct.Departments {
			d := &ct.Departments[j]
			d.ResolveWorkdays *= 3
			d.ContactHours *= 3
			d.AcceptHours *= 3
			d.ReturnRate *= 2
		}
	}
	return c
}

// Presets names the configurations the simulate command offers.
var Presets = map[string]func(centers int, start time.Time, span time.Duration, seed uint64) Config{
	"default":  Default,
	"strained": Strained,
	"large": func(_ int, start time.Time, span time.Duration, seed uint64) Config {
		return Large(start, span, seed)
	},
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Span <= 0 {
		errs = append(errs, errors.New("span must be positive"))
	}
	if len(c.Centers) == 0 {
		errs = append(errs, errors.New("at least one centre"))
	}
	for _, ct := range c.Centers {
		if ct.ID == "" || len(ct.Queues) == 0 || len(ct.Departments) == 0 || ct.PeakCallsPerHour <= 0 {
			errs = append(errs, fmt.Errorf("centre %q needs an id, queues, departments and a call rate", ct.ID))
		}
	}
	if err := validateInject(c.Inject); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
