package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// profileFlags are the profile flags every evaluating command shares: the
// default profile and the centres given another (profiles.by_center of
// `run`'s configuration).
type profileFlags struct {
	def      string
	byCenter []string
}

func (f *profileFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.def, "profile", profile.DefaultID, "profile file, or the id of a built-in profile ("+strings.Join(profile.BuiltinIDs(), ", ")+")")
	fl.StringArrayVar(&f.byCenter, "profile-for", nil, "CENTER=PROFILE: evaluate this centre against another profile (repeatable; profiles.by_center)")
}

// load parses the flags and loads the profiles.
func (f *profileFlags) load() (*profile.Set, error) {
	by := map[string]string{}
	for _, v := range f.byCenter {
		c, ref, ok := strings.Cut(v, "=")
		if !ok || strings.TrimSpace(c) == "" || strings.TrimSpace(ref) == "" {
			return nil, fmt.Errorf("--profile-for %q: want CENTER=PROFILE", v)
		}
		if _, dup := by[c]; dup {
			return nil, fmt.Errorf("--profile-for: centre %q given twice", c)
		}
		by[c] = ref
	}
	return profile.LoadSet(f.def, by)
}
