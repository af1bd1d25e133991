// Package ledger is the tamper evidence of the stored events
// (docs/spec/assessment.md): for each centre and day, a SHA-256
// digest of that day's accepted events in a canonical order, kept in an
// append-only log whose records are chained to the one before. The
// pipeline seals days once they are over; a late arrival through the
// pipeline is marked when it is stored and appends a new version of its
// day; Verify recomputes the digests from the raw tables and names every
// day whose records were changed, added or removed in any other way.
//
// A digest covers what an event says, not how it was delivered: replays
// of an event (the same content again) and the merges of the raw tables
// leave it unchanged.
package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// Hash is a SHA-256 digest.
type Hash [32]byte

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads a hex digest.
func ParseHash(s string) (Hash, bool) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, false
	}
	copy(h[:], b)
	return h, true
}

// EventHash digests everything an event says: every field of the
// contract, each tagged with its name and length-prefixed, in a fixed
// order. It leaves out the provenance (topic, offset, ingestion time).
func EventHash(e *event.Event) Hash {
	var b bytes.Buffer
	b.Grow(256)
	str := func(tag, v string) {
		if v == "" {
			return
		}
		b.WriteString(tag)
		b.WriteByte('=')
		var n [binary.MaxVarintLen64]byte
		b.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
		b.WriteString(v)
		b.WriteByte(';')
	}
	num := func(tag string, v int64) {
		if v != 0 {
			str(tag, strconv.FormatInt(v, 10))
		}
	}
	tri := func(tag string, t event.Tri) {
		if t != event.Unset {
			str(tag, strconv.FormatBool(t == event.True))
		}
	}
	str("event_id", e.ID)
	str("type", e.Type.String())
	num("ts", e.TS)
	str("center_id", e.CenterID)
	str("call_id", e.CallID)
	str("ticket_id", e.TicketID)
	num("v", int64(e.V))
	if e.Channel != 0 {
		str("channel", e.Channel.String())
	}
	str("caller_hash", e.CallerHash)
	str("queue", e.Queue)
	str("agent_id", e.AgentID)
	str("team", e.Team)
	str("to_queue", e.ToQueue)
	str("to_agent_id", e.ToAgentID)
	str("to_department_id", e.ToDepartmentID)
	if e.EndedBy != 0 {
		str("ended_by", e.EndedBy.String())
	}
	if e.Rating != event.RatingNone {
		str("rating", e.Rating.String())
	}
	if e.Category != 0 {
		str("category", e.Category.String())
	}
	if e.Urgency != 0 {
		str("urgency", e.Urgency.String())
	}
	str("subject", e.Subject)
	str("topic", e.Topic) // revision 1.2: empty (nothing added) on older events
	str("area", e.Area)
	str("department_id", e.DepartmentID)
	num("deadline", e.Deadline)
	if !e.TimeLimit.IsZero() {
		str("time_limit", e.TimeLimit.String())
	}
	str("reason", e.Reason)
	tri("reached", e.Reached)
	tri("resolved", e.Resolved)
	if e.Type == event.AgentLoggedIn || e.Type == event.AgentStateChanged { // revision 1.2
		str("state", e.State.String())
		str("queues", strings.Join(e.Queues, "\x00"))
	}
	if e.Type.Evaluation() { // revision 1.2; nothing is added to v1 events
		str("evaluation_id", e.EvaluationID)
		str("form", e.Form)
		str("score", strconv.FormatFloat(e.Score, 'g', -1, 64))
		str("max_score", strconv.FormatFloat(e.MaxScore, 'g', -1, 64))
		tri("passed", e.Passed)
		tri("auto_fail", e.AutoFail)
		str("evaluator", e.Evaluator)
	}
	str("attrs", string(e.Attrs))
	return sha256.Sum256(b.Bytes())
}

// Entry is one stored event of a day: its id and its content hash.
type Entry struct {
	ID   string
	Hash Hash
}

// Digest is the digest of a day: SHA-256 over its entries sorted by
// event id (then hash), each as its length-prefixed id and its hash. It
// sorts entries in place.
func Digest(entries []Entry) Hash {
	sort.Slice(entries, func(i, j int) bool {
		a, b := &entries[i], &entries[j]
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return bytes.Compare(a.Hash[:], b.Hash[:]) < 0
	})
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for i := range entries {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(entries[i].ID)))])
		h.Write([]byte(entries[i].ID))
		h.Write(entries[i].Hash[:])
	}
	var out Hash
	h.Sum(out[:0])
	return out
}
