package helm

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxMetaSize caps a Chart.yaml or Chart.lock read from an archive.
const maxMetaSize = 1 << 20

// Chart is what a sync reads from a chart archive: its own metadata, the dependencies
// it declares and the subcharts it vendors.
type Chart struct {
	Name, Version, APIVersion string
	Dependencies              []Dependency
	// Locked maps dependency names to the exact versions of Chart.lock
	// (requirements.lock for apiVersion v1 charts).
	Locked map[string]string
	// Vendored names the subcharts present under charts/ (a directory's name, or an
	// archive's file name without .tgz).
	Vendored []string
}

// Dependency is one entry of Chart.yaml's dependencies (requirements.yaml in v1).
type Dependency struct {
	Name       string `yaml:"name" json:"name"`
	Version    string `yaml:"version" json:"version,omitempty"`
	Repository string `yaml:"repository" json:"repository,omitempty"`
	Alias      string `yaml:"alias" json:"alias,omitempty"`
	Condition  string `yaml:"condition" json:"condition,omitempty"`
}

type chartYAML struct {
	APIVersion   string       `yaml:"apiVersion"`
	Name         string       `yaml:"name"`
	Version      any          `yaml:"version"`
	Dependencies []Dependency `yaml:"dependencies"`
}

// ReadChart reads a chart archive (.tgz): the Chart.yaml at the top of its one
// directory, Chart.lock or the v1 requirements files, and the charts/ listing. An
// archive that is not a gzipped tar or has no Chart.yaml is refused (ErrMalformed).
func ReadChart(r io.Reader) (*Chart, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: chart archive: %v", ErrMalformed, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var (
		top                    string
		meta, lock, reqs, rlck []byte
		c                      = &Chart{Locked: map[string]string{}}
		seen                   = map[string]bool{}
	)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: chart archive: %v", ErrMalformed, err)
		}
		name := strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(h.Name, "\\", "/")), "/")
		dir, rest, _ := strings.Cut(name, "/")
		if top == "" {
			top = dir
		}
		if dir != top || rest == "" {
			continue // helm reads one top directory; pax headers and the like are not in it
		}
		read := func() ([]byte, error) {
			b, err := io.ReadAll(io.LimitReader(tr, maxMetaSize+1))
			if err != nil {
				return nil, fmt.Errorf("%w: chart archive: %s: %v", ErrMalformed, rest, err)
			}
			if len(b) > maxMetaSize {
				return nil, fmt.Errorf("%w: chart archive: %s over %d bytes", ErrMalformed, rest, maxMetaSize)
			}
			return b, nil
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeDir {
			continue
		}
		switch rest {
		case "Chart.yaml":
			meta, err = read()
		case "Chart.lock":
			lock, err = read()
		case "requirements.yaml":
			reqs, err = read()
		case "requirements.lock":
			rlck, err = read()
		default:
			if sub, ok := strings.CutPrefix(rest, "charts/"); ok && sub != "" {
				s, _, _ := strings.Cut(sub, "/")
				s = strings.TrimSuffix(s, ".tgz")
				if !seen[s] {
					seen[s] = true
					c.Vendored = append(c.Vendored, s)
				}
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if meta == nil {
		return nil, fmt.Errorf("%w: chart archive has no Chart.yaml", ErrMalformed)
	}
	var cy chartYAML
	if err := yaml.Unmarshal(meta, &cy); err != nil {
		return nil, fmt.Errorf("%w: Chart.yaml: %v", ErrMalformed, err)
	}
	c.Name, c.Version, c.APIVersion, c.Dependencies = cy.Name, scalar(cy.Version), cy.APIVersion, cy.Dependencies
	if c.Name == "" || c.Version == "" {
		return nil, fmt.Errorf("%w: Chart.yaml has no name or version", ErrMalformed)
	}
	if c.APIVersion == "v1" && reqs != nil {
		var r struct {
			Dependencies []Dependency `yaml:"dependencies"`
		}
		if err := yaml.Unmarshal(reqs, &r); err != nil {
			return nil, fmt.Errorf("%w: requirements.yaml: %v", ErrMalformed, err)
		}
		c.Dependencies, lock = r.Dependencies, rlck
	}
	if lock != nil {
		var l struct {
			Dependencies []Dependency `yaml:"dependencies"`
		}
		if err := yaml.Unmarshal(lock, &l); err != nil {
			return nil, fmt.Errorf("%w: Chart.lock: %v", ErrMalformed, err)
		}
		for _, d := range l.Dependencies {
			c.Locked[d.Name] = d.Version
		}
	}
	return c, nil
}

// vendors reports whether the archive carries subchart d under charts/.
func (c *Chart) vendors(d Dependency) bool {
	for _, v := range c.Vendored {
		if v == d.Name || strings.HasPrefix(v, d.Name+"-") {
			return true
		}
	}
	return false
}
