package event

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"
)

// Draft is an event given field by field instead of as JSON, the way an
// importer builds one. DecodeDraft checks it by exactly the rules Decode
// applies to the same fields in a JSON message (the same code reads both),
// without writing and parsing the JSON. A draft has no `v` and no `attrs`.
type Draft struct {
	vals [numFields]draftValue
}

// draftValue is a field of a draft: a string, a boolean or a number (its
// decimal text).
type draftValue struct {
	kind uint8
	s    string
}

const (
	draftUnset uint8 = iota
	draftString
	draftTrue
	draftFalse
	draftNumber
)

// Reset empties the draft for the next event.
func (dr *Draft) Reset() { dr.vals = [numFields]draftValue{} }

// Set gives a field (by its contract name) a string value. The draft keeps
// value: it must not change until the draft is decoded.
func (dr *Draft) Set(name, value string) error {
	k, err := draftField(name)
	if err == nil {
		dr.vals[k] = draftValue{kind: draftString, s: value}
	}
	return err
}

// SetBool gives a field a boolean value.
func (dr *Draft) SetBool(name string, value bool) error {
	k, err := draftField(name)
	if err == nil {
		dr.vals[k] = draftValue{kind: draftFalse}
		if value {
			dr.vals[k].kind = draftTrue
		}
	}
	return err
}

// SetNumber gives a field a number, as its decimal text ("86", "92.5").
func (dr *Draft) SetNumber(name, text string) error {
	k, err := draftField(name)
	if err == nil {
		dr.vals[k] = draftValue{kind: draftNumber, s: text}
	}
	return err
}

func draftField(name string) (field, error) {
	k, ok := fieldOf([]byte(name))
	if !ok || k == fV || k == fAttrs {
		return 0, fmt.Errorf("a draft has no field %q", name)
	}
	return k, nil
}

// DecodeDraft checks a draft and decodes it into *e, which it overwrites
// entirely; on error *e is left zero and the error is a *RejectError, as
// DecodeInto's.
func (d *Decoder) DecodeDraft(dr *Draft, e *Event) error {
	*e = Event{}
	f := &d.f
	*f = fields{d: d, text: &dr.vals}
	d.decode(f, e)
	if f.err != nil {
		*e = Event{}
		return f.err
	}
	return nil
}

// draftBytes is bytes for a draft's field.
func (f *fields) draftBytes(k field, required bool) []byte {
	v := f.text[k]
	switch {
	case v.kind == draftUnset:
		if required {
			f.fail(reject(ReasonMissingField, fieldNames[k], "required field is missing"))
		}
		return nil
	case v.kind != draftString:
		f.fail(reject(ReasonInvalidField, fieldNames[k], "want a string, got %s", draftKinds[v.kind]))
		return nil
	case required && v.s == "":
		f.fail(reject(ReasonMissingField, fieldNames[k], "required field is empty"))
	}
	if v.s == "" {
		return []byte{} // present and empty, as a JSON "" is
	}
	// The decoder only reads these bytes, and copies what it keeps.
	return unsafe.Slice(unsafe.StringData(v.s), len(v.s))
}

// draftBool is boolean for a draft's field.
func (f *fields) draftBool(k field, required bool) Tri {
	switch f.text[k].kind {
	case draftTrue:
		return True
	case draftFalse:
		return False
	case draftUnset:
		if required {
			f.fail(reject(ReasonMissingField, fieldNames[k], "required field is missing"))
		}
	default:
		f.fail(reject(ReasonInvalidField, fieldNames[k], "want true or false, got string"))
	}
	return Unset
}

// draftNumber is number for a draft's field.
func (f *fields) draftNumber(k field) float64 {
	v := f.text[k]
	if v.kind != draftNumber {
		f.fail(reject(ReasonInvalidField, fieldNames[k], "want a number, got %s", draftKinds[v.kind]))
		return 0
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(v.s), 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		f.fail(reject(ReasonInvalidField, fieldNames[k], "%q is not a number", truncate(v.s)))
		return 0
	}
	return n
}

var draftKinds = [...]string{draftUnset: "nothing", draftString: "string", draftTrue: "true", draftFalse: "false", draftNumber: "number"}

// splitList reads a draft's list field: comma-separated values, trimmed,
// empty ones dropped.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
