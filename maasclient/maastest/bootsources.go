package maastest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

func (s *Server) bootSources(w http.ResponseWriter, req *Request, seg []string) {
	serveCollection(w, req, seg, collection[BootSource]{
		items: &s.sources,
		id:    func(b *BootSource) int { return b.ID },
		create: func() *BootSource {
			b := &BootSource{ID: s.id(), Created: s.stamp()}
			b.ResourceURI = fmt.Sprintf("%sboot-sources/%d/", apiPrefix, b.ID)
			return b
		},
		created: http.StatusCreated, // BootSourcesHandler.create answers 201 itself
		apply:   s.applySource,
		// MAAS 3.4-3.7 refresh the boot source cache after a boot source is saved,
		// except boot source 1 (the import service caches that one itself). (MAAS
		// does it in the background after the commit.)
		saved: func(b *BootSource) {
			if b.ID != 1 {
				s.refreshCache()
			}
		},
		remove: func(_ http.ResponseWriter, b *BootSource) bool {
			// Deleting a source cascades to its selections without their delete guard.
			s.selections = slices.DeleteFunc(s.selections, func(x *Selection) bool { return x.BootSourceID == b.ID })
			delete(s.cache, b.ID)
			return true
		},
		sub: func(w http.ResponseWriter, req *Request, b *BootSource, seg []string) {
			if seg[0] != "selections" {
				notFound(w)
				return
			}
			s.selectionsAPI(w, req, b, seg[1:])
		},
	})
}

// applySource is MAAS's BootSourceForm over the stored boot source: fields left out keep
// their stored value, keyring_data is read from file parts only, and the model then
// wants exactly one of keyring_filename and keyring_data.
func (s *Server) applySource(w http.ResponseWriter, req *Request, b *BootSource, create bool) bool {
	if _, plain := req.Form["keyring_data"]; plain {
		// A FileField reads request.FILES: a plain field of that name is not seen.
		s.violate("keyring_data sent as a plain field; MAAS reads it from file parts only")
	}
	if u, ok := req.Form["url"]; ok {
		b.URL = u[0]
	}
	if b.URL == "" {
		fieldError(w, "url", "This field is required.")
		return false
	}
	if !strings.HasPrefix(b.URL, "http://") && !strings.HasPrefix(b.URL, "https://") && !strings.HasPrefix(b.URL, "file://") {
		fieldError(w, "url", "Enter a valid URL.")
		return false
	}
	if data, ok := req.Files["keyring_data"]; ok {
		b.KeyringData = b64(data)
	}
	if f, ok := req.Form["keyring_filename"]; ok {
		b.KeyringFilename = f[0]
	}
	switch {
	case b.KeyringData == "" && b.KeyringFilename == "":
		writeJSON(w, 400, map[string][]string{"__all__": {"One of keyring_data or keyring_filename must be specified."}})
		return false
	case b.KeyringData != "" && b.KeyringFilename != "":
		writeJSON(w, 400, map[string][]string{"__all__": {"Only one of keyring_filename or keyring_data can be specified."}})
		return false
	}
	for _, o := range s.sources {
		if o.ID != b.ID && o.URL == b.URL {
			fieldError(w, "url", "Boot source with this Url already exists.")
			return false
		}
	}
	b.Updated = s.stamp()
	return true
}

func (s *Server) selectionsAPI(w http.ResponseWriter, req *Request, b *BootSource, seg []string) {
	serveCollection(w, req, seg, collection[Selection]{
		items:   &s.selections,
		id:      func(x *Selection) int { return x.ID },
		visible: func(x *Selection) bool { return x.BootSourceID == b.ID },
		create: func() *Selection {
			// The model's defaults: a list left out of the request stays empty.
			return s.newSelection(b.ID, "", "", []string{}, []string{}, []string{})
		},
		apply: s.applySelection,
		remove: func(w http.ResponseWriter, x *Selection) bool {
			// BootSourceSelection.delete (MAAS <= 3.6) refuses the commissioning release,
			// with its message as it is (the %s are never filled in).
			if s.config["commissioning_osystem"] == x.OS && s.config["commissioning_distro_series"] == x.Release {
				plainError(w, http.StatusBadRequest, "Unable to delete %s %s. It is the operating system used in ephemeral environments.")
				return false
			}
			return true
		},
	})
}

// applySelection is MAAS's BootSourceSelectionForm: the selection must be one the boot
// source cache lists, for every architecture, subarchitecture and label asked ("*"
// matches any), and os/release unique per boot source.
func (s *Server) applySelection(w http.ResponseWriter, req *Request, x *Selection, _ bool) bool {
	if v, ok := req.Form["os"]; ok {
		x.OS = v[0]
	}
	if v, ok := req.Form["release"]; ok {
		x.Release = v[0]
	}
	for name, dst := range map[string]*[]string{"arches": &x.Arches, "subarches": &x.Subarches, "labels": &x.Labels} {
		if v, ok := s.selectionList(req, name); ok {
			*dst = v
		}
	}
	var cached []Image
	for _, img := range s.cache[x.BootSourceID] {
		// Without an os, MAAS matches on the release alone.
		if (x.OS == "" || img.OS == x.OS) && img.Release == x.Release {
			cached = append(cached, img)
		}
	}
	if len(cached) == 0 {
		fieldError(w, "os", fmt.Sprintf("OS %s with release %s has no available images for download", x.OS, x.Release))
		return false
	}
	errs := map[string][]string{}
	for _, f := range []struct {
		name string
		want []string
		have func(Image) string
	}{
		{"arches", x.Arches, func(i Image) string { return i.Arch }},
		{"subarches", x.Subarches, func(i Image) string { return i.Subarch }},
		{"labels", x.Labels, func(i Image) string { return i.Label }},
	} {
		if slices.Contains(f.want, "*") {
			continue
		}
		for _, v := range f.want {
			if !slices.ContainsFunc(cached, func(i Image) bool { return f.have(i) == v }) {
				errs[f.name] = []string{"No available images to download for " + pyList(f.want)}
				break
			}
		}
	}
	if len(errs) > 0 {
		writeJSON(w, 400, errs)
		return false
	}
	for _, o := range s.selections {
		if o.ID != x.ID && o.BootSourceID == x.BootSourceID && o.OS == x.OS && o.Release == x.Release {
			writeJSON(w, 400, map[string][]string{"__all__": {"Boot source selection with this Boot source, Os and Release already exists."}})
			return false
		}
	}
	return true
}

// selectionList reads a selection list. MAAS stores each value as it comes, so lists
// must be repeated keys: "amd64,arm64" is one architecture that does not exist.
func (s *Server) selectionList(req *Request, name string) ([]string, bool) {
	vs, ok := req.Form[name]
	for _, v := range vs {
		if strings.Contains(v, ",") {
			s.violate("%s sent as one comma-joined value %q; MAAS wants repeated keys", name, v)
		}
	}
	return vs, ok
}
