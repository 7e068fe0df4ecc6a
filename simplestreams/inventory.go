package simplestreams

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// Inventory lists the items the tree published at ref (a Mirror's Ref) holds, read from
// the documents it publishes and what its sync recorded: one store.Item per product
// version item with a file in the tree, named "<product>/<item>" (the item key: boot-kernel,
// squashfs, grub2-signed, ...), versioned by the version name. A pristine tree's documents
// list items it does not hold; those are left out. Manifests are "data", every other file
// "operating-system" (kernels, initrds, root images, bootloaders). VouchedBy names the
// strongest checksum the upstream listed, the products document and the key whose
// signature on it verified, and, when the tree is re-signed, the operator's key.
func Inventory(ctx context.Context, s store.Store, ref string) ([]store.Item, error) {
	snap, _, err := store.OpenPublished(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	u, _, err := ReadUpstreamState(snap)
	if err != nil {
		return nil, err
	}
	var st syncState
	if a, ok := snap.Annotations[stateAnnotation]; ok {
		if err := json.Unmarshal([]byte(a), &st); err != nil {
			return nil, fmt.Errorf("simplestreams: annotation %s: %w", stateAnnotation, err)
		}
	}
	signers := map[string]string{} // by document base: the upstream's, .sjson or .json
	for p, d := range st.Docs {
		signers[docBase(p)] = d.Signer
	}
	resigned := ""
	if !u.Pristine {
		if resigned, err = operatorKey(ctx, s, snap); err != nil {
			return nil, err
		}
	}
	// A pristine tree publishes the entry point as read; a re-signed one always as .json.
	index := u.Index
	if index == "" {
		index = DefaultIndex
	}
	if !u.Pristine {
		index = docBase(index) + ".json"
	}
	text, err := publishedDocument(ctx, s, snap, index)
	if err != nil {
		return nil, err
	}
	ix, err := ParseIndex(text)
	if err != nil {
		return nil, &DocumentError{Path: index, Err: err}
	}
	var out []store.Item
	for _, id := range slices.Sorted(maps.Keys(ix.Entries)) {
		e := ix.Entries[id]
		if e.Format != FormatProducts {
			continue
		}
		text, err := publishedDocument(ctx, s, snap, e.Path)
		if err != nil {
			return nil, err
		}
		p, err := ParseProducts(text)
		if err != nil {
			return nil, &DocumentError{Path: e.Path, Err: err}
		}
		signedBy := signers[docBase(e.Path)]
		for _, it := range p.Items() {
			path := it.Path()
			f, held := snap.Lookup(path)
			alg, selected := st.Vouched[itemKey(id, it)]
			if path == "" || !held || (st.Vouched != nil && !selected) {
				continue // a pristine document lists what was not selected (some of it held for another item)
			}
			if alg == "" { // a tree recorded before Vouched: the document's own
				alg = strongest(it.Expect())
			}
			out = append(out, store.Item{
				Type:      itemType(it),
				Name:      it.Product.Name + "/" + it.Item.Name,
				Version:   it.Version.Name,
				Path:      path,
				Digest:    f.Digest,
				Size:      f.Size,
				Upstream:  joinURL(u.URL, path),
				VouchedBy: vouchedBy(alg, id, signedBy, !u.Signed.IsZero(), resigned),
			})
		}
	}
	slices.SortFunc(out, func(a, b store.Item) int {
		return strings.Compare(a.Path+"\x00"+a.Name, b.Path+"\x00"+b.Name)
	})
	return out, nil
}

// publishedDocument returns the JSON text of the document at p of snap: a clearsigned
// one unwrapped (the sync verified it before publishing).
func publishedDocument(ctx context.Context, s store.Store, snap *store.Snapshot, p string) ([]byte, error) {
	f, ok := snap.Lookup(p)
	if !ok {
		return nil, &DocumentError{Path: p, Err: fmt.Errorf("%w: not in the published tree", store.ErrNotFound)}
	}
	b, err := store.ReadBlob(ctx, s, f.Digest, DefaultMaxDocumentSize)
	if err != nil {
		return nil, &DocumentError{Path: p, Err: err}
	}
	text, err := unwrapUnverified(b)
	if err != nil {
		return nil, &DocumentError{Path: p, Err: err}
	}
	return text, nil
}

// operatorKey returns the fingerprint of the key a re-signed tree publishes, "" for an
// unsigned one.
func operatorKey(ctx context.Context, s store.Store, snap *store.Snapshot) (string, error) {
	f, ok := snap.Lookup(PublicKeyPath)
	if !ok {
		return "", nil
	}
	b, err := store.ReadBlob(ctx, s, f.Digest, pgp.MaxKeyringSize)
	if err != nil {
		return "", err
	}
	kr, err := pgp.ReadKeyring(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("simplestreams: %s: %w", PublicKeyPath, err)
	}
	return strings.Join(kr.Fingerprints(), ", "), nil
}

// vouchedBy says what vouched for an item's bytes: a checksum in products document id,
// signed by the upstream's key signer (when verified), re-signed by the operator's key.
func vouchedBy(alg store.Algorithm, id, signer string, verified bool, resigned string) string {
	s := string(alg) + " in products " + id
	switch {
	case signer != "":
		s += ", signed by " + signer + " (upstream)"
	case verified: // a tree recorded before the signers were
		s += ", signed by a key of the upstream keyring"
	default:
		s += " (upstream signature not verified)"
	}
	if resigned != "" {
		s += ", re-signed by " + resigned + " (operator)"
	}
	return s
}

// itemType is the CycloneDX component type of an item's file.
func itemType(it ItemRef) string {
	ftype, _ := it.Get("ftype")
	if strings.HasSuffix(ftype, "manifest") || strings.HasSuffix(it.Item.Name, "manifest") {
		return "data"
	}
	return "operating-system"
}
