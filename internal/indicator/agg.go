package indicator

import (
	"time"

	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// id is an indicator's index in the engine's tables: its place in the
// catalogue (catalogue.go).
type id uint16

// bucketMs is the finest window: results of every window are sums of
// 15-minute buckets.
const bucketMs = 15 * 60 * 1000

// contrib is what one entity adds to one aggregate cell; an entity keeps its
// contributions so that it can take them back when it changes.
type contrib struct {
	key      cellKey
	num, den int64
}

// cellKey packs an indicator id (indBits), a 15-minute bucket index
// (bucketBits: every bucket of 1970..2105, the timestamps the event
// contract accepts) and a dims tuple id (32 bits) into one word, so that
// the aggregate map hashes a single integer.
type cellKey uint64

// The widths of a cellKey's parts: up to 512 indicators (a test checks the
// catalogue fits, and that the contract's last instant has a bucket).
const (
	bucketBits = 23
	indBits    = 64 - 32 - bucketBits
	indShift   = 32 + bucketBits
)

func makeKey(ind id, bucket int64, dims uint32) cellKey {
	return cellKey(uint64(ind)<<indShift | uint64(bucket/bucketMs)<<32 | uint64(dims))
}

func (k cellKey) ind() id       { return id(k >> indShift) }
func (k cellKey) bucket() int64 { return int64(k>>32&(1<<bucketBits-1)) * bucketMs }
func (k cellKey) dims() uint32  { return uint32(k) }

// cell sums the contributions to one indicator, bucket and dims tuple; n
// counts the contributions, so an emptied cell can be dropped.
type cell struct{ num, den, n int64 }

// store holds the aggregates at the finest grain. Cells live in one slice,
// indexed from the map, and are reused once emptied.
type store struct {
	index map[cellKey]int32
	cells []cell
	free  []int32
}

func newStore() *store { return &store{index: map[cellKey]int32{}} }

func (s *store) apply(cs []contrib, sign int64) {
	if s == nil { // an engine without aggregates (WithoutAggregates)
		return
	}
	for i := range cs {
		c := &cs[i]
		at, ok := s.index[c.key]
		if !ok {
			at = s.alloc()
			s.index[c.key] = at
		}
		a := &s.cells[at]
		a.num += sign * c.num
		a.den += sign * c.den
		a.n += sign
		if a.n == 0 {
			delete(s.index, c.key)
			s.free = append(s.free, at)
		}
	}
}

func (s *store) alloc() int32 {
	if n := len(s.free); n > 0 {
		at := s.free[n-1]
		s.free = s.free[:n-1]
		s.cells[at] = cell{}
		return at
	}
	s.cells = append(s.cells, cell{})
	return int32(len(s.cells) - 1)
}

// put appends a contribution of entity-level values num and den to ind at
// instant at. Rates and means without a denominator are left out: they say
// nothing about the window.
func (e *Engine) put(out []contrib, ind id, at int64, dims uint32, num, den int64) []contrib {
	if d := &cat.defs[ind]; den == 0 && d.Kind != profile.Count && d.den == denCount {
		return out // nothing to count (an indicator whose denominator is elsewhere keeps its numerator)
	}
	return append(out, contrib{key: makeKey(ind, e.bucket(at), dims), num: num, den: den})
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
	fams   []profile.Entity
}

func newInterner() *interner { return &interner{ids: map[string]uint32{}} }

func (in *interner) id(f profile.Entity, key string, tuple func() []string) uint32 {
	if v, ok := in.ids[key]; ok {
		return v
	}
	v := uint32(len(in.tuples))
	in.ids[key] = v
	in.tuples = append(in.tuples, tuple())
	in.fams = append(in.fams, f)
	return v
}
