package event

import (
	"testing"
	"time"
)

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2026-10-09T08:59:58.120+08:00", "2026-10-09T09:00:00Z", "2024-02-29T23:59:59.999999999-05:30",
		"2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-10-09T24:00:00Z", "2026-10-09t09:00:00z",
		"2026-10-09T09:00:00+24:00", "2026-10-09T09:00:00.+08:00", "2026-10-09T09:00:00.1234567890Z",
		"1970-01-01T00:00:00Z", "2105-12-31T23:59:59.9+14:00", "0000-01-01T00:00:00Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseTime([]byte(s))
		want, err := time.Parse(time.RFC3339Nano, s)
		if ok != (err == nil) {
			t.Fatalf("parseTime(%q) ok=%v, time.Parse err=%v", s, ok, err)
		}
		if ok && got != want.UnixMilli() && want.UnixMilli() >= 0 {
			t.Fatalf("parseTime(%q) = %d, time.Parse = %d", s, got, want.UnixMilli())
		}
	})
}
