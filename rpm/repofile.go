package rpm

import (
	"fmt"
	"regexp"
	"strings"
)

// RepoDef is one repository as a client configures it: a section of a .repo file, or an
// entry of cloud-init's yum_repos.
type RepoDef struct {
	ID           string
	Name         string
	BaseURL      string
	GPGCheck     bool     // package header signatures (the vendor's key)
	RepoGPGCheck bool     // repomd.xml.asc
	GPGKeys      []string // URLs of the keys for both checks
}

var idUnsafe = regexp.MustCompile(`[^a-z0-9_.-]+`)

// RepoDefs describes the repositories of a published mirror for clients that reach it
// at base (the URL of the mirror's tree, e.g. http://mirror.example/rpm/rocky9): each
// repository's baseurl, gpgcheck and repo_gpgcheck on, and gpgkey naming the vendor's
// key (packages; a pristine repomd.xml) and, for a filtered mirror, the operator's
// (its repomd.xml). A repository's id is the mirror name and the first element of its
// path (rocky9-baseos), or its whole path when that is not unique.
func RepoDefs(base, name string, repos []PublishedRepo, signed bool) []RepoDef {
	base = strings.TrimSuffix(base, "/")
	first := map[string]int{}
	for _, r := range repos {
		first[firstSeg(r.Path)]++
	}
	var out []RepoDef
	for _, r := range repos {
		id := firstSeg(r.Path)
		if first[id] > 1 {
			id = r.Path
		}
		id = strings.Trim(idUnsafe.ReplaceAllString(strings.ToLower(name+"-"+id), "-"), "-")
		d := RepoDef{ID: id, Name: strings.TrimSpace(name + " " + r.Path), GPGCheck: true, RepoGPGCheck: r.Pristine || signed,
			BaseURL: base + "/" + escapePath(r.Path)}
		if !strings.HasSuffix(d.BaseURL, "/") {
			d.BaseURL += "/"
		}
		d.GPGKeys = []string{base + "/" + UpstreamKeyPath}
		if !r.Pristine && signed {
			d.GPGKeys = append(d.GPGKeys, base+"/"+MirrorKeyPath)
		}
		out = append(out, d)
	}
	return out
}

func firstSeg(p string) string {
	s, _, _ := strings.Cut(p, "/")
	return s
}

// RepoFile writes defs as a .repo file for /etc/yum.repos.d.
func RepoFile(defs []RepoDef) []byte {
	var b strings.Builder
	bit := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	for i, d := range defs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "[%s]\nname=%s\nbaseurl=%s\nenabled=1\ngpgcheck=%d\nrepo_gpgcheck=%d\ngpgkey=%s\n",
			d.ID, d.Name, d.BaseURL, bit(d.GPGCheck), bit(d.RepoGPGCheck), strings.Join(d.GPGKeys, " "))
	}
	return []byte(b.String())
}
