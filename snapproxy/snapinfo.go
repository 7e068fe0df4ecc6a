package snapproxy

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// yamlInfo is what the store API tells about a snap from its snap.yaml.
type yamlInfo struct {
	Summary       string
	Title         string
	Description   string
	License       string
	Architectures []string
	Epoch         Epoch
}

// parseYAMLInfo reads the descriptive fields and the epoch of a snap.yaml ("" gives
// epoch 0 and architectures [all], as snapd reads a snap.yaml without them).
func parseYAMLInfo(s string) (yamlInfo, error) {
	if len(s) > maxSnapYAML {
		return yamlInfo{}, fmt.Errorf("%w: snap-yaml over %d bytes", ErrMalformed, maxSnapYAML)
	}
	var y struct {
		Summary       string   `yaml:"summary"`
		Title         string   `yaml:"title"`
		Description   string   `yaml:"description"`
		License       string   `yaml:"license"`
		Architectures []string `yaml:"architectures"`
		Epoch         any      `yaml:"epoch"`
	}
	if err := yaml.Unmarshal([]byte(s), &y); err != nil {
		return yamlInfo{}, fmt.Errorf("%w: snap-yaml: %v", ErrMalformed, err)
	}
	ep, err := epochOf(y.Epoch)
	if err != nil {
		return yamlInfo{}, fmt.Errorf("snap-yaml: %w", err)
	}
	info := yamlInfo{Summary: y.Summary, Title: y.Title, Description: y.Description, License: y.License,
		Architectures: y.Architectures, Epoch: ep}
	if len(info.Architectures) == 0 {
		info.Architectures = []string{"all"}
	}
	return info, nil
}
