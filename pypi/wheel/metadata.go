package wheel

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/airgapkit/airgap/pypi/pep508"
	"github.com/airgapkit/airgap/store"
)

// ErrMalformedMetadata is returned (wrapped) for core metadata that cannot be read.
var ErrMalformedMetadata = fmt.Errorf("wheel: malformed core metadata%.0w", store.ErrMalformed)

// Metadata is the part of a distribution's core metadata (METADATA, PKG-INFO, or a PEP
// 658 .metadata file) that dependency following needs.
type Metadata struct {
	MetadataVersion string
	Name            string
	Version         string
	RequiresPython  string
	// RequiresDist holds the raw Requires-Dist lines.
	RequiresDist  []string
	ProvidesExtra []string
	// Dynamic lists fields (lower case) an sdist leaves to build time (PEP 643).
	Dynamic []string
}

// ParseMetadata reads the RFC 822 style header block of core metadata; the body (the long
// description) is ignored. Folded continuation lines are joined.
func ParseMetadata(b []byte) (*Metadata, error) {
	m := &Metadata{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var key, val string
	flush := func() {
		if key == "" {
			return
		}
		val = strings.TrimSpace(val)
		switch strings.ToLower(key) {
		case "metadata-version":
			m.MetadataVersion = val
		case "name":
			m.Name = val
		case "version":
			m.Version = val
		case "requires-python":
			m.RequiresPython = val
		case "requires-dist":
			m.RequiresDist = append(m.RequiresDist, val)
		case "provides-extra":
			m.ProvidesExtra = append(m.ProvidesExtra, pep508.NormalizeName(val))
		case "dynamic":
			m.Dynamic = append(m.Dynamic, strings.ToLower(val))
		}
		key, val = "", ""
	}
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if key == "" {
				return nil, fmt.Errorf("%w: continuation line before any field", ErrMalformedMetadata)
			}
			val += " " + strings.TrimSpace(line)
			continue
		}
		flush()
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%w: line %q is not a field", ErrMalformedMetadata, truncate(line, 80))
		}
		key, val = k, v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedMetadata, err)
	}
	flush()
	if m.Name == "" {
		return nil, fmt.Errorf("%w: no Name field", ErrMalformedMetadata)
	}
	return m, nil
}

// DependenciesKnown reports whether Requires-Dist can be trusted: always for wheels, and
// for sdists from Metadata-Version 2.2 on when the field is not Dynamic.
func (m *Metadata) DependenciesKnown() bool {
	if m.MetadataVersion == "" || strings.HasPrefix(m.MetadataVersion, "1.") || m.MetadataVersion == "2.0" || m.MetadataVersion == "2.1" {
		return false
	}
	for _, d := range m.Dynamic {
		if d == "requires-dist" {
			return false
		}
	}
	return true
}

// Requirements parses every Requires-Dist line.
func (m *Metadata) Requirements() ([]pep508.Requirement, error) {
	out := make([]pep508.Requirement, 0, len(m.RequiresDist))
	for _, line := range m.RequiresDist {
		r, err := pep508.ParseRequirement(line)
		if err != nil {
			return nil, fmt.Errorf("wheel: %s %s: Requires-Dist: %w", m.Name, m.Version, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
