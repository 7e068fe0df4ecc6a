package pgp

import (
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestV6Keys: an RFC 9580 (v6) Ed25519 key, as newer OpenPGP tools make, signs and
// verifies too (gpgv 2.2 and sqv 1.1 do not know v6; this is for our own round trip).
func TestV6Keys(t *testing.T) {
	e, err := openpgp.NewEntity("V6", "", "v6@example.test", &packet.Config{V6Keys: true, Algorithm: packet.PubKeyAlgoEd25519, DefaultHash: signHash})
	require.NoError(t, err)
	s := &Signer{entity: e}
	k := reread(t, e)
	msg, err := s.Clearsign([]byte(release))
	require.NoError(t, err)
	content, v, err := k.VerifyClearsigned(msg)
	require.NoError(t, err)
	assert.Equal(t, release, string(content))
	assert.Equal(t, s.Fingerprint(), v.Fingerprint)
	assert.Len(t, v.Fingerprint, 64)
	sig, err := s.DetachSign(strings.NewReader(release), true)
	require.NoError(t, err)
	_, err = k.VerifyDetached(strings.NewReader(release), sig)
	require.NoError(t, err)
	_, err = k.VerifyDetached(strings.NewReader(release+"x"), sig)
	assert.ErrorIs(t, err, ErrSignature)
}
