package livestate

import "github.com/bits-and-blooms/bloom/v3"

// known is a set of the calls or tickets of one partition that the store
// may have: a chain of Bloom filters, each twice the size of the one
// before, so that it grows with the partition at a bounded false-positive
// rate. It never forgets and has no false negatives: a call or ticket it
// does not contain has no stored event, so it needs no read.
type known struct {
	filters []*bloom.BloomFilter
	n, cap  uint // elements in the last filter, and its capacity
	key     []byte
}

// falsePositives is the rate of the first filter; each later one halves
// it, so that the whole chain stays below twice this: about 1 % of new
// calls and tickets are looked up in the store for nothing.
const falsePositives = 0.01

func newKnown() *known { return &known{} }

func (k *known) keyOf(center, id string) []byte {
	k.key = append(append(append(k.key[:0], center...), 0), id...)
	return k.key
}

// add records a call or ticket as stored.
func (k *known) add(center, id string) {
	if len(k.filters) == 0 || k.n >= k.cap {
		k.cap = max(2*k.cap, 1<<16)
		k.filters = append(k.filters, bloom.NewWithEstimates(k.cap, falsePositives/float64(uint(1)<<len(k.filters))))
		k.n = 0
	}
	k.filters[len(k.filters)-1].Add(k.keyOf(center, id))
	k.n++
}

// mayHave reports whether the store may have the call or ticket.
func (k *known) mayHave(center, id string) bool {
	key := k.keyOf(center, id)
	for _, f := range k.filters {
		if f.Test(key) {
			return true
		}
	}
	return false
}
