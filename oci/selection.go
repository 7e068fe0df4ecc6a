package oci

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"gopkg.in/yaml.v3"

	"github.com/airgapkit/airgap/internal/charttag"
)

// RepositorySelector picks tags of one repository. Filters combine: Tags are always
// taken; of the listed tags, those matching Match (if set), not matching Exclude, and
// inside Semver (if set) are kept; then Latest keeps the N highest versions.
type RepositorySelector struct {
	// Repository is "registry/path", e.g. "docker.io/library/nginx" ("nginx" works too).
	Repository string `yaml:"repository"`
	// Tags are taken as they are (no listing needed when only Tags is set).
	Tags []string `yaml:"tags,omitempty"`
	// Match is a regular expression a tag must match in full.
	Match string `yaml:"match,omitempty"`
	// Exclude is a regular expression; matching tags are dropped.
	Exclude string `yaml:"exclude,omitempty"`
	// Semver is a version range such as ">=1.2, <2", "^1.25", "~3.19" or "1.x". Tags that
	// are not versions (a leading "v" is allowed) never match a range.
	Semver string `yaml:"semver,omitempty"`
	// Latest keeps only the N highest versions among the filtered tags (tags that are
	// not versions are dropped when Latest is set).
	Latest int `yaml:"latest,omitempty"`
}

func (rs RepositorySelector) listing() bool {
	return rs.Match != "" || rs.Exclude != "" || rs.Semver != "" || rs.Latest > 0 || len(rs.Tags) == 0
}

// FilterTags applies the selector's filters to a tag list and returns the kept tags,
// sorted (highest version first when Semver or Latest is used).
func (rs RepositorySelector) FilterTags(tags []string) ([]string, error) {
	var match, exclude *regexp.Regexp
	var err error
	if rs.Match != "" {
		if match, err = regexp.Compile("^(?:" + rs.Match + ")$"); err != nil {
			return nil, fmt.Errorf("oci: %s: match: %w", rs.Repository, err)
		}
	}
	if rs.Exclude != "" {
		if exclude, err = regexp.Compile("^(?:" + rs.Exclude + ")$"); err != nil {
			return nil, fmt.Errorf("oci: %s: exclude: %w", rs.Repository, err)
		}
	}
	var cons *semver.Constraints
	if rs.Semver != "" {
		if cons, err = semver.NewConstraint(rs.Semver); err != nil {
			return nil, fmt.Errorf("oci: %s: semver %q: %w", rs.Repository, rs.Semver, err)
		}
	}
	type tv struct {
		tag string
		v   *semver.Version
	}
	var kept []tv
	for _, t := range tags {
		if match != nil && !match.MatchString(t) || exclude != nil && exclude.MatchString(t) {
			continue
		}
		v, verr := semver.NewVersion(charttag.Version(t)) // a chart's "+" is "_" in its tag
		if cons != nil && (verr != nil || !cons.Check(v)) {
			continue
		}
		if rs.Latest > 0 && verr != nil {
			continue
		}
		kept = append(kept, tv{t, v})
	}
	if cons != nil || rs.Latest > 0 {
		sort.SliceStable(kept, func(i, j int) bool { return kept[i].v.GreaterThan(kept[j].v) })
	} else {
		sort.Slice(kept, func(i, j int) bool { return kept[i].tag < kept[j].tag })
	}
	if rs.Latest > 0 && len(kept) > rs.Latest {
		kept = kept[:rs.Latest]
	}
	out := make([]string, len(kept))
	for i, k := range kept {
		out[i] = k.tag
	}
	return out, nil
}

// Selection resolves what a mirror copies into a deduplicated list of references.
type Selection struct {
	Images       []string
	Repositories []RepositorySelector
	ImageLists   []string // files, one reference per line
	YAMLFiles    []string // Kubernetes manifests, Helm values or rendered charts
}

