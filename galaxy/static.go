package galaxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/airgapkit/airgap/store"
)

// DefaultIndexName is the file a plain web server answers for a directory URL.
const DefaultIndexName = "index.html"

// StaticOptions configure WriteStatic.
type StaticOptions struct {
	// ExternalURL is the public URL the tree will be served under (download_url values
	// must be absolute). Required.
	ExternalURL string
	// IndexName is the directory index file name of the web server (default
	// DefaultIndexName).
	IndexName string
}

// WriteStatic writes the collection part of the snapshot that ref publishes as a tree of
// plain files under dir, for a web server that serves "<dir>/x/" from "<dir>/x/<index>":
// api/, api/v3/collections/{ns}/{name}/, .../versions/ (every version on one page, since
// a static server ignores ?limit= and ?offset=), .../versions/{v}/ and download/. Roles are
// not written: their lookup needs query strings, which only NewHandler answers.
// ansible-galaxy then installs with -s <ExternalURL>/api/.
func WriteStatic(ctx context.Context, s store.Store, ref, dir string, opts StaticOptions) error {
	if opts.ExternalURL == "" {
		return errors.New("galaxy: WriteStatic needs an ExternalURL")
	}
	if _, err := url.Parse(opts.ExternalURL); err != nil {
		return fmt.Errorf("galaxy: external URL: %w", err)
	}
	index := opts.IndexName
	if index == "" {
		index = DefaultIndexName
	}
	snap, _, err := store.OpenPublished(ctx, s, ref)
	if err != nil {
		return err
	}
	ix, err := loadIndex(ctx, s, snap)
	if err != nil {
		return err
	}
	h := NewHandler(s, ref, WithExternalURL(opts.ExternalURL)).(*handler)
	h.maxPage = 1 << 30
	writeDoc := func(rel string, v any) error {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		return writeFile(filepath.Join(dir, filepath.FromSlash(rel), index), &buf)
	}
	if err := writeDoc("api", map[string]any{"available_versions": map[string]string{"v3": "v3/"}}); err != nil {
		return err
	}
	for _, rec := range ix.collections {
		base := "api/v3/collections/" + rec.Namespace + "/" + rec.Name
		if err := writeDoc(base, h.collectionSummary(rec)); err != nil {
			return err
		}
		data := []any{}
		for _, v := range rec.Versions {
			data = append(data, map[string]any{"version": v.Version, "href": h.collectionHref(rec) + "versions/" + v.Version + "/"})
		}
		if err := writeDoc(base+"/versions", map[string]any{"meta": map[string]int{"count": len(data)},
			"links": map[string]any{"next": nil, "previous": nil}, "data": data}); err != nil {
			return err
		}
		for _, cv := range rec.Versions {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := writeDoc(base+"/versions/"+cv.Version, h.versionDetail(nil, rec, cv)); err != nil {
				return err
			}
			f, ok := snap.Lookup(artifactsDir + cv.Filename)
			if !ok {
				return fmt.Errorf("galaxy: %s: %w", cv.Filename, store.ErrNotFound)
			}
			if err := copyBlob(ctx, s, f, filepath.Join(dir, "download", cv.Filename)); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeFile(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func copyBlob(ctx context.Context, s store.Store, f store.File, path string) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() == f.Size {
		return nil // artifacts never change under the same name and size
	}
	b, err := s.Open(ctx, f.Digest)
	if err != nil {
		return err
	}
	defer b.Close()
	return writeFile(path, b)
}
