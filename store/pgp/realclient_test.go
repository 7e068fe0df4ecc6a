package pgp

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const clientTimeout = 2 * time.Minute

// requireSqv returns the path of sqv. Debian ships sqv from bookworm on; on a system
// whose apt has no candidate for it the test is skipped even under CI (nothing to
// install), otherwise a missing sqv is a skip, or a failure under CI.
func requireSqv(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("sqv"); err == nil {
		return p
	}
	if out, err := exec.Command("apt-cache", "policy", "sqv").Output(); err != nil ||
		!strings.Contains(string(out), "Candidate:") || strings.Contains(string(out), "Candidate: (none)") {
		t.Skip("sqv not installed and apt has no candidate for it on this system; sqv test not run")
	}
	return testutil.RequireBinary(t, "sqv", "sqv")
}

// writeFile writes data into dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// splitClearsigned splits a clearsigned message into the signed text (without the
// line ending that belongs to the framing) and the armored signature, as apt does
// before handing an InRelease file to sqv.
func splitClearsigned(t *testing.T, msg []byte) (text, sig []byte) {
	t.Helper()
	i := bytes.Index(msg, []byte("\n\n"))
	j := bytes.Index(msg, []byte("\n-----BEGIN PGP SIGNATURE-----"))
	require.True(t, i > 0 && j > i, "clearsigned layout")
	var lines [][]byte
	for _, l := range bytes.Split(msg[i+2:j], []byte("\n")) {
		lines = append(lines, bytes.TrimPrefix(l, []byte("- ")))
	}
	return bytes.Join(lines, []byte("\n")), msg[j+1:]
}

// TestGpgvAcceptsOurSignatures: Debian's gpgv (what apt on bookworm runs) accepts our
// clearsigned InRelease and detached Release.gpg (armored and binary) with the binary
// public key as keyring, for an Ed25519 and an RSA-4096 key.
func TestGpgvAcceptsOurSignatures(t *testing.T) {
	gpgv := testutil.RequireBinary(t, "gpgv", "gpgv")
	for name, s := range signers(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"GNUPGHOME=" + dir, "LC_ALL=C"}
			pub, err := s.PublicKey(false)
			require.NoError(t, err)
			keyring := writeFile(t, dir, "key.gpg", pub)

			inrelease, err := s.Clearsign([]byte(release))
			require.NoError(t, err)
			f := writeFile(t, dir, "InRelease", inrelease)
			out := testutil.Run(t, clientTimeout, env, gpgv, "--status-fd", "1", "--keyring", keyring, f)
			assert.Contains(t, out, "[GNUPG:] GOODSIG")
			assert.Contains(t, out, "[GNUPG:] VALIDSIG")
			assert.Contains(t, out, s.Fingerprint())

			rel := writeFile(t, dir, "Release", []byte(release))
			for _, armored := range []bool{true, false} {
				sig, err := s.DetachSign(strings.NewReader(release), armored)
				require.NoError(t, err)
				sf := writeFile(t, dir, "Release.gpg", sig)
				out := testutil.Run(t, clientTimeout, env, gpgv, "--status-fd", "1", "--keyring", keyring, sf, rel)
				assert.Contains(t, out, "[GNUPG:] GOODSIG")
				assert.Contains(t, out, s.Fingerprint())
			}

			// And gpgv refuses a tampered file (the test would prove nothing otherwise).
			bad := writeFile(t, dir, "Release.bad", []byte(release+"Evil: yes\n"))
			sig, err := s.DetachSign(strings.NewReader(release), false)
			require.NoError(t, err)
			sf := writeFile(t, dir, "Release.gpg", sig)
			_, err = testutil.RunErr(t, clientTimeout, env, gpgv, "--keyring", keyring, sf, bad)
			assert.Error(t, err)

			// gpgv cannot use the armored export as --keyring (why PublicKey(false),
			// binary, is what apt's signed-by files and MAAS keyring_data get); our
			// ReadKeyring takes both.
			asc, err := s.PublicKey(true)
			require.NoError(t, err)
			_, err = testutil.RunErr(t, clientTimeout, env, gpgv, "--keyring", writeFile(t, dir, "key.asc", asc), f)
			assert.Error(t, err, "gpgv 2.2 is expected to refuse an armored keyring")
			_, err = ReadKeyring(bytes.NewReader(asc))
			require.NoError(t, err)
		})
	}
}

