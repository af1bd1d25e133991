package adapter

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Template is text with placeholders: {column} is a column (or a dotted
// JSON path such as {Agent.Username}), {a|b} the first of a and b that has a
// value, {$name} a variable. A template whose placeholder has no value has
// no value itself; a template without placeholders is a constant.
type Template struct {
	src   string
	parts []part
}

type part struct {
	lit  string
	alts []*ref // nil for a literal
}

// ref is one source of a value: a column, a JSON path or a variable.
type ref struct {
	name  string
	path  []string // JSON path, split at dots
	isVar bool
	col   int // column index in the current header; -1 when absent

	// The value for the record being mapped (gen), computed once.
	gen uint64
	val string
	ok  bool
}

// UnmarshalYAML parses a template from a scalar.
func (t *Template) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a text template such as \"{column}\"", n.Line)
	}
	p, err := parseTemplate(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*t = p
	return nil
}

// IsZero reports whether the template was not given.
func (t Template) IsZero() bool { return t.src == "" }

// String returns the template as written.
func (t Template) String() string { return t.src }

func parseTemplate(s string) (Template, error) {
	t := Template{src: s}
	for rest := s; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			t.parts = append(t.parts, part{lit: rest})
			break
		}
		if open > 0 {
			t.parts = append(t.parts, part{lit: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return t, fmt.Errorf("template %q: unclosed {", s)
		}
		inner := rest[open+1 : open+end]
		if strings.TrimSpace(inner) == "" {
			return t, fmt.Errorf("template %q: empty {}", s)
		}
		var p part
		for _, name := range strings.Split(inner, "|") {
			name = strings.TrimSpace(name)
			r := &ref{name: name, col: -1}
			if v, ok := strings.CutPrefix(name, "$"); ok {
				r.name, r.isVar = v, true
			} else {
				r.path = strings.Split(name, ".")
			}
			p.alts = append(p.alts, r)
		}
		t.parts = append(t.parts, p)
		rest = rest[open+end+1:]
	}
	return t, nil
}

// refs calls f with every reference of the template.
func (t *Template) refs(f func(*ref)) {
	for _, p := range t.parts {
		for _, r := range p.alts {
			f(r)
		}
	}
}

// Value is a field's value: a template, optionally mapped through a table
// of values (for enumerations such as 诉求类型 咨询 → consultation).
type Value struct {
	Template
	// Map translates the template's value; a value not in it takes Default,
	// or rejects the record when there is no default.
	Map     map[string]string
	Default *string
	// Extract, a regular expression, keeps the part of the value its first
	// group matches (the whole match without a group); a value it does not
	// match has no value. It applies before Map.
	Extract *regexp.Regexp
}

// UnmarshalYAML reads either a template scalar or
// {value: TEMPLATE, extract: REGEXP, map: {...}, default: TEXT}.
func (v *Value) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return v.Template.UnmarshalYAML(n)
	}
	var raw struct {
		Value   Template          `yaml:"value"`
		Extract string            `yaml:"extract"`
		Map     map[string]string `yaml:"map"`
		Default *string           `yaml:"default"`
	}
	if err := decodeStrict(n, &raw); err != nil {
		return err
	}
	if raw.Value.IsZero() {
		return fmt.Errorf("line %d: a value needs `value`", n.Line)
	}
	*v = Value{Template: raw.Value, Map: raw.Map, Default: raw.Default}
	if raw.Extract != "" {
		re, err := regexp.Compile(raw.Extract)
		if err != nil {
			return fmt.Errorf("line %d: extract: %w", n.Line, err)
		}
		v.Extract = re
	}
	return nil
}

// TimeSpec says where an event's time comes from.
type TimeSpec struct {
	// Value is the time, or the time of day when Date is set.
	Value Template
	// Date, when set, is the date the time of day in Value belongs to.
	Date Template
	// Plus is a duration added to the time: a number of PlusUnit ("17",
	// "17.5") or H:MM:SS ("0:00:17"), for exports that give a start and
	// durations.
	Plus Template
	// PlusUnit is the unit of a number in Plus: s (default), ms or min.
	PlusUnit string
	// Formats override the mapping's time formats for this time.
	Formats []string
	// Timezone overrides the mapping's time zone for this time.
	Timezone string

	times []timeFormat
	loc   *time.Location
}

// UnmarshalYAML reads a template scalar or {value, date, plus, formats, timezone}.
func (s *TimeSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return s.Value.UnmarshalYAML(n)
	}
	var raw struct {
		Value    Template `yaml:"value"`
		Date     Template `yaml:"date"`
		Plus     Template `yaml:"plus"`
		PlusUnit string   `yaml:"plus_unit"`
		Formats  []string `yaml:"formats"`
		Timezone string   `yaml:"timezone"`
	}
	if err := decodeStrict(n, &raw); err != nil {
		return err
	}
	if raw.Value.IsZero() {
		return fmt.Errorf("line %d: a time needs `value`", n.Line)
	}
	switch raw.PlusUnit {
	case "", "s", "ms", "min":
	default:
		return fmt.Errorf("line %d: plus_unit %q: want s, ms or min", n.Line, raw.PlusUnit)
	}
	*s = TimeSpec{Value: raw.Value, Date: raw.Date, Plus: raw.Plus, PlusUnit: raw.PlusUnit, Formats: raw.Formats, Timezone: raw.Timezone}
	return nil
}

// decodeStrict decodes a node into v, rejecting unknown keys.
func decodeStrict(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}
