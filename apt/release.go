package apt

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/airgapkit/airgap/store"
)

// IndexFile is one file that a Release lists: its path relative to the suite directory
// (dists/<suite>/), its size and its checksums (hex, lower case; "" when absent).
type IndexFile struct {
	Path   string
	Size   int64
	MD5    string
	SHA1   string
	SHA256 string
	SHA512 string
}

// Strong reports whether f carries a SHA256 or SHA512 checksum.
func (f IndexFile) Strong() bool { return f.SHA256 != "" || f.SHA512 != "" }

// Expect returns what a download of f must match: size plus SHA256 and SHA512 when present.
// MD5 and SHA1 are never trusted: a file with only those gives ErrWeakChecksums.
func (f IndexFile) Expect() (store.Expect, error) {
	if !f.Strong() {
		return store.Expect{}, fmt.Errorf("%w: %s", ErrWeakChecksums, f.Path)
	}
	e := store.Expect{Size: f.Size}
	if f.SHA256 != "" {
		e = e.With(store.SHA256, f.SHA256)
	}
	if f.SHA512 != "" {
		e = e.With(store.SHA512, f.SHA512)
	}
	if err := e.Validate(); err != nil {
		return store.Expect{}, fmt.Errorf("%w: %s: %v", ErrMalformed, f.Path, err)
	}
	return e, nil
}

// Release is a parsed Release file (the signed text of InRelease). Para keeps every field
// in order, including those this type does not interpret.
type Release struct {
	Para          Paragraph
	Origin        string
	Label         string
	Suite         string
	Codename      string
	Version       string
	Date          time.Time // zero when absent
	ValidUntil    time.Time // zero when absent
	Architectures []string
	Components    []string
	AcquireByHash bool
	// Files maps a path relative to the suite directory to what the Release says about it.
	Files map[string]IndexFile
}

// listsUnder reports whether rel lists a file under the directory prefix dir ("main/").
func (rel *Release) listsUnder(dir string) bool {
	for p := range rel.Files {
		if strings.HasPrefix(p, dir) {
			return true
		}
	}
	return false
}

// checksumFields are the Release fields that list files, weakest first.
var checksumFields = []string{"MD5Sum", "SHA1", "SHA256", "SHA512"}

// ParseRelease reads a Release file (one deb822 paragraph). The checksum lists are
// parsed strictly: malformed lines, unsafe paths and non-hex sums give ErrMalformed or
// store.ErrUnsafePath. A Release that lists files but none with SHA256 or SHA512 gives
// ErrWeakChecksums.
func ParseRelease(r io.Reader) (*Release, error) {
	p, err := ReadParagraph(r)
	if err != nil {
		return nil, fmt.Errorf("apt: Release: %w", err)
	}
	rel := &Release{
		Para:          p,
		Origin:        p.Get("Origin"),
		Label:         p.Get("Label"),
		Suite:         p.Get("Suite"),
		Codename:      p.Get("Codename"),
		Version:       p.Get("Version"),
		Architectures: strings.Fields(p.Get("Architectures")),
		Components:    strings.Fields(p.Get("Components")),
		AcquireByHash: strings.EqualFold(strings.TrimSpace(p.Get("Acquire-By-Hash")), "yes"),
		Files:         map[string]IndexFile{},
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"Date", &rel.Date}, {"Valid-Until", &rel.ValidUntil}} {
		if v := p.Get(f.name); v != "" {
			t, err := ParseDate(v)
			if err != nil {
				return nil, fmt.Errorf("apt: Release %s: %w", f.name, err)
			}
			*f.dst = t
		}
	}
	strong := false
	for _, name := range checksumFields {
		v, ok := p.Lookup(name)
		if !ok {
			continue
		}
		for _, line := range strings.Split(v, "\n") {
			parts := strings.Fields(line)
			if len(parts) == 0 {
				continue
			}
			if len(parts) != 3 {
				return nil, fmt.Errorf("%w: Release %s line %q", ErrMalformed, name, line)
			}
			sum, sizeStr, path := strings.ToLower(parts[0]), parts[1], parts[2]
			if err := checkHex(sum, hashLen[name]); err != nil {
				return nil, fmt.Errorf("%w: Release %s %s: %v", ErrMalformed, name, path, err)
			}
			size, err := strconv.ParseInt(sizeStr, 10, 64)
			if err != nil || size < 0 {
				return nil, fmt.Errorf("%w: Release %s %s: bad size %q", ErrMalformed, name, path, sizeStr)
			}
			if err := store.ValidatePath(path); err != nil {
				return nil, fmt.Errorf("apt: Release %s: %w", name, err)
			}
			f := rel.Files[path]
			if f.Path != "" && f.Size != size {
				return nil, fmt.Errorf("%w: Release lists %s with sizes %d and %d", ErrMalformed, path, f.Size, size)
			}
			f.Path, f.Size = path, size
			switch name {
			case "MD5Sum":
				f.MD5 = sum
			case "SHA1":
				f.SHA1 = sum
			case "SHA256":
				f.SHA256 = sum
				strong = true
			case "SHA512":
				f.SHA512 = sum
				strong = true
			}
			rel.Files[path] = f
		}
	}
	if len(rel.Files) > 0 && !strong {
		return nil, fmt.Errorf("%w: Release has no SHA256 or SHA512 list", ErrWeakChecksums)
	}
	return rel, nil
}

