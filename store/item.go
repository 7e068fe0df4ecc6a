package store

// Item is one thing a published mirror holds, named as its ecosystem names it: a Debian
// package, a container image, a wheel, a collection, a snap, a boot image or a plain
// file. Each protocol package lists its own published tree as Items (its Inventory
// function), from what it recorded while syncing rather than by guessing from paths, so
// that an inventory or status page never needs to know a protocol's layout.
type Item struct {
	// Type is the CycloneDX component type: library, application, container, file,
	// operating-system, data.
	Type    string `json:"type"`
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	// PURL is the package URL (https://github.com/package-url/purl-spec), when the
	// ecosystem has one.
	PURL string `json:"purl,omitempty"`
	// Path is where the item's main file is in the published tree.
	Path   string `json:"path"`
	Digest Digest `json:"digest"`
	Size   int64  `json:"size"`
	// Upstream is the URL the bytes came from, when known.
	Upstream string `json:"upstream,omitempty"`
	// VouchedBy says what vouched for the bytes on the way in (a signed index, a
	// checksum from an index, an assertion chain), or "" when nothing did.
	VouchedBy string `json:"vouched_by,omitempty"`
	// RequestedBy names what asked for the item when another mirror did (the helm
	// charts whose images an oci mirror copies).
	RequestedBy []string `json:"requested_by,omitempty"`
}
