// Package keyed turns NDJSON event lines into Kafka messages keyed as the
// event contract says (call events by call_id, ticket events by
// ticket_id), for the benchmark tools.
package keyed

import (
	"bytes"

	"github.com/valyala/fastjson"

	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
)

// Message returns line as a message for its topic and key; it keeps line.
func Message(p *fastjson.Parser, line []byte) (kafkaio.Outgoing, error) {
	v, err := p.ParseBytes(line)
	if err != nil {
		return kafkaio.Outgoing{}, err
	}
	ticket := bytes.HasPrefix(v.GetStringBytes("type"), []byte("ticket."))
	key := v.GetStringBytes("call_id")
	if ticket {
		key = v.GetStringBytes("ticket_id")
	}
	return kafkaio.Outgoing{Ticket: ticket, Key: append([]byte(nil), key...), Value: line}, nil
}
