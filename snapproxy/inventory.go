package snapproxy

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// Inventory lists the snaps that the mirror published under ref holds, one store.Item
// ("application") per snap file, from what the sync recorded: manifest.json (name,
// version, revision, sha3-384), each snap's .assert (the keys its assertions chain to)
// and the trust settings its generation was published under. Items are sorted by file.
//
// Version is the snap's version string; the revision is in Path (NAME_REV.snap).
// Snaps have no purl type of their own (purl-spec issue 355 is open), so PURL is
// pkg:generic/<name>@<version>?checksum=sha3-384:<hex>, the checksum pinning the one
// file (revision and architecture). Upstream is the Store API the snap was resolved at.
// VouchedBy names the snap-revision assertion's sha3-384 and the root key(s) its chain
// was verified to, or says that signatures were not verified (InsecureSkipSignature).
func Inventory(ctx context.Context, s store.Store, ref string) ([]store.Item, error) {
	snap, g, err := store.OpenPublished(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	out, err := outputOf(ctx, s, snap)
	if err != nil {
		return nil, err
	}
	// What the generation's Trust says about the chains (none recorded: published before
	// trust was).
	insecure := g.Trust.Switches()["InsecureSkipSignature"] == "true"
	note := ""
	if g.Trust.IsZero() {
		note = " (whether it was verified is not recorded)"
	}
	var items []store.Item
	for _, ms := range out.Manifest.Snaps {
		f, ok := snap.Lookup(ms.File)
		if !ok {
			return nil, fmt.Errorf("%w: %s in %s but not in the snapshot", ErrMalformed, ms.File, ManifestFile)
		}
		set, err := out.Assertions(ctx, ms)
		if err != nil {
			return nil, fmt.Errorf("snapproxy: inventory %s: %w", ms.Assert, err)
		}
		sha := strings.ToLower(ms.SHA3_384)
		it := store.Item{Type: "application", Name: ms.Name, Version: ms.Version, Path: ms.File, Digest: f.Digest, Size: f.Size,
			Upstream: out.Manifest.StoreURL}
		if insecure {
			it.VouchedBy = "snap-revision assertion (sha3-384 " + sha + "), signatures not verified (insecure_skip_signature)"
		} else {
			it.VouchedBy = "snap-revision assertion (sha3-384 " + sha + ") chained to root key " + strings.Join(chainRoots(set), ", ") + note
		}
		if ms.Version != "" {
			it.PURL = store.PURL("generic", "", ms.Name, ms.Version, map[string]string{"checksum": "sha3-384:" + sha})
		}
		items = append(items, it)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Path < items[j].Path })
	return items, nil
}

// chainRoots returns the keys that sign assertions of set without an account-key in set
// signed by another key: the roots the chain was verified against (snapd's built-in root
// for the public store, which a mirror's .assert leaves out as snap download does).
func chainRoots(set []*Assertion) []string {
	have := map[string]bool{}
	for _, a := range set {
		if id := a.Header("public-key-sha3-384"); a.Type() == "account-key" && id != a.SignKeyID() {
			have[id] = true
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, a := range set {
		if id := a.SignKeyID(); !have[id] && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}
