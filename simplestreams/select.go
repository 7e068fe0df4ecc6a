package simplestreams

import (
	"maps"
	"slices"
	"strings"
)

// Select returns a copy of p holding the items for which keep returns true (nil keeps
// all), and of each product at most max versions (max <= 0: all), the newest ones by
// plain string comparison of version names, counting only versions that kept an item.
// Products and versions left without items are dropped. p is not changed; the copy's
// nodes are its own, so fields may be set on them.
func (p *Products) Select(keep func(ItemRef) bool, max int) *Products {
	out := &Products{
		node:      p.node.clone(),
		ContentID: p.ContentID, Datatype: p.Datatype, Format: p.Format, Updated: p.Updated,
		Products: map[string]*Product{},
	}
	for pn, prod := range p.Products {
		np := &Product{node: prod.node.clone(), Name: pn, Versions: map[string]*Version{}}
		for vn, v := range prod.Versions {
			nv := &Version{node: v.node.clone(), Name: vn, Items: map[string]*Item{}}
			for in, it := range v.Items {
				// The reference points at the originals: keep sees the upstream item.
				if keep == nil || keep(ItemRef{Products: p, Product: prod, Version: v, Item: it}) {
					nv.Items[in] = &Item{node: it.node.clone(), Name: in}
				}
			}
			if len(nv.Items) > 0 {
				np.Versions[vn] = nv
			}
		}
		if max > 0 && len(np.Versions) > max {
			names := slices.Sorted(maps.Keys(np.Versions))
			for _, old := range names[:len(names)-max] {
				delete(np.Versions, old)
			}
		}
		if len(np.Versions) > 0 {
			out.Products[pn] = np
		}
	}
	return out
}

// MAASSelection picks boot images the way a MAAS boot-source selection does: by os,
// release, architectures, subarchitectures and labels. An empty field or "*" matches
// anything. It matches the flattened fields os, release, arch, subarch and label.
type MAASSelection struct {
	OS        string   `yaml:"os"`
	Release   string   `yaml:"release"`
	Arches    []string `yaml:"arches"`
	Subarches []string `yaml:"subarches"`
	Labels    []string `yaml:"labels"`
}

// Match reports whether the item belongs to the selection.
func (s MAASSelection) Match(it ItemRef) bool {
	return matchOne(it, "os", s.OS) && matchOne(it, "release", s.Release) &&
		matchAny(it, "arch", s.Arches) && matchAny(it, "subarch", s.Subarches) &&
		matchAny(it, "label", s.Labels)
}

func matchOne(it ItemRef, key, want string) bool {
	if want == "" || want == "*" {
		return true
	}
	v, _ := it.Get(key)
	return v == want
}

func matchAny(it ItemRef, key string, want []string) bool {
	if len(want) == 0 || slices.Contains(want, "*") {
		return true
	}
	v, _ := it.Get(key)
	return slices.Contains(want, v)
}

// IsBootloader reports whether the item belongs to a MAAS bootloader stream
// (com.ubuntu.maas:<channel>:1:bootloader-download, or any product with a
// bootloader-type): MAAS downloads those whatever images are selected.
func IsBootloader(it ItemRef) bool {
	if id, _ := it.Get("content_id"); strings.HasSuffix(id, ":bootloader-download") {
		return true
	}
	_, ok := it.Get("bootloader-type")
	return ok
}

// MAASSelector returns a keep function for Products.Select: an item is kept when it
// matches one of the selections, or is a bootloader. No selections keep everything.
func MAASSelector(sels []MAASSelection) func(ItemRef) bool {
	if len(sels) == 0 {
		return nil
	}
	return func(it ItemRef) bool {
		if IsBootloader(it) {
			return true
		}
		for _, s := range sels {
			if s.Match(it) {
				return true
			}
		}
		return false
	}
}
