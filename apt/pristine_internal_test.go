package apt

import (
	"slices"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/store"
)

// FuzzPristineKind: whatever path a Release lists, a pristine mirror of main/amd64 holds
// it only inside main (or a top-level Contents-amd64), never an index of another
// architecture, and reads only Packages (and Sources) indices.
func FuzzPristineKind(f *testing.F) {
	for _, p := range []string{"main/binary-amd64/Packages.xz", "main/binary-arm64/Packages", "contrib/binary-amd64/Packages",
		"main/i18n/Translation-en.bz2", "main/dep11/Components-arm64.yml.gz", "main/dep11/icons-64x64@2.tar.gz",
		"main/cnf/Commands-amd64.xz", "Contents-amd64.gz", "main/Contents-udeb-amd64.gz", "main/source/Sources.xz",
		"main/debian-installer/binary-amd64/Packages.gz", "main/binary-amd64/Packages.diff/Index",
		"main/installer-amd64/current/images/SHA256SUMS", "main/i18n/Index"} {
		f.Add(p)
	}
	rel := &Release{Architectures: []string{"all", "amd64", "arm64"}, Components: []string{"main", "contrib"}}
	confs := []*Mirror{{}, {Sources: true, Contents: true, Installer: true, Translations: []string{"en"}}}
	f.Fuzz(func(t *testing.T, p string) {
		if store.ValidatePath(p) != nil {
			return // ParseRelease refuses it
		}
		for _, m := range confs {
			kind, held := m.pristineKind(rel, []string{"main"}, []string{"amd64"}, p)
			if !held {
				continue
			}
			segs := strings.Split(trimCompression(p), "/")
			if segs[0] != "main" && !(len(segs) == 1 && strings.HasPrefix(segs[0], "Contents-")) {
				t.Fatalf("%s held outside main", p)
			}
			if strings.Contains(p, "binary-arm64") || strings.Contains(p, "-arm64.") || strings.HasSuffix(trimCompression(p), "-arm64") {
				t.Fatalf("%s held for arm64", p)
			}
			if kind != kindVerbatim && !slices.Contains([]string{"Packages", "Sources"}, segs[len(segs)-1]) {
				t.Fatalf("%s read as an index", p)
			}
		}
	})
}
