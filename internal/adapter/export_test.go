package adapter

import "time"

// FormatTS exposes the event time writer to the tests.
func FormatTS(t time.Time) string { return string(appendTS(nil, t)) }
