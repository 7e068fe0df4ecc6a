package apt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// Annotations of a published tree read by Suites and Inventory.
const (
	annSuites = "apt.suites" // JSON []PublishedSuite
	annMoved  = "apt.moved"  // JSON map: published pool path -> the upstream's, for moved files
)

// PublishedSuite is what a published tree records about one of its suites: what it
// holds, where it came from, and until when clients accept it (see Suites).
type PublishedSuite struct {
	// Name is the suite's directory under dists/ (bookworm, noble-updates).
	Name string `json:"name"`
	// Origin is the Release's Origin (Debian, Ubuntu).
	Origin string `json:"origin,omitempty"`
	// Components and Architectures are those the tree holds indices (and pool files) of.
	// A pristine suite's Release lists every one the upstream carries.
	Components    []string `json:"components"`
	Architectures []string `json:"architectures,omitempty"`
	// Pristine: the suite's metadata is the upstream's, byte for byte, signed with the
	// upstream's key (Mirror.Pristine); else it was re-signed (or built by a Repository).
	Pristine bool `json:"pristine,omitempty"`
	// ValidUntil is the Valid-Until of the published Release: apt refuses the suite
	// after it, so a sync must publish again before. Re-signed, it is the Mirror's
	// ValidFor from the last publication, never later than the upstream's; pristine, the
	// upstream's. Zero: none.
	ValidUntil time.Time `json:"valid_until,omitzero"`
	// Upstream is the archive root the suite was mirrored from (with a trailing slash);
	// "" for a Repository.
	Upstream string `json:"upstream,omitempty"`
	// UpstreamDate and UpstreamValidUntil are the Date and Valid-Until of the upstream
	// Release the tree was built from (zero when absent).
	UpstreamDate       time.Time `json:"upstream_date,omitzero"`
	UpstreamValidUntil time.Time `json:"upstream_valid_until,omitzero"`
	// SignedBy says which upstream signature was verified ("InRelease", "Release.gpg"),
	// and Signers are the fingerprints of the keys that made it (every one verified).
	// Both are empty when signatures were not checked (InsecureSkipSignature).
	SignedBy string   `json:"signed_by,omitempty"`
	Signers  []string `json:"signers,omitempty"`
}

// fromUpstream fills in where st came from.
func (p *PublishedSuite) fromUpstream(st *suiteState) {
	p.Upstream, p.UpstreamDate, p.UpstreamValidUntil = st.up.base(), st.rel.Date, st.rel.ValidUntil
	p.SignedBy, p.Signers = st.signedBy, st.signers
}

func putRecords(snap *store.Snapshot, recs []PublishedSuite) error {
	b, err := json.Marshal(recs)
	if err != nil {
		return err
	}
	snap.Annotations[annSuites] = string(b)
	return nil
}

// Suites lists the suites of the tree that ref (a Mirror's or Repository's, "apt/<name>")
// publishes, sorted by name: what each holds (maasclient.AptArchive.Suites takes the
// components), where it came from, and its Valid-Until, so that a status report can warn
// before clients refuse it. For a tree published before this was recorded the suites
// are read from its Release files, without upstream details. store.ErrNotFound when ref
// was never published.
func Suites(ctx context.Context, s store.Store, ref string) ([]PublishedSuite, error) {
	snap, _, err := store.OpenPublished(ctx, s, ref)
	if err != nil {
		return nil, fmt.Errorf("apt: %s: %w", ref, err)
	}
	return suitesOf(ctx, s, snap, ref)
}

