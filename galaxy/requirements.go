package galaxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/airgapkit/airgap/store"
)

// ErrRequirements reports a requirements.yml that cannot be read.
var ErrRequirements = fmt.Errorf("galaxy: invalid requirements%.0w", store.ErrConfig)

// maxRequirementsSize caps a requirements file.
const maxRequirementsSize = 4 << 20

// Requirements is what a requirements.yml asks for.
type Requirements struct {
	Collections []CollectionSpec
	Roles       []RoleSpec
}

// CollectionSpec selects versions of one collection.
type CollectionSpec struct {
	// Name is "namespace.name".
	Name string `yaml:"name"`
	// Version is a range such as ">=8.0.0,<9", "==1.2.3", "!=2.0.0" or "*" (the default).
	Version string `yaml:"version"`
	// Latest keeps only the newest N versions that match (0: every match).
	Latest int `yaml:"latest"`
	// Pre admits pre-releases (otherwise only a range pinning one exactly selects it).
	Pre bool `yaml:"pre"`
	// Type is the requirement type from requirements.yml ("galaxy" or empty; "git",
	// "url", "file", "dir" and "subdirs" name content that is not on a Galaxy server and
	// are skipped by the mirror).
	Type string `yaml:"type"`
	// Source is a requirement's own Galaxy server, informational: the mirror reads its
	// configured upstream.
	Source string `yaml:"source"`
}

// RoleSpec selects versions of one role.
type RoleSpec struct {
	// Name is "owner.name" as on Galaxy.
	Name string `yaml:"name"`
	// Versions lists the versions to mirror; empty means the newest Latest.
	Versions []string `yaml:"versions"`
	// Latest is how many of the newest versions to keep when Versions is empty
	// (0: one).
	Latest int `yaml:"latest"`
	// SCM is set for roles installed from a source repository (not mirrorable).
	SCM string `yaml:"scm"`
}

// Namespace and short name of a "ns.name" collection name.
func splitName(full string) (ns, name string, err error) {
	ns, name, ok := strings.Cut(full, ".")
	if !ok || !validNamePart(ns) || !validNamePart(name) {
		return "", "", fmt.Errorf("%w: collection name %q: want namespace.name", ErrRequirements, full)
	}
	return ns, name, nil
}

