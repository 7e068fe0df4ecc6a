package simplestreamstest

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/airgapkit/airgap/store/pgp"
)

// Content IDs of the generated streams.
const (
	ImagesID      = "com.ubuntu.maas:stable:v3:download"
	BootloadersID = "com.ubuntu.maas:stable:1:bootloader-download"
	CentOSID      = "com.ubuntu.maas:stable:centos-bases-download"
)

// Paths of the generated documents (without extension: add .sjson, .json, .json.gpg).
const (
	IndexBase       = "streams/v1/index"
	ImagesBase      = "streams/v1/" + ImagesID
	BootloadersBase = "streams/v1/" + BootloadersID
	CentOSBase      = "streams/v1/" + CentOSID
)

// Release is an Ubuntu release of the images stream.
type Release struct {
	Codename string // e.g. "noble"
	Version  string // e.g. "24.04"
}

// Options shape the generated tree. The zero value gives three releases, two
// architectures and two versions.
type Options struct {
	// Signer signs the documents. Nil: a fresh Ed25519 key.
	Signer *pgp.Signer
	// Releases default to focal, jammy, noble.
	Releases []Release
	// Arches default to amd64, arm64.
	Arches []string
	// Versions default to 20261101, 20261115 (version names, compared as strings).
	Versions []string
	// ItemSize is the size of every item file; zero: 200 bytes.
	ItemSize int
	// IndexChecksums makes every index entry list the size, sha256 and sha512 of the
	// document at its path (the .sjson in index.sjson, the .json in index.json), which
	// the simplestreams client then checks.
	IndexChecksums bool
	// AllChecksums makes every item list its md5 and sha512 besides its sha256.
	AllChecksums bool
}

// Upstream is a generated tree and the http.Handler that serves it, with ETags and
// conditional GET, counting requests. Safe for concurrent use.
type Upstream struct {
	// Signer is the key the documents are signed with.
	Signer *pgp.Signer

	mu       sync.Mutex
	opt      Options
	gen      int
	files    map[string][]byte
	requests map[string]int
	items    map[string]bool
}

// New generates the tree.
func New(opt Options) (*Upstream, error) {
	if opt.Signer == nil {
		s, err := pgp.GenerateKey("simplestreams test upstream", "upstream@example.invalid", pgp.KeyOptions{})
		if err != nil {
			return nil, err
		}
		opt.Signer = s
	}
	if len(opt.Releases) == 0 {
		opt.Releases = []Release{{"focal", "20.04"}, {"jammy", "22.04"}, {"noble", "24.04"}}
	}
	if len(opt.Arches) == 0 {
		opt.Arches = []string{"amd64", "arm64"}
	}
	if len(opt.Versions) == 0 {
		opt.Versions = []string{"20261101", "20261115"}
	}
	if opt.ItemSize <= 0 {
		opt.ItemSize = 200
	}
	opt.Versions = slices.Clone(opt.Versions)
	u := &Upstream{Signer: opt.Signer, opt: opt, files: map[string][]byte{}, requests: map[string]int{}}
	if err := u.generate(); err != nil {
		return nil, err
	}
	return u, nil
}

// AddVersion adds a version of every image product (as upstream does every few days) and
// regenerates the images document and the index. The other documents keep their bytes
// and signatures, so they answer conditional requests with 304.
func (u *Upstream) AddVersion(v string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.opt.Versions = append(u.opt.Versions, v)
	return u.generateLocked()
}

// Keyring returns the upstream's public key, binary.
func (u *Upstream) Keyring() []byte {
	b, err := u.Signer.PublicKey(false)
	if err != nil {
		panic(err)
	}
	return b
}

func (u *Upstream) generate() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.generateLocked()
}

// updated gives generation n a deterministic `updated` time.
func updated(n int) string {
	t := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Hour)
	return t.Format(time.RFC1123Z)
}

