package pgp

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
)

// releaseBody returns a Release-like text of about size bytes: the checksum lines of
// a large suite.
func releaseBody(size int) []byte {
	var b bytes.Buffer
	b.WriteString("Origin: Bench\nLabel: Bench\nSuite: stable\nCodename: bench\nArchitectures: amd64 arm64\nComponents: main contrib\nSHA256:\n")
	for i := 0; b.Len() < size; i++ {
		sum := sha256.Sum256([]byte{byte(i), byte(i >> 8), byte(i >> 16)})
		fmt.Fprintf(&b, " %x %8d main/binary-amd64/Packages-%d.xz\n", sum, i*37, i)
	}
	return b.Bytes()
}

// benchKeys are the shared test keys, generated on first use (outside the timed loop).
var benchKeys = []struct {
	name string
	key  *lazyKey
}{{"ed25519", edKey}, {"rsa4096", rsaKey}}

func BenchmarkClearsign(b *testing.B) {
	body := releaseBody(1 << 20)
	for _, bk := range benchKeys {
		b.Run(bk.name, func(b *testing.B) {
			s := bk.key.get(b)
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := s.Clearsign(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyClearsigned(b *testing.B) {
	body := releaseBody(1 << 20)
	for _, bk := range benchKeys {
		b.Run(bk.name, func(b *testing.B) {
			s := bk.key.get(b)
			msg, err := s.Clearsign(body)
			if err != nil {
				b.Fatal(err)
			}
			k := s.Keyring()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, _, err := k.VerifyClearsigned(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyDetached(b *testing.B) {
	body := releaseBody(1 << 20)
	s := testEd25519(b)
	sig, err := s.DetachSign(bytes.NewReader(body), false)
	if err != nil {
		b.Fatal(err)
	}
	k := s.Keyring()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := k.VerifyDetached(bytes.NewReader(body), sig); err != nil {
			b.Fatal(err)
		}
	}
}