// validNamePart accepts Galaxy namespace and collection names: lower-case letters, digits
// and underscores, not starting with a digit or underscore. Upper case is tolerated for
// old content.
func validNamePart(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9', c == '_':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// validRolePart accepts role owner and role names (letters, digits, '_', '-', '.').
func validRolePart(s string) bool {
	if s == "" || len(s) > 128 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// splitRole splits "owner.name": the last dot separates them, as in ansible-galaxy.
func splitRole(full string) (owner, name string, err error) {
	i := strings.LastIndexByte(full, '.')
	if i <= 0 || !validRolePart(full[:i]) || !validRolePart(full[i+1:]) {
		return "", "", fmt.Errorf("%w: role name %q: want owner.name", ErrRequirements, full)
	}
	return full[:i], full[i+1:], nil
}

// LoadRequirements reads a requirements.yml file.
func LoadRequirements(path string) (*Requirements, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := ParseRequirements(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// ParseRequirements reads a requirements.yml in either form ansible-galaxy accepts: a
// mapping with "collections" and "roles" lists, or the older plain list of roles. Entries
// may be strings ("ns.name", "owner.role,1.0.0") or mappings (name/src, version, type,
// source, scm).
func ParseRequirements(r io.Reader) (*Requirements, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxRequirementsSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxRequirementsSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrRequirements, maxRequirementsSize)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &Requirements{}, nil
		}
		return nil, fmt.Errorf("%w: %v", ErrRequirements, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	out := &Requirements{}
	switch root.Kind {
	case yaml.SequenceNode: // the old format: roles only
		if err := parseRoles(root, out); err != nil {
			return nil, err
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(root.Content); i += 2 {
			key, val := root.Content[i].Value, root.Content[i+1]
			if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
				continue
			}
			switch key {
			case "collections":
				if err := parseCollections(val, out); err != nil {
					return nil, err
				}
			case "roles":
				if err := parseRoles(val, out); err != nil {
					return nil, err
				}
			}
		}
	case yaml.ScalarNode:
		if root.Tag != "!!null" {
			return nil, fmt.Errorf("%w: line %d: want a mapping or a list", ErrRequirements, root.Line)
		}
	default:
		return nil, fmt.Errorf("%w: line %d: want a mapping or a list", ErrRequirements, root.Line)
	}
	return out, nil
}

// entry is the union of the mapping fields both kinds of requirement use.
type entry struct {
	Name    string    `yaml:"name"`
	Src     string    `yaml:"src"`
	Version yaml.Node `yaml:"version"`
	Type    string    `yaml:"type"`
	Source  string    `yaml:"source"`
	SCM     string    `yaml:"scm"`
}

// version returns the version as written (a YAML number such as 1.0 stays "1.0").
func (e entry) version() string {
	if e.Version.Kind != yaml.ScalarNode || e.Version.Tag == "!!null" {
		return ""
	}
	return e.Version.Value
}

func parseCollections(n *yaml.Node, out *Requirements) error {
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("%w: line %d: collections must be a list", ErrRequirements, n.Line)
	}
	for _, item := range n.Content {
		var spec CollectionSpec
		switch item.Kind {
		case yaml.ScalarNode:
			spec.Name = item.Value
		case yaml.MappingNode:
			var e entry
			if err := item.Decode(&e); err != nil {
				return fmt.Errorf("%w: line %d: %v", ErrRequirements, item.Line, err)
			}
			spec = CollectionSpec{Name: e.Name, Version: e.version(), Type: e.Type, Source: e.Source}
		default:
			return fmt.Errorf("%w: line %d: a collection is a name or a mapping", ErrRequirements, item.Line)
		}
		if spec.Name == "" {
			return fmt.Errorf("%w: line %d: collection without a name", ErrRequirements, item.Line)
		}
		if spec.Type == "" || spec.Type == "galaxy" {
			// "ns.name:>=1.0" is accepted on the command line; tolerate it here too.
			if name, ver, ok := strings.Cut(spec.Name, ":"); ok && spec.Version == "" {
				spec.Name, spec.Version = name, ver
			}
			if _, _, err := splitName(spec.Name); err != nil {
				return fmt.Errorf("line %d: %w", item.Line, err)
			}
			if _, err := ParseRange(spec.Version); err != nil {
				return fmt.Errorf("%w: line %d: %v", ErrRequirements, item.Line, err)
			}
		}
		out.Collections = append(out.Collections, spec)
	}
	return nil
}

func parseRoles(n *yaml.Node, out *Requirements) error {
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("%w: line %d: roles must be a list", ErrRequirements, n.Line)
	}
	for _, item := range n.Content {
		var e entry
		switch item.Kind {
		case yaml.ScalarNode: // "owner.role" or "owner.role,1.0.0" (or "src,version,name")
			parts := strings.Split(item.Value, ",")
			e.Src = strings.TrimSpace(parts[0])
			if len(parts) > 1 {
				e.Version = yaml.Node{Kind: yaml.ScalarNode, Value: strings.TrimSpace(parts[1])}
			}
		case yaml.MappingNode:
			if err := item.Decode(&e); err != nil {
				return fmt.Errorf("%w: line %d: %v", ErrRequirements, item.Line, err)
			}
			// "include" entries point at other files: not followed.
		default:
			return fmt.Errorf("%w: line %d: a role is a name or a mapping", ErrRequirements, item.Line)
		}
		name := e.Src
		if name == "" {
			name = e.Name
		}
		if name == "" {
			continue // e.g. an "include:" entry
		}
		spec := RoleSpec{Name: name, SCM: e.SCM}
		if spec.SCM == "" && (strings.HasPrefix(name, "git+") || strings.Contains(name, "://") || strings.Contains(name, "/")) {
			spec.SCM = "url"
		}
		if v := e.version(); v != "" {
			spec.Versions = []string{v}
		}
		if spec.SCM == "" {
			if _, _, err := splitRole(name); err != nil {
				return fmt.Errorf("line %d: %w", item.Line, err)
			}
		}
		out.Roles = append(out.Roles, spec)
	}
	return nil
}
