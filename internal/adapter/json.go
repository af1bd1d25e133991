package adapter

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// tsLayout is how event times are written: RFC 3339 with milliseconds.
const tsLayout = "2006-01-02T15:04:05.000Z07:00"

// jsonEvent writes one canonical event as a JSON object, envelope first,
// at the end of a buffer shared by the events of a record, and gives the
// same fields to a draft, which the decoder checks.
type jsonEvent struct {
	b     []byte
	start int
	dr    *event.Draft
}

func (j *jsonEvent) begin(buf []byte, dr *event.Draft, id, typ string, ts time.Time, center, entityKey, entity string) {
	j.b, j.start, j.dr = buf, len(buf), dr
	dr.Reset()
	j.b = append(j.b, '{')
	j.str("event_id", id)
	j.str("type", typ)
	j.time("ts", ts)
	j.str("center_id", center)
	j.str(entityKey, entity)
}

// time writes "name":"<RFC 3339 time>"; t carries its zone.
func (j *jsonEvent) time(name string, t time.Time) {
	j.key(name)
	j.b = append(j.b, '"')
	from := len(j.b)
	j.b = appendTS(j.b, t)
	j.dr.Set(name, unsafe.String(&j.b[from], len(j.b)-from)) // copied by Set
	j.b = append(j.b, '"')
}

// appendTS appends t as RFC 3339 with milliseconds (tsLayout), faster
// than time.Time.AppendFormat.
func appendTS(b []byte, t time.Time) []byte {
	_, off := t.Zone()
	local := t.Unix() + int64(off)
	if local < 0 || local >= 253402300800 { // before 1970 or after 9999
		return t.AppendFormat(b, tsLayout) // the decoder rejects it anyway
	}
	y, mo, d := civil(local / 86400)
	sod := int(local % 86400)
	h, mi, s := sod/3600, sod%3600/60, sod%60
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, s, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1e6, 3)
	if off == 0 {
		return append(b, 'Z')
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = append(b, sign)
	b = appendDigits(b, off/3600, 2)
	b = append(b, ':')
	return appendDigits(b, off%3600/60, 2)
}

// civil returns the date of a day counted from 1970-01-01 (days >= 0),
// by Howard Hinnant's civil_from_days.
func civil(days int64) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

// appendDigits appends v with at least n digits, zero-padded.
func appendDigits(b []byte, v, n int) []byte {
	var buf [8]byte
	i := len(buf)
	for v > 0 || n > 0 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		n--
	}
	return append(b, buf[i:]...)
}

// str writes "name":"value".
func (j *jsonEvent) str(name, v string) {
	j.key(name)
	j.b = appendString(j.b, v)
	j.dr.Set(name, v)
}

// list writes "name":["a","b"] from a comma-separated value (the draft
// reads the same text as its list).
func (j *jsonEvent) list(name, v string) {
	j.key(name)
	j.b = append(j.b, '[')
	n := 0
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		if n > 0 {
			j.b = append(j.b, ',')
		}
		j.b = appendString(j.b, item)
		n++
	}
	j.b = append(j.b, ']')
	j.dr.Set(name, v)
}

// number writes "name":n, in the shortest form that reads back as n.
func (j *jsonEvent) number(name string, n float64) {
	j.key(name)
	from := len(j.b)
	j.b = strconv.AppendFloat(j.b, n, 'g', -1, 64)
	j.dr.SetNumber(name, string(j.b[from:]))
}

// bool writes "name":true or false.
func (j *jsonEvent) bool(name string, v bool) {
	j.key(name)
	if v {
		j.b = append(j.b, "true"...)
	} else {
		j.b = append(j.b, "false"...)
	}
	j.dr.SetBool(name, v)
}

func (j *jsonEvent) key(name string) {
	if len(j.b) > j.start+1 {
		j.b = append(j.b, ',')
	}
	j.b = appendString(j.b, name)
	j.b = append(j.b, ':')
}

// end closes the object and returns the whole buffer and the event in it.
func (j *jsonEvent) end() (buf, msg []byte) {
	j.b = append(j.b, '}')
	return j.b, j.b[j.start:len(j.b):len(j.b)]
}

// appendString appends s as a JSON string. Invalid UTF-8 is replaced by
// U+FFFD, as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	return append(appendEscaped(b, s), '"')
}

// appendEscaped appends s escaped for a JSON string, without quotes.
func appendEscaped(b []byte, s string) []byte {
	if plain(s) {
		return append(b, s...)
	}
	const hex = "0123456789abcdef"
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
	return b
}

// special marks the bytes plain looks at twice: control characters,
// quotes, backslashes and the bytes of non-ASCII characters.
var special = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf
	}
	return t
}()

// plain reports whether s needs no escaping: valid UTF-8 without quotes,
// backslashes or control characters.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if special[s[i]] {
			return plainRest(s[i:])
		}
	}
	return true
}

func plainRest(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.ValidString(s)
}