// TestSqvAcceptsOurSignatures: Sequoia's sqv (what apt >= 2.9.19 runs) accepts our
// signatures. sqv checks detached signatures only; for InRelease apt splits the
// clearsigned file first, and so does this test.
func TestSqvAcceptsOurSignatures(t *testing.T) {
	sqv := requireSqv(t)
	for name, s := range signers(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			pub, err := s.PublicKey(false)
			require.NoError(t, err)
			asc, err := s.PublicKey(true)
			require.NoError(t, err)
			for kname, key := range map[string][]byte{"key.gpg": pub, "key.asc": asc} {
				keyring := writeFile(t, dir, kname, key)
				rel := writeFile(t, dir, "Release", []byte(release))
				for _, armored := range []bool{true, false} {
					sig, err := s.DetachSign(strings.NewReader(release), armored)
					require.NoError(t, err)
					sf := writeFile(t, dir, "Release.gpg", sig)
					out := testutil.Run(t, clientTimeout, nil, sqv, "--keyring", keyring, sf, rel)
					assert.Contains(t, out, s.Fingerprint())
				}

				inrelease, err := s.Clearsign([]byte(release))
				require.NoError(t, err)
				text, sig := splitClearsigned(t, inrelease)
				tf := writeFile(t, dir, "InRelease.text", text)
				sf := writeFile(t, dir, "InRelease.sig", sig)
				out := testutil.Run(t, clientTimeout, nil, sqv, "--keyring", keyring, sf, tf)
				assert.Contains(t, out, s.Fingerprint())

				bad := writeFile(t, dir, "InRelease.bad", bytes.Replace(text, []byte("stable"), []byte("stabl3"), 1))
				_, err = testutil.RunErr(t, clientTimeout, nil, sqv, "--keyring", keyring, sf, bad)
				assert.Error(t, err, "sqv must refuse tampered text")
			}
		})
	}
}

// gnupg is a throw-away GnuPG home with one generated key.
type gnupg struct {
	t   *testing.T
	gpg string
	env []string
	dir string
	n   int
}

func newGnupg(t *testing.T) *gnupg {
	gpg := testutil.RequireBinary(t, "gpg", "gnupg")
	dir, err := os.MkdirTemp("", "gpg") // short path: gpg-agent's socket path is limited
	require.NoError(t, err)
	g := &gnupg{t: t, gpg: gpg, env: []string{"GNUPGHOME=" + dir, "LC_ALL=C"}, dir: dir}
	t.Cleanup(func() {
		_, _ = testutil.RunErr(t, clientTimeout, g.env, "gpgconf", "--kill", "all")
		_ = os.RemoveAll(dir)
	})
	require.NoError(t, os.Chmod(dir, 0o700))
	return g
}

func (g *gnupg) run(args ...string) string {
	g.t.Helper()
	return testutil.Run(g.t, clientTimeout, g.env, g.gpg, append([]string{"--batch", "--pinentry-mode", "loopback"}, args...)...)
}

func (g *gnupg) runErr(args ...string) (string, error) {
	g.t.Helper()
	return testutil.RunErr(g.t, clientTimeout, g.env, g.gpg, append([]string{"--batch", "--pinentry-mode", "loopback"}, args...)...)
}

// file writes data into the GnuPG temp dir and returns the path.
func (g *gnupg) file(name string, data []byte) string { return writeFile(g.t, g.dir, name, data) }

