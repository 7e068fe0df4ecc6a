package snapproxy

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxSnapYAML caps the snap.yaml read from a refresh answer.
const maxSnapYAML = 1 << 20

// SnapYAML is what dependency following needs from a snap's snap.yaml.
type SnapYAML struct {
	Name        string
	Type        string
	Base        string
	Confinement string
	// Providers are the default-providers of content plugs (snap names, sorted, unique).
	Providers []string
}

// ParseSnapYAML reads the fields of a snap.yaml that matter offline.
func ParseSnapYAML(b []byte) (*SnapYAML, error) {
	if len(b) > maxSnapYAML {
		return nil, fmt.Errorf("%w: snap-yaml over %d bytes", ErrMalformed, maxSnapYAML)
	}
	var y struct {
		Name        string         `yaml:"name"`
		Type        string         `yaml:"type"`
		Base        string         `yaml:"base"`
		Confinement string         `yaml:"confinement"`
		Plugs       map[string]any `yaml:"plugs"`
	}
	if err := yaml.Unmarshal(b, &y); err != nil {
		return nil, fmt.Errorf("%w: snap-yaml: %v", ErrMalformed, err)
	}
	out := &SnapYAML{Name: y.Name, Type: y.Type, Base: y.Base, Confinement: y.Confinement}
	if out.Type == "" {
		out.Type = "app"
	}
	seen := map[string]bool{}
	for plug, v := range y.Plugs {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		iface, _ := m["interface"].(string)
		if iface == "" {
			iface = plug
		}
		if iface != "content" {
			continue
		}
		dp, _ := m["default-provider"].(string)
		// The old form is "snap:slot".
		dp, _, _ = strings.Cut(dp, ":")
		if dp == "" || seen[dp] {
			continue
		}
		if !validName(dp) {
			return nil, fmt.Errorf("%w: snap-yaml: default-provider %q", ErrMalformed, dp)
		}
		seen[dp] = true
		out.Providers = append(out.Providers, dp)
	}
	sort.Strings(out.Providers)
	if out.Base != "" && !validName(out.Base) {
		return nil, fmt.Errorf("%w: snap-yaml: base %q", ErrMalformed, out.Base)
	}
	return out, nil
}

// Dependencies returns the snaps that snapd would fetch from the store before installing
// this one, and that must therefore come along offline. For an application: its base
// ("core" when none is named, nothing for "none"), its content providers, and snapd
// (snapd >= 2.66 installs the snapd snap before any such snap on a classic system that
// lacks it). Snaps of type snapd, os, base, kernel and gadget have no prerequisites.
func (y *SnapYAML) Dependencies() []string {
	switch y.Type {
	case "snapd", "os", "base", "kernel", "gadget":
		return nil
	}
	var deps []string
	base := y.Base
	if base == "" {
		base = "core"
	}
	if base != "none" && base != y.Name {
		deps = append(deps, base)
	}
	for _, p := range y.Providers {
		if p != y.Name {
			deps = append(deps, p)
		}
	}
	return append(deps, "snapd")
}