func (u *Upstream) generateLocked() error {
	u.gen++
	u.items = map[string]bool{}
	docs := []struct {
		id, base, datatype string
		products           map[string]any
	}{
		{ImagesID, ImagesBase, "image-downloads", u.images()},
		{BootloadersID, BootloadersBase, "image-downloads", u.bootloaders()},
		{CentOSID, CentOSBase, "image-downloads", u.centos()},
	}
	indexJSON := map[string]any{}
	indexSJSON := map[string]any{}
	for _, d := range docs {
		stamp := updated(u.gen)
		doc := map[string]any{
			"content_id": d.id, "datatype": d.datatype, "format": "products:1.0",
			"updated": stamp, "products": d.products,
		}
		// Keep the old bytes (and so the ETag and signature) of a document whose
		// products did not change.
		if old, ok := u.files[d.base+".json"]; ok {
			var prev map[string]any
			if json.Unmarshal(old, &prev) == nil {
				doc["updated"] = prev["updated"]
				if b, _ := marshal(doc); bytes.Equal(b, old) {
					stamp = prev["updated"].(string)
				} else {
					doc["updated"] = updated(u.gen)
				}
			}
		}
		if err := u.setLocked(d.base, doc); err != nil {
			return err
		}
		names := slices.Sorted(maps.Keys(d.products))
		entry := func(ext string) map[string]any {
			e := map[string]any{
				"datatype": d.datatype, "format": "products:1.0", "path": d.base + ext,
				"products": names, "updated": stamp,
			}
			if u.opt.IndexChecksums {
				b := u.files[d.base+ext]
				s256, s512 := sha256.Sum256(b), sha512.Sum512(b)
				e["size"], e["sha256"], e["sha512"] = len(b), hex.EncodeToString(s256[:]), hex.EncodeToString(s512[:])
			}
			return e
		}
		indexJSON[d.id] = entry(".json")
		indexSJSON[d.id] = entry(".sjson")
	}
	top := func(idx map[string]any) map[string]any {
		return map[string]any{"format": "index:1.0", "updated": updated(u.gen), "index": idx}
	}
	jb, err := marshal(top(indexJSON))
	if err != nil {
		return err
	}
	sb, err := marshal(top(indexSJSON))
	if err != nil {
		return err
	}
	return u.writeSigned(IndexBase, jb, sb)
}

func (u *Upstream) item(path, ftype string, extra map[string]any) map[string]any {
	content := Content(path, u.opt.ItemSize)
	sum := sha256.Sum256(content)
	u.files[path] = content
	u.items[path] = true
	it := map[string]any{"ftype": ftype, "path": path, "sha256": hex.EncodeToString(sum[:]), "size": len(content)}
	if u.opt.AllChecksums {
		s512, s5 := sha512.Sum512(content), md5.Sum(content)
		it["sha512"], it["md5"] = hex.EncodeToString(s512[:]), hex.EncodeToString(s5[:])
	}
	maps.Copy(it, extra)
	return it
}

// Content returns the deterministic content of the item at path.
func Content(path string, size int) []byte {
	seed := sha256.Sum256([]byte(path))
	out := make([]byte, 0, size)
	line := fmt.Sprintf("simplestreamstest %s %x\n", path, seed[:8])
	for len(out) < size {
		out = append(out, line...)
	}
	return out[:size]
}

func (u *Upstream) images() map[string]any {
	products := map[string]any{}
	for _, rel := range u.opt.Releases {
		for _, arch := range u.opt.Arches {
			for _, kind := range []string{"ga", "hwe"} {
				subarch := kind + "-" + rel.Version
				name := fmt.Sprintf("com.ubuntu.maas.stable:v3:boot:%s:%s:%s", rel.Version, arch, subarch)
				versions := map[string]any{}
				for _, v := range u.opt.Versions {
					dir := fmt.Sprintf("%s/%s/%s", rel.Codename, arch, v)
					versions[v] = map[string]any{"items": map[string]any{
						"boot-kernel": u.item(dir+"/"+subarch+"/generic/boot-kernel", "boot-kernel", map[string]any{"kpackage": "linux-generic"}),
						"boot-initrd": u.item(dir+"/"+subarch+"/generic/boot-initrd", "boot-initrd", map[string]any{"kpackage": "linux-generic"}),
						"squashfs":    u.item(dir+"/squashfs", "squashfs", nil),
						"manifest":    u.item(dir+"/squashfs.manifest", "manifest", nil),
					}}
				}
				products[name] = map[string]any{
					"arch": arch, "os": "ubuntu", "release": rel.Codename, "release_codename": rel.Codename,
					"release_title": rel.Version + " LTS", "version": rel.Version, "subarch": subarch,
					"subarches": "generic," + subarch, "kflavor": "generic", "krel": rel.Codename,
					"label": "stable", "support_eol": "2036-05-31", "versions": versions,
				}
			}
		}
	}
	return products
}

func (u *Upstream) bootloaders() map[string]any {
	products := map[string]any{}
	for _, b := range []struct{ os, typ, arch, item string }{
		{"grub-efi-signed", "uefi", "amd64", "grub2-signed"},
		{"grub-efi", "uefi", "arm64", "grub2"},
		{"pxelinux", "pxe", "i386", "syslinux"},
	} {
		v := "20210819.0"
		name := fmt.Sprintf("com.ubuntu.maas.stable:1:%s:%s:%s", b.os, b.typ, b.arch)
		products[name] = map[string]any{
			"arch": b.arch, "arches": b.arch, "bootloader-type": b.typ, "label": "stable",
			"os": b.os, "release": b.os,
			"versions": map[string]any{v: map[string]any{"items": map[string]any{
				b.item: u.item(fmt.Sprintf("bootloaders/%s/%s/%s/%s.tar.xz", b.typ, b.arch, v, b.item), "archive.tar.xz", map[string]any{"src_package": b.item}),
			}}},
		}
	}
	return products
}

