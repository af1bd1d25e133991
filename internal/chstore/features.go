package chstore

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a ClickHouse server version.
type Version struct{ Major, Minor, Patch uint64 }

// String returns the version as "major.minor.patch".
func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// ParseVersion reads a version as people and servers write it: "18.16",
// "24.8.4", or the full "26.9.2.1" a server reports (the build number and a
// suffix such as "-lts" are ignored).
func ParseVersion(s string) (Version, error) {
	var v Version
	core, _, _ := strings.Cut(strings.TrimSpace(s), "-")
	parts := strings.Split(core, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return v, fmt.Errorf("ClickHouse version %q: want major.minor[.patch[.build]]", s)
	}
	nums := []*uint64{&v.Major, &v.Minor, &v.Patch, new(uint64)}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return Version{}, fmt.Errorf("ClickHouse version %q: want major.minor[.patch[.build]]", s)
		}
		*nums[i] = n
	}
	return v, nil
}

func (v Version) atLeast(major, minor uint64) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// Features are the optional schema features a server supports. The base
// schema uses none of them and runs on ClickHouse 18.16.
type Features struct {
	LowCardinality bool // LowCardinality(String) for bounded dimensions
	Codecs         bool // column codecs (Delta, ZSTD)
	TTL            bool // table TTL for raw-event retention
}

// modernSince is the first version of the 20.3 LTS line, from which all
// three features are stable and need no experimental setting.
var modernSince = Version{Major: 20, Minor: 3}

// FeaturesOf returns the features hotlineqc switches on for server version v.
func FeaturesOf(v Version) Features {
	m := v.atLeast(modernSince.Major, modernSince.Minor)
	return Features{LowCardinality: m, Codecs: m, TTL: m}
}
