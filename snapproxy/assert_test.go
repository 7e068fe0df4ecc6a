package snapproxy

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha3"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
)

func testChain(t testing.TB) (root, store *snapproxytest.Key, trust *Trust) {
	root = snapproxytest.NewKey("root", "canonical")
	store = snapproxytest.NewKey("store", "canonical")
	a, err := DecodeAssertion(root.AccountKey(root, "root"))
	require.NoError(t, err)
	trust, err = NewTrust(a)
	require.NoError(t, err)
	return root, store, trust
}

func TestDecodeHeadersAndBody(t *testing.T) {
	_, store, _ := testChain(t)
	raw := store.Sign("model", []snapproxytest.Header{
		{Name: "series", Value: "16"},
		{Name: "snaps", Value: []string{"a", "b"}},
		{Name: "text", Value: "line one\n  indented: two"},
	}, []byte("the body\n\nwith a blank line"))
	a, err := DecodeAssertion(raw)
	require.NoError(t, err)
	assert.Equal(t, "model", a.Type())
	assert.Equal(t, "canonical", a.AuthorityID())
	assert.Equal(t, []any{"a", "b"}, a.HeaderValue("snaps"))
	assert.Equal(t, "line one\n  indented: two", a.Header("text"))
	assert.Equal(t, "the body\n\nwith a blank line", string(a.Body()))
	assert.Equal(t, raw, a.Raw())
	assert.Equal(t, store.ID, a.SignKeyID())
}

func TestVerifyChain(t *testing.T) {
	root, store, trust := testChain(t)
	ak, err := DecodeAssertion(store.AccountKey(root, "store"))
	require.NoError(t, err)
	acc, err := DecodeAssertion(store.Sign("account", []snapproxytest.Header{{Name: "account-id", Value: "x"}}, nil))
	require.NoError(t, err)
	require.NoError(t, trust.Verify([]*Assertion{acc, ak}))
	// Without the account-key, the store key is unknown.
	require.ErrorIs(t, trust.Verify([]*Assertion{acc}), ErrUntrustedKey)
	// A tampered header breaks the signature.
	bad := bytes.Replace(acc.Raw(), []byte("account-id: x"), []byte("account-id: y"), 1)
	acc2, err := DecodeAssertion(bad)
	require.NoError(t, err)
	require.ErrorIs(t, trust.Verify([]*Assertion{ak, acc2}), ErrSignature)
	// A self-signed key is not trusted.
	rogue := snapproxytest.NewKey("rogue", "canonical")
	rk, err := DecodeAssertion(rogue.AccountKey(rogue, "rogue"))
	require.NoError(t, err)
	require.ErrorIs(t, trust.Verify([]*Assertion{rk}), ErrUntrustedKey)
	var none *Trust
	require.ErrorIs(t, none.Verify([]*Assertion{ak}), ErrNoTrustedKeys)
}

func TestDecodeTruncatedAndMalformed(t *testing.T) {
	root, store, _ := testChain(t)
	raw := store.AccountKey(root, "store")
	for n := 0; n < len(raw)-1; n += 7 {
		_, err := DecodeAssertion(raw[:n])
		require.Error(t, err, "cut at %d", n)
	}
	for _, s := range []string{
		"authority-id: x\ntype: a\n\nAQ==",
		"type: a\nauthority-id: x\nsign-key-sha3-384: k\nbody-length: 10\n\nshort\n\nAQ==",
		"type: a\nauthority-id: x\nsign-key-sha3-384: k\nbody-length: 01\n\nx\n\nAQ==",
		"type: a\nauthority-id: x\nsign-key-sha3-384: k\n\n!!!",
		"type: a\nauthority-id: x\nsign-key-sha3-384: k\n  bad: indent\n\nAQ==",
		"type: a\nauthority-id: x\nsign-key-sha3-384: k\nlist:\n   - odd\n\nAQ==",
		"type: a\nauthority-id: x\nauthority-id: y\nsign-key-sha3-384: k\n\nAQ==",
	} {
		_, err := DecodeAssertion([]byte(s))
		require.ErrorIs(t, err, ErrMalformedAssertion, s)
	}
}

func TestDecodeAllStream(t *testing.T) {
	root, store, _ := testChain(t)
	var b bytes.Buffer
	b.Write(store.AccountKey(root, "store"))
	b.WriteString("\n\n")
	b.Write(store.Sign("account", []snapproxytest.Header{{Name: "account-id", Value: "x"}}, nil))
	b.WriteString("\n")
	as, err := DecodeAll(&b, 0)
	require.NoError(t, err)
	require.Len(t, as, 2)
	assert.Equal(t, "account-key/"+store.ID, as[0].String())
	assert.Equal(t, "account/x", as[1].String())
	_, err = DecodeAll(strings.NewReader(string(as[0].Raw())+"\n\n"+string(as[1].Raw())), 1)
	require.ErrorIs(t, err, ErrTooLarge)
}

func TestVerifyRSAKeys(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	root := snapproxytest.NewRSAKey(priv, "canonical")
	store := snapproxytest.NewKey("store", "canonical")
	ra, err := DecodeAssertion(root.AccountKey(root, "root"))
	require.NoError(t, err)
	trust, err := NewTrust(ra)
	require.NoError(t, err)
	ak, err := DecodeAssertion(store.AccountKey(root, "store"))
	require.NoError(t, err)
	require.NoError(t, trust.Verify([]*Assertion{ak}))
	assert.Equal(t, []string{root.ID}, trust.KeyIDs())
}

func TestSHA3Conversions(t *testing.T) {
	sum := sha3.Sum384([]byte("snap"))
	h := hex.EncodeToString(sum[:])
	b64, err := HexToSnapSHA3(h)
	require.NoError(t, err)
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum[:]), b64)
	back, err := SnapSHA3ToHex(b64)
	require.NoError(t, err)
	assert.Equal(t, h, back)
	_, err = HexToSnapSHA3("abcd")
	assert.ErrorIs(t, err, ErrMalformed)
	_, err = SnapSHA3ToHex("!!")
	assert.ErrorIs(t, err, ErrMalformedAssertion)
}

func TestKeyExpiry(t *testing.T) {
	root, store, trust := testChain(t)
	ak, err := DecodeAssertion(store.AccountKey(root, "store"))
	require.NoError(t, err)
	trust.Now = func() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) }
	require.ErrorIs(t, trust.Verify([]*Assertion{ak}), ErrUntrustedKey)
}
