package helm

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Provenance is the signed body of a .prov file (what `helm package --sign` writes and
// `helm verify` checks): the chart's Chart.yaml, a line "...", then a YAML map whose
// files map each archive's file name to "sha256:<hex>".
type Provenance struct {
	// Name and Version are those of the Chart.yaml part.
	Name, Version string
	// Files maps archive file names to "sha256:<hex>".
	Files map[string]string
}

// ParseProvenance parses the signed body of a .prov (pgp.Keyring.VerifyClearsigned's
// content). A body without the "..." separator, without a name and version, or without
// files is refused (ErrMalformed).
func ParseProvenance(body []byte) (*Provenance, error) {
	meta, sums, ok := bytes.Cut(body, []byte("\n...\n"))
	if !ok {
		return nil, fmt.Errorf("%w: provenance: no \"...\" line between Chart.yaml and the files", ErrMalformed)
	}
	var chart struct {
		Name    string `yaml:"name"`
		Version any    `yaml:"version"`
	}
	if err := yaml.Unmarshal(meta, &chart); err != nil {
		return nil, fmt.Errorf("%w: provenance: Chart.yaml part: %v", ErrMalformed, err)
	}
	var files struct {
		Files map[string]string `yaml:"files"`
	}
	// Anything after the files map is another "..." block (a later format); only the
	// first block is read.
	first, _, _ := bytes.Cut(sums, []byte("\n...\n"))
	if err := yaml.Unmarshal(first, &files); err != nil {
		return nil, fmt.Errorf("%w: provenance: files part: %v", ErrMalformed, err)
	}
	p := &Provenance{Name: chart.Name, Version: scalar(chart.Version), Files: files.Files}
	if p.Name == "" || p.Version == "" {
		return nil, fmt.Errorf("%w: provenance: Chart.yaml part has no name or version", ErrMalformed)
	}
	if len(p.Files) == 0 {
		return nil, fmt.Errorf("%w: provenance: no files", ErrMalformed)
	}
	return p, nil
}

// Sum returns the hex sha256 the provenance lists for an archive file name, or "".
func (p *Provenance) Sum(file string) string {
	s, ok := strings.CutPrefix(p.Files[file], "sha256:")
	if !ok || !isHex64(s) {
		return ""
	}
	return s
}
