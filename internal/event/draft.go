package event

import (
	"fmt"

	"github.com/valyala/fastjson"
)

// Draft is an event given field by field instead of as JSON, the way an
// importer builds one. DecodeDraft checks it by exactly the rules Decode
// applies to the same fields in a JSON message, without writing and
// parsing the JSON.
type Draft struct {
	a    fastjson.Arena
	vals [numFields]*fastjson.Value
}

// Reset empties the draft for the next event, keeping its memory.
func (dr *Draft) Reset() {
	dr.a.Reset()
	dr.vals = [numFields]*fastjson.Value{}
}

// Set gives a field (by its contract name) a string value.
func (dr *Draft) Set(name, value string) error {
	k, ok := fieldOf([]byte(name))
	if !ok {
		return fmt.Errorf("events-v1 has no field %q", name)
	}
	dr.vals[k] = dr.a.NewString(value)
	return nil
}

// SetBool gives a field a JSON boolean value.
func (dr *Draft) SetBool(name string, value bool) error {
	k, ok := fieldOf([]byte(name))
	if !ok {
		return fmt.Errorf("events-v1 has no field %q", name)
	}
	dr.vals[k] = dr.a.NewFalse()
	if value {
		dr.vals[k] = dr.a.NewTrue()
	}
	return nil
}

// DecodeDraft checks a draft and decodes it into *e, which it overwrites
// entirely; on error *e is left zero and the error is a *RejectError, as
// DecodeInto's.
func (d *Decoder) DecodeDraft(dr *Draft, e *Event) error {
	*e = Event{}
	f := &d.f
	*f = fields{d: d, vals: dr.vals}
	d.decode(f, e)
	if f.err != nil {
		*e = Event{}
		return f.err
	}
	return nil
}
