package rpm

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// Package is one package of primary.xml: what a mirror needs to fetch, verify, select
// and list it.
type Package struct {
	Name string
	Arch string
	EVR  EVR
	// Checksum is the package file's checksum, its pkgid (what filelists and other refer
	// to it by).
	Checksum Checksum
	Size     int64
	// Href is the location relative to the repository (or to Base).
	Href string
	// Base is the location's xml:base: the URL the file is under, when not the
	// repository's.
	Base      string
	SourceRPM string
	// Dependencies.
	Provides, Requires, Recommends, Suggests, Supplements, Enhances, Conflicts, Obsoletes []Dep
	// Files are the files primary lists (those under a bin/ directory and /etc, by
	// createrepo's rule); filelists has them all.
	Files []string
}

// NEVRA is "name-epoch:version-release.arch", as modules.yaml names artifacts.
func (p *Package) NEVRA() string { return p.Name + "-" + p.EVR.String() + "." + p.Arch }

// String is "name-version-release.arch" (the file name without .rpm).
func (p *Package) String() string {
	return p.Name + "-" + p.EVR.Version + "-" + p.EVR.Release + "." + p.Arch
}

type xmlEntry struct {
	Name  string `xml:"name,attr"`
	Flags string `xml:"flags,attr"`
	Epoch string `xml:"epoch,attr"`
	Ver   string `xml:"ver,attr"`
	Rel   string `xml:"rel,attr"`
	Pre   string `xml:"pre,attr"`
}

type xmlVersion struct {
	Epoch string `xml:"epoch,attr"`
	Ver   string `xml:"ver,attr"`
	Rel   string `xml:"rel,attr"`
}

type xmlPackage struct {
	Type     string     `xml:"type,attr"`
	Name     string     `xml:"name"`
	Arch     string     `xml:"arch"`
	Version  xmlVersion `xml:"version"`
	Checksum struct {
		Type  string `xml:"type,attr"`
		Value string `xml:",chardata"`
	} `xml:"checksum"`
	Size struct {
		Package string `xml:"package,attr"`
	} `xml:"size"`
	Location struct {
		Href string `xml:"href,attr"`
		Base string `xml:"http://www.w3.org/XML/1998/namespace base,attr"`
	} `xml:"location"`
	Format struct {
		SourceRPM   string     `xml:"sourcerpm"`
		Provides    []xmlEntry `xml:"provides>entry"`
		Requires    []xmlEntry `xml:"requires>entry"`
		Conflicts   []xmlEntry `xml:"conflicts>entry"`
		Obsoletes   []xmlEntry `xml:"obsoletes>entry"`
		Suggests    []xmlEntry `xml:"suggests>entry"`
		Enhances    []xmlEntry `xml:"enhances>entry"`
		Recommends  []xmlEntry `xml:"recommends>entry"`
		Supplements []xmlEntry `xml:"supplements>entry"`
		Files       []string   `xml:"file"`
	} `xml:"format"`
}

func parseVersion(v xmlVersion) (EVR, error) {
	e := EVR{Version: v.Ver, Release: v.Rel}
	if v.Epoch != "" {
		n, err := strconv.Atoi(v.Epoch)
		if err != nil || n < 0 {
			return EVR{}, fmt.Errorf("epoch %q", v.Epoch)
		}
		e.Epoch = n
	}
	return e, nil
}

