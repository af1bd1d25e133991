package chstore

import "fmt"

// Version is a ClickHouse server version.
type Version struct{ Major, Minor, Patch uint64 }

// String returns the version as "major.minor.patch".
func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

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
