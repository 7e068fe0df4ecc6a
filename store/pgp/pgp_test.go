package pgp

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lazyKey is a test key generated on first use and shared by the tests of one binary.
type lazyKey struct {
	once        sync.Once
	name, email string
	opt         KeyOptions
	s           *Signer
	err         error
}

func (l *lazyKey) get(t testing.TB) *Signer {
	l.once.Do(func() { l.s, l.err = GenerateKey(l.name, l.email, l.opt) })
	require.NoError(t, l.err)
	return l.s
}

var (
	edKey    = &lazyKey{name: "Test Archive", email: "archive@example.test"}
	rsaKey   = &lazyKey{name: "Test RSA Archive", email: "rsa@example.test", opt: KeyOptions{RSABits: 4096}}
	otherKey = &lazyKey{name: "Stranger", email: "stranger@example.test"}
)

// testEd25519 returns a shared Ed25519 test key.
func testEd25519(t testing.TB) *Signer { return edKey.get(t) }

// testRSA returns a shared RSA-4096 test key.
func testRSA(t testing.TB) *Signer { return rsaKey.get(t) }

// testOther returns a shared key that is in no test keyring.
func testOther(t testing.TB) *Signer { return otherKey.get(t) }

const release = "Origin: Test\nLabel: Test\nSuite: stable\nCodename: test\nDate: Tue, 24 Nov 2026 09:00:00 UTC\nArchitectures: amd64\nComponents: main\nSHA256:\n 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef 1234 main/binary-amd64/Packages\n- a line starting with a dash\n"

func signers(t *testing.T) map[string]*Signer {
	return map[string]*Signer{"ed25519": testEd25519(t), "rsa4096": testRSA(t)}
}

func TestClearsignRoundTrip(t *testing.T) {
	for name, s := range signers(t) {
		t.Run(name, func(t *testing.T) {
			msg, err := s.Clearsign([]byte(release))
			require.NoError(t, err)
			assert.True(t, bytes.HasPrefix(msg, []byte("-----BEGIN PGP SIGNED MESSAGE-----\n")), "output starts with the BEGIN line")
			assert.True(t, bytes.HasSuffix(msg, []byte("\n-----END PGP SIGNATURE-----\n")), "output ends with the END line and one newline")
			assert.Contains(t, string(msg), "\n- - a line starting with a dash\n", "dash-escaped")

			content, v, err := s.Keyring().VerifyClearsigned(msg)
			require.NoError(t, err)
			assert.Equal(t, release, string(content))
			assert.Equal(t, s.Fingerprint(), v.Fingerprint)
			assert.Equal(t, v.Fingerprint, strings.ToUpper(v.Fingerprint))
			assert.Len(t, v.Fingerprint, 40)
			assert.False(t, v.Created.IsZero())
		})
	}
}

func TestDetachedRoundTrip(t *testing.T) {
	for name, s := range signers(t) {
		for _, armored := range []bool{false, true} {
			t.Run(name, func(t *testing.T) {
				sig, err := s.DetachSign(strings.NewReader(release), armored)
				require.NoError(t, err)
				if armored {
					assert.True(t, bytes.HasPrefix(sig, []byte("-----BEGIN PGP SIGNATURE-----")))
				} else {
					assert.NotEqual(t, byte('-'), sig[0])
				}
				v, err := s.Keyring().VerifyDetached(strings.NewReader(release), sig)
				require.NoError(t, err)
				assert.Equal(t, s.Fingerprint(), v.Fingerprint)

				_, err = s.Keyring().VerifyDetached(strings.NewReader(release+"x"), sig)
				assert.ErrorIs(t, err, ErrSignature)
			})
		}
	}
}

