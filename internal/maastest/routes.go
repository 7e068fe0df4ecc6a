package maastest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// route dispatches an authenticated API request. s.mu is held.
func (s *Server) route(w http.ResponseWriter, req *Request) {
	seg := strings.Split(strings.TrimSuffix(req.Path, "/"), "/")
	if !strings.HasSuffix(req.Path, "/") {
		s.violate("path %q without the trailing slash", req.Path)
	}
	switch {
	case seg[0] == "version" && len(seg) == 1 && req.Method == http.MethodGet:
		writeJSON(w, 200, map[string]any{"capabilities": []string{"networks-management", "static-ipaddresses", "ipv6-deployment-ubuntu", "devices-management", "storage-deployment-ubuntu", "network-deployment-ubuntu", "bridging-interface-ubuntu", "bridging-automatic-ubuntu", "authenticate-api"}, "version": "3.5.4", "subversion": "3.5.4-16241-g.a4f2a36a5"})
	case seg[0] == "boot-sources":
		s.bootSources(w, req, seg[1:])
	case seg[0] == "boot-resources":
		s.bootResources(w, req, seg[1:])
	case seg[0] == "package-repositories":
		s.packageRepos(w, req, seg[1:])
	case seg[0] == "maas" && len(seg) == 1:
		s.maasConfig(w, req)
	case seg[0] == "users":
		s.usersAPI(w, req, seg[1:])
	case len(seg) >= 3 && seg[0] == "account" && seg[1] == "prefs" && seg[2] == "sshkeys":
		s.sshKeysAPI(w, req, seg[3:])
	case seg[0] == "machines":
		s.machinesAPI(w, req, seg[1:])
	case seg[0] == "zones":
		s.zonesAPI(w, req, seg[1:])
	default:
		notFound(w)
	}
}

// list reads a list field; lists must be repeated keys.
func (s *Server) list(req *Request, name string) ([]string, bool) {
	vs, ok := req.Form[name]
	for _, v := range vs {
		if strings.Contains(v, ",") {
			s.violate("%s sent as one comma-joined value %q; MAAS wants repeated keys", name, v)
		}
	}
	return vs, ok
}

// collection describes records with integer ids for serveCollection.
type collection[T any] struct {
	items   *[]*T
	id      func(*T) int
	visible func(*T) bool // nil: every record
	create  func() *T     // a new record with its id, defaults and resource_uri
	apply   func(w http.ResponseWriter, req *Request, x *T, create bool) bool
	remove  func(w http.ResponseWriter, x *T) bool // nil: deletable; false: refused and answered
	sub     func(w http.ResponseWriter, req *Request, x *T, seg []string)
}

// serveCollection answers list and create on a collection, read, update and delete on
// one of its records, as MAAS's handlers do.
func serveCollection[T any](w http.ResponseWriter, req *Request, seg []string, c collection[T]) {
	if len(seg) == 0 {
		switch {
		case req.Method == http.MethodGet && req.Op == "":
			out := []*T{}
			for _, x := range *c.items {
				if c.visible == nil || c.visible(x) {
					out = append(out, x)
				}
			}
			writeJSON(w, 200, out)
		case req.Method == http.MethodPost && req.Op == "":
			x := c.create()
			if c.apply(w, req, x, true) {
				*c.items = append(*c.items, x)
				writeJSON(w, 200, x)
			}
		default:
			badOp(w, req)
		}
		return
	}
	id, err := strconv.Atoi(seg[0])
	i := slices.IndexFunc(*c.items, func(x *T) bool { return c.id(x) == id && (c.visible == nil || c.visible(x)) })
	if err != nil || i < 0 || (len(seg) > 1 && c.sub == nil) {
		notFound(w)
		return
	}
	x := (*c.items)[i]
	if len(seg) > 1 {
		c.sub(w, req, x, seg[1:])
		return
	}
	switch {
	case req.Method == http.MethodGet && req.Op == "":
		writeJSON(w, 200, x)
	case req.Method == http.MethodPut:
		cp := *x
		if c.apply(w, req, &cp, false) {
			*x = cp
			writeJSON(w, 200, x)
		}
	case req.Method == http.MethodDelete:
		if c.remove != nil && !c.remove(w, x) {
			return
		}
		*c.items = slices.Delete(*c.items, i, i+1)
		w.WriteHeader(http.StatusNoContent)
	default:
		badOp(w, req)
	}
}

