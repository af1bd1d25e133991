package profile

import (
	"fmt"
	"slices"
	"strings"
)

// Set is the profiles of a deployment: each centre named in ByCenter is
// evaluated against its own profile (rules, calendar, time zone, targets),
// every other centre against Default (indicators.md v1.1, decision 17).
type Set struct {
	Default  *Profile
	ByCenter map[string]*Profile
}

// Single is the set of one profile for every centre.
func Single(p *Profile) *Set { return &Set{Default: p} }

// LoadSet loads the default profile and those of the centres named in
// byCenter (centre id → built-in id or file). A file named for several
// centres is loaded once, so that they share one profile.
func LoadSet(def string, byCenter map[string]string) (*Set, error) {
	loaded := map[string]*Profile{}
	load := func(ref string) (*Profile, error) {
		if p, ok := loaded[ref]; ok {
			return p, nil
		}
		p, err := Load(ref)
		if err != nil {
			return nil, err
		}
		loaded[ref] = p
		return p, nil
	}
	d, err := load(def)
	if err != nil {
		return nil, err
	}
	s := &Set{Default: d}
	for _, c := range sortedKeys(byCenter) {
		if strings.TrimSpace(c) == "" {
			return nil, fmt.Errorf("profiles.by_center: an empty centre id")
		}
		p, err := load(byCenter[c])
		if err != nil {
			return nil, fmt.Errorf("profiles.by_center.%s: %w", c, err)
		}
		if s.ByCenter == nil {
			s.ByCenter = map[string]*Profile{}
		}
		s.ByCenter[c] = p
	}
	return s, nil
}

// For returns the profile of a centre.
func (s *Set) For(center string) *Profile {
	if p, ok := s.ByCenter[center]; ok {
		return p
	}
	return s.Default
}

// Profiles returns each distinct profile once, the default first, then in
// the order of the centres naming them.
func (s *Set) Profiles() []*Profile {
	out := []*Profile{s.Default}
	for _, c := range sortedKeys(s.ByCenter) {
		if p := s.ByCenter[c]; !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// Centers returns the centres given p by name, sorted; for the default
// profile, those are the centres it is not the profile of.
func (s *Set) Centers(p *Profile) []string {
	var out []string
	for _, c := range sortedKeys(s.ByCenter) {
		if (s.ByCenter[c] == p) != (p == s.Default) {
			out = append(out, c)
		}
	}
	return out
}

// Mixed reports whether some centre has a profile other than the default.
func (s *Set) Mixed() bool {
	for _, p := range s.ByCenter {
		if p != s.Default {
			return true
		}
	}
	return false
}

// IDs maps the centres named in ByCenter to their profile ids (nil when
// there are none): what an output states beside the default's id.
func (s *Set) IDs() map[string]string {
	if len(s.ByCenter) == 0 {
		return nil
	}
	out := make(map[string]string, len(s.ByCenter))
	for c, p := range s.ByCenter {
		out[c] = p.ID
	}
	return out
}
