// Package adapter turns what a hotline centre's systems already write (an
// Asterisk queue_log, Amazon Connect contact records, FreeSWITCH
// mod_callcenter CDRs, or any CSV export) into canonical v1 events. One
// declarative Mapping says how a source record becomes events; the built-in
// vendor formats are mappings too, written in the same language a centre
// uses for its own exports (docs/adapters.md).
package adapter

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/pipelines/mappings"
)

// Reader formats a mapping can read.
const (
	ReaderCSV      = "csv"
	ReaderQueueLog = "queue_log"
	ReaderJSON     = "json"
	ReaderXLSX     = "xlsx"
)

// Mapping is a declarative description of how the records of one source
// become canonical events. It is decoded strictly from YAML.
type Mapping struct {
	// ID names the mapping; it prefixes every event id it makes, so that two
	// sources never collide.
	ID string `yaml:"id"`
	// Description says what the mapping reads, for people.
	Description string `yaml:"description"`
	// Reader is how the input is split into records: csv, xlsx, queue_log
	// or json.
	Reader string      `yaml:"reader"`
	CSV    CSVOptions  `yaml:"csv"`
	XLSX   XLSXOptions `yaml:"xlsx"`
	// SkipRows is the number of rows before the header row of a csv or
	// xlsx export (a title, the export's date).
	SkipRows int `yaml:"skip_rows"`
	// URLDecode percent-decodes every value (FreeSWITCH's JSON CDRs encode
	// their variables so).
	URLDecode bool `yaml:"url_decode"`
	// Timezone applies to times that carry no offset.
	Timezone string `yaml:"timezone"`
	// TimeFormats are tried in order for every time without its own format.
	TimeFormats []string `yaml:"time_formats"`
	// None lists values that mean "no value" (placeholders such as
	// "0:00:00"), in addition to the empty string, NULL and \N.
	None []string `yaml:"none"`
	// ClockSkew is the largest amount a time may precede the time it must
	// follow (not_before) and still be accepted, moved up to that time.
	ClockSkew Duration `yaml:"clock_skew"`
	// Vars are named constants, referenced as {$name}; the command line can
	// set or override them (--var name=value, --center).
	Vars map[string]string `yaml:"vars"`

	// Records, when set, selects the records to map; others are skipped.
	Records *Cond `yaml:"records"`
	// RecordID identifies the source record; event ids are built from it.
	RecordID Template `yaml:"record_id"`
	// SkipLabel names, in the summary, a record that no event matched
	// (for example the queue_log event name).
	SkipLabel Template `yaml:"skip_label"`
	CenterID  Value    `yaml:"center_id"`
	CallID    Value    `yaml:"call_id"`
	TicketID  Value    `yaml:"ticket_id"`
	// RejectIf lists contradictions that reject a record with a reason.
	RejectIf []RejectRule `yaml:"reject_if"`
	// Events are the events a record can produce, each with its condition.
	Events []Rule `yaml:"events"`

	loc   *time.Location
	none  map[string]bool
	times []timeFormat
	rules map[string]int
}

// CSVOptions says how a CSV export is laid out.
type CSVOptions struct {
	// Delimiter is the field separator, "," by default ("\t" for tabs).
	Delimiter string `yaml:"delimiter"`
	// Columns names the columns of a file without a header row. When empty,
	// the first row is the header.
	Columns []string `yaml:"columns"`
	// Encoding is utf-8 (default; a byte order mark is skipped) or gb18030
	// (also reads GBK and GB2312, as Excel in China writes).
	Encoding string `yaml:"encoding"`
}

// RejectRule rejects a record that matches When, with Reason.
type RejectRule struct {
	Reason string `yaml:"reason"`
	When   Cond   `yaml:"when"`
}

// Rule is one event a record can produce.
type Rule struct {
	// Name identifies the rule in event ids, not_before and messages.
	Name string `yaml:"name"`
	// Type is the canonical event type, e.g. call.answered.
	Type string `yaml:"type"`
	// When is the condition under which the event is emitted; always when nil.
	When *Cond `yaml:"when"`
	// Time is the event time.
	Time TimeSpec `yaml:"time"`
	// NotBefore names a rule whose time this one must not precede (beyond
	// the mapping's clock_skew).
	NotBefore string `yaml:"not_before"`
	// Fields fill the event's other fields, by their contract names.
	Fields map[string]Value `yaml:"fields"`

	typ event.Type
}

// Duration is a time.Duration written as "1s", "500ms".
type Duration struct{ time.Duration }

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (e.g. 1s)", n.Line, n.Value)
	}
	d.Duration = v
	return nil
}

// LoadMapping reads a mapping from a file, or a built-in mapping by name
// (see Builtins).
func LoadMapping(pathOrName string) (*Mapping, error) {
	b, err := os.ReadFile(pathOrName)
	if errors.Is(err, fs.ErrNotExist) && !strings.ContainsAny(pathOrName, "/\\.") {
		b, err = BuiltinMapping(pathOrName)
	}
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	return ParseMapping(pathOrName, b)
}

// BuiltinMapping returns the YAML of a built-in mapping.
func BuiltinMapping(name string) ([]byte, error) {
	b, err := mappings.Files.ReadFile(name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no mapping file or built-in mapping %q (built-in: %s)", name, strings.Join(Builtins(), ", "))
	}
	return b, nil
}

// Builtins lists the names of the built-in mappings.
func Builtins() []string {
	entries, _ := mappings.Files.ReadDir(".")
	var out []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			out = append(out, n)
		}
	}
	return out
}

// ParseMapping decodes a mapping strictly (an unknown key is an error) and
// validates it; errors name the file and every problem found.
func ParseMapping(name string, b []byte) (*Mapping, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	m := &Mapping{}
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("mapping %s: %w", name, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("mapping %s: %w", name, err)
	}
	return m, nil
}
