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
// followed by a string or a number, even where such a key stands inside
// another caller's value (a broken message): the keys are taken from the
// last to the first, each value masked in what the later ones left. msg
// itself is not modified.
func MaskCaller(msg []byte, hash func(string) string) []byte {
	key := []byte(`"caller"`)
	if !bytes.Contains(msg, key) {
		return msg
	}
	out := append([]byte(nil), msg...)
	for end := len(out); end > 0; {
		at := bytes.LastIndex(out[:end], key)
		if at < 0 {
			break
		}
		end = at
		sub := callerValue.FindSubmatchIndex(out[at:])
		if sub == nil || sub[0] != 0 {
			continue
		}
		raw := out[at+sub[2] : at+sub[3]]
		number := string(bytes.TrimSpace(raw))
		if raw[0] == '"' {
			if err := json.Unmarshal(raw, &number); err != nil {
				number = string(raw[1 : len(raw)-1])
			}
		}
		q, _ := json.Marshal(hash(number))
		out = append(out[:at+sub[2]], append(q, out[at+sub[3]:]...)...)
	}
	return out
}
