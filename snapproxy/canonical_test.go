package snapproxy

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
)

// canonicalChain decodes Canonical's real assertions and a Trust holding only the real
// root, as snapd builds it in.
func canonicalChain(t *testing.T) ([]*Assertion, *Trust) {
	t.Helper()
	var set []*Assertion
	for _, b := range snapproxytest.CanonicalChain() {
		a, err := DecodeAssertion(b)
		require.NoError(t, err)
		set = append(set, a)
	}
	trust, err := ParseTrust(snapproxytest.CanonicalRoot())
	require.NoError(t, err)
	return set, trust
}

// The real chain (root account-key, canonical account, store account-key, a publisher
// account and its account-key) verifies from the real root alone, although the OpenPGP
// issuer of the root's signatures is not the id of the key packet and the store's
// signatures name no issuer.
func TestVerifyCanonicalChain(t *testing.T) {
	set, trust := canonicalChain(t)
	assert.Equal(t, []string{snapproxytest.CanonicalRootKeyID}, trust.KeyIDs())
	require.NoError(t, trust.Verify(set))
	assert.Equal(t, snapproxytest.CanonicalStoreKeyID, set[2].Header("public-key-sha3-384"))
	assert.Equal(t, snapproxytest.CanonicalStoreKeyID, set[3].SignKeyID(), "the publisher account is signed by the store key")

	// It is verification, not acceptance: the store key is needed for what it signed,
	require.ErrorIs(t, trust.Verify([]*Assertion{set[3], set[4]}), ErrUntrustedKey)
	// and a changed byte breaks a real signature.
	bad := bytes.Replace(set[3].Raw(), []byte("validation: unproven"), []byte("validation: verified"), 1)
	forged, err := DecodeAssertion(bad)
	require.NoError(t, err)
	require.ErrorIs(t, trust.Verify([]*Assertion{set[2], forged}), ErrSignature)
}

// Ed25519 and ECDSA account-keys are refused, certified by a trusted key or trusted
// themselves, as snapd refuses every key but RSA.
func TestNonRSAAccountKeysRefused(t *testing.T) {
	root, _, trust := testChain(t)
	for name, cfg := range map[string]*packet.Config{
		"ed25519": {Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519},
		"ecdsa":   {Algorithm: packet.PubKeyAlgoECDSA, Curve: packet.CurveNistP256},
	} {
		e, err := openpgp.NewEntity("k", "", "k@example.invalid", cfg)
		require.NoError(t, err)
		priv := e.PrivateKey
		t.Run(name, func(t *testing.T) {
			k := snapproxytest.NewPGPKey(priv, "canonical")
			ak, err := DecodeAssertion(k.AccountKey(root, "store"))
			require.NoError(t, err)
			acc, err := DecodeAssertion(k.Sign("account", []snapproxytest.Header{{Name: "account-id", Value: "x"}}, nil))
			require.NoError(t, err)
			require.ErrorIs(t, trust.Verify([]*Assertion{ak, acc}), ErrUnsupportedKey)

			self, err := DecodeAssertion(k.AccountKey(k, "root"))
			require.NoError(t, err)
			_, err = NewTrust(self)
			require.ErrorIs(t, err, ErrUnsupportedKey)
		})
	}
}

// A key is named by the SHA3-384 of its encoding with the fixed 2016-01-01 creation time
// (as snapd re-encodes it), whatever time the packet in the body says.
func TestAccountKeyIDUsesFixedCreationTime(t *testing.T) {
	root, store, trust := testChain(t)
	p, err := packet.Read(bytes.NewReader(store.Encoded[1:]))
	require.NoError(t, err)
	pub := p.(*packet.PublicKey).PublicKey.(*rsa.PublicKey)
	var other bytes.Buffer
	other.WriteByte(formatV1)
	require.NoError(t, packet.NewRSAPublicKey(time.Date(2019, 5, 1, 0, 0, 0, 0, time.UTC), pub).Serialize(&other))
	require.NotEqual(t, store.Encoded, other.Bytes())
	ak, err := DecodeAssertion(root.Sign("account-key", []snapproxytest.Header{
		{Name: "public-key-sha3-384", Value: store.ID}, {Name: "account-id", Value: "canonical"},
		{Name: "name", Value: "store"}, {Name: "since", Value: "2016-01-01T00:00:00Z"},
	}, []byte(base64.StdEncoding.EncodeToString(other.Bytes()))))
	require.NoError(t, err)
	acc, err := DecodeAssertion(store.Sign("account", []snapproxytest.Header{{Name: "account-id", Value: "x"}}, nil))
	require.NoError(t, err)
	require.NoError(t, trust.Verify([]*Assertion{ak, acc}))
}