func TestKeyringFormats(t *testing.T) {
	a, b := testEd25519(t), testOther(t)
	binA, err := a.PublicKey(false)
	require.NoError(t, err)
	binB, err := b.PublicKey(false)
	require.NoError(t, err)
	ascA, err := a.PublicKey(true)
	require.NoError(t, err)
	ascB, err := b.PublicKey(true)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(ascA, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")))

	for name, data := range map[string][]byte{
		"binary":         append(append([]byte{}, binA...), binB...),
		"armored-twice":  append(append([]byte{}, ascA...), ascB...),
		"armored-single": mustExport(t, MergeKeyrings(a.Keyring(), b.Keyring()), true),
	} {
		t.Run(name, func(t *testing.T) {
			k, err := ReadKeyring(bytes.NewReader(data))
			require.NoError(t, err)
			assert.Equal(t, 2, k.Len())
			assert.Equal(t, []string{a.Fingerprint(), b.Fingerprint()}, k.Fingerprints())
			for _, s := range []*Signer{a, b} {
				msg, err := s.Clearsign([]byte(release))
				require.NoError(t, err)
				_, v, err := k.VerifyClearsigned(msg)
				require.NoError(t, err)
				assert.Equal(t, s.Fingerprint(), v.Fingerprint)
			}
		})
	}
}

func mustExport(t *testing.T, k *Keyring, armored bool) []byte {
	out, err := k.Export(armored)
	require.NoError(t, err)
	return out
}

func TestPrivateKeyRoundTrip(t *testing.T) {
	s := testEd25519(t)
	priv, err := s.ArmoredPrivateKey()
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(priv, []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----")))
	s2, err := ReadSigner(bytes.NewReader(priv), nil)
	require.NoError(t, err)
	assert.Equal(t, s.Fingerprint(), s2.Fingerprint())
	msg, err := s2.Clearsign([]byte(release))
	require.NoError(t, err)
	_, v, err := s.Keyring().VerifyClearsigned(msg)
	require.NoError(t, err)
	assert.Equal(t, s.Fingerprint(), v.Fingerprint)

	// A public key is no signer.
	pub, err := s.PublicKey(true)
	require.NoError(t, err)
	_, err = ReadSigner(bytes.NewReader(pub), nil)
	assert.ErrorIs(t, err, ErrNoSigningKey)
}

func TestNegative(t *testing.T) {
	s := testEd25519(t)
	k := s.Keyring()
	msg, err := s.Clearsign([]byte(release))
	require.NoError(t, err)
	other, err := testOther(t).Clearsign([]byte(release))
	require.NoError(t, err)

	cases := map[string]struct {
		msg  []byte
		want error
	}{
		"tampered":        {bytes.Replace(msg, []byte("Suite: stable"), []byte("Suite: stabl3"), 1), ErrSignature},
		"unknown key":     {other, ErrUnknownKey},
		"truncated armor": {msg[:len(msg)-60], ErrMalformed},
		"garbage":         {[]byte("\x00\x01garbage"), ErrMalformed},
		"empty":           {nil, ErrMalformed},
		"appended":        {append(append([]byte{}, msg...), "Origin: Evil\n"...), ErrMalformed},
		"prepended":       {append([]byte("Origin: Evil\n"), msg...), ErrMalformed},
		"two messages":    {append(append([]byte{}, msg...), msg...), ErrMalformed},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			content, _, err := k.VerifyClearsigned(c.msg)
			require.Error(t, err)
			assert.Nil(t, content)
			assert.ErrorIs(t, err, c.want)
			assert.ErrorIs(t, err, ErrSignature)
		})
	}

	// Whitespace around the block is fine.
	content, _, err := k.VerifyClearsigned(append(append([]byte("\n\n"), msg...), "\n\n"...))
	require.NoError(t, err)
	assert.Equal(t, release, string(content))
}

func TestErrorsAreSignatureErrors(t *testing.T) {
	for _, e := range []error{ErrUnknownKey, ErrWeakSignature, ErrKeyExpired, ErrKeyRevoked, ErrSignatureExpired, ErrFutureSignature, ErrMalformed} {
		assert.True(t, errors.Is(e, ErrSignature), e.Error())
		assert.False(t, errors.Is(ErrSignature, e))
	}
	assert.False(t, errors.Is(ErrUnknownKey, ErrWeakSignature))
}

func TestKeyringDigest(t *testing.T) {
	a, b := testEd25519(t), testOther(t)
	ab, err := MergeKeyrings(a.Keyring(), b.Keyring()).Digest()
	require.NoError(t, err)
	ba, err := MergeKeyrings(b.Keyring(), a.Keyring()).Digest()
	require.NoError(t, err)
	assert.Equal(t, ab, ba, "key order does not count")
	require.NoError(t, ab.Validate())
	onlyA, err := a.Keyring().Digest()
	require.NoError(t, err)
	assert.NotEqual(t, ab, onlyA)
	// The same keys read back from their export digest the same.
	k, err := ReadKeyring(bytes.NewReader(mustExport(t, MergeKeyrings(b.Keyring(), a.Keyring()), true)))
	require.NoError(t, err)
	again, err := k.Digest()
	require.NoError(t, err)
	assert.Equal(t, ab, again)
}
