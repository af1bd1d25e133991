package profile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/hotlineqc/hotlineqc/pipelines"
)

// DefaultID is the built-in profile used when none is given.
const DefaultID = "gbt33358-2016"

// Builtin returns the built-in profile with the given id, embedded from
// pipelines/<id>.yaml.
func Builtin(id string) (*Profile, error) {
	b, err := fs.ReadFile(pipelines.Profiles, id+".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in profile %q (have %s)", id, strings.Join(BuiltinIDs(), ", "))
	}
	return parse("pipelines/"+id+".yaml", b)
}

// BuiltinIDs lists the built-in profiles.
func BuiltinIDs() []string {
	names, _ := fs.Glob(pipelines.Profiles, "*.yaml")
	for i, n := range names {
		names[i] = strings.TrimSuffix(n, ".yaml")
	}
	return names
}

// Default returns the default built-in profile.
func Default() *Profile {
	p, err := Builtin(DefaultID)
	if err != nil {
		panic(err) // the embedded default is tested
	}
	return p
}

// Load reads a profile: a file path, or the id of a built-in profile.
func Load(pathOrID string) (*Profile, error) {
	b, err := os.ReadFile(pathOrID)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !strings.ContainsAny(pathOrID, "/\\.") {
			return Builtin(pathOrID)
		}
		return nil, fmt.Errorf("profile: %w", err)
	}
	return parse(pathOrID, b)
}

// parse decodes a profile strictly: unknown keys and bad values are errors
// naming the file, the line, the key and the problem.
func parse(name string, b []byte) (*Profile, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("profile %s: %w", name, err)
	}
	var head struct {
		Base string `yaml:"base"`
	}
	_ = doc.Decode(&head)
	p := &Profile{}
	if head.Base != "" {
		base, err := Builtin(head.Base)
		if err != nil {
			return nil, fmt.Errorf("profile %s: base: %w", name, err)
		}
		p = base
	}
	inherited := p.TopicsFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("profile %s:\n  %s", name, strings.Join(explain(err, &doc), "\n  "))
	}
	if p.TopicsFile != inherited || (p.TopicsFile != "" && p.TopicTable == nil) {
		t, err := loadTopics(name, p.TopicsFile)
		if err != nil {
			return nil, fmt.Errorf("profile %s: topics: %w", name, err)
		}
		p.TopicTable = t
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("profile %s:\n  %s", name, strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	return p, nil
}

// loadTopics reads the topic table a profile names, relative to the
// profile's file (a built-in profile's: to pipelines/, embedded).
func loadTopics(profileName, file string) (*Topics, error) {
	if file == "" {
		return nil, nil
	}
	if rest, ok := strings.CutPrefix(profileName, "pipelines/"); ok && !strings.Contains(rest, "/") {
		b, err := fs.ReadFile(pipelines.Profiles, path.Clean(file))
		if err != nil {
			return nil, err
		}
		return ParseTopics(file, b)
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(filepath.Dir(profileName), file)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParseTopics(file, b)
}

var lineRE = regexp.MustCompile(`^line (\d+): (.*)$`)

// explain rewrites yaml.v3's "line N: ..." messages as "line N: key a.b.c: ...".
func explain(err error, doc *yaml.Node) []string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []string{err.Error()}
	}
	paths := map[int]string{}
	keyPaths(doc, "", paths)
	out := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		m := lineRE.FindStringSubmatch(e)
		if m == nil {
			out = append(out, e)
			continue
		}
		n, _ := strconv.Atoi(m[1])
		msg := m[2]
		if strings.HasPrefix(msg, "field ") && strings.Contains(msg, " not found in type ") {
			msg = "unknown key"
		}
		if key, ok := paths[n]; ok {
			out = append(out, fmt.Sprintf("line %d: %s: %s", n, key, msg))
		} else {
			out = append(out, e)
		}
	}
	return out
}

// keyPaths records the dotted path of every mapping key by its line.
func keyPaths(n *yaml.Node, prefix string, out map[int]string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			keyPaths(c, prefix, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := k.Value
			if prefix != "" {
				path = prefix + "." + k.Value
			}
			if _, seen := out[k.Line]; !seen {
				out[k.Line] = path
			}
			if v.Line != k.Line || v.Kind == yaml.ScalarNode {
				out[v.Line] = path
			}
			keyPaths(v, path, out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			keyPaths(c, fmt.Sprintf("%s[%d]", prefix, i), out)
		}
	}
}

// decodeStrict decodes a mapping node into v, rejecting unknown keys.
func decodeStrict(n *yaml.Node, v any) error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(n); err != nil {
		return err
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}