func parseEntries(xs []xmlEntry) ([]Dep, error) {
	out := make([]Dep, 0, len(xs))
	for _, x := range xs {
		if x.Name == "" {
			return nil, fmt.Errorf("a dependency without a name")
		}
		d := Dep{Name: x.Name, Pre: x.Pre == "1" || x.Pre == "true"}
		if x.Flags != "" {
			d.Flags = Flags(x.Flags)
			if _, ok := flagOps[d.Flags]; !ok {
				return nil, fmt.Errorf("%s: flags %q", x.Name, x.Flags)
			}
			var err error
			if d.EVR, err = parseVersion(xmlVersion{x.Epoch, x.Ver, x.Rel}); err != nil {
				return nil, fmt.Errorf("%s: %v", x.Name, err)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func (x *xmlPackage) get() (*Package, error) {
	p := &Package{Name: x.Name, Arch: x.Arch, SourceRPM: x.Format.SourceRPM, Files: x.Format.Files,
		Href: x.Location.Href, Base: strings.TrimSpace(x.Location.Base),
		Checksum: Checksum{Type: strings.ToLower(x.Checksum.Type), Value: strings.ToLower(strings.TrimSpace(x.Checksum.Value))}}
	if p.Name == "" || p.Arch == "" || x.Version.Ver == "" {
		return nil, fmt.Errorf("a package without name, arch or version")
	}
	var err error
	if p.EVR, err = parseVersion(x.Version); err != nil {
		return nil, fmt.Errorf("%s: %v", p.Name, err)
	}
	if p.Size, err = parseSize(x.Size.Package, true); err != nil {
		return nil, fmt.Errorf("%s: package size: %v", p, err)
	}
	if _, err := p.Checksum.expect(p.Size); err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	if p.Href == "" {
		return nil, fmt.Errorf("%s: no location", p)
	}
	f := &x.Format
	for _, l := range []struct {
		dst *[]Dep
		src []xmlEntry
	}{{&p.Provides, f.Provides}, {&p.Requires, f.Requires}, {&p.Conflicts, f.Conflicts}, {&p.Obsoletes, f.Obsoletes},
		{&p.Suggests, f.Suggests}, {&p.Enhances, f.Enhances}, {&p.Recommends, f.Recommends}, {&p.Supplements, f.Supplements}} {
		if *l.dst, err = parseEntries(l.src); err != nil {
			return nil, fmt.Errorf("%s: %v", p, err)
		}
	}
	return p, nil
}

// ReadPrimary streams primary.xml (decompressed) and calls fn for every package with its
// <package> element's bytes as they were (valid until fn returns), holding one package
// in memory at a time. Only packages of type "rpm" are returned.
func ReadPrimary(ctx context.Context, r io.Reader, fn func(p *Package, raw []byte) error) error {
	s, err := newElementStream("primary", r, "metadata")
	if err != nil {
		return err
	}
	for {
		se, ok, err := s.Next(ctx)
		if err != nil || !ok {
			return err
		}
		if se.Name.Local != "package" {
			if err := s.Skip(); err != nil {
				return err
			}
			continue
		}
		var x xmlPackage
		if err := s.Decode(&x, se); err != nil {
			return err
		}
		if x.Type != "" && x.Type != "rpm" {
			continue
		}
		p, err := x.get()
		if err != nil {
			return fmt.Errorf("%w: primary: %v", ErrMalformed, err)
		}
		if err := fn(p, s.Raw()); err != nil {
			return err
		}
	}
}

// ReadPackageElements streams filelists.xml or other.xml (root filelists or otherdata):
// fn gets each <package>'s pkgid and its bytes as they were.
func ReadPackageElements(ctx context.Context, r io.Reader, root string, fn func(pkgid string, raw []byte) error) error {
	return readPackageElements(ctx, r, root, func(pkgid string, _ []string, raw []byte) error { return fn(pkgid, raw) }, false)
}

// ReadFilelists streams filelists.xml: fn gets each package's pkgid and files.
func ReadFilelists(ctx context.Context, r io.Reader, fn func(pkgid string, files []string) error) error {
	return readPackageElements(ctx, r, "filelists", func(pkgid string, files []string, _ []byte) error { return fn(pkgid, files) }, true)
}

func readPackageElements(ctx context.Context, r io.Reader, root string, fn func(string, []string, []byte) error, files bool) error {
	s, err := newElementStream(root, r, root)
	if err != nil {
		return err
	}
	for {
		se, ok, err := s.Next(ctx)
		if err != nil || !ok {
			return err
		}
		if se.Name.Local != "package" {
			if err := s.Skip(); err != nil {
				return err
			}
			continue
		}
		var pkgid string
		for _, a := range se.Attr {
			if a.Name.Local == "pkgid" {
				pkgid = strings.ToLower(a.Value)
			}
		}
		if pkgid == "" {
			return fmt.Errorf("%w: %s: a package without pkgid", ErrMalformed, root)
		}
		var fl []string
		if files {
			var x struct {
				Files []string `xml:"file"`
			}
			err = s.Decode(&x, se)
			fl = x.Files
		} else {
			err = s.Skip()
		}
		if err != nil {
			return err
		}
		if err := fn(pkgid, fl, s.Raw()); err != nil {
			return err
		}
	}
}

// checkHref validates a package location for the published tree.
func checkHref(repo, href string) (string, error) {
	p := joinPath(repo, href)
	if err := store.ValidatePath(p); err != nil {
		return "", fmt.Errorf("%w: location %q: %v", ErrMalformed, href, err)
	}
	return p, nil
}

// joinPath joins a repository path ("" for the root) and a path in it.
func joinPath(repo, p string) string {
	if repo == "" {
		return p
	}
	return repo + "/" + p
}
