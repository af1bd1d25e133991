// Package security holds the pieces every network client of hotlineqc shares:
// secrets that never print, secrets read from files, and TLS settings.
package security

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Secret is a string that never prints: fmt, logs, JSON and YAML all see
// "<redacted>". Use Reveal to obtain the value at the single place that needs it.
type Secret string

const redacted = "<redacted>"

// String implements fmt.Stringer with a redacted value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return `security.Secret("` + s.String() + `")` }

// MarshalText keeps encoders from writing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// SecretSource is a secret given either inline (normally through an
// environment variable override) or as a file path, for example a mounted
// Kubernetes secret. At most one of the two may be set.
type SecretSource struct {
	Value Secret `yaml:"value"`
	File  string `yaml:"file"`
}

// Validate reports a source that names both a value and a file.
func (s SecretSource) Validate() error {
	if s.Value != "" && s.File != "" {
		return errors.New("set value or file, not both")
	}
	return nil
}

// IsSet reports whether the source names a value or a file.
func (s SecretSource) IsSet() bool { return s.Value != "" || s.File != "" }

// Load returns the secret, reading the file when one is named. Trailing
// newlines of the file are dropped. The error never contains the value.
func (s SecretSource) Load() (Secret, error) {
	if s.File == "" {
		return s.Value, nil
	}
	b, err := os.ReadFile(s.File)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	return Secret(strings.TrimRight(string(b), "\r\n")), nil
}