func (s *Server) bootSources(w http.ResponseWriter, req *Request, seg []string) {
	serveCollection(w, req, seg, collection[BootSource]{
		items: &s.sources,
		id:    func(b *BootSource) int { return b.ID },
		create: func() *BootSource {
			b := &BootSource{ID: s.id(), Created: s.stamp()}
			b.ResourceURI = fmt.Sprintf("%sboot-sources/%d/", apiPrefix, b.ID)
			return b
		},
		apply: s.applySource,
		remove: func(_ http.ResponseWriter, b *BootSource) bool {
			s.selections = slices.DeleteFunc(s.selections, func(x *Selection) bool { return x.BootSourceID == b.ID })
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

// applySource validates and applies boot source fields as MAAS's form does.
func (s *Server) applySource(w http.ResponseWriter, req *Request, b *BootSource, create bool) bool {
	if _, plain := req.Form["keyring_data"]; plain {
		s.violate("keyring_data sent as a plain field; MAAS wants a file part")
		fieldError(w, "keyring_data", "The submitted data was not a file. Check the encoding type on the form.")
		return false
	}
	if u, ok := req.Form["url"]; ok {
		b.URL = u[0]
	}
	if create && b.URL == "" {
		fieldError(w, "url", "This field is required.")
		return false
	}
	if !strings.HasPrefix(b.URL, "http://") && !strings.HasPrefix(b.URL, "https://") && !strings.HasPrefix(b.URL, "file://") {
		fieldError(w, "url", "Enter a valid URL.")
		return false
	}
	if data, ok := req.Files["keyring_data"]; ok {
		b.KeyringData, b.KeyringFilename = b64(data), ""
	}
	if f, ok := req.Form["keyring_filename"]; ok {
		b.KeyringFilename = f[0]
		if _, file := req.Files["keyring_data"]; !file {
			b.KeyringData = ""
		}
	}
	if b.KeyringData == "" && b.KeyringFilename == "" {
		writeJSON(w, 400, map[string][]string{"__all__": {"One of keyring_data or keyring_filename must be specified."}})
		return false
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
			return s.newSelection(b.ID, "", "", []string{"*"}, []string{"*"}, []string{"*"})
		},
		apply: s.applySelection,
	})
}

func (s *Server) applySelection(w http.ResponseWriter, req *Request, x *Selection, _ bool) bool {
	if v, ok := req.Form["os"]; ok {
		x.OS = v[0]
	}
	if v, ok := req.Form["release"]; ok {
		x.Release = v[0]
	}
	if x.OS == "" || x.Release == "" {
		fe := map[string][]string{}
		if x.OS == "" {
			fe["os"] = []string{"This field is required."}
		}
		if x.Release == "" {
			fe["release"] = []string{"This field is required."}
		}
		writeJSON(w, 400, fe)
		return false
	}
	for _, o := range s.selections {
		if o.ID != x.ID && o.BootSourceID == x.BootSourceID && o.OS == x.OS && o.Release == x.Release {
			writeJSON(w, 400, map[string][]string{"__all__": {"Boot source selection with this Boot source, Os and Release already exists."}})
			return false
		}
	}
	if v, ok := s.list(req, "arches"); ok {
		x.Arches = v
	}
	if v, ok := s.list(req, "subarches"); ok {
		x.Subarches = v
	}
	if v, ok := s.list(req, "labels"); ok {
		x.Labels = v
	}
	return true
}

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
		out := []map[string]any{}
		typ := strings.ToLower(req.Query.Get("type"))
		for _, r := range s.resources {
			if typ == "" || typ == "all" || strings.EqualFold(typ, r.Type) {
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
		s.imports++
		s.importing, s.importLeft = true, s.importPolls
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

// finishImport creates the synced resources of every selection.
func (s *Server) finishImport() {
	s.importing = false
	for _, x := range s.selections {
		for _, a := range x.Arches {
			if a == "*" {
				a = "amd64"
			}
			if len(s.mirrorArch) > 0 && !slices.Contains(s.mirrorArch, a) {
				continue
			}
			name, arch := x.OS+"/"+x.Release, a+"/ga-22.04"
			if slices.ContainsFunc(s.resources, func(r *BootResource) bool { return r.Name == name && r.Architecture == arch }) {
				continue
			}
			r := &BootResource{ID: s.id(), Type: "Synced", Name: name, Architecture: arch}
			r.ResourceURI = fmt.Sprintf("%sboot-resources/%d/", apiPrefix, r.ID)
			r.Sets = map[string]any{"20261120": map[string]any{
				"version": "20261120", "label": "stable", "size": 1234567, "complete": true, "progress": 100.0,
				"files": map[string]any{"squashfs": map[string]any{"filename": "squashfs", "filetype": "squashfs", "size": 1234567, "sha256": strings.Repeat("ab", 32), "complete": true, "progress": 100.0}},
			}}
			s.resources = append(s.resources, r)
		}
	}
}

var validPockets = []string{"updates", "security", "backports"}

func (s *Server) packageRepos(w http.ResponseWriter, req *Request, seg []string) {
	serveCollection(w, req, seg, collection[Repo]{
		items: &s.repos,
		id:    func(r *Repo) int { return r.ID },
		create: func() *Repo {
			r := &Repo{ID: s.id(), Enabled: true, Distributions: []string{}, DisabledPockets: []string{}, DisabledComponents: []string{}, Components: []string{}, Arches: []string{}}
			r.ResourceURI = fmt.Sprintf("%spackage-repositories/%d/", apiPrefix, r.ID)
			return r
		},
		apply: s.applyRepo,
		remove: func(w http.ResponseWriter, r *Repo) bool {
			if r.Name == "main_archive" || r.Name == "ports_archive" {
				http.Error(w, "Cannot delete default Ubuntu archives.", http.StatusBadRequest)
				return false
			}
			return true
		},
	})
}

func (s *Server) applyRepo(w http.ResponseWriter, req *Request, r *Repo, create bool) bool {
	if create && (len(req.Form["name"]) == 0 || len(req.Form["url"]) == 0) {
		fe := map[string][]string{}
		for _, f := range []string{"name", "url"} {
			if len(req.Form[f]) == 0 {
				fe[f] = []string{"This field is required."}
			}
		}
		writeJSON(w, 400, fe)
		return false
	}
	if v, ok := req.Form["name"]; ok {
		r.Name = v[0]
	}
	if v, ok := req.Form["url"]; ok {
		if !strings.HasPrefix(v[0], "http://") && !strings.HasPrefix(v[0], "https://") {
			fieldError(w, "url", "Enter a valid URL.")
			return false
		}
		r.URL = v[0]
	}
	if v, ok := req.Form["key"]; ok {
		if v[0] != "" && !strings.Contains(v[0], "-----BEGIN PGP PUBLIC KEY BLOCK-----") {
			fieldError(w, "key", "Invalid key: not an ASCII-armored public key.")
			return false
		}
		r.Key = v[0]
	}
	if v, ok := s.list(req, "disabled_pockets"); ok {
		for _, p := range v {
			if !slices.Contains(validPockets, p) {
				fieldError(w, "disabled_pockets", fmt.Sprintf("'%s' is not a valid Pocket. It should be one of: 'updates', 'security', 'backports'.", p))
				return false
			}
		}
		r.DisabledPockets = v
	}
	for name, dst := range map[string]*[]string{"distributions": &r.Distributions, "components": &r.Components, "disabled_components": &r.DisabledComponents, "arches": &r.Arches} {
		if v, ok := s.list(req, name); ok {
			*dst = v
		}
	}
	for name, dst := range map[string]*bool{"enabled": &r.Enabled, "disable_sources": &r.DisableSources} {
		if v, ok := req.Form[name]; ok {
			b, err := strconv.ParseBool(v[0])
			if err != nil {
				fieldError(w, name, "Enter a valid boolean.")
				return false
			}
			*dst = b
		}
	}
	return true
}

func (s *Server) maasConfig(w http.ResponseWriter, req *Request) {
	switch {
	case req.Method == http.MethodGet && req.Op == "get_config":
		name := req.Query.Get("name")
		v, ok := s.config[name]
		if !ok {
			fieldError(w, "name", fmt.Sprintf("%s is not a valid config setting (valid settings are: ...).", name))
			return
		}
		writeJSON(w, 200, v)
	case req.Method == http.MethodPost && req.Op == "set_config":
		name, value := req.Form.Get("name"), req.Form.Get("value")
		old, ok := s.config[name]
		if !ok {
			fieldError(w, "name", fmt.Sprintf("%s is not a valid config setting (valid settings are: ...).", name))
			return
		}
		if _, isBool := old.(bool); isBool {
			b, err := strconv.ParseBool(value)
			if err != nil {
				fieldError(w, name, "Enter a valid boolean.")
				return
			}
			s.config[name] = b
		} else {
			s.config[name] = value
		}
		writeJSON(w, 200, "OK")
	default:
		badOp(w, req)
	}
}

func (s *Server) usersAPI(w http.ResponseWriter, req *Request, seg []string) {
	switch {
	case len(seg) == 0 && req.Method == http.MethodGet && req.Op == "":
		writeJSON(w, 200, s.users)
	case len(seg) == 0 && req.Method == http.MethodGet && req.Op == "whoami":
		writeJSON(w, 200, s.users[0])
	case len(seg) == 0 && req.Method == http.MethodPost && req.Op == "":
		u := User{Username: req.Form.Get("username"), Email: req.Form.Get("email"), IsLocal: true}
		fe := map[string][]string{}
		for _, f := range []string{"username", "email", "password", "is_superuser"} {
			if req.Form.Get(f) == "" {
				fe[f] = []string{"This field is required."}
			}
		}
		if slices.ContainsFunc(s.users, func(x User) bool { return x.Username == u.Username }) {
			fe["username"] = []string{"A user with that username already exists."}
		}
		if len(fe) > 0 {
			writeJSON(w, 400, fe)
			return
		}
		u.IsSuperuser = req.Form.Get("is_superuser") == "1"
		u.ResourceURI = apiPrefix + "users/" + u.Username + "/"
		s.users = append(s.users, u)
		writeJSON(w, 200, u)
	case len(seg) == 1:
		i := slices.IndexFunc(s.users, func(x User) bool { return x.Username == seg[0] })
		switch {
		case i < 0:
			notFound(w)
		case req.Method == http.MethodGet:
			writeJSON(w, 200, s.users[i])
		case req.Method == http.MethodDelete:
			s.users = slices.Delete(s.users, i, i+1)
			w.WriteHeader(http.StatusNoContent)
		default:
			badOp(w, req)
		}
	default:
		badOp(w, req)
	}
}

func (s *Server) sshKeysAPI(w http.ResponseWriter, req *Request, seg []string) {
	switch {
	case len(seg) == 0 && req.Method == http.MethodGet:
		out := s.sshKeys
		if out == nil {
			out = []SSHKey{}
		}
		writeJSON(w, 200, out)
	case len(seg) == 0 && req.Method == http.MethodPost && req.Op == "":
		key := req.Form.Get("key")
		if !strings.HasPrefix(key, "ssh-") && !strings.HasPrefix(key, "ecdsa-") {
			fieldError(w, "key", "Invalid SSH public key: Key should contain 2 or more space separated parts (key type, base64-encoded key, optional comments), not 1)")
			return
		}
		k := SSHKey{ID: s.id(), Key: key}
		k.ResourceURI = fmt.Sprintf("%saccount/prefs/sshkeys/%d/", apiPrefix, k.ID)
		s.sshKeys = append(s.sshKeys, k)
		writeJSON(w, 200, k)
	case len(seg) == 1 && req.Method == http.MethodDelete:
		id, _ := strconv.Atoi(seg[0])
		i := slices.IndexFunc(s.sshKeys, func(k SSHKey) bool { return k.ID == id })
		if i < 0 {
			notFound(w)
			return
		}
		s.sshKeys = slices.Delete(s.sshKeys, i, i+1)
		w.WriteHeader(http.StatusNoContent)
	default:
		badOp(w, req)
	}
}

func (s *Server) machinesAPI(w http.ResponseWriter, req *Request, seg []string) {
	if len(seg) == 0 {
		if req.Method != http.MethodGet || req.Op != "" {
			badOp(w, req)
			return
		}
		out := []*Machine{}
		hosts, ids := req.Query["hostname"], req.Query["id"]
		for _, m := range s.machines {
			if (len(hosts) == 0 || slices.Contains(hosts, m.Hostname)) && (len(ids) == 0 || slices.Contains(ids, m.SystemID)) {
				out = append(out, m)
			}
		}
		writeJSON(w, 200, out)
		return
	}
	i := slices.IndexFunc(s.machines, func(m *Machine) bool { return m.SystemID == seg[0] })
	if i < 0 || len(seg) > 1 {
		notFound(w)
		return
	}
	m := s.machines[i]
	set := func(status int) {
		m.Status, m.StatusName = status, statusNames[status]
	}
	switch {
	case req.Method == http.MethodGet && req.Op == "":
		writeJSON(w, 200, m)
	case req.Method == http.MethodGet && req.Op == "query_power_state":
		writeJSON(w, 200, map[string]string{"state": m.PowerState})
	case req.Method == http.MethodPost && req.Op == "commission":
		set(1)
		writeJSON(w, 200, m)
	case req.Method == http.MethodPost && req.Op == "deploy":
		if m.Status != 4 && m.Status != 10 {
			http.Error(w, fmt.Sprintf("%s: Can't deploy a machine that is in the '%s' state", m.SystemID, m.StatusName), http.StatusConflict)
			return
		}
		owner := Username
		m.Owner = &owner
		if v := req.Form.Get("distro_series"); v != "" {
			m.DistroSeries = v
		}
		if v := req.Form.Get("osystem"); v != "" {
			m.OSystem = v
		}
		set(9)
		m.PowerState = "on"
		writeJSON(w, 200, m)
	case req.Method == http.MethodPost && req.Op == "release":
		m.Owner = nil
		set(4)
		m.PowerState = "off"
		writeJSON(w, 200, m)
	case req.Method == http.MethodPost && (req.Op == "power_on" || req.Op == "power_off"):
		m.PowerState = strings.TrimPrefix(req.Op, "power_")
		writeJSON(w, 200, m)
	default:
		badOp(w, req)
	}
}

func (s *Server) zonesAPI(w http.ResponseWriter, req *Request, seg []string) {
	switch {
	case len(seg) == 0 && req.Method == http.MethodGet:
		writeJSON(w, 200, s.zones)
	case len(seg) == 0 && req.Method == http.MethodPost && req.Op == "":
		z := Zone{ID: s.id(), Name: req.Form.Get("name"), Description: req.Form.Get("description")}
		if z.Name == "" {
			fieldError(w, "name", "This field is required.")
			return
		}
		if slices.ContainsFunc(s.zones, func(x Zone) bool { return x.Name == z.Name }) {
			fieldError(w, "name", "Zone with this Name already exists.")
			return
		}
		z.ResourceURI = apiPrefix + "zones/" + z.Name + "/"
		s.zones = append(s.zones, z)
		writeJSON(w, 200, z)
	case len(seg) == 1:
		i := slices.IndexFunc(s.zones, func(x Zone) bool { return x.Name == seg[0] })
		switch {
		case i < 0:
			notFound(w)
		case req.Method == http.MethodGet:
			writeJSON(w, 200, s.zones[i])
		case req.Method == http.MethodDelete:
			if s.zones[i].Name == "default" {
				http.Error(w, "This zone is the default zone, it cannot be deleted.", http.StatusBadRequest)
				return
			}
			s.zones = slices.Delete(s.zones, i, i+1)
			w.WriteHeader(http.StatusNoContent)
		default:
			badOp(w, req)
		}
	default:
		badOp(w, req)
	}
}
