// Package mappings holds the built-in import mappings as YAML files,
// embedded into the binary: the vendor formats (Asterisk queue_log, Amazon
// Connect contact records, FreeSWITCH mod_callcenter) and the example CSV
// exports. The file name is the mapping's name for `hotlineqc import
// --mapping`; each is a mapping as decoded by internal/adapter.
package mappings

import "embed"

// Files is the set of built-in mapping files (<name>.yaml).
//
//go:embed *.yaml
var Files embed.FS
