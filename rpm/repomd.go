package rpm

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// maxRepomdSize caps repomd.xml (Rocky's AppStream one is about 4 KB).
const maxRepomdSize = 16 << 20

// Repomd is a repository's repodata/repomd.xml: its revision and the metadata files.
type Repomd struct {
	Revision string
	// Tags are the content, distro and repo tags, kept for a regenerated repomd.xml.
	Tags []Tag
	Data []Data
}

// Tag is one <tags> entry of repomd.xml.
type Tag struct {
	Kind  string // content, repo, distro
	CPEID string // distro only
	Value string
}

// Data is one <data> entry: a metadata file with its checksums.
type Data struct {
	Type         string // primary, filelists, other, primary_db, group, group_xz, updateinfo, modules, ...
	Checksum     Checksum
	OpenChecksum Checksum // of the decompressed content; zero when not listed
	Href         string
	Timestamp    int64
	Size         int64
	OpenSize     int64
	// HeaderChecksum and HeaderSize are a zchunk file's header checksum and size.
	HeaderChecksum  Checksum
	HeaderSize      int64
	DatabaseVersion int
}

// Checksum is a checksum as repodata lists it: type (sha256, sha, sha1, sha224,
// sha384, sha512, md5) and hex value.
type Checksum struct {
	Type  string
	Value string
}

// Find returns the first data entry of a type.
func (r *Repomd) Find(typ string) (Data, bool) {
	for _, d := range r.Data {
		if d.Type == typ {
			return d, true
		}
	}
	return Data{}, false
}

type xmlChecksum struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

func (c xmlChecksum) get() Checksum {
	return Checksum{Type: strings.ToLower(strings.TrimSpace(c.Type)), Value: strings.ToLower(strings.TrimSpace(c.Value))}
}

type xmlRepomd struct {
	XMLName  xml.Name `xml:"repomd"`
	Revision string   `xml:"revision"`
	Tags     struct {
		Content []string `xml:"content"`
		Repo    []string `xml:"repo"`
		Distro  []struct {
			CPEID string `xml:"cpeid,attr"`
			Value string `xml:",chardata"`
		} `xml:"distro"`
	} `xml:"tags"`
	Data []struct {
		Type           string      `xml:"type,attr"`
		Checksum       xmlChecksum `xml:"checksum"`
		OpenChecksum   xmlChecksum `xml:"open-checksum"`
		HeaderChecksum xmlChecksum `xml:"header-checksum"`
		Location       struct {
			Href string `xml:"href,attr"`
			Base string `xml:"http://www.w3.org/XML/1998/namespace base,attr"`
		} `xml:"location"`
		Timestamp       string `xml:"timestamp"`
		Size            string `xml:"size"`
		OpenSize        string `xml:"open-size"`
		HeaderSize      string `xml:"header-size"`
		DatabaseVersion string `xml:"database_version"`
	} `xml:"data"`
}

// ParseRepomd parses repomd.xml. Every data entry needs a type, an href that
// store.ValidatePath accepts (relative, no ".."), a known checksum type with a value of
// the right length, and a size; two entries may not share a type or an href.
func ParseRepomd(b []byte) (*Repomd, error) {
	if len(b) > maxRepomdSize {
		return nil, fmt.Errorf("%w: repomd.xml larger than %d bytes", ErrMalformed, maxRepomdSize)
	}
	var x xmlRepomd
	d := xml.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&x); err != nil {
		return nil, fmt.Errorf("%w: repomd.xml: %v", ErrMalformed, err)
	}
	r := &Repomd{Revision: strings.TrimSpace(x.Revision)}
	for _, v := range x.Tags.Content {
		r.Tags = append(r.Tags, Tag{Kind: "content", Value: v})
	}
	for _, v := range x.Tags.Repo {
		r.Tags = append(r.Tags, Tag{Kind: "repo", Value: v})
	}
	for _, v := range x.Tags.Distro {
		r.Tags = append(r.Tags, Tag{Kind: "distro", CPEID: v.CPEID, Value: v.Value})
	}
	types, hrefs := map[string]bool{}, map[string]bool{}
	for _, xd := range x.Data {
		e := Data{Type: xd.Type, Checksum: xd.Checksum.get(), OpenChecksum: xd.OpenChecksum.get(),
			HeaderChecksum: xd.HeaderChecksum.get(), Href: xd.Location.Href}
		if e.Type == "" || types[e.Type] {
			return nil, fmt.Errorf("%w: repomd.xml: data type %q missing or listed twice", ErrMalformed, e.Type)
		}
		types[e.Type] = true
		if xd.Location.Base != "" {
			return nil, fmt.Errorf("%w: repomd.xml: %s has an xml:base (%s): metadata elsewhere is not mirrored", ErrMalformed, e.Type, xd.Location.Base)
		}
		if err := store.ValidatePath(e.Href); err != nil || hrefs[e.Href] {
			return nil, fmt.Errorf("%w: repomd.xml: %s location %q: unsafe or listed twice", ErrMalformed, e.Type, e.Href)
		}
		hrefs[e.Href] = true
		var err error
		if e.Size, err = parseSize(xd.Size, true); err != nil {
			return nil, fmt.Errorf("%w: repomd.xml: %s size: %v", ErrMalformed, e.Type, err)
		}
		if e.OpenSize, err = parseSize(xd.OpenSize, false); err == nil {
			e.HeaderSize, err = parseSize(xd.HeaderSize, false)
		}
		if err == nil {
			e.Timestamp, err = parseSize(xd.Timestamp, false)
		}
		if err == nil && xd.DatabaseVersion != "" {
			e.DatabaseVersion, err = strconv.Atoi(strings.TrimSpace(xd.DatabaseVersion))
		}
		if err != nil {
			return nil, fmt.Errorf("%w: repomd.xml: %s: %v", ErrMalformed, e.Type, err)
		}
		if _, err := e.Checksum.expect(e.Size); err != nil {
			return nil, fmt.Errorf("%w: repomd.xml: %s: %v", ErrMalformed, e.Type, err)
		}
		for _, c := range []Checksum{e.OpenChecksum, e.HeaderChecksum} {
			if c.Value != "" {
				if _, err := c.expect(0); err != nil {
					return nil, fmt.Errorf("%w: repomd.xml: %s: %v", ErrMalformed, e.Type, err)
				}
			}
		}
		r.Data = append(r.Data, e)
	}
	if _, ok := r.Find("primary"); !ok {
		return nil, fmt.Errorf("%w: repomd.xml lists no primary", ErrMissing)
	}
	return r, nil
}

func parseSize(s string, required bool) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return 0, fmt.Errorf("missing")
		}
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return n, nil
}

// RevisionBefore reports whether revision a is older than b: numerically when both are
// integers (createrepo_c writes the time), else as rpm versions.
func RevisionBefore(a, b string) bool {
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	if err1 == nil && err2 == nil {
		return x < y
	}
	return Vercmp(a, b) < 0
}