// out runs gpg with --output into the temp dir and returns what it wrote there (the
// test helpers return stdout and stderr together, and gpg warns on stderr).
func (g *gnupg) out(args ...string) []byte {
	g.t.Helper()
	name := fmt.Sprintf("out-%d", g.n)
	g.n++
	g.run(append([]string{"--yes", "--output", filepath.Join(g.dir, name)}, args...)...)
	return g.read(name)
}

func (g *gnupg) read(name string) []byte {
	data, err := os.ReadFile(filepath.Join(g.dir, name))
	require.NoError(g.t, err)
	return data
}

// TestWeVerifyGpgSignatures: what real gpg signs, Verify accepts; gpg's SHA-1
// signatures are refused with ErrWeakSignature; gpg's two-key signatures verify with
// either key.
func TestWeVerifyGpgSignatures(t *testing.T) {
	g := newGnupg(t)
	g.run("--passphrase", "", "--quick-gen-key", "GPG Ed <ed@example.test>", "ed25519", "sign", "never")
	g.run("--passphrase", "", "--quick-gen-key", "GPG RSA <rsa@example.test>", "rsa3072", "sign", "never")
	edPub := g.out("--export", "ed@example.test")
	rsaPub := g.out("--armor", "--export", "rsa@example.test")
	edK, err := ReadKeyring(bytes.NewReader(edPub))
	require.NoError(t, err)
	rsaK, err := ReadKeyring(bytes.NewReader(rsaPub))
	require.NoError(t, err)
	both := MergeKeyrings(edK, rsaK)
	rel := g.file("Release", []byte(release))

	for _, u := range []string{"ed@example.test", "rsa@example.test"} {
		k := edK
		if strings.HasPrefix(u, "rsa") {
			k = rsaK
		}
		t.Run(u, func(t *testing.T) {
			g.run("--yes", "--local-user", u, "--output", g.dir+"/InRelease", "--clearsign", rel)
			content, v, err := k.VerifyClearsigned(g.read("InRelease"))
			require.NoError(t, err)
			assert.Equal(t, release, string(content))
			assert.Equal(t, k.Fingerprints()[0], v.Fingerprint)

			g.run("--yes", "--local-user", u, "--output", g.dir+"/Release.gpg", "--detach-sign", rel)
			_, err = k.VerifyDetached(strings.NewReader(release), g.read("Release.gpg"))
			require.NoError(t, err)
			g.run("--yes", "--local-user", u, "--armor", "--output", g.dir+"/Release.asc", "--detach-sign", rel)
			_, err = k.VerifyDetached(strings.NewReader(release), g.read("Release.asc"))
			require.NoError(t, err)

			g.run("--yes", "--local-user", u, "--digest-algo", "SHA1", "--output", g.dir+"/InRelease.sha1", "--clearsign", rel)
			_, _, err = k.VerifyClearsigned(g.read("InRelease.sha1"))
			assert.ErrorIs(t, err, ErrWeakSignature)
			g.run("--yes", "--local-user", u, "--digest-algo", "SHA1", "--output", g.dir+"/Release.sha1", "--detach-sign", rel)
			_, err = k.VerifyDetached(strings.NewReader(release), g.read("Release.sha1"))
			assert.ErrorIs(t, err, ErrWeakSignature)

			// Not our key.
			other := testOther(t).Keyring()
			_, _, err = other.VerifyClearsigned(g.read("InRelease"))
			assert.ErrorIs(t, err, ErrUnknownKey)
		})
	}

	t.Run("two signatures", func(t *testing.T) {
		g.run("--yes", "--local-user", "ed@example.test", "--local-user", "rsa@example.test",
			"--output", g.dir+"/InRelease.2", "--clearsign", rel)
		msg := g.read("InRelease.2")
		for _, k := range []*Keyring{edK, rsaK, both} {
			content, v, err := k.VerifyClearsigned(msg)
			require.NoError(t, err)
			assert.Equal(t, release, string(content))
			assert.Contains(t, k.Fingerprints(), v.Fingerprint)
		}
		_, _, err := testOther(t).Keyring().VerifyClearsigned(msg)
		assert.ErrorIs(t, err, ErrUnknownKey)
	})
}

