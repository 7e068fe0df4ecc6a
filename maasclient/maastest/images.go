package maastest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Image is one image a simplestreams source offers, as MAAS's boot source cache
// records it: os/release for an architecture, subarchitecture (kernel) and label.
type Image struct {
	OS, Release, Arch, Subarch, Label string
}

var ubuntuVersions = map[string]string{"bionic": "18.04", "focal": "20.04", "jammy": "22.04", "noble": "24.04", "plucky": "25.04", "questing": "25.10"}

// UbuntuImages are the images an Ubuntu release has in the MAAS image stream: per
// architecture the ga- and hwe- kernels of the release, label "stable".
func UbuntuImages(release string, arches ...string) []Image {
	v, ok := ubuntuVersions[release]
	if !ok {
		v = release
	}
	var out []Image
	for _, a := range arches {
		for _, sub := range []string{"ga-" + v, "hwe-" + v} {
			out = append(out, Image{OS: "ubuntu", Release: release, Arch: a, Subarch: sub, Label: "stable"})
		}
	}
	return out
}

// SetImages sets what the simplestreams source at url serves (replacing what was set
// before). A URL nothing was set for is unreachable, as images.maas.io is from inside
// an air gap. The boot source cache sees it at its next refresh.
func (s *Server) SetImages(url string, images ...Image) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.catalogs[strings.TrimRight(url, "/")] = images
}

// SetImagesFunc answers what a simplestreams source serves for the URLs SetImages did
// not name (for a mirror whose address is known only once it listens).
func (s *Server) SetImagesFunc(f func(url string) []Image) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.catalogFunc = f
}

// StartImport starts an import as MAAS's periodic import service does.
func (s *Server) StartImport() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.startImport()
}

// refreshCache is MAAS's cache_boot_sources: every boot source's cache becomes what its
// URL serves now.
func (s *Server) refreshCache() {
	for _, b := range s.sources {
		imgs, ok := s.catalogs[strings.TrimRight(b.URL, "/")]
		if !ok && s.catalogFunc != nil {
			imgs = s.catalogFunc(b.URL)
		}
		s.cache[b.ID] = slices.Clone(imgs)
	}
}

// startImport begins an import, which refreshes the boot source cache before anything
// else. MAAS starts no second import while one runs.
func (s *Server) startImport() {
	if s.importing {
		return
	}
	s.imports++
	s.importing, s.importLeft = true, s.importPolls
	s.refreshCache()
}

var resourceTypes = []string{"synced", "uploaded"}

func (s *Server) bootResources(w http.ResponseWriter, req *Request, seg []string) {
	if len(seg) == 1 && req.Method == http.MethodGet && req.Op == "" {
		id, _ := strconv.Atoi(seg[0])
		i := slices.IndexFunc(s.resources, func(r *BootResource) bool { return r.ID == id })
		if i < 0 {
			notFound(w)
			return
		}
		writeJSON(w, 200, s.resources[i])
		return
	}
	if len(seg) != 0 {
		notFound(w)
		return
	}
	switch {
	case req.Method == http.MethodGet && req.Op == "":
		typ := "all"
		if _, ok := req.Query["type"]; ok {
			typ = req.Query.Get("type")
		}
		if typ != "all" && !slices.Contains(resourceTypes, typ) {
			plainError(w, http.StatusBadRequest, fmt.Sprintf("'%s' is not a valid boot resource type. Available types: %s", typ, pyList(resourceTypes)))
			return
		}
		out := []map[string]any{}
		for _, r := range s.resources {
			if typ == "all" || strings.EqualFold(typ, r.Type) {
				out = append(out, map[string]any{"id": r.ID, "type": r.Type, "name": r.Name, "architecture": r.Architecture, "resource_uri": r.ResourceURI})
			}
		}
		writeJSON(w, 200, out)
	case req.Method == http.MethodGet && req.Op == "is_importing":
		busy := s.importing
		if s.importing {
			s.importLeft--
			if s.importLeft < 0 {
				s.finishImport()
				busy = false
			}
		}
		writeJSON(w, 200, busy)
	case req.Method == http.MethodPost && req.Op == "import":
		s.startImport()
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("Import of boot resources started"))
	case req.Method == http.MethodPost && req.Op == "stop_import":
		s.importing = false
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("Import of boot resources is being stopped"))
	default:
		badOp(w, req)
	}
}

// matches: an image a selection asks for. "*" matches anything; an empty list nothing.
func matches(x *Selection, img Image) bool {
	in := func(list []string, v string) bool { return slices.Contains(list, "*") || slices.Contains(list, v) }
	return (x.OS == "" || x.OS == img.OS) && x.Release == img.Release &&
		in(x.Arches, img.Arch) && in(x.Subarches, img.Subarch) && in(x.Labels, img.Label)
}

// finishImport makes the synced resources exactly what the selections ask of the
// cache: new ones are added, and those no selection asks for any more are removed.
func (s *Server) finishImport() {
	s.importing = false
	var keep []*BootResource
	for _, r := range s.resources {
		if r.Type != "Synced" {
			keep = append(keep, r)
		}
	}
	for _, x := range s.selections {
		for _, img := range s.cache[x.BootSourceID] {
			if !matches(x, img) {
				continue
			}
			name, arch := img.OS+"/"+img.Release, img.Arch+"/"+img.Subarch
			if slices.ContainsFunc(keep, func(r *BootResource) bool { return r.Name == name && r.Architecture == arch }) {
				continue
			}
			i := slices.IndexFunc(s.resources, func(r *BootResource) bool { return r.Name == name && r.Architecture == arch })
			if i >= 0 {
				keep = append(keep, s.resources[i])
				continue
			}
			r := &BootResource{ID: s.id(), Type: "Synced", Name: name, Architecture: arch}
			r.ResourceURI = fmt.Sprintf("%sboot-resources/%d/", apiPrefix, r.ID)
			r.Sets = map[string]any{"20261120": map[string]any{
				"version": "20261120", "label": img.Label, "size": 1234567, "complete": true, "progress": 100.0,
				"files": map[string]any{"squashfs": map[string]any{"filename": "squashfs", "filetype": "squashfs", "size": 1234567, "sha256": strings.Repeat("ab", 32), "complete": true, "progress": 100.0}},
			}}
			keep = append(keep, r)
		}
	}
	s.resources = keep
}

// releases lists the releases of os that have synced images, as MAAS's usable
// osystems do.
func (s *Server) releases(os string) []string {
	var out []string
	for _, r := range s.resources {
		if o, rel, ok := strings.Cut(r.Name, "/"); ok && o == os && !slices.Contains(out, rel) {
			out = append(out, rel)
		}
	}
	slices.Sort(out)
	return out
}
