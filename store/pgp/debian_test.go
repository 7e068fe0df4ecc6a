package pgp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDebianInRelease verifies the InRelease files that apt itself fetched (in
// /var/lib/apt/lists) against every keyring of Debian's debian-archive-keyring package.
// These are real archive signatures: several signatures per file (one per archive key
// in rotation), RSA-4096 keys, signing subkeys.
func TestDebianInRelease(t *testing.T) {
	keyrings, _ := filepath.Glob("/usr/share/keyrings/debian-archive-*.gpg")
	var usable []string
	for _, p := range keyrings {
		if !strings.Contains(p, "removed-keys") {
			usable = append(usable, p)
		}
	}
	if len(usable) == 0 {
		t.Skip("no /usr/share/keyrings/debian-archive-*.gpg (apt-get install debian-archive-keyring); Debian InRelease test not run")
	}
	files, _ := filepath.Glob("/var/lib/apt/lists/*debian*InRelease")
	if len(files) == 0 {
		t.Skip("no Debian InRelease in /var/lib/apt/lists (run apt-get update); Debian InRelease test not run")
	}
	k, err := LoadKeyrings(usable...)
	require.NoError(t, err)
	t.Logf("%d keys from %d keyrings", k.Len(), len(usable))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			msg, err := os.ReadFile(f)
			require.NoError(t, err)
			content, v, err := k.VerifyClearsigned(msg)
			require.NoError(t, err)
			assert.Contains(t, string(content), "Origin: Debian")
			assert.NotContains(t, string(content), "-----BEGIN PGP")
			assert.Contains(t, k.Fingerprints(), v.Fingerprint)
			t.Logf("signed by %s (key %s) at %s", v.Fingerprint, v.SigningKey, v.Created)

			// One byte changed in the signed text breaks it.
			i := strings.Index(string(msg), "Origin: Debian")
			require.Positive(t, i)
			bad := append([]byte{}, msg...)
			bad[i+8] = 'd'
			_, _, err = k.VerifyClearsigned(bad)
			assert.ErrorIs(t, err, ErrSignature)
		})
	}
}