var hashLen = map[string]int{"MD5Sum": 32, "SHA1": 40, "SHA256": 64, "SHA512": 128}

func checkHex(s string, n int) error {
	if len(s) != n {
		return fmt.Errorf("checksum %q: want %d hex digits", s, n)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("checksum %q: not hex", s)
		}
	}
	return nil
}

// dateLayouts are the forms of Date and Valid-Until seen in the wild (RFC 2822 with a
// zone name or a numeric offset, one- or two-digit day).
var dateLayouts = []string{
	"Mon, 02 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 02 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 02 Jan 2006 15:04:05 -0700 (MST)",
}

// ParseDate parses a Release Date or Valid-Until value. The result is in UTC.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: date %q", ErrMalformed, s)
}

// FormatDate writes t as apt expects in Date and Valid-Until (RFC 2822, UTC).
func FormatDate(t time.Time) string {
	return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 UTC")
}

// releaseHead is the order of the leading fields of a Release file this package writes.
var releaseHead = []string{"Origin", "Label", "Suite", "Version", "Codename", "Changelogs",
	"Date", "Valid-Until", "Acquire-By-Hash", "NotAutomatic", "ButAutomaticUpgrades",
	"No-Support-for-Architecture-all", "Architectures", "Components", "Description"}

// Marshal writes rel as a Release file: the metadata fields (Para's values, with Date,
// Valid-Until, Acquire-By-Hash, Architectures and Components taken from the struct), then
// the SHA256 and SHA512 lists of Files, sorted by path. MD5Sum and SHA1 are not written.
func (rel *Release) Marshal() []byte {
	p := rel.Para
	p.Fields = append([]Field(nil), p.Fields...)
	set := func(name, v string) {
		if v == "" {
			p.Delete(name)
		} else {
			p.Set(name, v)
		}
	}
	set("Origin", rel.Origin)
	set("Label", rel.Label)
	set("Suite", rel.Suite)
	set("Codename", rel.Codename)
	set("Version", rel.Version)
	if rel.Date.IsZero() {
		p.Delete("Date")
	} else {
		p.Set("Date", FormatDate(rel.Date))
	}
	if rel.ValidUntil.IsZero() {
		p.Delete("Valid-Until")
	} else {
		p.Set("Valid-Until", FormatDate(rel.ValidUntil))
	}
	if rel.AcquireByHash {
		p.Set("Acquire-By-Hash", "yes")
	} else {
		p.Delete("Acquire-By-Hash")
	}
	set("Architectures", strings.Join(rel.Architectures, " "))
	set("Components", strings.Join(rel.Components, " "))
	for _, n := range checksumFields {
		p.Delete(n)
	}
	var b bytes.Buffer
	done := map[string]bool{}
	for _, name := range releaseHead {
		if v, ok := p.Lookup(name); ok {
			writeField(&b, name, v)
			done[strings.ToLower(name)] = true
		}
	}
	for _, f := range p.Fields {
		if !done[strings.ToLower(f.Name)] {
			writeField(&b, f.Name, f.Value)
		}
	}
	paths := make([]string, 0, len(rel.Files))
	for path := range rel.Files {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	for _, alg := range []string{"SHA256", "SHA512"} {
		b.WriteString(alg + ":\n")
		for _, path := range paths {
			f := rel.Files[path]
			sum := f.SHA256
			if alg == "SHA512" {
				sum = f.SHA512
			}
			if sum != "" {
				fmt.Fprintf(&b, " %s %16d %s\n", sum, f.Size, path)
			}
		}
	}
	return b.Bytes()
}
