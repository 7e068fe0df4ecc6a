package pgp

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentUse: one keyring and one signer serve many goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	s, r := testEd25519(t), testRSA(t)
	k := MergeKeyrings(s.Keyring(), testOther(t).Keyring(), r.Keyring())
	msg, err := s.Clearsign([]byte(release))
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		s := s
		if i%2 == 1 {
			s = r
		}
		wg.Go(func() {
			if _, _, err := k.VerifyClearsigned(msg); err != nil {
				errs <- err
			}
			m, err := s.Clearsign([]byte(release))
			if err == nil {
				_, _, err = k.VerifyClearsigned(m)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestArmoredKeyWithLeadingText(t *testing.T) {
	asc, err := testEd25519(t).PublicKey(true)
	require.NoError(t, err)
	data := append([]byte("pub   ed25519 2026-11-24 [SC]\nDownload this key and save it as archive.asc\n\n"), asc...)
	k, err := ReadKeyring(bytes.NewReader(data))
	require.NoError(t, err)
	assert.Equal(t, []string{testEd25519(t).Fingerprint()}, k.Fingerprints())
}

func TestPassphraseExport(t *testing.T) {
	s := testEd25519(t)
	enc, err := s.ArmoredPrivateKeyWithPassphrase([]byte("pw"))
	require.NoError(t, err)
	_, err = ReadSigner(bytes.NewReader(enc), nil)
	assert.ErrorIs(t, err, ErrPassphrase)
	_, err = ReadSigner(bytes.NewReader(enc), []byte("wrong"))
	assert.ErrorIs(t, err, ErrPassphrase)
	s2, err := ReadSigner(bytes.NewReader(enc), []byte("pw"))
	require.NoError(t, err)
	assert.Equal(t, s.Fingerprint(), s2.Fingerprint())
	// The original signer still signs.
	_, err = s.Clearsign([]byte(release))
	require.NoError(t, err)
	_, err = s.ArmoredPrivateKeyWithPassphrase(nil)
	assert.ErrorIs(t, err, ErrPassphrase)

	// GnuPG imports the encrypted key with the passphrase and signs with it.
	g := newGnupg(t)
	g.run("--passphrase", "pw", "--import", g.file("enc.asc", enc))
	rel := g.file("Release", []byte(release))
	g.run("--passphrase", "pw", "--yes", "--local-user", s.Fingerprint(), "--output", g.dir+"/InRelease", "--clearsign", rel)
	_, v, err := s.Keyring().VerifyClearsigned(g.read("InRelease"))
	require.NoError(t, err)
	assert.Equal(t, s.Fingerprint(), v.Fingerprint)
}

// TestSigningSubkey: a GnuPG key whose signatures come from a signing subkey (the
// layout of Debian's archive keys) signs through ReadSigner and verifies, reporting
// the primary fingerprint and the subkey.
func TestSigningSubkey(t *testing.T) {
	g := newGnupg(t)
	gpgv := testutil.RequireBinary(t, "gpgv", "gpgv")
	g.run("--passphrase", "", "--quick-gen-key", "Sub <sub@example.test>", "rsa3072", "cert", "never")
	fpr := ""
	for _, line := range strings.Split(g.run("--with-colons", "--list-keys", "sub@example.test"), "\n") {
		if f := strings.Split(line, ":"); len(f) > 9 && f[0] == "fpr" && fpr == "" {
			fpr = f[9]
		}
	}
	require.Len(t, fpr, 40)
	g.run("--passphrase", "", "--quick-add-key", fpr, "ed25519", "sign", "never")
	s, err := ReadSigner(bytes.NewReader(g.out("--armor", "--export-secret-keys", fpr)), nil)
	require.NoError(t, err)
	assert.Equal(t, fpr, s.Fingerprint())

	pub := g.file("sub.gpg", g.out("--export", fpr))
	k, err := LoadKeyring(pub)
	require.NoError(t, err)
	for _, msg := range [][]byte{
		mustClearsign(t, s),
		g.out("--clearsign", "--local-user", fpr, g.file("Release", []byte(release))),
	} {
		content, v, err := k.VerifyClearsigned(msg)
		require.NoError(t, err)
		assert.Equal(t, release, string(content))
		assert.Equal(t, fpr, v.Fingerprint)
		assert.NotEqual(t, fpr, v.SigningKey)
		assert.Len(t, v.SigningKey, 40)
	}
	out := testutil.Run(t, clientTimeout, g.env, gpgv, "--status-fd", "1", "--keyring", pub, g.file("InRelease", mustClearsign(t, s)))
	assert.Contains(t, out, "VALIDSIG")

	// A signing server holds only the subkey: the primary key is a GnuPG stub
	// (gpg --export-secret-subkeys). It signs all the same.
	subOnly, err := ReadSigner(bytes.NewReader(g.out("--armor", "--export-secret-subkeys", fpr)), nil)
	require.NoError(t, err)
	_, v, err := k.VerifyClearsigned(mustClearsign(t, subOnly))
	require.NoError(t, err)
	assert.Equal(t, fpr, v.Fingerprint)
	_, err = subOnly.ArmoredPrivateKey()
	require.NoError(t, err)
}

func mustClearsign(t *testing.T, s *Signer) []byte {
	t.Helper()
	msg, err := s.Clearsign([]byte(release))
	require.NoError(t, err)
	return msg
}
