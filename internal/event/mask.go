package event

import (
	"bytes"
	"encoding/json"
	"regexp"
)

// callerValue finds a "caller" key and its value, a JSON string or a bare
// number, even in a message that is not valid JSON as a whole.
var callerValue = regexp.MustCompile(`"caller"\s*:\s*("(?:[^"\\]|\\.)*"|[-+0-9][-+0-9 .()]*)`)

// MaskCaller returns msg with every caller value replaced by its keyed hash,
// as a dead-letter record must keep it (events-v1, bad input). It works on
// malformed messages too: a value is recognised wherever a "caller" key is
// followed by a string or a number. msg itself is not modified.
func MaskCaller(msg []byte, hash func(string) string) []byte {
	if !bytes.Contains(msg, []byte(`"caller"`)) {
		return msg
	}
	return callerValue.ReplaceAllFunc(msg, func(m []byte) []byte {
		sub := callerValue.FindSubmatchIndex(m)
		raw := m[sub[2]:sub[3]]
		number := string(bytes.TrimSpace(raw))
		if raw[0] == '"' {
			if err := json.Unmarshal(raw, &number); err != nil {
				number = string(raw[1 : len(raw)-1])
			}
		}
		out := append([]byte(nil), m[:sub[2]]...)
		q, _ := json.Marshal(hash(number))
		return append(out, q...)
	})
}
