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

// collection describes records with integer ids for serveCollection.
type collection[T any] struct {
	items   *[]*T
	id      func(*T) int
	visible func(*T) bool // nil: every record
	create  func() *T     // a new record with its id, defaults and resource_uri
	// created is the status of a successful create; 0 means 200 (what piston answers
	// when a handler returns the object; a few handlers answer 201 themselves).
	created int
	// apply validates the request against the record, the stored fields standing in for
	// those the request leaves out (MAAS's APIEditMixin), and changes it.
	apply  func(w http.ResponseWriter, req *Request, x *T, create bool) bool
	saved  func(x *T)                             // nil: nothing happens after a save
	remove func(w http.ResponseWriter, x *T) bool // nil: deletable; false: refused and answered
	sub    func(w http.ResponseWriter, req *Request, x *T, seg []string)
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
				if c.saved != nil {
					c.saved(x)
				}
				writeJSON(w, max(c.created, http.StatusOK), x)
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
			if c.saved != nil {
				c.saved(x)
			}
			writeJSON(w, 200, x)
		}
	case req.Method == http.MethodDelete:
		if c.remove != nil && !c.remove(w, x) {
			return
		}
		j := slices.Index(*c.items, x) // remove may have changed other records
		*c.items = slices.Delete(*c.items, j, j+1)
		w.WriteHeader(http.StatusNoContent)
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
		s.scripts[m.SystemID] = [2][]string{s.scriptList(req, "commissioning_scripts"), s.scriptList(req, "testing_scripts")}
		set(1)
		writeJSON(w, 200, m)
	case req.Method == http.MethodPost && req.Op == "deploy":
		if m.Status != 4 && m.Status != 10 {
			http.Error(w, fmt.Sprintf("%s: Can't deploy a machine that is in the '%s' state", m.SystemID, m.StatusName), http.StatusConflict)
			return
		}
		owner := Username
		m.Owner = &owner
		// deploy has no osystem parameter: the OS comes with distro_series
		// ("ubuntu/noble", "noble", ...), else the default.
		if _, ok := req.Form["osystem"]; ok {
			s.violate("deploy with osystem, which MAAS ignores (give distro_series as os/release)")
		}
		m.OSystem, m.DistroSeries = s.config["default_osystem"].(string), s.config["default_distro_series"].(string)
		if v := req.Form.Get("distro_series"); v != "" {
			if os, release, ok := strings.Cut(v, "/"); ok {
				m.OSystem, m.DistroSeries = os, release
			} else {
				m.DistroSeries = v
			}
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

// scriptList reads commissioning_scripts or testing_scripts as MAAS's forms do: the
// last value of the field, split at commas. Repeated keys lose all values but the last.
func (s *Server) scriptList(req *Request, name string) []string {
	vs := req.Form[name]
	if len(vs) == 0 {
		return nil
	}
	if len(vs) > 1 {
		s.violate("%s sent as %d repeated keys; MAAS reads one comma-separated value (keeps only %q)", name, len(vs), vs[len(vs)-1])
	}
	return strings.Split(vs[len(vs)-1], ",")
}