func suitesOf(ctx context.Context, s store.Store, snap *store.Snapshot, ref string) ([]PublishedSuite, error) {
	var out []PublishedSuite
	if v, ok := snap.Annotations[annSuites]; ok {
		if err := json.Unmarshal([]byte(v), &out); err != nil {
			return nil, fmt.Errorf("apt: %s: annotation %s: %w: %v", ref, annSuites, ErrMalformed, err)
		}
	} else {
		names := map[string]bool{}
		for p := range snap.Files {
			rest, ok := strings.CutPrefix(p, "dists/")
			if !ok {
				continue
			}
			if name, ok := strings.CutSuffix(rest, "/InRelease"); ok && !strings.Contains(name, "/") {
				names[name] = true
			}
			if name, ok := strings.CutSuffix(rest, "/Release"); ok && !strings.Contains(name, "/") {
				names[name] = true
			}
		}
		for _, name := range sortedKeys(names) {
			rel, err := publishedRelease(ctx, s, snap, name)
			if err != nil {
				return nil, fmt.Errorf("apt: %s: %w", ref, err)
			}
			ps := PublishedSuite{Name: name, Origin: rel.Origin, Components: rel.Components,
				Architectures: rel.Architectures, ValidUntil: rel.ValidUntil}
			ps.UpstreamDate, _ = time.Parse(time.RFC3339, snap.Annotations[annSuite(name, "date")])
			ps.UpstreamValidUntil, _ = time.Parse(time.RFC3339, snap.Annotations[annSuite(name, "valid-until")])
			out = append(out, ps)
		}
	}
	slices.SortFunc(out, func(a, b PublishedSuite) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// publishedRelease reads the Release of a suite of snap: the Release file, else the text
// of InRelease (a pristine tree whose upstream serves only InRelease). The tree was
// verified when it was published; nothing is checked again.
func publishedRelease(ctx context.Context, s store.Store, snap *store.Snapshot, suite string) (*Release, error) {
	base := "dists/" + suite + "/"
	if f, ok := snap.Lookup(base + "Release"); ok {
		b, err := store.ReadBlob(ctx, s, f.Digest, MaxReleaseSize)
		if err != nil {
			return nil, fmt.Errorf("%sRelease: %w", base, err)
		}
		return ParseRelease(bytes.NewReader(b))
	}
	f, ok := snap.Lookup(base + "InRelease")
	if !ok {
		return nil, fmt.Errorf("%s: %w: no Release or InRelease", base, store.ErrNotFound)
	}
	b, err := store.ReadBlob(ctx, s, f.Digest, MaxReleaseSize)
	if err != nil {
		return nil, fmt.Errorf("%sInRelease: %w", base, err)
	}
	text, err := pgp.ClearsignedContent(b)
	if err != nil {
		return nil, fmt.Errorf("%sInRelease: %w", base, err)
	}
	return ParseRelease(bytes.NewReader(text))
}

// inventoryFormats is the order in which Inventory reads the variants of an index it
// holds: the cheapest to decode first.
var inventoryFormats = []string{"", ".gz", ".zst", ".xz", ".bz2"}

// Inventory lists every package file the tree that ref publishes holds: each .deb and
// .udeb of its Packages indices, and the .dsc of each source package of its Sources
// indices, once per pool path, sorted by path. Each Item carries the package's name,
// version and architecture ("source" for a source package), its PURL
// (pkg:deb/<vendor>/<name>@<version>?arch=<arch>, the vendor being the Release's Origin
// in lower case: debian, ubuntu), its path, digest and size in the tree, the URL it was
// fetched from, and what vouched for it ("SHA256 in bookworm/main Packages, listed by
// InRelease signed by <fingerprint>"). It reads the indices the tree serves, so a
// pristine tree, whose upstream indices list every package, yields only the files it
// holds. Upstream and VouchedBy are empty for a Repository's packages and for trees
// published before suites were recorded.
func Inventory(ctx context.Context, s store.Store, ref string) ([]store.Item, error) {
	snap, _, err := store.OpenPublished(ctx, s, ref)
	if err != nil {
		return nil, fmt.Errorf("apt: %s: %w", ref, err)
	}
	suites, err := suitesOf(ctx, s, snap, ref)
	if err != nil {
		return nil, err
	}
	moved := map[string]string{}
	if v, ok := snap.Annotations[annMoved]; ok {
		if err := json.Unmarshal([]byte(v), &moved); err != nil {
			return nil, fmt.Errorf("apt: %s: annotation %s: %w: %v", ref, annMoved, ErrMalformed, err)
		}
	}
	inv := &inventory{ctx: ctx, s: s, snap: snap, moved: moved, seen: map[string]bool{}}
	for _, ps := range suites {
		rel, err := publishedRelease(ctx, s, snap, ps.Name)
		if err != nil {
			return nil, fmt.Errorf("apt: %s: %w", ref, err)
		}
		done := map[string]bool{}
		for _, p := range sortedKeys(rel.Files) {
			base := trimCompression(p)
			kind, ok := indexKindOf(base)
			if !ok || done[base] {
				continue
			}
			done[base] = true
			if err := inv.index(ps, kind, base); err != nil {
				return nil, fmt.Errorf("apt: %s: %w", ref, err)
			}
		}
	}
	slices.SortFunc(inv.items, func(a, b store.Item) int { return strings.Compare(a.Path, b.Path) })
	return inv.items, nil
}

// indexKindOf classifies an index path relative to a suite directory
// ("main/binary-amd64/Packages"): one that lists pool files, or not.
func indexKindOf(base string) (indexKind, bool) {
	segs := strings.Split(base, "/")
	switch {
	case len(segs) == 3 && strings.HasPrefix(segs[1], "binary-") && segs[2] == "Packages":
		return kindPackages, true
	case len(segs) == 4 && segs[1] == "debian-installer" && strings.HasPrefix(segs[2], "binary-") && segs[3] == "Packages":
		return kindInstaller, true
	case len(segs) == 3 && segs[1] == "source" && segs[2] == "Sources":
		return kindSources, true
	}
	return 0, false
}

// inventory collects the Items of one published tree.
type inventory struct {
	ctx   context.Context
	s     store.Store
	snap  *store.Snapshot
	moved map[string]string
	seen  map[string]bool // pool paths listed already
	items []store.Item
}

// index adds the held files that one index of suite ps lists; an index the tree does
// not hold (a pristine suite's other architectures) adds nothing.
func (inv *inventory) index(ps PublishedSuite, kind indexKind, base string) error {
	dist := "dists/" + ps.Name + "/"
	var name string
	var f store.File
	for _, ext := range inventoryFormats {
		if ff, ok := inv.snap.Lookup(dist + base + ext); ok {
			name, f = base+ext, ff
			break
		}
	}
	if name == "" {
		return nil
	}
	b, err := inv.s.Open(inv.ctx, f.Digest)
	if err != nil {
		return fmt.Errorf("%s%s: %w", dist, name, err)
	}
	defer b.Close()
	r, err := Decompress(name, b, 0)
	if err != nil {
		return fmt.Errorf("%s%s: %w", dist, name, err)
	}
	defer r.Close()
	comp, _, _ := strings.Cut(base, "/")
	vendor := strings.ToLower(ps.Origin)
	switch kind {
	case kindPackages, kindInstaller:
		err = ReadPackages(inv.ctx, r, func(p Package, _ Paragraph) error {
			hash := "SHA256"
			if p.SHA256 == "" {
				hash = "SHA512"
			}
			inv.add(ps, p.Filename, store.Item{Type: "library", Name: p.Name, Version: p.Version,
				PURL: purl(vendor, p.Name, p.Version, p.Architecture)}, vouched(ps, hash, comp, "Packages"))
			return nil
		})
	case kindSources:
		err = ReadSources(inv.ctx, r, func(src SourcePackage, _ Paragraph) error {
			for _, sf := range src.Files {
				if strings.HasSuffix(sf.Path, ".dsc") {
					hash := "SHA256"
					if sf.SHA256 == "" {
						hash = "SHA512"
					}
					inv.add(ps, src.Directory+"/"+sf.Path, store.Item{Type: "library", Name: src.Name, Version: src.Version,
						PURL: purl(vendor, src.Name, src.Version, "source")}, vouched(ps, hash, comp, "Sources"))
				}
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("%s%s: %w", dist, name, err)
	}
	return nil
}

// add records the Item of the file at pool path p, when the tree holds it and it was not
// listed before.
func (inv *inventory) add(ps PublishedSuite, p string, it store.Item, vouchedBy string) {
	f, ok := inv.snap.Lookup(p)
	if !ok || inv.seen[p] {
		return
	}
	inv.seen[p] = true
	it.Path, it.Digest, it.Size, it.VouchedBy = p, f.Digest, f.Size, vouchedBy
	if ps.Upstream != "" {
		src := p
		if o, ok := inv.moved[p]; ok {
			src = o
		}
		it.Upstream = ps.Upstream + escapePath(src)
	}
	inv.items = append(inv.items, it)
}

// purl is the package URL of a Debian package (pkg:deb/debian/curl@7.88.1-10?arch=amd64).
func purl(vendor, name, version, arch string) string {
	ns := ""
	if vendor != "" {
		ns = url.PathEscape(vendor) + "/"
	}
	return "pkg:deb/" + ns + url.PathEscape(name) + "@" + url.PathEscape(version) + "?arch=" + url.QueryEscape(arch)
}

// vouched says what vouched for a file an index of ps lists by its hash.
func vouched(ps PublishedSuite, hash, comp, index string) string {
	if ps.Upstream == "" {
		return ""
	}
	s := hash + " in " + ps.Name + "/" + comp + " " + index
	if ps.SignedBy == "" {
		return s + " (signature not checked: InsecureSkipSignature)"
	}
	return s + ", listed by " + ps.SignedBy + " signed by " + strings.Join(ps.Signers, ", ")
}
