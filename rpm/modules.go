package rpm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// moduleDoc is one document of modules.yaml.
type moduleDoc struct {
	node      *yaml.Node
	kind      string // modulemd, modulemd-defaults, modulemd-translations, modulemd-obsoletes, ...
	name      string // data.name (modulemd), data.module (the others)
	stream    string
	artifacts []string // data.artifacts.rpms (modulemd)
}

// moduleSet is the module metadata of a mirror's repositories, for dnf's modular
// filtering: the artifacts of a module's default stream are what dnf shows, other
// modular packages are hidden, and so are non-modular packages that share a name with
// an artifact of a default stream.
type moduleSet struct {
	modular      map[string]bool // NEVRA of every artifact
	defaultArts  map[string]bool // NEVRA of the default streams' artifacts
	defaultNames map[string]bool // package names among them
}

// hides reports whether dnf's modular filtering hides p (with the default streams).
func (ms *moduleSet) hides(p *Package) bool {
	if ms == nil || len(ms.modular) == 0 {
		return false
	}
	n := p.NEVRA()
	if ms.modular[n] {
		return !ms.defaultArts[n]
	}
	return ms.defaultNames[p.Name]
}

// maxModuleDocs caps the documents of one modules.yaml.
const maxModuleDocs = 1 << 20

// readModuleDocs parses a modules.yaml stream (decompressed).
func readModuleDocs(r io.Reader) ([]moduleDoc, error) {
	dec := yaml.NewDecoder(r)
	var out []moduleDoc
	for len(out) < maxModuleDocs {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: modules.yaml: %v", ErrMalformed, err)
		}
		var head struct {
			Document string `yaml:"document"`
			Data     struct {
				Name      string `yaml:"name"`
				Module    string `yaml:"module"`
				Stream    string `yaml:"stream"`
				Artifacts struct {
					RPMs []string `yaml:"rpms"`
				} `yaml:"artifacts"`
			} `yaml:"data"`
		}
		if err := n.Decode(&head); err != nil {
			return nil, fmt.Errorf("%w: modules.yaml: %v", ErrMalformed, err)
		}
		if head.Document == "" {
			return nil, fmt.Errorf("%w: modules.yaml: a document without a document: field", ErrMalformed)
		}
		d := moduleDoc{node: &n, kind: head.Document, name: head.Data.Name, stream: head.Data.Stream, artifacts: head.Data.Artifacts.RPMs}
		if d.kind != "modulemd" {
			d.name = head.Data.Module
		}
		out = append(out, d)
	}
	return nil, fmt.Errorf("%w: modules.yaml: more than %d documents", ErrMalformed, maxModuleDocs)
}

// readModules reads the modules.yaml of every repository that lists one.
func (ss *session) readModules(ctx context.Context, repos []*repoState) (*moduleSet, error) {
	ms := &moduleSet{modular: map[string]bool{}, defaultArts: map[string]bool{}, defaultNames: map[string]bool{}}
	defaults := map[string]string{}
	var all []moduleDoc
	for _, rs := range repos {
		d, ok := rs.md.Find("modules")
		if !ok {
			continue
		}
		rc, err := ss.openData(ctx, d, rs.data["modules"])
		if err != nil {
			return nil, fmt.Errorf("rpm: %s %s: %w", rs.path, d.Href, err)
		}
		docs, err := readModuleDocs(rc)
		if err == nil {
			_, err = io.Copy(io.Discard, rc) // the open-checksum is checked at EOF
		}
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("rpm: %s %s: %w", rs.path, d.Href, malformedRead(d.Href, err))
		}
		rs.modules = docs
		all = append(all, docs...)
	}
	for _, d := range all {
		if d.kind == "modulemd-defaults" && d.stream != "" {
			defaults[d.name] = d.stream
		}
	}
	for _, d := range all {
		if d.kind != "modulemd" {
			continue
		}
		def := defaults[d.name] == d.stream
		for _, a := range d.artifacts {
			ms.modular[a] = true
			if def {
				ms.defaultArts[a] = true
				if n, ok := nevraName(a); ok {
					ms.defaultNames[n] = true
				}
			}
		}
	}
	return ms, nil
}

// nevraName is the name of "name-epoch:version-release.arch".
func nevraName(s string) (string, bool) {
	i := bytes.LastIndexByte([]byte(s), '-') // before the release
	if i <= 0 {
		return "", false
	}
	j := bytes.LastIndexByte([]byte(s[:i]), '-') // before epoch:version
	if j <= 0 {
		return "", false
	}
	return s[:j], true
}

// filterModules keeps the module streams with an artifact the mirror holds (their
// artifacts cut to the held ones), and the defaults, translations and obsoletes of the
// modules kept; held is by NEVRA.
func filterModules(docs []moduleDoc, held map[string]bool) []moduleDoc {
	keptModules := map[string]bool{}
	var out []moduleDoc
	for _, d := range docs {
		if d.kind != "modulemd" {
			continue
		}
		var arts []string
		for _, a := range d.artifacts {
			if held[a] {
				arts = append(arts, a)
			}
		}
		if len(arts) == 0 {
			continue
		}
		keptModules[d.name] = true
		if len(arts) != len(d.artifacts) {
			setArtifacts(d.node, arts)
		}
		out = append(out, d)
	}
	for _, d := range docs {
		if d.kind != "modulemd" && keptModules[d.name] {
			out = append(out, d)
		}
	}
	return out
}

// setArtifacts replaces data.artifacts.rpms of a modulemd document.
func setArtifacts(doc *yaml.Node, arts []string) {
	rpms := lookup(doc, "data", "artifacts", "rpms")
	if rpms == nil || rpms.Kind != yaml.SequenceNode {
		return
	}
	rpms.Content = nil
	for _, a := range arts {
		rpms.Content = append(rpms.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: a})
	}
}

func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// writeModuleDocs writes documents as modules.yaml ("---" ... "..." each).
func writeModuleDocs(w io.Writer, docs []moduleDoc) error {
	for _, d := range docs {
		var b bytes.Buffer
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(d.node); err != nil {
			return err
		}
		if err := enc.Close(); err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "---\n%s...\n", b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}
