package maastest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// What MAAS's PackageRepository knows about the Ubuntu archive layout.
var (
	mainArches         = []string{"amd64", "i386"}
	portsArches        = []string{"armhf", "arm64", "ppc64el", "s390x"}
	pocketsToDisable   = []string{"updates", "security", "backports"}
	componentsToDrop   = []string{"restricted", "universe", "multiverse"}
	archiveComponents  = []string{"main", "restricted", "universe", "multiverse"}
	knownArchitectures = append(slices.Clone(mainArches), portsArches...)
)

func (s *Server) packageRepos(w http.ResponseWriter, req *Request, seg []string) {
	serveCollection(w, req, seg, collection[Repo]{
		items: &s.repos,
		id:    func(r *Repo) int { return r.ID },
		create: func() *Repo {
			r := &Repo{ID: s.id(), Enabled: true, DisableSources: true, Distributions: []string{}, DisabledPockets: []string{}, DisabledComponents: []string{}, Components: []string{}, Arches: []string{}}
			r.ResourceURI = fmt.Sprintf("%spackage-repositories/%d/", apiPrefix, r.ID)
			return r
		},
		apply: s.applyRepo,
		remove: func(w http.ResponseWriter, r *Repo) bool {
			if r.Default {
				plainError(w, http.StatusBadRequest, "Cannot delete default Ubuntu archives.")
				return false
			}
			return true
		},
	})
}

// repoList reads a list field of PackageRepositoryForm: every value split at commas.
// For the disabled_* fields "", "None" and "[]" clear the list.
func repoList(req *Request, name string) ([]string, bool) {
	vs, ok := req.Form[name]
	if !ok {
		return nil, false
	}
	out := []string{}
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(p))
		}
	}
	if strings.HasPrefix(name, "disabled_") && len(out) == 1 && (out[0] == "" || out[0] == "None" || out[0] == "[]") {
		out = []string{}
	}
	return out, true
}

// applyRepo is MAAS's PackageRepositoryForm over the stored repository.
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
		if !strings.HasPrefix(v[0], "http://") && !strings.HasPrefix(v[0], "https://") && !strings.HasPrefix(v[0], "ppa:") {
			fieldError(w, "url", "Enter a valid repository URL or PPA location.")
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
	if v, ok := repoList(req, "disabled_pockets"); ok {
		if !disableOnly(w, "disabled_pockets", "pocket", v, pocketsToDisable) {
			return false
		}
		r.DisabledPockets = v
	}
	if v, ok := repoList(req, "disabled_components"); ok {
		if !r.Default && len(v) > 0 {
			fieldError(w, "disabled_components", "This is a custom repository. Please update 'components' instead.")
			return false
		}
		if !disableOnly(w, "disabled_components", "component", v, componentsToDrop) {
			return false
		}
		r.DisabledComponents = v
	}
	if v, ok := repoList(req, "components"); ok {
		if r.Default && len(v) > 0 {
			fieldError(w, "components", "This is a default Ubuntu repository. Please update 'disabled_components' instead.")
			return false
		}
		r.Components = v
	}
	if v, ok := repoList(req, "distributions"); ok {
		r.Distributions = v // stored; MAAS writes no distribution of a default archive from it
	}
	if v, ok := repoList(req, "arches"); ok {
		for _, a := range v {
			if !slices.Contains(knownArchitectures, a) {
				fieldError(w, "arches", fmt.Sprintf("'%s' is not a valid architecture. Known architectures: %s", a, strings.Join(slices.Sorted(slices.Values(knownArchitectures)), ", ")))
				return false
			}
		}
		if len(v) == 0 {
			v = mainArches
			if r.Name == "ports_archive" {
				v = portsArches
			}
		}
		r.Arches = slices.Clone(v)
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
	if r.Default && !r.Enabled {
		writeJSON(w, 400, map[string][]string{"__all__": {"Default repositories may not be disabled."}})
		return false
	}
	return true
}

// disableOnly answers the 400 for a value of field that is not one MAAS can disable.
func disableOnly(w http.ResponseWriter, field, what string, values, allowed []string) bool {
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			fieldError(w, field, fmt.Sprintf("'%s' is not a valid Ubuntu archive %s. You can only disable %s.", v, what, pyList(allowed)))
			return false
		}
	}
	return true
}

// SourcesList is the apt sources a machine of arch deploying release is given, as MAAS
// composes them (one line per suite, components merged): the default archive of arch
// with $RELEASE and each pocket not disabled, all four Ubuntu components but those
// disabled (distributions and components of a default archive play no part), then the
// enabled custom repositories of arch.
func (s *Server) SourcesList(arch, release string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.repos {
		if !r.Default || !r.Enabled || !slices.Contains(r.Arches, arch) {
			continue
		}
		comps := slices.DeleteFunc(slices.Clone(archiveComponents), func(c string) bool { return slices.Contains(r.DisabledComponents, c) })
		out = append(out, fmt.Sprintf("deb %s %s %s", r.URL, release, strings.Join(comps, " ")))
		for _, p := range pocketsToDisable {
			if !slices.Contains(r.DisabledPockets, p) {
				out = append(out, fmt.Sprintf("deb %s %s-%s %s", r.URL, release, p, strings.Join(comps, " ")))
			}
		}
		break
	}
	for _, r := range s.repos {
		if r.Default || !r.Enabled || !slices.Contains(r.Arches, arch) {
			continue
		}
		comps := "main"
		if len(r.Components) > 0 {
			comps = strings.Join(r.Components, " ")
		}
		dists := r.Distributions
		if len(dists) == 0 {
			dists = []string{release}
		}
		for _, d := range dists {
			out = append(out, fmt.Sprintf("deb %s %s %s", r.URL, d, comps))
		}
	}
	return out
}