// TestGpgAndOurKeysInterchange: a passphrase-protected key exported by gpg signs with
// ReadSigner (and gpgv accepts the result), and gpg imports our ArmoredPrivateKey.
func TestGpgAndOurKeysInterchange(t *testing.T) {
	g := newGnupg(t)
	gpgv := testutil.RequireBinary(t, "gpgv", "gpgv")
	g.run("--passphrase", "s3cret", "--quick-gen-key", "Operator <op@example.test>", "ed25519", "sign", "never")
	priv := g.out("--passphrase", "s3cret", "--armor", "--export-secret-keys", "op@example.test")

	_, err := ReadSigner(bytes.NewReader(priv), nil)
	assert.ErrorIs(t, err, ErrPassphrase)
	_, err = ReadSigner(bytes.NewReader(priv), []byte("wrong"))
	assert.ErrorIs(t, err, ErrPassphrase)
	s, err := LoadSigner(g.file("op.asc", priv), []byte("s3cret"))
	require.NoError(t, err)

	msg, err := s.Clearsign([]byte(release))
	require.NoError(t, err)
	keyring := g.file("op.gpg", g.out("--export", "op@example.test"))
	out := testutil.Run(t, clientTimeout, g.env, gpgv, "--status-fd", "1", "--keyring", keyring, g.file("InRelease", msg))
	assert.Contains(t, out, "VALIDSIG")
	assert.Contains(t, out, s.Fingerprint())

	ours, err := testEd25519(t).ArmoredPrivateKey()
	require.NoError(t, err)
	g.run("--import", g.file("ours.asc", ours))
	out = g.run("--list-secret-keys", "--with-colons", testEd25519(t).Fingerprint())
	assert.Contains(t, out, testEd25519(t).Fingerprint())
}

// TestRealClientsAcceptRotationSignatures: a message signed by the old and the new key
// (ClearsignMulti, DetachSignMulti) is accepted by gpgv and sqv holding either key
// alone, and by our Verify.
func TestRealClientsAcceptRotationSignatures(t *testing.T) {
	gpgv := testutil.RequireBinary(t, "gpgv", "gpgv")
	sqv := requireSqv(t)
	oldKey, newKey := testRSA(t), testEd25519(t)
	inrelease, err := ClearsignMulti([]byte(release), oldKey, newKey)
	require.NoError(t, err)
	sig, err := DetachSignMulti(strings.NewReader(release), true, oldKey, newKey)
	require.NoError(t, err)

	dir := t.TempDir()
	env := []string{"GNUPGHOME=" + dir, "LC_ALL=C"}
	inf := writeFile(t, dir, "InRelease", inrelease)
	rel := writeFile(t, dir, "Release", []byte(release))
	sigf := writeFile(t, dir, "Release.gpg", sig)
	text, csig := splitClearsigned(t, inrelease)
	textf := writeFile(t, dir, "InRelease.text", text)
	csigf := writeFile(t, dir, "InRelease.sig", csig)
	for _, s := range []*Signer{oldKey, newKey} {
		pub, err := s.PublicKey(false)
		require.NoError(t, err)
		keyring := writeFile(t, dir, s.Fingerprint()+".gpg", pub)

		// gpgv exits non-zero when one signature's key is missing (NO_PUBKEY); apt
		// reads the status lines and accepts a VALIDSIG by a trusted key, so do we.
		for _, args := range [][]string{{inf}, {sigf, rel}} {
			out, _ := testutil.RunErr(t, clientTimeout, env, gpgv, append([]string{"--status-fd", "1", "--keyring", keyring}, args...)...)
			assert.Contains(t, out, "[GNUPG:] VALIDSIG "+s.Fingerprint())
			assert.NotContains(t, out, "BADSIG")
		}
		out := testutil.Run(t, clientTimeout, nil, sqv, "--keyring", keyring, sigf, rel)
		assert.Contains(t, out, s.Fingerprint())
		out = testutil.Run(t, clientTimeout, nil, sqv, "--keyring", keyring, csigf, textf)
		assert.Contains(t, out, s.Fingerprint())

		content, v, err := s.Keyring().VerifyClearsigned(inrelease)
		require.NoError(t, err)
		assert.Equal(t, release, string(content))
		assert.Equal(t, s.Fingerprint(), v.Fingerprint)
		v, err = s.Keyring().VerifyDetached(strings.NewReader(release), sig)
		require.NoError(t, err)
		assert.Equal(t, s.Fingerprint(), v.Fingerprint)
	}

	// With both keys gpgv is fully satisfied (exit 0) and sqv finds two good signatures.
	both, err := MergeKeyrings(oldKey.Keyring(), newKey.Keyring()).Export(false)
	require.NoError(t, err)
	bothf := writeFile(t, dir, "both.gpg", both)
	testutil.Run(t, clientTimeout, env, gpgv, "--keyring", bothf, inf)
	testutil.Run(t, clientTimeout, env, gpgv, "--keyring", bothf, sigf, rel)
	testutil.Run(t, clientTimeout, nil, sqv, "--signatures", "2", "--keyring", bothf, sigf, rel)
	testutil.Run(t, clientTimeout, nil, sqv, "--signatures", "2", "--keyring", bothf, csigf, textf)
}

