package galaxy

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// ErrBadArtifact: a collection artifact is not what its version detail describes (another
// collection or version inside, FILES.json not matching MANIFEST.json, a file not matching
// FILES.json, not a tar.gz at all).
var ErrBadArtifact = fmt.Errorf("galaxy: bad collection artifact%.0w", store.ErrMalformed)

// Caps on what artifact checking reads.
const (
	maxManifestSize  = 1 << 20
	maxFilesJSONSize = 32 << 20
	maxArtifactFiles = 100000
)

// CheckArtifact reads a collection artifact and checks it the way ansible-galaxy does
// before installing: MANIFEST.json names namespace.name:version, FILES.json hashes to the
// checksum MANIFEST.json gives, and every file FILES.json lists is present with its sha256.
func CheckArtifact(r io.Reader, namespace, name, version string) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadArtifact, err)
	}
	tr := tar.NewReader(gz)
	var manifest, files []byte
	sums := map[string]string{}
	for n := 0; ; n++ {
		if n > maxArtifactFiles {
			return fmt.Errorf("%w: more than %d members", ErrBadArtifact, maxArtifactFiles)
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadArtifact, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		p := strings.TrimPrefix(h.Name, "./")
		switch p {
		case "MANIFEST.json":
			if manifest, err = readCapped(tr, maxManifestSize); err != nil {
				return err
			}
			continue
		case "FILES.json":
			if files, err = readCapped(tr, maxFilesJSONSize); err != nil {
				return err
			}
			continue
		}
		sh := sha256.New()
		if _, err := io.Copy(sh, tr); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrBadArtifact, p, err)
		}
		sums[p] = hex.EncodeToString(sh.Sum(nil))
	}
	if manifest == nil || files == nil {
		return fmt.Errorf("%w: MANIFEST.json or FILES.json missing", ErrBadArtifact)
	}
	var m struct {
		Info struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
			Version   string `json:"version"`
		} `json:"collection_info"`
		FilesFile struct {
			Name   string `json:"name"`
			SHA256 string `json:"chksum_sha256"`
		} `json:"file_manifest_file"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return fmt.Errorf("%w: MANIFEST.json: %w", ErrBadArtifact, err)
	}
	if m.Info.Namespace != namespace || m.Info.Name != name || m.Info.Version != version {
		return fmt.Errorf("%w: holds %s.%s:%s, not %s.%s:%s", ErrBadArtifact, m.Info.Namespace, m.Info.Name, m.Info.Version, namespace, name, version)
	}
	fs := sha256.Sum256(files)
	if !strings.EqualFold(m.FilesFile.SHA256, hex.EncodeToString(fs[:])) {
		return fmt.Errorf("%w: FILES.json does not match the checksum in MANIFEST.json", ErrBadArtifact)
	}
	var list struct {
		Files []struct {
			Name   string  `json:"name"`
			Ftype  string  `json:"ftype"`
			SHA256 *string `json:"chksum_sha256"`
		} `json:"files"`
	}
	if err := json.Unmarshal(files, &list); err != nil {
		return fmt.Errorf("%w: FILES.json: %w", ErrBadArtifact, err)
	}
	for _, f := range list.Files {
		if f.Ftype != "file" {
			continue
		}
		got, ok := sums[f.Name]
		if !ok {
			return fmt.Errorf("%w: %s is listed in FILES.json but missing", ErrBadArtifact, f.Name)
		}
		if f.SHA256 == nil || !strings.EqualFold(*f.SHA256, got) {
			return fmt.Errorf("%w: %s does not match its sha256 in FILES.json", ErrBadArtifact, f.Name)
		}
	}
	return nil
}

func readCapped(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadArtifact, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: member over %d bytes", ErrBadArtifact, limit)
	}
	return b, nil
}

// checkStoredArtifact runs CheckArtifact on a stored blob.
func checkStoredArtifact(ctx context.Context, s store.Store, d store.Digest, cv *CollectionVersion) error {
	b, err := s.Open(ctx, d)
	if err != nil {
		return err
	}
	defer b.Close()
	if err := CheckArtifact(store.ContextReader(ctx, b), cv.Namespace, cv.Name, cv.Version); err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // cancelled, not a bad artifact
		}
		return fmt.Errorf("%s: %w", cv.ID(), err)
	}
	return nil
}
