package pgp

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/stretchr/testify/require"
)

// fuzzKeyFile is a throw-away Ed25519 key (test data only, never trusted anywhere) that
// signed the seed corpus under testdata/fuzz.
const fuzzKeyFile = "testdata/fuzz-key.asc"

func fuzzSigner(t testing.TB) *Signer {
	s, err := LoadSigner(fuzzKeyFile, nil)
	require.NoError(t, err)
	return s
}

func FuzzReadKeyring(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ReadKeyring(bytes.NewReader(data))
		if err != nil {
			require.ErrorIs(t, err, ErrKeyring)
			return
		}
		require.Positive(t, k.Len())
		// What was read can be written and read back to the same keys.
		out, err := k.Export(false)
		if err != nil {
			return // some keys parse but do not serialize (unknown packets): fine, no panic
		}
		k2, err := ReadKeyring(bytes.NewReader(out))
		if err == nil {
			require.Equal(t, k.Fingerprints(), k2.Fingerprints())
		}
	})
}

func FuzzVerifyClearsigned(f *testing.F) {
	s := fuzzSigner(f)
	k := s.Keyring()
	f.Fuzz(func(t *testing.T, msg []byte) {
		content, v, err := k.VerifyClearsigned(msg)
		if err != nil {
			require.ErrorIs(t, err, ErrSignature)
			require.Nil(t, content)
			return
		}
		require.Equal(t, s.Fingerprint(), v.Fingerprint)
		// Nothing outside the signed block: the message is the BEGIN line first and the
		// END line last, with only whitespace around.
		trimmed := bytes.TrimSpace(msg)
		require.True(t, bytes.HasPrefix(trimmed, []byte("-----BEGIN PGP SIGNED MESSAGE-----")))
		require.True(t, bytes.HasSuffix(trimmed, []byte("-----END PGP SIGNATURE-----")))
	})
}

func FuzzVerifyDetached(f *testing.F) {
	s := fuzzSigner(f)
	k := s.Keyring()
	f.Fuzz(func(t *testing.T, content, sig []byte) {
		v, err := k.VerifyDetached(bytes.NewReader(content), sig)
		if err != nil {
			require.ErrorIs(t, err, ErrSignature)
			return
		}
		require.Equal(t, s.Fingerprint(), v.Fingerprint)
	})
}

// TestWriteFuzzCorpus regenerates testdata/fuzz-key.asc (if missing) and the seed
// corpus. It runs only with PGP_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("PGP_WRITE_CORPUS") != "1" {
		t.Skip("set PGP_WRITE_CORPUS=1 to regenerate testdata/fuzz")
	}
	if _, err := os.Stat(fuzzKeyFile); err != nil {
		s, err := GenerateKey("Fuzz Test Key - test data only", "fuzz@example.test", KeyOptions{})
		require.NoError(t, err)
		priv, err := s.ArmoredPrivateKey()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(fuzzKeyFile, priv, 0o644))
	}
	s := fuzzSigner(t)
	other := testOther(t)
	short := "Origin: Fuzz\nSuite: stable\nSHA256:\n 00 1 main/Packages\n- dash\n"

	write := func(target, name string, args ...[]byte) {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, a := range args {
			fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(a)))
		}
		dir := filepath.Join("testdata", "fuzz", target)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644))
	}

	pub, _ := s.PublicKey(false)
	asc, _ := s.PublicKey(true)
	two, _ := MergeKeyrings(s.Keyring(), other.Keyring()).Export(false)
	write("FuzzReadKeyring", "binary", pub)
	write("FuzzReadKeyring", "armored", asc)
	write("FuzzReadKeyring", "two-keys", two)
	write("FuzzReadKeyring", "truncated", pub[:len(pub)/2])
	write("FuzzReadKeyring", "garbage", []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!!\n-----END PGP PUBLIC KEY BLOCK-----\n"))

	msg, _ := s.Clearsign([]byte(short))
	otherMsg, _ := other.Clearsign([]byte(short))
	write("FuzzVerifyClearsigned", "good", msg)
	write("FuzzVerifyClearsigned", "unknown-key", otherMsg)
	write("FuzzVerifyClearsigned", "tampered", bytes.Replace(msg, []byte("Fuzz"), []byte("Fuzy"), 1))
	write("FuzzVerifyClearsigned", "appended", append(append([]byte{}, msg...), "Evil: 1\n"...))
	write("FuzzVerifyClearsigned", "prepended", append([]byte("Evil: 1\n"), msg...))
	write("FuzzVerifyClearsigned", "truncated", msg[:len(msg)-40])

	sig, _ := s.DetachSign(strings.NewReader(short), false)
	asig, _ := s.DetachSign(strings.NewReader(short), true)
	osig, _ := other.DetachSign(strings.NewReader(short), false)
	write("FuzzVerifyDetached", "binary", []byte(short), sig)
	write("FuzzVerifyDetached", "armored", []byte(short), asig)
	write("FuzzVerifyDetached", "two-signatures", []byte(short), append(append([]byte{}, osig...), sig...))
	write("FuzzVerifyDetached", "tampered", []byte(short+"x"), sig)
	write("FuzzVerifyDetached", "truncated", []byte(short), asig[:len(asig)/2])
}

// readCorpus returns the arguments of one seed corpus file.
func readCorpus(t *testing.T, target, name string) [][]byte {
	data, err := os.ReadFile(filepath.Join("testdata", "fuzz", target, name))
	require.NoError(t, err)
	var args [][]byte
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(line, "[]byte("), ")"))
		require.NoError(t, err)
		args = append(args, []byte(s))
	}
	return args
}

// TestFuzzSeedsReachSuccess makes sure the seed corpus exercises the success paths,
// not only the refusals.
func TestFuzzSeedsReachSuccess(t *testing.T) {
	k := fuzzSigner(t).Keyring()
	_, _, err := k.VerifyClearsigned(readCorpus(t, "FuzzVerifyClearsigned", "good")[0])
	require.NoError(t, err)
	for _, name := range []string{"binary", "armored", "two-signatures"} {
		a := readCorpus(t, "FuzzVerifyDetached", name)
		_, err := k.VerifyDetached(bytes.NewReader(a[0]), a[1])
		require.NoError(t, err, name)
	}
	for _, name := range []string{"binary", "armored", "two-keys"} {
		_, err := ReadKeyring(bytes.NewReader(readCorpus(t, "FuzzReadKeyring", name)[0]))
		require.NoError(t, err, name)
	}
}

// FuzzParseCleartext compares the strict clearsigned-message parser with go-crypto's
// clearsign.Decode: when both accept a message, they must agree on the signed text.
// (Inputs with carriage returns or trailing blanks on armor lines, where the two
// legitimately differ in leniency, are not compared.)
func FuzzParseCleartext(f *testing.F) {
	for _, name := range []string{"good", "unknown-key", "tampered", "appended", "prepended", "truncated"} {
		data, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzVerifyClearsigned", name))
		require.NoError(f, err)
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(strings.Split(string(data), "\n")[1], "[]byte("), ")"))
		require.NoError(f, err)
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		ct, err := parseCleartext(msg)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		if bytes.ContainsAny(msg, "\r") || bytes.Contains(msg, []byte("----- ")) || bytes.Contains(msg, []byte("-----\t")) {
			return
		}
		b, _ := clearsign.Decode(msg)
		if b == nil {
			return
		}
		want := b.Plaintext
		if len(ct.content) > 0 {
			want = append(append([]byte{}, want...), '\n')
		}
		require.Equal(t, string(want), string(ct.content))
	})
}
