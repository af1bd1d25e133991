package adapter

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
)

// Cond is a condition on a record. Exactly one test is given: on a column
// (equals, in, not_in, present, matches) or a combination (all, any, not).
type Cond struct {
	// Column is a template such as "{outcome}"; it names what the tests read.
	Column  Template `yaml:"column"`
	Equals  *string  `yaml:"equals"`
	In      []string `yaml:"in"`
	NotIn   []string `yaml:"not_in"`
	Present *bool    `yaml:"present"`
	Matches string   `yaml:"matches"`

	All []Cond `yaml:"all"`
	Any []Cond `yaml:"any"`
	Not *Cond  `yaml:"not"`

	re *regexp.Regexp
}

func (c *Cond) validate() error {
	tests := 0
	for _, set := range []bool{c.Equals != nil, c.In != nil, c.NotIn != nil, c.Present != nil, c.Matches != "",
		c.All != nil, c.Any != nil, c.Not != nil} {
		if set {
			tests++
		}
	}
	if tests != 1 {
		return errors.New("a condition needs exactly one of equals, in, not_in, present, matches, all, any, not")
	}
	leaf := c.All == nil && c.Any == nil && c.Not == nil
	if leaf && c.Column.IsZero() {
		return errors.New("a condition on a value needs `column`")
	}
	if !leaf && !c.Column.IsZero() {
		return errors.New("all, any and not take conditions, not `column`")
	}
	if c.Matches != "" {
		re, err := regexp.Compile(c.Matches)
		if err != nil {
			return fmt.Errorf("matches: %w", err)
		}
		c.re = re
	}
	for i := range c.All {
		if err := c.All[i].validate(); err != nil {
			return fmt.Errorf("all[%d]: %w", i, err)
		}
	}
	for i := range c.Any {
		if err := c.Any[i].validate(); err != nil {
			return fmt.Errorf("any[%d]: %w", i, err)
		}
	}
	if c.Not != nil {
		if err := c.Not.validate(); err != nil {
			return fmt.Errorf("not: %w", err)
		}
	}
	return nil
}

// eval reports whether the condition holds for the record being mapped.
func (c *Cond) eval(x *mapping) bool {
	switch {
	case c.All != nil:
		for i := range c.All {
			if !c.All[i].eval(x) {
				return false
			}
		}
		return true
	case c.Any != nil:
		for i := range c.Any {
			if c.Any[i].eval(x) {
				return true
			}
		}
		return false
	case c.Not != nil:
		return !c.Not.eval(x)
	}
	v, ok := x.exec(&c.Column)
	switch {
	case c.Present != nil:
		return ok == *c.Present
	case c.Equals != nil:
		return ok && v == *c.Equals
	case c.In != nil:
		return ok && slices.Contains(c.In, v)
	case c.NotIn != nil:
		return !ok || !slices.Contains(c.NotIn, v)
	default:
		return ok && c.re.MatchString(v)
	}
}

// templates calls f with every template of the condition.
func (c *Cond) templates(f func(*Template)) {
	f(&c.Column)
	for i := range c.All {
		c.All[i].templates(f)
	}
	for i := range c.Any {
		c.Any[i].templates(f)
	}
	if c.Not != nil {
		c.Not.templates(f)
	}
}
