package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/rawbytes"
	"github.com/knadh/koanf/v2"
	yamlv3 "go.yaml.in/yaml/v3"
)

// EnvPrefix starts every environment override. Nested keys are separated by
// a double underscore: HOTLINEQC_KAFKA__BROKERS=a:9092,b:9092 sets
// kafka.brokers; HOTLINEQC_CLICKHOUSE__PASSWORD__VALUE sets
// clickhouse.password.value. Lists are comma-separated.
const EnvPrefix = "HOTLINEQC_"

// Load reads the YAML file at path (none when path is ""), applies the
// overrides found in environ (os.Environ() form), and validates the
// result. The error lists every problem: unknown keys, bad values, and
// failed validations.
func Load(path string, environ []string) (Config, error) {
	c, err := load(path, environ)
	if err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, describe(path, err)
	}
	return c, nil
}

// LoadKafka is Load for the commands that only produce to Kafka
// (simulate, import): the file's and environment's kafka section, the
// only one validated.
func LoadKafka(path string, environ []string) (kafkaio.Config, error) {
	c, err := load(path, environ)
	if err != nil {
		return kafkaio.Config{}, err
	}
	var errs []error
	for _, e := range flatten(c.Kafka.Validate()) {
		errs = append(errs, fmt.Errorf("kafka.%w", e))
	}
	if err := errors.Join(errs...); err != nil {
		return kafkaio.Config{}, describe(path, err)
	}
	return c.Kafka, nil
}

// load reads and decodes a configuration without validating it.
func load(path string, environ []string) (Config, error) {
	k := koanf.New(".")
	def, err := yamlv3.Marshal(Default())
	if err != nil {
		return Config{}, fmt.Errorf("encode defaults: %w", err)
	}
	if err := k.Load(rawbytes.Provider(def), yaml.Parser()); err != nil {
		return Config{}, fmt.Errorf("load defaults: %w", err)
	}
	if path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := k.Load(env.Provider(".", env.Opt{
		Prefix:        EnvPrefix,
		TransformFunc: envKey(k),
		EnvironFunc:   func() []string { return environ },
	}), nil); err != nil {
		return Config{}, fmt.Errorf("environment overrides: %w", err)
	}
	var c Config
	if err := decode(k, &c); err != nil {
		return Config{}, describe(path, err)
	}
	return c, nil
}

// envKey maps HOTLINEQC_A__B_C to a.b_c, splitting the value on commas
// when the key holds a list.
func envKey(k *koanf.Koanf) func(string, string) (string, any) {
	return func(name, value string) (string, any) {
		key := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, EnvPrefix), "__", "."))
		switch k.Get(key).(type) {
		case []any:
			parts := strings.Split(value, ",")
			for i := range parts {
				parts[i] = strings.TrimSpace(parts[i])
			}
			return key, parts
		case int, int64, float64, bool:
			// Typed like the default, so "77" becomes 77; a value that does
			// not parse stays a string and fails decoding with its key named.
			var v any
			if yamlv3.Unmarshal([]byte(value), &v) == nil {
				return key, v
			}
		}
		return key, value
	}
}

func decode(k *koanf.Koanf, c *Config) error {
	return k.UnmarshalWithConf("", c, koanf.UnmarshalConf{
		Tag: "yaml",
		DecoderConfig: &mapstructure.DecoderConfig{
			DecodeHook: mapstructure.ComposeDecodeHookFunc(
				mapstructure.StringToTimeDurationHookFunc(),
				mapstructure.TextUnmarshallerHookFunc()),
			ErrorUnused:      true,
			WeaklyTypedInput: false,
			TagName:          "yaml",
			Result:           c,
		},
	})
}

// describe turns decoder and validation errors into one sorted list of
// "config FILE: key: problem" lines.
func describe(path string, err error) error {
	var lines []string
	for _, e := range flatten(err) {
		for _, l := range strings.Split(e.Error(), "\n") {
			l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "* "))
			if l == "" || strings.HasSuffix(l, "error(s) decoding:") || strings.HasPrefix(l, "decoding failed due to the following error(s):") {
				continue
			}
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	src := path
	if src == "" {
		src = "(defaults and environment)"
	}
	return fmt.Errorf("invalid configuration %s:\n  %w", src, errors.New(strings.Join(lines, "\n  ")))
}

// LoadFile is Load with the process environment.
func LoadFile(path string) (Config, error) { return Load(path, os.Environ()) }
