package simplestreams_test

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/simplestreams/simplestreamstest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// expiringKey makes an upstream signing key created at created that expires at expires.
func expiringKey(t *testing.T, created, expires time.Time) *pgp.Signer {
	t.Helper()
	cfg := &packet.Config{
		Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519, DefaultHash: crypto.SHA512,
		KeyLifetimeSecs: uint32(expires.Sub(created) / time.Second),
		Time:            func() time.Time { return created },
	}
	e, err := openpgp.NewEntity("Expiring upstream", "", "expiring@example.invalid", cfg)
	require.NoError(t, err)
	e.Subkeys = nil
	var buf bytes.Buffer
	require.NoError(t, e.SerializePrivate(&buf, cfg))
	s, err := pgp.ReadSigner(&buf, nil)
	require.NoError(t, err)
	return s
}

// TestUpstreamStateExpiry: simplestreams has no Valid-Until, but OpenPGP signatures and
// keys expire. The published state records the earliest expiry of the upstream signatures
// (its key's, then a signature's own, made by GnuPG with --default-sig-expire), and once a
// signature has expired the sync is refused and the last verified tree stays published.
func TestUpstreamStateExpiry(t *testing.T) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	keyCreated, keyExpires := now.AddDate(0, 0, -30), now.AddDate(0, 0, 30)
	signer := expiringKey(t, keyCreated, keyExpires)
	e := newEnvWith(t, simplestreamstest.Options{Signer: signer}, func(m *simplestreams.Mirror) { m.Pristine = true })
	e.sync(t)
	state := func() simplestreams.UpstreamState {
		u, ok, err := simplestreams.ReadUpstreamState(e.published(t))
		require.NoError(t, err)
		require.True(t, ok)
		return u
	}
	assert.True(t, state().Expires.Equal(keyExpires), "the key's expiry: %v", state().Expires)

	// GnuPG re-signs the index with a signature that expires in a week.
	sign := gnupg(t, signer)
	raw, _ := e.up.File(simplestreamstest.IndexBase + ".sjson")
	text, err := simplestreams.ReadClearsigned(signer.Keyring(), raw)
	require.NoError(t, err)
	clearsign := func(extra ...string) []byte { return sign(text, append(extra, "--clearsign")...) }
	e.up.Set(simplestreamstest.IndexBase+".sjson", clearsign("--default-sig-expire", "7d"))
	e.sync(t)
	u := state()
	assert.WithinDuration(t, now.AddDate(0, 0, 7), u.Expires, 2*time.Minute, "the signature's own expiry comes first")
	assert.WithinDuration(t, now, u.Signed, 2*time.Minute)
	served := readFile(t, e.st, e.published(t), simplestreamstest.IndexBase+".sjson")

	// A signature made ten days ago that expired two days later: refused, nothing published.
	before, err := e.st.Ref(ctx, e.m.Ref())
	require.NoError(t, err)
	e.up.Set(simplestreamstest.IndexBase+".sjson", clearsign("--faked-system-time", fmt.Sprint(now.AddDate(0, 0, -10).Unix()), "--default-sig-expire", "2d"))
	_, err = e.m.Sync(ctx)
	require.ErrorIs(t, err, pgp.ErrSignatureExpired)
	after, err := e.st.Ref(ctx, e.m.Ref())
	require.NoError(t, err)
	assert.Equal(t, before, after)
	assert.Equal(t, served, readFile(t, e.st, e.published(t), simplestreamstest.IndexBase+".sjson"), "the last verified tree is still served")
}

// TestUpstreamStateExpiryDetached: the expiry of a detached .json.gpg signature.
func TestUpstreamStateExpiryDetached(t *testing.T) {
	now := time.Now()
	signer := expiringKey(t, now.AddDate(0, 0, -1), now.AddDate(1, 0, 0))
	e := newEnvWith(t, simplestreamstest.Options{Signer: signer}, func(m *simplestreams.Mirror) {
		m.Pristine = true
		m.Index = "streams/v1/index.json"
	})
	index, _ := e.up.File(simplestreamstest.IndexBase + ".json")
	e.up.Set(simplestreamstest.IndexBase+".json.gpg", gnupg(t, signer)(index, "--default-sig-expire", "3d", "--armor", "--detach-sign"))
	e.sync(t)
	u, _, err := simplestreams.ReadUpstreamState(e.published(t))
	require.NoError(t, err)
	assert.WithinDuration(t, now.AddDate(0, 0, 3), u.Expires, 2*time.Minute)
}

// gnupg imports signer into a fresh GnuPG home and returns a function that runs gpg as
// that signer on a document with the given arguments and returns what it writes.
func gnupg(t *testing.T, signer *pgp.Signer) func(doc []byte, args ...string) []byte {
	t.Helper()
	gpg := testutil.RequireBinary(t, "gpg", "gnupg")
	home := t.TempDir()
	env := []string{"GNUPGHOME=" + home}
	key, err := signer.ArmoredPrivateKey()
	require.NoError(t, err)
	keyFile := filepath.Join(home, "key.asc")
	require.NoError(t, os.WriteFile(keyFile, key, 0o600))
	testutil.Run(t, time.Minute, env, gpg, "--batch", "--import", keyFile)
	t.Cleanup(func() { _ = exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run() }) // gpgconf comes with gnupg
	return func(doc []byte, args ...string) []byte {
		in, out := filepath.Join(home, "doc"), filepath.Join(home, "out")
		require.NoError(t, os.WriteFile(in, doc, 0o644))
		os.Remove(out)
		all := append([]string{"--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--local-user", signer.Fingerprint(),
			"--digest-algo", "SHA512", "--output", out}, args...)
		testutil.Run(t, time.Minute, env, gpg, append(all, in)...)
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		return b
	}
}

func TestReadUpstreamState(t *testing.T) {
	snap := store.NewSnapshot()
	_, ok, err := simplestreams.ReadUpstreamState(snap)
	require.NoError(t, err)
	assert.False(t, ok)
	snap.Annotations["simplestreams/upstream"] = "http://images.maas.io/ephemeral-v3/stable/"
	u, ok, err := simplestreams.ReadUpstreamState(snap)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, simplestreams.UpstreamState{URL: "http://images.maas.io/ephemeral-v3/stable/"}, u, "a tree published before the state was recorded")
	snap.Annotations["simplestreams/upstream"] = "{"
	_, _, err = simplestreams.ReadUpstreamState(snap)
	assert.Error(t, err)
}
