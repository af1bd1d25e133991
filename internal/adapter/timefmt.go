package adapter

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// timeFormat is one way a time may be written.
type timeFormat struct {
	name   string // as written in the mapping
	epoch  int64  // units per second for epoch formats, 0 for layouts
	excel  bool   // an Excel serial date: days since 1899-12-30, local time
	layout string // Go layout
}

// DefaultTimeFormats are tried when a mapping gives none.
var DefaultTimeFormats = []string{"rfc3339", "YYYY-MM-DD HH:mm:ss", "YYYY/MM/DD HH:mm:ss"}

// parseTimeFormat reads a named format (rfc3339, epoch, epoch_ms, epoch_us,
// excel)
// or a pattern of YYYY, MM, DD, HH, mm, ss, SSS (fraction) and Z (offset).
func parseTimeFormat(s string) (timeFormat, error) {
	switch s {
	case "rfc3339", "iso8601":
		return timeFormat{name: s, layout: "2006-01-02T15:04:05Z07:00"}, nil
	case "epoch":
		return timeFormat{name: s, epoch: 1}, nil
	case "epoch_ms":
		return timeFormat{name: s, epoch: 1e3}, nil
	case "epoch_us":
		return timeFormat{name: s, epoch: 1e6}, nil
	case "excel":
		return timeFormat{name: s, excel: true}, nil
	}
	var b strings.Builder
	tokens := []struct{ tok, layout string }{
		{"YYYY", "2006"}, {"YY", "06"}, {"MM", "1"}, {"M", "1"}, {"DD", "2"}, {"D", "2"},
		{"HH", "15"}, {"H", "15"}, {"mm", "4"}, {"m", "4"}, {"ss", "5"}, {"s", "5"}, {"ZZ", "-0700"}, {"Z", "Z07:00"},
	}
	known := false
next:
	for rest := s; rest != ""; {
		// A fraction of a second is parsed by Go after the seconds anyway.
		if (rest[0] == '.' || rest[0] == ',') && strings.HasPrefix(rest[1:], "S") {
			rest = strings.TrimLeft(rest[1:], "S")
			continue
		}
		for _, t := range tokens {
			if strings.HasPrefix(rest, t.tok) {
				b.WriteString(t.layout)
				rest = rest[len(t.tok):]
				known = true
				continue next
			}
		}
		if strings.ContainsAny(rest[:1], "0123456789") {
			return timeFormat{}, fmt.Errorf("time format %q: digits are not allowed in a pattern", s)
		}
		b.WriteByte(rest[0])
		rest = rest[1:]
	}
	if !known {
		return timeFormat{}, fmt.Errorf("time format %q: want rfc3339, epoch, epoch_ms, epoch_us, excel or a pattern such as YYYY-MM-DD HH:mm:ss", s)
	}
	return timeFormat{name: s, layout: b.String()}, nil
}

// parse reads s in this format; a time without an offset is in loc.
func (f timeFormat) parse(s string, loc *time.Location) (time.Time, bool) {
	if f.excel {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 1 || v > 2958465 { // 1900-01-01 .. 9999-12-31
			return time.Time{}, false
		}
		// The serial counts wall-clock days: read it as UTC, then take the
		// same wall-clock time in loc (whose 1899 offset may differ).
		ms := int64(math.Round(v * 86400e3))
		w := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).Add(time.Duration(ms) * time.Millisecond)
		return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), loc), true
	}
	if f.epoch == 0 {
		t, err := time.ParseInLocation(f.layout, s, loc)
		return t, err == nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > math.MaxInt64/1000 {
			return time.Time{}, false
		}
		return time.UnixMilli(n * 1000 / f.epoch), true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return time.Time{}, false
	}
	ms := int64(math.Round(v * 1000 / float64(f.epoch)))
	return time.UnixMilli(ms), true
}

// parseTime tries each format in turn.
func parseTime(s string, formats []timeFormat, loc *time.Location) (time.Time, bool) {
	for _, f := range formats {
		if t, ok := f.parse(s, loc); ok {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseSeconds reads a duration given as a number of unit (s, ms, min;
// "17", "17.5") or as H:MM:SS / MM:SS ("0:01:05", "01:05").
func parseSeconds(s, unit string) (time.Duration, bool) {
	if !strings.Contains(s, ":") {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) || v > 1e12 {
			return 0, false
		}
		switch unit {
		case "ms":
			v /= 1000
		case "min":
			v *= 60
		}
		return time.Duration(math.Round(v*1000)) * time.Millisecond, true
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return 0, false
	}
	var total float64
	for _, p := range parts {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || v < 0 {
			return 0, false
		}
		total = total*60 + v
	}
	return time.Duration(math.Round(total*1000)) * time.Millisecond, true
}
