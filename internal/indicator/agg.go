package indicator

import (
	"time"

	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// id is an indicator's index in the engine's tables.
type id uint8

// The indicators the engine computes, in catalogue order.
const (
	callsOffered id = iota
	callsAnswered
	callsAbandoned
	answerRate
	serviceLevel
	abandonRate
	asaSeconds
	avgQueueSeconds
	avgTalkSeconds
	ahtSeconds
	callSatisfaction
	ticketsCreated
	firstContactResolution
	dispatchTimeliness
	acceptanceTimeliness
	responseTimeliness
	writtenResponseTimeliness
	onTimeClosure
	overdueOpen
	avgResolveWorkdays
	returnRate
	reopenRate
	callbackRate
	resolutionRate
	ticketSatisfaction
	numIDs
)

// names, kinds and fams describe each engine id, from the catalogue whose
// order the id constants follow (checked by a test).
var names, kinds, fams = tables()

func tables() (n [numIDs]string, k [numIDs]profile.Kind, f [numIDs]profile.Family) {
	for i, ind := range profile.Indicators() {
		n[i], k[i], f[i] = ind.ID, ind.Kind, ind.Family
	}
	return n, k, f
}

// bucketMs is the finest window: results of every window are sums of
// 15-minute buckets.
const bucketMs = 15 * 60 * 1000

// contrib is what one entity adds to one aggregate cell; an entity keeps its
// contributions so that it can take them back when it changes.
type contrib struct {
	ind    id
	bucket int64 // start of the 15-minute bucket, Unix ms
	dims   uint32
	num    int64
	den    int64
}

type cellKey struct {
	ind    id
	bucket int64
	dims   uint32
}

// cell sums the contributions to one indicator, bucket and dims tuple; n
// counts the contributions, so an emptied cell can be dropped.
type cell struct{ num, den, n int64 }

// store holds the aggregates at the finest grain.
type store struct {
	cells map[cellKey]*cell
	loc   *time.Location
}

func newStore(loc *time.Location) *store {
	return &store{cells: map[cellKey]*cell{}, loc: loc}
}

func (s *store) apply(cs []contrib, sign int64) {
	for i := range cs {
		c := &cs[i]
		k := cellKey{c.ind, c.bucket, c.dims}
		a := s.cells[k]
		if a == nil {
			a = &cell{}
			s.cells[k] = a
		}
		a.num += sign * c.num
		a.den += sign * c.den
		a.n += sign
		if a.n == 0 {
			delete(s.cells, k)
		}
	}
}

// put appends a contribution of entity-level values num and den to ind at
// instant at. Rates and means without a denominator are left out: they say
// nothing about the window.
func (e *Engine) put(out []contrib, ind id, at int64, dims uint32, num, den int64) []contrib {
	if den == 0 && kinds[ind] != profile.Count {
		return out
	}
	return append(out, contrib{ind: ind, bucket: e.bucket(at), dims: dims, num: num, den: den})
}

// bucket returns the bucket of ms, remembering the last one: events of one
// entity and of neighbouring entities mostly share it.
func (e *Engine) bucket(ms int64) int64 {
	if ms >= e.lastBucket && ms < e.lastBucket+bucketMs {
		return e.lastBucket
	}
	e.lastBucket = bucketOf(e.loc, ms)
	return e.lastBucket
}

// bucketOf returns the start of the local 15-minute bucket holding ms.
func bucketOf(loc *time.Location, ms int64) int64 {
	_, off := time.UnixMilli(ms).In(loc).Zone()
	local := ms + int64(off)*1000
	b := local - mod(local, bucketMs)
	return b - int64(off)*1000
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// interner numbers dims tuples.
type interner struct {
	ids    map[string]uint32
	tuples [][]string
}

func newInterner() *interner { return &interner{ids: map[string]uint32{}} }

func (in *interner) id(key string, tuple func() []string) uint32 {
	if v, ok := in.ids[key]; ok {
		return v
	}
	v := uint32(len(in.tuples))
	in.ids[key] = v
	in.tuples = append(in.tuples, tuple())
	return v
}
