package wheel

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/airgapkit/airgap/pypi/pep508"
)

// ErrNoMetadata is returned when an archive holds no core metadata file.
var ErrNoMetadata = errors.New("wheel: no core metadata in archive")

// MaxMetadataSize caps the core metadata file read from an archive.
const MaxMetadataSize = 16 << 20

// ReadMetadata returns the METADATA file of the wheel in r (size bytes), found through
// the zip central directory: "{name}-{version}.dist-info/METADATA" at the top level. When
// project is not empty, a dist-info directory whose name normalises to it is preferred.
func ReadMetadata(r io.ReaderAt, size int64, project string) ([]byte, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("wheel: read zip: %w", err)
	}
	var found *zip.File
	for _, f := range zr.File {
		dir, base := path.Split(f.Name)
		if base != "METADATA" || !strings.HasSuffix(dir, ".dist-info/") || strings.Count(dir, "/") != 1 {
			continue
		}
		distName, _, _ := strings.Cut(strings.TrimSuffix(dir, ".dist-info/"), "-")
		if found == nil || (project != "" && pep508.NormalizeName(distName) == project) {
			found = f
		}
	}
	if found == nil {
		return nil, ErrNoMetadata
	}
	if found.UncompressedSize64 > MaxMetadataSize {
		return nil, fmt.Errorf("wheel: %s is %d bytes, over %d", found.Name, found.UncompressedSize64, MaxMetadataSize)
	}
	rc, err := found.Open()
	if err != nil {
		return nil, fmt.Errorf("wheel: open %s: %w", found.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxMetadataSize+1))
	if err != nil {
		return nil, fmt.Errorf("wheel: read %s: %w", found.Name, err)
	}
	if len(b) > MaxMetadataSize {
		return nil, fmt.Errorf("wheel: %s over %d bytes", found.Name, MaxMetadataSize)
	}
	return b, nil
}

// ReadSdistMetadata returns the top-level PKG-INFO of a .tar.gz source distribution. Its
// dependency fields are only trustworthy from Metadata-Version 2.2 on, when they are not
// listed as Dynamic.
func ReadSdistMetadata(r io.Reader) ([]byte, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("wheel: sdist: %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, ErrNoMetadata
		}
		if err != nil {
			return nil, fmt.Errorf("wheel: sdist: %w", err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		if dir, base := path.Split(name); base == "PKG-INFO" && strings.Count(dir, "/") == 1 {
			if h.Size > MaxMetadataSize {
				return nil, fmt.Errorf("wheel: sdist PKG-INFO is %d bytes, over %d", h.Size, MaxMetadataSize)
			}
			return io.ReadAll(io.LimitReader(tr, MaxMetadataSize))
		}
	}
}

// sdistSuffixes are the source distribution archive extensions indexes carry.
var sdistSuffixes = []string{".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar"}

// IsSdist reports whether filename has a source distribution extension.
func IsSdist(filename string) bool {
	_, ok := cutSdistSuffix(filename)
	return ok
}

func cutSdistSuffix(filename string) (string, bool) {
	lower := strings.ToLower(filename)
	for _, s := range sdistSuffixes {
		if strings.HasSuffix(lower, s) {
			return filename[:len(filename)-len(s)], true
		}
	}
	return "", false
}

// SdistVersion returns the version part of a source distribution file name of project
// (normalised name): "Foo_Bar-1.0.tar.gz" gives "1.0" for "foo-bar".
func SdistVersion(filename, project string) (string, error) {
	stem, ok := cutSdistSuffix(filename)
	if !ok {
		return "", fmt.Errorf("%w: %q is not a source distribution", ErrFilename, filename)
	}
	for i := len(stem) - 1; i > 0; i-- {
		if stem[i] == '-' && pep508.NormalizeName(stem[:i]) == project && i+1 < len(stem) {
			return stem[i+1:], nil
		}
	}
	return "", fmt.Errorf("%w: %q is not named after %s", ErrFilename, filename, project)
}
