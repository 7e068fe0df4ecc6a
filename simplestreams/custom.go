package simplestreams

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// CustomContentID is the content id of the products document custom images are
// published in: the one images.maas.io uses for its CentOS bases.
const CustomContentID = "com.ubuntu.maas:stable:centos-bases-download"

// CustomFtypes are the ftypes MAAS knows for an image's root: tarballs and disk
// images.
var CustomFtypes = []string{"root-tgz", "root-tbz", "root-txz", "root-dd", "root-dd.tar", "root-dd.raw",
	"root-dd.bz2", "root-dd.gz", "root-dd.xz", "root-dd.tar.xz", "root-image.gz"}

// CustomImage is a boot image built elsewhere (packer-maas: CentOS, RHEL, Rocky) that a
// re-signed mirror publishes beside the upstream's products, in the shape images.maas.io
// gives its CentOS bases: product com.ubuntu.maas.stable:<os>-bases:<version>:<arch> of
// CustomContentID, one version named by the file's modification time and digest, and two items:
// the image (ftype) and a manifest, with sha256 and size computed here.
type CustomImage struct {
	OS           string `yaml:"os"`            // centos, rhel, rocky
	Release      string `yaml:"release"`       // centos8, rhel9, rocky9
	Version      string `yaml:"version"`       // 8, 9
	ReleaseTitle string `yaml:"release_title"` // "Rocky Linux 9"
	Arch         string `yaml:"arch"`          // amd64
	Subarch      string `yaml:"subarch"`       // generic (empty: generic)
	Ftype        string `yaml:"ftype"`         // one of CustomFtypes
	File         string `yaml:"file"`          // local path of the image
}

func (ci CustomImage) product() string {
	return "com.ubuntu.maas.stable:" + ci.OS + "-bases:" + ci.Version + ":" + ci.Arch
}

// customFile is a custom image stored for a sync.
type customFile struct {
	img            CustomImage
	image, mfst    store.BlobInfo
	version        string
	imgPath, mPath string
}

// loadCustom stores the custom images (and their manifests) and folds their contents
// into the configuration fingerprint, so that a changed file republishes.
func (r *run) loadCustom(ctx context.Context) error {
	m := r.m
	if len(m.Custom) == 0 {
		return nil
	}
	if m.Pristine {
		return fmt.Errorf("%w: custom images need a re-signed mirror: a pristine one serves the upstream's documents", ErrConfig)
	}
	h := sha256.New()
	h.Write([]byte(r.next.Config))
	seen := map[string]bool{}
	for i, ci := range m.Custom {
		if ci.Subarch == "" {
			ci.Subarch = "generic"
		}
		for _, f := range []string{ci.OS, ci.Release, ci.Version, ci.Arch, ci.Subarch} {
			if f == "" || strings.ContainsAny(f, "/: ") {
				return fmt.Errorf("%w: custom[%d]: os, release, version and arch are required, without '/', ':' or spaces", ErrConfig, i)
			}
		}
		if !slices.Contains(CustomFtypes, ci.Ftype) {
			return fmt.Errorf("%w: custom[%d]: ftype %q: want one of %s", ErrConfig, i, ci.Ftype, strings.Join(CustomFtypes, ", "))
		}
		if seen[ci.product()] {
			return fmt.Errorf("%w: custom[%d]: product %s is configured twice", ErrConfig, i, ci.product())
		}
		seen[ci.product()] = true
		f, err := os.Open(ci.File)
		if err != nil {
			return fmt.Errorf("%w: custom[%d]: %w", ErrConfig, i, err)
		}
		st, err := f.Stat()
		var info store.BlobInfo
		if err == nil {
			info, err = m.Store.Put(ctx, store.Expect{}, store.ContextReader(ctx, f))
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("simplestreams: custom[%d] %s: %w", i, ci.File, err)
		}
		// the modification time orders versions; the digest keeps a path's content fixed
		ver := st.ModTime().UTC().Format("20060102_150405") + "_" + info.Digest.Hex()[:8]
		dir := ci.OS + "/" + ci.Release + "/" + ci.Arch + "/" + ver + "/"
		manifest := fmt.Sprintf("%s %s %s %s\n%s %d sha256:%s\n", ci.OS, ci.Release, ci.Arch, ver, ci.Ftype, info.Size, info.Digest.Hex())
		mi, err := store.PutBytes(ctx, m.Store, store.Expect{}, []byte(manifest))
		if err != nil {
			return err
		}
		r.custom = append(r.custom, customFile{img: ci, image: info, mfst: mi, version: ver, imgPath: dir + ci.Ftype, mPath: dir + "manifest"})
		fmt.Fprintf(h, "%s %s %s %s\n", ci.product(), info.Digest, ver, ci.Subarch+ci.ReleaseTitle)
	}
	r.next.Config = hex.EncodeToString(h.Sum(nil))
	return nil
}

