package sim

import (
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/pipelines"
)

// Citizen needs (revision 1.2): callers who call again, the topic and the
// area of every request, and injected surges (hot spots). Drawn from their
// own random source (Sim.nd), after the main one has drawn what it always
// draws, so that every other event stays as it was.

// ExampleTopics is the illustrative topic table the simulator draws from
// (pipelines/topics/example-topics.csv).
const ExampleTopics = "topics/example-topics.csv"

// Surge multiplies a topic's share of the requests created on one local
// day: a hot spot (a burst water main, a late heating season, a scam).
type Surge struct {
	Topic  string    // a code of the example table; its leaves surge
	Day    time.Time // the local day (its date is used)
	Factor float64   // > 1
}

// ParseSurge reads TOPIC@DAY×FACTOR (or x for ×), e.g. 0101@2026-07-15x6.
func ParseSurge(s string) (Surge, error) {
	bad := fmt.Errorf("surge %q: want TOPIC@YYYY-MM-DD×FACTOR, e.g. 0101@2026-07-15x6", s)
	topic, rest, ok := strings.Cut(s, "@")
	if !ok || topic == "" {
		return Surge{}, bad
	}
	rest = strings.Replace(rest, "×", "x", 1)
	day, factor, ok := strings.Cut(rest, "x")
	if !ok {
		return Surge{}, bad
	}
	d, err := time.Parse("2006-01-02", day)
	if err != nil {
		return Surge{}, bad
	}
	f, err := strconv.ParseFloat(factor, 64)
	if err != nil || !(f > 1) {
		return Surge{}, fmt.Errorf("surge %q: the factor must be a number above 1", s)
	}
	return Surge{Topic: topic, Day: d, Factor: f}, nil
}

// areas are the districts requests are about (made up, like the table).
var areas = []string{"东城区", "西城区", "南湖区", "北山区", "新港区", "高新区", "滨江区", "老城区"}

// needs is a centre's callers and topics.
type needs struct {
	recent []string // the last callers, a ring
	next   int
	failed []string // callers whose call was abandoned: likely to call again
	leaves []string // the example table's codes without children
	weight []float64
	cum    float64
	table  *profile.Topics
	// last is each recent caller's last request: a caller who asks again
	// mostly asks about the same matter (a repeat request).
	last map[string]string
}

func newNeeds() *needs {
	b, err := fs.ReadFile(pipelines.Profiles, ExampleTopics)
	if err != nil {
		panic(err) // embedded
	}
	t, err := profile.ParseTopics(ExampleTopics, b)
	if err != nil {
		panic(err) // tested
	}
	n := &needs{recent: make([]string, 0, recentCallers), table: t, last: map[string]string{}}
	for _, code := range t.Codes() {
		if !t.HasChildren(code) {
			n.leaves = append(n.leaves, code)
		}
	}
	// A few topics carry most requests (Zipf-like), in a fixed order that
	// mixes the classes.
	slices.SortFunc(n.leaves, func(a, b string) int { return strings.Compare(a[len(a)-2:]+a, b[len(b)-2:]+b) })
	for i := range n.leaves {
		w := 1 / math.Pow(float64(i+1), 0.8)
		n.weight = append(n.weight, w)
		n.cum += w
	}
	return n
}

const (
	recentCallers = 4000
	failedCallers = 500
	repeatShare   = 0.10 // a new call's caller is a recent one
	retryShare    = 0.06 // ... one whose call was abandoned
)

// caller returns the caller of a new contact: fresh (the main source's
// draw), or one who called before.
func (c *center) caller(fresh string) string {
	s, n := c.s, c.needs
	if c.cfg.Erlang > 0 {
		return fresh
	}
	u := s.nd.Float64()
	who := fresh
	switch {
	case u < retryShare && len(n.failed) > 0:
		i := s.nd.IntN(len(n.failed))
		who = n.failed[i]
		n.failed = slices.Delete(n.failed, i, i+1)
	case u < retryShare+repeatShare && len(n.recent) > 0:
		who = n.recent[s.nd.IntN(len(n.recent))]
	}
	if len(n.recent) < recentCallers {
		n.recent = append(n.recent, who)
	} else {
		n.recent[n.next] = who
		n.next = (n.next + 1) % recentCallers
	}
	return who
}

// abandoned remembers the caller of an abandoned call: some call again.
func (c *center) abandoned(caller string) {
	if n := c.needs; len(n.failed) < failedCallers && caller != "" {
		n.failed = append(n.failed, caller)
	}
}

// sameMatter is the chance that a caller's new request is about the
// matter of their last one.
const sameMatter = 0.6

// topic draws the topic and area of a request by caller: mostly the
// caller's last topic if they asked before, else by popularity; on a
// surge day the surging topic's share is multiplied.
func (c *center) topic(caller string) (code, area string) {
	s, n := c.s, c.needs
	r := s.nd.Float64() * n.cum
	again := s.nd.Float64() < sameMatter
	defer func() {
		if len(n.last) >= 4*recentCallers {
			clear(n.last)
		}
		n.last[caller] = code
	}()
	code = n.leaves[len(n.leaves)-1]
	for i, w := range n.weight {
		if r < w {
			code = n.leaves[i]
			break
		}
		r -= w
	}
	area = areas[s.nd.IntN(len(areas))]
	if prev, ok := n.last[caller]; ok && again {
		code = prev
	}
	day := time.UnixMilli(s.now).In(s.cal.Location()).Format("2006-01-02")
	for _, sg := range s.cfg.Surges {
		if sg.Day.Format("2006-01-02") != day {
			continue
		}
		under := n.under(sg.Topic)
		p := n.share(under)
		if p <= 0 || p >= 1 {
			continue
		}
		// Move requests to the surging topic so that its share is Factor
		// times its usual one: q of the others move.
		if q := (sg.Factor - 1) * p / (1 - p); !slices.Contains(under, code) && s.nd.Float64() < q {
			code = under[s.nd.IntN(len(under))]
		}
	}
	return code, area
}

// under returns the leaves at or under a code.
func (n *needs) under(code string) []string {
	var out []string
	for _, l := range n.leaves {
		for lv := 1; lv <= 3; lv++ {
			if n.table.At(l, lv) == code {
				out = append(out, l)
				break
			}
		}
		if l == code && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// share is the usual share of requests of the leaves.
func (n *needs) share(leaves []string) float64 {
	var w float64
	for i, l := range n.leaves {
		if slices.Contains(leaves, l) {
			w += n.weight[i]
		}
	}
	return w / n.cum
}