// Resolve expands the selection, listing tags where a RepositorySelector needs them.
func (sel Selection) Resolve(ctx context.Context, c *Client) ([]Reference, error) {
	var raw []string
	raw = append(raw, sel.Images...)
	for _, f := range sel.ImageLists {
		refs, err := readListFile(f)
		if err != nil {
			return nil, err
		}
		raw = append(raw, refs...)
	}
	for _, f := range sel.YAMLFiles {
		fh, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("oci: image YAML: %w", err)
		}
		refs, err := ImagesFromYAML(fh)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("oci: %s: %w", f, err)
		}
		raw = append(raw, refs...)
	}
	seen := map[string]bool{}
	var out []Reference
	add := func(r Reference) {
		if k := r.String(); !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	for _, s := range raw {
		r, err := ParseReference(s)
		if err != nil {
			return nil, err
		}
		add(r)
	}
	for _, rs := range sel.Repositories {
		base, err := ParseReference(rs.Repository)
		if err != nil {
			return nil, err
		}
		if base.Tag != "" && strings.Contains(rs.Repository, ":"+base.Tag) {
			return nil, fmt.Errorf("%w: repository selector %q carries a tag", ErrInvalidReference, rs.Repository)
		}
		base.Tag, base.Digest = "", ""
		for _, t := range rs.Tags {
			if !validTag(t) {
				return nil, fmt.Errorf("%w: tag %q", ErrInvalidReference, t)
			}
			r := base
			r.Tag = t
			add(r)
		}
		if !rs.listing() {
			continue
		}
		tags, err := c.Tags(ctx, base.Registry, base.Repository)
		if err != nil {
			return nil, err
		}
		kept, err := rs.FilterTags(withoutCosignTags(tags))
		if err != nil {
			return nil, err
		}
		for _, t := range kept {
			r := base
			r.Tag = t
			add(r)
		}
	}
	return out, nil
}

// withoutCosignTags drops signature/attestation tags (sha256-<hex>.sig and friends, and
// referrers fallback tags): they travel with their images, not as images.
func withoutCosignTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if !strings.HasPrefix(t, "sha256-") {
			out = append(out, t)
		}
	}
	return out
}

// maxListLine caps one line of an image list.
const maxListLine = 4096

// ReadImageList reads references, one per line; blank lines and "#" comments are skipped.
func ReadImageList(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), maxListLine)
	var out []string
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if _, err := ParseReference(line); err != nil {
			return nil, err
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("oci: image list: %w", err)
	}
	return out, nil
}

func readListFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("oci: image list: %w", err)
	}
	defer f.Close()
	refs, err := ReadImageList(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return refs, nil
}

// maxYAMLDocument caps the YAML input read by ImagesFromYAML.
const maxYAMLDocument = 64 << 20

// ImagesFromYAML collects the images a set of Kubernetes manifests (several documents
// separated by "---") or Helm values refer to: every scalar "image:" value, and Helm's
// image maps {registry, repository, tag, digest}. Templated values ("{{ ... }}") are
// skipped. The result is deduplicated, in order of appearance.
func ImagesFromYAML(r io.Reader) ([]string, error) {
	dec := yaml.NewDecoder(io.LimitReader(r, maxYAMLDocument))
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" || strings.Contains(s, "{{") || seen[s] {
			return
		}
		if _, err := ParseReference(s); err != nil {
			return
		}
		seen[s] = true
		out = append(out, s)
	}
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("oci: YAML: %w", err)
		}
		walkYAML(&doc, add, 0)
	}
	return out, nil
}

func walkYAML(n *yaml.Node, add func(string), depth int) {
	if n == nil || depth > 200 {
		return
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "image" {
				switch v.Kind {
				case yaml.ScalarNode:
					add(v.Value)
				case yaml.MappingNode:
					if s := helmImage(v); s != "" {
						add(s)
					}
				}
			}
		}
	}
	for _, c := range n.Content {
		walkYAML(c, add, depth+1)
	}
}

// helmImage joins a Helm-style image map into a reference ("" if it has no repository).
func helmImage(n *yaml.Node) string {
	f := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i+1].Kind == yaml.ScalarNode {
			f[n.Content[i].Value] = n.Content[i+1].Value
		}
	}
	repo := f["repository"]
	if repo == "" {
		return ""
	}
	s := repo
	if reg := f["registry"]; reg != "" {
		s = reg + "/" + repo
	}
	if t := f["tag"]; t != "" {
		s += ":" + t
	}
	if d := f["digest"]; d != "" {
		s += "@" + d
	}
	return s
}
