package pgp

import (
	"bytes"
	"crypto"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// at returns a signing configuration whose clock reads now+offset.
func at(offset time.Duration) *packet.Config {
	return &packet.Config{
		DefaultHash: crypto.SHA512,
		Algorithm:   packet.PubKeyAlgoEdDSA,
		Time:        func() time.Time { return time.Now().Add(offset) },
	}
}

func detachWith(t *testing.T, e *openpgp.Entity, content string, cfg *packet.Config) []byte {
	t.Helper()
	var sig bytes.Buffer
	require.NoError(t, openpgp.DetachSign(&sig, e, strings.NewReader(content), cfg))
	return sig.Bytes()
}

func clearsignWith(t *testing.T, keys []*packet.PrivateKey, content string, cfg *packet.Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := clearsign.EncodeMulti(&buf, keys, cfg)
	require.NoError(t, err)
	_, err = w.Write([]byte(strings.TrimSuffix(content, "\n")))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// reread returns the keyring as a verifier would get it: exported and read back.
func reread(t *testing.T, e *openpgp.Entity) *Keyring {
	t.Helper()
	pub, err := (&Keyring{entities: openpgp.EntityList{e}}).Export(false)
	require.NoError(t, err)
	k, err := ReadKeyring(bytes.NewReader(pub))
	require.NoError(t, err)
	return k
}

func TestRevokedKey(t *testing.T) {
	s, err := GenerateKey("Revoked", "revoked@example.test", KeyOptions{})
	require.NoError(t, err)
	msg, err := s.Clearsign([]byte(release))
	require.NoError(t, err)
	sig, err := s.DetachSign(strings.NewReader(release), false)
	require.NoError(t, err)
	_, _, err = reread(t, s.entity).VerifyClearsigned(msg)
	require.NoError(t, err, "valid before the revocation")
	preRevocation, err := s.PublicKey(false)
	require.NoError(t, err)

	require.NoError(t, s.entity.RevokeKey(packet.KeySuperseded, "rotated", nil))
	k := reread(t, s.entity)
	_, _, err = k.VerifyClearsigned(msg)
	assert.ErrorIs(t, err, ErrKeyRevoked)
	assert.ErrorIs(t, err, ErrSignature)
	_, err = k.VerifyDetached(strings.NewReader(release), sig)
	assert.ErrorIs(t, err, ErrKeyRevoked)

	// An outdated copy of the key (without the revocation) in another keyring file
	// does not hide the revocation, whatever the order.
	stale, err := ReadKeyring(bytes.NewReader(preRevocation))
	require.NoError(t, err)
	for _, merged := range []*Keyring{MergeKeyrings(stale, k), MergeKeyrings(k, stale)} {
		_, _, err = merged.VerifyClearsigned(msg)
		assert.ErrorIs(t, err, ErrKeyRevoked)
	}
}

func TestExpiredKey(t *testing.T) {
	cfg := at(-2 * time.Hour)
	cfg.KeyLifetimeSecs = 3600
	e, err := openpgp.NewEntity("Expired", "", "expired@example.test", cfg)
	require.NoError(t, err)
	e.Subkeys = nil
	signCfg := at(-90 * time.Minute) // while the key was valid
	msg := clearsignWith(t, []*packet.PrivateKey{e.PrivateKey}, release, signCfg)
	sig := detachWith(t, e, release, signCfg)

	k := reread(t, e)
	_, _, err = k.VerifyClearsigned(msg)
	assert.ErrorIs(t, err, ErrKeyExpired)
	assert.ErrorIs(t, err, ErrSignature)
	_, err = k.VerifyDetached(strings.NewReader(release), sig)
	assert.ErrorIs(t, err, ErrKeyExpired)

	// The signer refuses to sign with it.
	_, err = (&Signer{entity: e}).Clearsign([]byte(release))
	assert.ErrorIs(t, err, ErrNoSigningKey)
}

func TestSignatureTimes(t *testing.T) {
	s := testEd25519(t)
	k := s.Keyring()

	// A minute ahead is clock drift: accepted.
	_, err := k.VerifyDetached(strings.NewReader(release), detachWith(t, s.entity, release, at(time.Minute)))
	require.NoError(t, err)

	future := detachWith(t, s.entity, release, at(time.Hour))
	_, err = k.VerifyDetached(strings.NewReader(release), future)
	assert.ErrorIs(t, err, ErrFutureSignature)
	assert.ErrorIs(t, err, ErrSignature)

	cfg := at(-2 * time.Hour)
	cfg.SigLifetimeSecs = 3600
	e, err := openpgp.NewEntity("Sig Expiry", "", "sigexp@example.test", at(-3*time.Hour))
	require.NoError(t, err)
	expired := detachWith(t, e, release, cfg)
	_, err = reread(t, e).VerifyDetached(strings.NewReader(release), expired)
	assert.ErrorIs(t, err, ErrSignatureExpired)
	assert.ErrorIs(t, err, ErrSignature)
}

// TestKeyRotation: an archive signed by the old and the new key verifies for clients
// that know either.
func TestKeyRotation(t *testing.T) {
	oldKey, newKey, stranger := testEd25519(t), testOther(t), testRSA(t)
	cfg := at(0)
	privs := func(ss ...*Signer) (out []*packet.PrivateKey) {
		for _, s := range ss {
			k, err := s.signingKey()
			require.NoError(t, err)
			out = append(out, k)
		}
		return out
	}
	msg := clearsignWith(t, privs(oldKey, newKey), release, cfg)
	for _, s := range []*Signer{oldKey, newKey} {
		content, v, err := s.Keyring().VerifyClearsigned(msg)
		require.NoError(t, err)
		assert.Equal(t, release, string(content))
		assert.Equal(t, s.Fingerprint(), v.Fingerprint)
	}
	_, _, err := stranger.Keyring().VerifyClearsigned(msg)
	assert.ErrorIs(t, err, ErrUnknownKey)

	// Detached: two binary signatures one after the other, as in Release.gpg.
	sigs := append(detachWith(t, oldKey.entity, release, cfg), detachWith(t, newKey.entity, release, cfg)...)
	for _, s := range []*Signer{oldKey, newKey} {
		v, err := s.Keyring().VerifyDetached(strings.NewReader(release), sigs)
		require.NoError(t, err)
		assert.Equal(t, s.Fingerprint(), v.Fingerprint)
	}
	both := MergeKeyrings(oldKey.Keyring(), newKey.Keyring())
	_, err = both.VerifyDetached(strings.NewReader(release), sigs)
	require.NoError(t, err)

	// A bad signature by one known key does not hide a good one by another.
	mixed := append(detachWith(t, oldKey.entity, "other content", cfg), detachWith(t, newKey.entity, release, cfg)...)
	v, err := both.VerifyDetached(strings.NewReader(release), mixed)
	require.NoError(t, err)
	assert.Equal(t, newKey.Fingerprint(), v.Fingerprint)
	// But alone it fails.
	_, err = oldKey.Keyring().VerifyDetached(strings.NewReader(release), mixed)
	assert.ErrorIs(t, err, ErrSignature)
}

func TestWeakDigest(t *testing.T) {
	s := testEd25519(t)
	sig, err := s.DetachSign(strings.NewReader(release), false)
	require.NoError(t, err)
	// New-format signature packet with a one-byte length: version, type, key algorithm,
	// hash algorithm follow the two header bytes.
	require.Equal(t, byte(0xC2), sig[0])
	require.Equal(t, byte(4), sig[2])
	for name, id := range map[string]byte{"MD5": 1, "SHA1": 2, "RIPEMD160": 3} {
		t.Run(name, func(t *testing.T) {
			weak := append([]byte{}, sig...)
			weak[5] = id
			_, err := s.Keyring().VerifyDetached(strings.NewReader(release), weak)
			assert.ErrorIs(t, err, ErrWeakSignature)
			assert.ErrorIs(t, err, ErrSignature)
		})
	}
}

func TestMalformedDetached(t *testing.T) {
	s := testEd25519(t)
	k := s.Keyring()
	armored, err := s.DetachSign(strings.NewReader(release), true)
	require.NoError(t, err)
	binary, err := s.DetachSign(strings.NewReader(release), false)
	require.NoError(t, err)
	pub, err := s.PublicKey(true)
	require.NoError(t, err)
	binPub, err := s.PublicKey(false)
	require.NoError(t, err)
	for name, sig := range map[string][]byte{
		"empty":            nil,
		"garbage":          []byte("not a signature at all"),
		"truncated armor":  armored[:len(armored)/2],
		"truncated binary": binary[:len(binary)-10],
		"public key armor": pub,
		"public key":       binPub,
		"huge":             make([]byte, MaxSignatureSize+1),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := k.VerifyDetached(strings.NewReader(release), sig)
			assert.ErrorIs(t, err, ErrSignature)
		})
	}
}

