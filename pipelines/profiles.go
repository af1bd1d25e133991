// Package pipelines holds the built-in evaluation profiles as YAML files,
// embedded into the binary. Each file is a profile as decoded by
// internal/profile; the file name is the profile id.
package pipelines

import "embed"

// Profiles is the set of built-in profile files (<id>.yaml), with the
// topic code tables they may name (topics/).
//
//go:embed *.yaml topics/*.csv
var Profiles embed.FS
