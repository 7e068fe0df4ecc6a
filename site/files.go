package site

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// FilesMirror is the generic kind (`files:`): arbitrary URLs (http(s), s3::, git::, file
// paths) fetched, verified against the checksum each URL carries (go-getter's
// ?checksum=sha256:...) and published under files/<name>/<basename>.
type FilesMirror struct {
	FileSet `yaml:",inline"`
}

// FileSet is what a files mirror is configured with.
type FileSet struct {
	Name string   `yaml:"name"`
	URLs []string `yaml:"urls"`
	// Insecure allows URLs without ?checksum=: their bytes are published as fetched,
	// vouched for by nothing, and every later sync republishes whatever the URL returns.
	// Status and the inventory say so.
	Insecure bool `yaml:"insecure"`
}

// checksumSource annotates a published file with the URL it came from.
const checksumSource = "source:"

func (m *FilesMirror) Kind() string { return "files" }
func (m *FilesMirror) Name() string { return m.FileSet.Name }

func (m *FilesMirror) Validate() error {
	if len(m.URLs) == 0 {
		return errors.New("urls: at least one URL is required")
	}
	seen := map[string]string{}
	for _, u := range m.URLs {
		name := baseName(u)
		if err := store.ValidatePath(name); err != nil {
			return fmt.Errorf("urls: %q has no usable file name", u)
		}
		if other, dup := seen[name]; dup {
			return fmt.Errorf("urls: %q and %q both publish %s", other, u, name)
		}
		seen[name] = u
		if checksumOf(u) == "" && !m.Insecure {
			return fmt.Errorf("urls: %q has no ?checksum=: nothing would vouch for its bytes (add ?checksum=sha256:<hex>, or insecure: true)", u)
		}
	}
	return nil
}

func (m *FilesMirror) Endpoints() []string { return m.URLs }

// baseName is the file name an URL publishes under: the last path element, without the
// go-getter forcing prefix ("s3::") or query (which carries ?checksum=).
func baseName(raw string) string {
	raw = stripForcedGetter(raw)
	if u, err := url.Parse(raw); err == nil && u.Path != "" {
		return path.Base(u.Path)
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	return path.Base(raw)
}

// checksumOf returns the ?checksum= an URL carries ("" when none).
func checksumOf(raw string) string {
	raw = stripForcedGetter(raw)
	i := strings.IndexByte(raw, '?')
	if i < 0 {
		return ""
	}
	q, err := url.ParseQuery(raw[i+1:])
	if err != nil {
		return ""
	}
	return q.Get("checksum")
}

func stripForcedGetter(raw string) string {
	if i := strings.Index(raw, "::"); i >= 0 {
		return raw[i+2:]
	}
	return raw
}

// Sync fetches every URL and publishes the files; an unchanged set publishes nothing.
func (m *FilesMirror) Sync(ctx context.Context, env *Env) (Result, error) {
	res := store.SyncResult{Ref: Ref(m)}
	if m.Insecure {
		env.Logger.Warn("files mirror without checksums: bytes are published as fetched", "mirror", res.Ref)
	}
	gen, changed, err := store.Update(ctx, env.Store, res.Ref, store.TrustOf(m.FileSet), func(store.Prev) (*store.Snapshot, error) {
		snap := store.NewSnapshot()
		for _, u := range m.URLs {
			f, err := env.Fetch.Fetch(ctx, fetch.Request{URL: u, Generic: true})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", u, err)
			}
			if err := snap.Add(baseName(u), store.File{Digest: f.Blob.Digest, Size: f.Blob.Size}); err != nil {
				return nil, err
			}
			snap.Annotations[checksumSource+baseName(u)] = u
			if f.FinalURL == "" { // a ?checksum= the store already holds
				res.Reused++
			} else {
				res.Downloaded++
				res.DownloadedBytes += f.Blob.Size
			}
		}
		return snap, nil
	})
	if err != nil {
		return Result{}, err
	}
	res.Generation, res.Changed = gen, changed
	return Result{SyncResult: res, Summary: summary(res, fmt.Sprintf("%d files", len(m.URLs)))}, nil
}

func (m *FilesMirror) Handler(env *Env, prefix string) http.Handler {
	return store.NewHandler(env.Store, Ref(m))
}

// Inventory lists the published files, each with the URL it came from and the checksum
// that vouched for it.
func (m *FilesMirror) Inventory(ctx context.Context, s store.Store) ([]store.Item, error) {
	snap, _, err := store.OpenPublished(ctx, s, Ref(m))
	if err != nil {
		return nil, err
	}
	out := make([]store.Item, 0, len(snap.Files))
	for _, p := range snap.Paths() {
		f := snap.Files[p]
		src := snap.Annotations[checksumSource+p]
		it := store.Item{Type: "file", Name: p, Path: p, Digest: f.Digest, Size: f.Size, Upstream: src}
		if c := checksumOf(src); c != "" {
			it.VouchedBy = "checksum " + c + " in the config"
		}
		out = append(out, it)
	}
	return out, nil
}