// addCustom adds the custom images to the tree and their products to the streams: into
// the upstream's CustomContentID document when the upstream has one (a product of the
// same name is refused), else as a document of their own.
func (r *run) addCustom(snap *store.Snapshot, streams []stream) ([]stream, error) {
	if len(r.custom) == 0 {
		return streams, nil
	}
	prods := map[string]any{}
	for _, c := range r.custom {
		if _, taken := snap.Files[c.imgPath]; taken {
			return nil, fmt.Errorf("%w: custom image path %s is taken by an upstream item", ErrConfig, c.imgPath)
		}
		ci := c.img
		prods[ci.product()] = map[string]any{
			"arch": ci.Arch, "os": ci.OS, "release": ci.Release, "version": ci.Version, "release_title": ci.ReleaseTitle,
			"subarch": ci.Subarch, "subarches": ci.Subarch, "label": "stable",
			"versions": map[string]any{c.version: map[string]any{"items": map[string]any{
				ci.Ftype:   map[string]any{"ftype": ci.Ftype, "path": c.imgPath, "sha256": c.image.Digest.Hex(), "size": c.image.Size},
				"manifest": map[string]any{"ftype": "manifest", "path": c.mPath, "sha256": c.mfst.Digest.Hex(), "size": c.mfst.Size},
			}}},
		}
		if err := snap.Add(c.imgPath, store.File{Digest: c.image.Digest, Size: c.image.Size}); err != nil {
			return nil, err
		}
		if err := snap.Add(c.mPath, store.File{Digest: c.mfst.Digest, Size: c.mfst.Size}); err != nil {
			return nil, err
		}
		r.stats.Items += 2
		r.stats.Products++
		r.stats.Versions++
	}
	doc, err := json.Marshal(map[string]any{"format": FormatProducts, "content_id": CustomContentID, "datatype": "image-downloads", "products": prods})
	if err != nil {
		return nil, err
	}
	p, err := ParseProducts(doc)
	if err != nil {
		return nil, err
	}
	for i, s := range streams {
		if s.entry.ContentID != CustomContentID {
			continue
		}
		for name, prod := range p.Products {
			if _, dup := s.sel.Products[name]; dup {
				return nil, fmt.Errorf("%w: custom product %s is also the upstream's", ErrConfig, name)
			}
			s.sel.Products[name] = prod
		}
		streams[i] = s
		return streams, nil
	}
	ixDoc, err := json.Marshal(map[string]any{"format": FormatIndex, "index": map[string]any{CustomContentID: map[string]any{
		"format": FormatProducts, "datatype": "image-downloads", "path": "streams/v1/" + CustomContentID + ".json"}}})
	if err != nil {
		return nil, err
	}
	ix, err := ParseIndex(ixDoc)
	if err != nil {
		return nil, err
	}
	return append(streams, stream{entry: ix.Entries[CustomContentID], sel: p}), nil
}