func TestClearsignedDetails(t *testing.T) {
	s := testEd25519(t)
	k := s.Keyring()
	msg, err := s.Clearsign([]byte(release))
	require.NoError(t, err)

	// CRLF line endings (a file that went through Windows) still verify.
	crlf := bytes.ReplaceAll(msg, []byte("\n"), []byte("\r\n"))
	content, _, err := k.VerifyClearsigned(crlf)
	require.NoError(t, err)
	assert.Equal(t, release, string(content))

	// A Hash: header that does not match the signature's digest is refused.
	lying := bytes.Replace(msg, []byte("Hash: SHA512"), []byte("Hash: SHA256"), 1)
	_, _, err = k.VerifyClearsigned(lying)
	assert.ErrorIs(t, err, ErrSignature)

	// Text hidden after the signature or before the header is never returned.
	for _, evil := range [][]byte{
		append(append([]byte{}, msg...), "\nPackages: evil\n"...),
		append([]byte("Packages: evil\n\n"), msg...),
		append(append([]byte{}, msg...), "-----BEGIN PGP SIGNED MESSAGE-----\n"...),
	} {
		content, _, err := k.VerifyClearsigned(evil)
		assert.ErrorIs(t, err, ErrMalformed)
		assert.Nil(t, content)
	}

	// An unescaped dash line in the text (a nested armor block) is refused, as is any
	// armor header but Hash.
	nested := bytes.Replace(msg, []byte("\nLabel: Test\n"), []byte("\n-----BEGIN PGP SIGNED MESSAGE-----\n"), 1)
	_, _, err = k.VerifyClearsigned(nested)
	assert.ErrorIs(t, err, ErrMalformed)
	comment := bytes.Replace(msg, []byte("Hash: SHA512\n"), []byte("Hash: SHA512\nComment: hi\n"), 1)
	_, _, err = k.VerifyClearsigned(comment)
	assert.ErrorIs(t, err, ErrMalformed)

	// ClearsignedContent applies the same framing rules without a keyring.
	content, err = ClearsignedContent(msg)
	require.NoError(t, err)
	assert.Equal(t, release, string(content))
	_, err = ClearsignedContent(append(append([]byte{}, msg...), "Evil: 1\n"...))
	assert.ErrorIs(t, err, ErrMalformed)

	// Empty content round-trips.
	empty, err := s.Clearsign(nil)
	require.NoError(t, err)
	content, _, err = k.VerifyClearsigned(empty)
	require.NoError(t, err)
	assert.Empty(t, content)
}