// TestGpgRevokedAndExpiredKeys: keys that GnuPG itself revoked or let expire are
// refused with the right sentinel.
func TestGpgRevokedAndExpiredKeys(t *testing.T) {
	g := newGnupg(t)
	rel := g.file("Release", []byte(release))

	// Revoked: sign, then import the revocation certificate gpg wrote at key creation.
	g.run("--passphrase", "", "--quick-gen-key", "Revoked <revoked@example.test>", "ed25519", "sign", "never")
	g.run("--yes", "--output", g.dir+"/InRelease.rev", "--local-user", "revoked@example.test", "--clearsign", rel)
	msg := g.read("InRelease.rev")
	keyring, err := ReadKeyring(bytes.NewReader(g.out("--export", "revoked@example.test")))
	require.NoError(t, err)
	_, _, err = keyring.VerifyClearsigned(msg)
	require.NoError(t, err, "valid before the revocation")
	fpr := keyring.Fingerprints()[0]
	rev, err := os.ReadFile(filepath.Join(g.dir, "openpgp-revocs.d", fpr+".rev"))
	require.NoError(t, err)
	// gpg guards the stored certificate against accidental import with a leading colon.
	rev = bytes.Replace(rev, []byte(":-----BEGIN PGP PUBLIC KEY BLOCK-----"), []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----"), 1)
	g.run("--import", g.file("rev.asc", rev))
	keyring, err = ReadKeyring(bytes.NewReader(g.out("--export", "revoked@example.test")))
	require.NoError(t, err)
	_, _, err = keyring.VerifyClearsigned(msg)
	assert.ErrorIs(t, err, ErrKeyRevoked)
	assert.ErrorIs(t, err, ErrSignature)

	// Expired: a key made in 2020 that lived one day, signing while it was valid.
	g.run("--faked-system-time", "20200101T000000", "--passphrase", "", "--quick-gen-key", "Expired <expired@example.test>", "ed25519", "sign", "1d")
	g.run("--faked-system-time", "20200101T120000", "--yes", "--output", g.dir+"/InRelease.old", "--local-user", "expired@example.test", "--clearsign", rel)
	old := g.read("InRelease.old")
	keyring, err = ReadKeyring(bytes.NewReader(g.out("--export", "expired@example.test")))
	require.NoError(t, err)
	_, _, err = keyring.VerifyClearsigned(old)
	assert.ErrorIs(t, err, ErrKeyExpired)
	assert.ErrorIs(t, err, ErrSignature)
}
