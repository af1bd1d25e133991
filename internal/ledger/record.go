package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// Record is one entry of a centre's log: a version of one day's digest.
// Seq numbers a centre's records from 1 in the order they were appended;
// Prev is the Chain of the record before (zero for the first), so that
// changing, removing or reordering any record breaks every link after it.
type Record struct {
	Center  string
	Day     string // YYYY-MM-DD in the profile's time zone
	Seq     uint32
	Version uint32 // 1 when the day is sealed, +1 for each batch of late arrivals
	Events  int64  // events of the day this version covers
	Added   int64  // events this version added to the one before (all of them for version 1)
	// Marks of late arrivals ("event_id:hash") at the edges of this
	// version: Covered were made in its sealing second and are in its
	// digest; Pending were made before it but their events were not yet
	// stored, so a later version takes them in.
	Covered, Pending []string
	Digest           Hash
	Prev             Hash
	Chain            Hash
	// SealedAt is the server's time when the sealing began (seconds):
	// marks made from then on are for the next version.
	SealedAt time.Time
}

// link computes the record's chain hash from its content and Prev.
func (r *Record) link() Hash {
	h := sha256.New()
	h.Write(r.Prev[:])
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	num := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	field(r.Center)
	field(r.Day)
	num(int64(r.Seq))
	num(int64(r.Version))
	num(r.Events)
	num(r.Added)
	for _, list := range [][]string{r.Covered, r.Pending} {
		num(int64(len(list)))
		for _, l := range list {
			field(l)
		}
	}
	h.Write(r.Digest[:])
	num(r.SealedAt.Unix())
	var out Hash
	h.Sum(out[:0])
	return out
}

// chainTo numbers r after prev (nil: the first of its centre's log) and
// chains it to it.
func (r *Record) chainTo(prev *Record) {
	r.Seq, r.Prev = 1, Hash{}
	if prev != nil {
		r.Seq, r.Prev = prev.Seq+1, prev.Chain
	}
	r.SealedAt = r.SealedAt.Truncate(time.Second)
	r.Chain = r.link()
}

// Break is a defect of a centre's log itself.
type Break struct {
	Center string
	Seq    uint32
	Why    string
}

// CheckChain checks that records (one centre's, in Seq order) are
// numbered from 1 without gaps and that each is chained to the one before
// with an intact hash.
func CheckChain(records []Record) []Break {
	var out []Break
	var prev *Record
	for i := range records {
		r := &records[i]
		switch {
		case prev == nil && r.Seq != 1:
			out = append(out, Break{r.Center, r.Seq, "记录序号不从 1 开始（之前的记录被删除）"})
		case prev != nil && r.Seq != prev.Seq+1:
			out = append(out, Break{r.Center, r.Seq, "记录序号不连续（有记录被删除或重复）"})
		case prev == nil && r.Prev != (Hash{}):
			out = append(out, Break{r.Center, r.Seq, "首条记录的前序哈希不为空"})
		case prev != nil && r.Prev != prev.Chain:
			out = append(out, Break{r.Center, r.Seq, "前序哈希与上一条记录不符"})
		}
		if r.link() != r.Chain {
			out = append(out, Break{r.Center, r.Seq, "记录内容与其链哈希不符（记录被改动）"})
		}
		prev = r
	}
	return out
}
