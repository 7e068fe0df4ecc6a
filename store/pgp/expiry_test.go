package pgp

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVerifiedExpires: Verified.Expires is the first of the signature's expiration, the
// primary key's and the signing subkey's, as GnuPG writes them, and zero when nothing
// expires.
func TestVerifiedExpires(t *testing.T) {
	g := newGnupg(t)
	rel := g.file("Release", []byte(release))
	// expiries returns the expiration times gpg lists for the key: primary, then subkeys.
	expiries := func(uid string) []time.Time {
		var out []time.Time
		for _, line := range strings.Split(g.run("--with-colons", "--fixed-list-mode", "--list-keys", uid), "\n") {
			f := strings.Split(line, ":")
			if len(f) > 6 && (f[0] == "pub" || f[0] == "sub") {
				var exp time.Time
				if f[6] != "" {
					n, err := strconv.ParseInt(f[6], 10, 64)
					require.NoError(t, err)
					exp = time.Unix(n, 0)
				}
				out = append(out, exp)
			}
		}
		return out
	}
	verify := func(uid string, args ...string) Verified {
		t.Helper()
		k, err := ReadKeyring(bytes.NewReader(g.out("--export", uid)))
		require.NoError(t, err)
		_, v, err := k.VerifyClearsigned(g.out(append(append([]string{"--local-user", uid}, args...), "--clearsign", rel)...))
		require.NoError(t, err)
		return v
	}

	g.run("--passphrase", "", "--quick-gen-key", "Forever <forever@example.test>", "ed25519", "sign", "never")
	assert.True(t, verify("forever@example.test").Expires.IsZero(), "nothing expires")

	// A primary key for 100 days with a signing subkey for 10: the subkey's comes first.
	g.run("--passphrase", "", "--quick-gen-key", "Sub <sub@example.test>", "ed25519", "cert", "100d")
	fpr := ""
	for _, line := range strings.Split(g.run("--with-colons", "--list-keys", "sub@example.test"), "\n") {
		if f := strings.Split(line, ":"); len(f) > 9 && f[0] == "fpr" && fpr == "" {
			fpr = f[9]
		}
	}
	g.run("--passphrase", "", "--quick-add-key", fpr, "ed25519", "sign", "10d")
	exp := expiries("sub@example.test")
	require.Len(t, exp, 2)
	require.True(t, exp[1].Before(exp[0]))
	v := verify("sub@example.test")
	assert.True(t, v.Expires.Equal(exp[1]), "the subkey's expiry %v, got %v", exp[1], v.Expires)

	// The signature's own expiration, three days after it was made, comes before both.
	v = verify("sub@example.test", "--default-sig-expire", "3d")
	assert.True(t, v.Expires.Equal(v.Created.Add(72*time.Hour)), "created %v, expires %v", v.Created, v.Expires)

	// A primary key that signs itself and expires in 20 days.
	g.run("--passphrase", "", "--quick-gen-key", "Short <short@example.test>", "ed25519", "sign", "20d")
	exp = expiries("short@example.test")
	require.Len(t, exp, 1)
	assert.True(t, verify("short@example.test").Expires.Equal(exp[0]))
}

// TestVerifiedExpiresCopies: with two copies of a key in a keyring (files merged, one
// older), Expires is the later one's, whatever the order: GnuPG's --quick-set-expire
// extended the key after the first copy was exported.
func TestVerifiedExpiresCopies(t *testing.T) {
	g := newGnupg(t)
	g.run("--passphrase", "", "--quick-gen-key", "Extended <extended@example.test>", "ed25519", "sign", "5d")
	msg := g.out("--local-user", "extended@example.test", "--clearsign", g.file("Release", []byte(release)))
	older, err := ReadKeyring(bytes.NewReader(g.out("--export", "extended@example.test")))
	require.NoError(t, err)
	_, v, err := older.VerifyClearsigned(msg)
	require.NoError(t, err)
	first := v.Expires
	require.False(t, first.IsZero())

	g.run("--passphrase", "", "--quick-set-expire", older.Fingerprints()[0], "50d")
	newer, err := ReadKeyring(bytes.NewReader(g.out("--export", "extended@example.test")))
	require.NoError(t, err)
	_, v, err = newer.VerifyClearsigned(msg)
	require.NoError(t, err)
	extended := v.Expires
	require.True(t, extended.After(first.Add(40*24*time.Hour)), "%v after %v", extended, first)
	for _, k := range []*Keyring{MergeKeyrings(older, newer), MergeKeyrings(newer, older)} {
		_, v, err := k.VerifyClearsigned(msg)
		require.NoError(t, err)
		assert.True(t, v.Expires.Equal(extended), "%v", v.Expires)
	}
}