func TestBadKeyrings(t *testing.T) {
	pub, err := testEd25519(t).PublicKey(false)
	require.NoError(t, err)
	asc, err := testEd25519(t).PublicKey(true)
	require.NoError(t, err)
	sig, err := testEd25519(t).DetachSign(strings.NewReader("x"), true)
	require.NoError(t, err)
	for name, data := range map[string][]byte{
		"empty":            nil,
		"whitespace":       []byte(" \n"),
		"garbage":          []byte("garbage garbage"),
		"keybox":           append([]byte{0, 0, 0, 32, 1, 1, 0, 0, 'K', 'B', 'X', 'f'}, make([]byte, 20)...),
		"truncated binary": pub[:len(pub)/2],
		"truncated armor":  asc[:len(asc)/2],
		"signature block":  sig,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadKeyring(bytes.NewReader(data))
			assert.ErrorIs(t, err, ErrKeyring)
		})
	}
	_, err = LoadKeyring("/nonexistent/keyring.gpg")
	assert.ErrorIs(t, err, ErrKeyring)
}

func TestGenerateKeyOptions(t *testing.T) {
	_, err := GenerateKey("x", "x@example.test", KeyOptions{RSABits: 1024})
	assert.Error(t, err)
	s := testEd25519(t)
	assert.Equal(t, "Test Archive <archive@example.test>", s.UserID())
	assert.Len(t, s.Fingerprint(), 40)
}

func TestConcatenatedArmoredSignatures(t *testing.T) {
	a, b := testEd25519(t), testOther(t)
	sa, err := a.DetachSign(strings.NewReader(release), true)
	require.NoError(t, err)
	sb, err := b.DetachSign(strings.NewReader(release), true)
	require.NoError(t, err)
	both := append(append([]byte{}, sb...), sa...)
	v, err := a.Keyring().VerifyDetached(strings.NewReader(release), both)
	require.NoError(t, err)
	assert.Equal(t, a.Fingerprint(), v.Fingerprint)
	v, err = b.Keyring().VerifyDetached(strings.NewReader(release), both)
	require.NoError(t, err)
	assert.Equal(t, b.Fingerprint(), v.Fingerprint)
}
