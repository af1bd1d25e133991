package sim

// Truth is what the simulation did, recorded as it generated: the figures
// an evaluation of its output must reproduce.
type Truth struct {
	Events                  int `json:"events"`
	CallsArrived            int `json:"calls_arrived"`
	IVROnly                 int `json:"ivr_only"`
	CallsOffered            int `json:"calls_offered"`
	CallsAnswered           int `json:"calls_answered"`
	CallsAbandoned          int `json:"calls_abandoned"`
	AnsweredWithin15s       int `json:"answered_within_15s"`
	TicketsCreated          int `json:"tickets_created"`
	TicketsResolvedOnIntake int `json:"tickets_resolved_on_intake"`
	TicketsDispatched       int `json:"tickets_dispatched"`
	// Of the dispatched tickets whose resolve deadline had passed by the end
	// or that were replied: replied on time, replied late, still open late.
	RepliedOnTime int `json:"replied_on_time"`
	RepliedLate   int `json:"replied_late"`
	OverdueOpen   int `json:"overdue_open"`
	// Injected lists, by audit class, the calls and tickets injected with
	// a records fault (Config.Inject) whose fault shows as of the end of
	// the run. They are not in the figures above.
	Injected map[string][]string `json:"injected,omitempty"`

	open map[*ticket]struct{}
}

func (t *Truth) due(k *ticket) {
	if t.open == nil {
		t.open = map[*ticket]struct{}{}
	}
	t.open[k] = struct{}{}
}

func (t *Truth) replied(k *ticket) {
	delete(t.open, k)
	if k.replied <= k.due {
		t.RepliedOnTime++
	} else {
		t.RepliedLate++
	}
}

// finish counts the tickets still unreplied whose deadline has passed by
// the end of the run.
func (t *Truth) finish(s *Sim) {
	if s.inj != nil {
		t.Injected = s.inj.finish(s.end)
	}
	for k := range t.open {
		if k.due < s.end {
			t.OverdueOpen++
		}
	}
}