func (u *Upstream) centos() map[string]any {
	v := "20200109_01"
	return map[string]any{
		"com.ubuntu.maas.stable:centos-bases:7.0:amd64": map[string]any{
			"arch": "amd64", "os": "centos", "release": "centos70", "release_title": "CentOS 7",
			"version": "7.0", "subarch": "generic", "subarches": "generic", "label": "stable",
			"versions": map[string]any{v: map[string]any{"items": map[string]any{
				"root-tgz": u.item("centos/centos70/amd64/"+v+"/root-tgz", "root-tgz", nil),
			}}},
		},
	}
}

func marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// setLocked writes doc as base.json, base.json.gpg and base.sjson, unless base.json
// already holds exactly these bytes.
func (u *Upstream) setLocked(base string, doc any) error {
	b, ok := doc.([]byte)
	if !ok {
		var err error
		if b, err = marshal(doc); err != nil {
			return err
		}
	}
	if old, ok := u.files[base+".json"]; ok && bytes.Equal(old, b) {
		return nil
	}
	return u.writeSigned(base, b, b)
}

func (u *Upstream) writeSigned(base string, plain, forSjson []byte) error {
	sig, err := u.Signer.DetachSign(bytes.NewReader(plain), true)
	if err != nil {
		return err
	}
	cs, err := u.Signer.Clearsign(forSjson)
	if err != nil {
		return err
	}
	u.files[base+".json"] = plain
	u.files[base+".json.gpg"] = sig
	u.files[base+".sjson"] = cs
	return nil
}

// SetDocument replaces the document at base (a path without extension, e.g.
// ImagesBase) with doc (any JSON value, or raw []byte), signed: .json, .json.gpg and
// .sjson. Tests use it to serve malformed or hostile documents under a good signature.
func (u *Upstream) SetDocument(base string, doc any) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	b, ok := doc.([]byte)
	if !ok {
		var err error
		if b, err = marshal(doc); err != nil {
			return err
		}
	}
	return u.writeSigned(base, b, b)
}

// Document returns the JSON document at base decoded, for a test to edit and hand back to
// SetDocument.
func (u *Upstream) Document(base string) (map[string]any, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var m map[string]any
	err := json.Unmarshal(u.files[base+".json"], &m)
	return m, err
}

// Set replaces (or adds) one file as it is served, unsigned and unchanged.
func (u *Upstream) Set(path string, content []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.files[path] = slices.Clone(content)
}

// Remove deletes one file: it then answers 404.
func (u *Upstream) Remove(path string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.files, path)
}

// File returns a served file's content.
func (u *Upstream) File(path string) ([]byte, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	b, ok := u.files[path]
	return b, ok
}

// ItemPaths returns the paths of every item file of the current tree, sorted.
func (u *Upstream) ItemPaths() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Sorted(maps.Keys(u.items))
}

// Requests returns how many requests each path received (GET and HEAD, 200 and 304).
func (u *Upstream) Requests() map[string]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return maps.Clone(u.requests)
}

// ResetRequests zeroes the request counts.
func (u *Upstream) ResetRequests() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.requests = map[string]int{}
}

// ServeHTTP serves the tree at "/" (the mirror root): GET and HEAD, with a strong ETag
// per file, If-None-Match (304) and Range.
func (u *Upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	u.mu.Lock()
	u.requests[p]++
	b, ok := u.files[p]
	u.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(b)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(b))
}

// LargeProducts returns an unsigned products document in the shape of the MAAS images
// stream with the given number of products and versions per product (four items per
// version), for benchmarks: 2,000 x 5 is about the size of a busy real stream.
func LargeProducts(products, versions int) []byte {
	prods := make(map[string]any, products)
	arches := []string{"amd64", "arm64", "ppc64el", "s390x"}
	for i := range products {
		arch := arches[i%len(arches)]
		rel := fmt.Sprintf("r%04d", i/len(arches))
		subarch := "ga-" + rel
		vs := make(map[string]any, versions)
		for v := range versions {
			ver := fmt.Sprintf("2026%04d", v+1)
			dir := rel + "/" + arch + "/" + ver
			items := map[string]any{}
			for _, ft := range []string{"boot-kernel", "boot-initrd", "squashfs", "manifest"} {
				p := dir + "/" + ft
				sum := sha256.Sum256([]byte(p))
				items[ft] = map[string]any{"ftype": ft, "path": p, "sha256": hex.EncodeToString(sum[:]), "size": 1000 + v}
			}
			vs[ver] = map[string]any{"items": items}
		}
		prods[fmt.Sprintf("com.ubuntu.maas.stable:v3:boot:%s:%s:%s", rel, arch, subarch)] = map[string]any{
			"arch": arch, "os": "ubuntu", "release": rel, "version": rel, "subarch": subarch,
			"subarches": "generic," + subarch, "kflavor": "generic", "krel": rel, "label": "stable",
			"versions": vs,
		}
	}
	b, err := marshal(map[string]any{
		"content_id": ImagesID, "datatype": "image-downloads", "format": "products:1.0",
		"updated": updated(0), "products": prods,
	})
	if err != nil {
		panic(err)
	}
	return b
}
