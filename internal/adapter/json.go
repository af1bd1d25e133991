package adapter

import "unicode/utf8"

// jsonEvent writes one canonical event as a JSON object, envelope first.
type jsonEvent struct{ b []byte }

func (j *jsonEvent) begin(id, typ, ts, center, entityKey, entity string) {
	j.b = make([]byte, 0, 256)
	j.b = append(j.b, '{')
	j.str("event_id", id)
	j.str("type", typ)
	j.str("ts", ts)
	j.str("center_id", center)
	j.str(entityKey, entity)
}

// str writes "name":"value".
func (j *jsonEvent) str(name, v string) {
	j.key(name)
	j.b = appendString(j.b, v)
}

// raw writes "name":value with value already JSON (true, false).
func (j *jsonEvent) raw(name, v string) {
	j.key(name)
	j.b = append(j.b, v...)
}

func (j *jsonEvent) key(name string) {
	if len(j.b) > 1 {
		j.b = append(j.b, ',')
	}
	j.b = appendString(j.b, name)
	j.b = append(j.b, ':')
}

func (j *jsonEvent) end() []byte { return append(j.b, '}') }

// appendString appends s as a JSON string. Invalid UTF-8 is replaced by
// U+FFFD, as encoding/json does.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
			i++
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, "\ufffd"...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
		}
	}
	return append(b, '"')
}
