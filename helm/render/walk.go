package render

import (
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/airgapkit/airgap/store"
	"gopkg.in/yaml.v3"
)

// maxDepth bounds the walk of one document (rendered manifests nest a few levels; a
// hostile one could nest thousands).
const maxDepth = 100

// collector gathers normalised references in order, each once.
type collector struct {
	exclude []string
	seen    map[string]bool
	out     []Image
}

func newCollector(exclude []string) *collector {
	return &collector{exclude: exclude, seen: map[string]bool{}}
}

// add records s (found at from) unless it was seen or is excluded.
func (c *collector) add(s, from string) error {
	ref, err := Normalize(s)
	if err != nil {
		return err
	}
	if c.seen[ref] {
		return nil
	}
	c.seen[ref] = true
	if !excluded(c.exclude, ref) {
		c.out = append(c.out, Image{Ref: ref, From: from})
	}
	return nil
}

// manifests walks helm's rendered manifest stream: documents separated by "---", each
// headed by "# Source: <template path>".
func (c *collector) manifests(m string) error {
	for _, doc := range strings.Split("\n"+m, "\n---") {
		src := ""
		if rest, ok := strings.CutPrefix(strings.TrimLeft(doc, " \t\n"), "# Source: "); ok {
			src, _, _ = strings.Cut(rest, "\n")
		}
		if err := c.document(doc, src); err != nil {
			return err
		}
	}
	return nil
}

// document walks the YAML documents of one template's output.
func (c *collector) document(body, from string) error {
	dec := yaml.NewDecoder(strings.NewReader(body))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %w", store.ErrMalformed, from, err)
		}
		if n.Kind != yaml.DocumentNode || len(n.Content) == 0 {
			continue
		}
		root := n.Content[0]
		if spec := podSpec(root); spec != nil {
			for _, field := range []string{"containers", "initContainers", "ephemeralContainers"} {
				list := get(spec, field)
				if list == nil || list.Kind != yaml.SequenceNode {
					continue
				}
				for _, ct := range list.Content {
					img := get(ct, "image")
					if img == nil {
						continue
					}
					if img.Kind != yaml.ScalarNode {
						return fmt.Errorf("%w: %s: %s: %w", store.ErrMalformed, from, field, errNoImage)
					}
					if err := c.add(img.Value, from); err != nil {
						return fmt.Errorf("%w: %s: %s: %w", store.ErrMalformed, from, field, err)
					}
				}
			}
		}
		c.scalars(root, from, 0)
	}
}

// scalars adds every string "image:" value below n that is a reference; the others (a
// custom resource's image: true, image: "not a ref") are not images.
func (c *collector) scalars(n *yaml.Node, from string, depth int) {
	if n == nil || depth > maxDepth {
		return
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if v := deref(n.Content[i+1]); n.Content[i].Value == "image" && v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" {
				_ = c.add(v.Value, from)
			}
		}
	}
	for _, ch := range n.Content {
		c.scalars(ch, from, depth+1)
	}
}

// podSpec returns the pod spec of a workload object, nil for other kinds.
func podSpec(root *yaml.Node) *yaml.Node {
	kind := get(root, "kind")
	if kind == nil || kind.Kind != yaml.ScalarNode {
		return nil
	}
	switch kind.Value {
	case "Pod":
		return get(root, "spec")
	case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job":
		return get(root, "spec", "template", "spec")
	case "CronJob":
		return get(root, "spec", "jobTemplate", "spec", "template", "spec")
	}
	return nil
}

// get follows keys through mappings (aliases resolved); nil when one is missing.
func get(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = deref(n)
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return deref(n)
}

func deref(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

// excluded reports whether ref matches one of the Options.Exclude entries.
func excluded(patterns []string, ref string) bool {
	repo := repository(ref)
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if strings.ContainsAny(p, "*?[") {
			if ok, _ := path.Match(p, ref); ok {
				return true
			}
			if ok, _ := path.Match(p, repo); ok {
				return true
			}
			continue
		}
		n, err := Normalize(p)
		if err != nil {
			continue
		}
		if hasTagOrDigest(p) && n == ref || !hasTagOrDigest(p) && repository(n) == repo {
			return true
		}
	}
	return false
}
