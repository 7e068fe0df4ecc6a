package bundle

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/airgapkit/airgap/store"
)

// FormatVersion is the bundle format this package writes and reads.
const FormatVersion = 1

// Tar entry names.
const (
	manifestName  = "manifest.json"
	signatureName = "manifest.json.asc"
	blobDir       = "blobs/sha256/"
)

// maxManifestSize caps the manifest an import will read (a full Ubuntu mirror lists a few
// hundred thousand blobs: tens of MB).
const maxManifestSize = 512 << 20

// RefState is one ref as a bundle publishes it.
type RefState struct {
	// Record is the generation record the ref points at after import.
	Record store.Digest `json:"record"`
	// Snapshot is that generation's snapshot manifest.
	Snapshot store.Digest `json:"snapshot"`
	// Published is when the generation was published on the outside.
	Published time.Time `json:"published"`
}

// Manifest describes a bundle.
type Manifest struct {
	Version int                 `json:"version"`
	Created time.Time           `json:"created"`
	Refs    map[string]RefState `json:"refs"`
	// Blobs are carried in this bundle, in tar order.
	Blobs []store.BlobInfo `json:"blobs"`
	// Requires is every blob the refs need (carried here or by earlier bundles); the next
	// incremental export omits all of them.
	Requires []store.Digest `json:"requires"`
	// Since is the digest of the manifest this bundle is incremental to, if any.
	Since store.Digest `json:"since,omitempty"`
}

func (m *Manifest) validate() error {
	if m.Version != FormatVersion {
		return fmt.Errorf("%w: format version %d, want %d", ErrFormat, m.Version, FormatVersion)
	}
	for name, r := range m.Refs {
		if err := store.ValidatePath(name); err != nil {
			return fmt.Errorf("%w: ref %q: %w", ErrFormat, name, err)
		}
		if r.Record.Validate() != nil || r.Snapshot.Validate() != nil {
			return fmt.Errorf("%w: ref %q: bad digest", ErrFormat, name)
		}
	}
	for _, b := range m.Blobs {
		if b.Digest.Validate() != nil || b.Size < 0 {
			return fmt.Errorf("%w: bad blob entry %q", ErrFormat, b.Digest)
		}
	}
	for _, d := range m.Requires {
		if d.Validate() != nil {
			return fmt.Errorf("%w: bad required digest %q", ErrFormat, d)
		}
	}
	return nil
}

// DecodeManifest parses and validates manifest bytes.
func DecodeManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %w", ErrFormat, err)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// ReadManifestFile loads a manifest written next to a bundle (for --since).
func ReadManifestFile(path string) (*Manifest, store.Digest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	m, err := DecodeManifest(b)
	if err != nil {
		return nil, "", err
	}
	return m, store.DigestOf(b), nil
}
