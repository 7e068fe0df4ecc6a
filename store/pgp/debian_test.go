package pgp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDebianInRelease verifies the InRelease files that apt itself fetched (in
// /var/lib/apt/lists) against every keyring of Debian's debian-archive-keyring package.
// These are real archive signatures: several signatures per file (one per archive key
// in rotation), RSA-4096 keys, signing subkeys.
func TestDebianInRelease(t *testing.T) {
	keyrings, _ := filepath.Glob("/usr/share/keyrings/debian-archive-*.gpg")
	var usable, removed []string
	for _, p := range keyrings {
		if strings.Contains(p, "removed-keys") {
			removed = append(removed, p)
		}
		usable = append(usable, p)
	}
	if len(usable) == 0 {
		t.Skip("no /usr/share/keyrings/debian-archive-*.gpg (apt-get install debian-archive-keyring); Debian InRelease test not run")
	}
	files, _ := filepath.Glob("/var/lib/apt/lists/*debian*InRelease")
	if len(files) == 0 {
		t.Skip("no Debian InRelease in /var/lib/apt/lists (run apt-get update); Debian InRelease test not run")
	}
	gpgv := testutil.RequireBinary(t, "gpgv", "gpgv")
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

			// Each archive key alone: a release signed during a rotation verifies with
			// either key, as apt clients with an old or a new keyring need.
			var signers []string
			for _, p := range usable {
				one, err := LoadKeyring(p)
				require.NoError(t, err)
				if _, v, err := one.VerifyClearsigned(msg); err == nil {
					signers = append(signers, filepath.Base(p)+"="+v.Fingerprint)
				}
			}
			t.Logf("verifies with each of: %v", signers)
			assert.NotEmpty(t, signers)

			// gpgv agrees.
			args := []string{"--status-fd", "1"}
			for _, p := range usable {
				args = append(args, "--keyring", p)
			}
			out, _ := testutil.RunErr(t, clientTimeout, []string{"GNUPGHOME=" + t.TempDir()}, gpgv, append(args, f)...)
			assert.Contains(t, out, "[GNUPG:] VALIDSIG")
			assert.Contains(t, out, v.Fingerprint)

			// The keys Debian retired do not verify today's archive.
			if len(removed) > 0 {
				rk, err := LoadKeyrings(removed...)
				require.NoError(t, err)
				_, _, err = rk.VerifyClearsigned(msg)
				assert.ErrorIs(t, err, ErrSignature)
				t.Logf("with the removed keys only: %v", err)
			}
		})
	}
}
