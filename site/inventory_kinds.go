package site

import (
	"context"
	"net/url"
	"regexp"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// Each kind lists what its published tree holds by the file naming its ecosystem uses, and
// says what vouched for those bytes on the way in.

// published walks the files of a mirror's published snapshot.
func published(ctx context.Context, s store.Store, m Mirror, fn func(p string, f store.File)) error {
	snap, _, err := store.OpenPublished(ctx, s, Ref(m))
	if err != nil {
		return err
	}
	for _, p := range snap.Paths() {
		fn(p, snap.Files[p])
	}
	return nil
}

var debFile = regexp.MustCompile(`^pool/.+/([^/_]+)_([^/_]+)_([^/_]+)\.u?deb$`)

func (m *AptMirror) Inventory(ctx context.Context, s store.Store) ([]store.Item, error) {
	vendor := "debian"
	if strings.Contains(strings.ToLower(m.URL), "ubuntu") {
		vendor = "ubuntu"
	}
	var out []store.Item
	err := published(ctx, s, m, func(p string, f store.File) {
		g := debFile.FindStringSubmatch(p)
		if g == nil {
			return
		}
		name, version, arch := g[1], g[2], g[3]
		out = append(out, store.Item{
			Type: "library", Name: name, Version: version, Digest: f.Digest, Path: p,
			PURL:      "pkg:deb/" + vendor + "/" + name + "@" + url.PathEscape(version) + "?arch=" + arch,
			Upstream:  strings.TrimSuffix(m.URL, "/") + "/" + p,
			VouchedBy: "SHA256 in Packages listed by InRelease, signed by a key of " + m.Keyring,
		})
	})
	return out, err
}
