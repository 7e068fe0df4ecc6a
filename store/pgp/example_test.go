package pgp_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/airgapkit/airgap/store/pgp"
)

// An operator key signs a Release file as InRelease and as Release.gpg; a client that
// holds the exported public key verifies both.
func Example() {
	signer, err := pgp.GenerateKey("Example Mirror", "mirror@example.test", pgp.KeyOptions{})
	if err != nil {
		panic(err)
	}
	release := []byte("Origin: Example\nSuite: stable\n")

	inRelease, err := signer.Clearsign(release)
	if err != nil {
		panic(err)
	}
	releaseGPG, err := signer.DetachSign(bytes.NewReader(release), true)
	if err != nil {
		panic(err)
	}

	// The client side: a binary keyring, as in /usr/share/keyrings.
	pub, err := signer.PublicKey(false)
	if err != nil {
		panic(err)
	}
	keyring, err := pgp.ReadKeyring(bytes.NewReader(pub))
	if err != nil {
		panic(err)
	}
	content, v, err := keyring.VerifyClearsigned(inRelease)
	if err != nil {
		panic(err)
	}
	fmt.Print(string(content))
	fmt.Println("signed by the mirror key:", v.Fingerprint == signer.Fingerprint())

	if _, err := keyring.VerifyDetached(bytes.NewReader(release), releaseGPG); err != nil {
		panic(err)
	}
	fmt.Println("Release.gpg ok")

	// Text slipped in after the signature is refused, never returned.
	_, _, err = keyring.VerifyClearsigned(append(inRelease, "Suite: evil\n"...))
	fmt.Println("appended text refused:", errors.Is(err, pgp.ErrSignature))
	// Output:
	// Origin: Example
	// Suite: stable
	// signed by the mirror key: true
	// Release.gpg ok
	// appended text refused: true
}

// Telling the reasons of a refusal apart.
func ExampleKeyring_VerifyDetached() {
	alice, _ := pgp.GenerateKey("Alice", "alice@example.test", pgp.KeyOptions{})
	mallory, _ := pgp.GenerateKey("Mallory", "mallory@example.test", pgp.KeyOptions{})
	sig, _ := mallory.DetachSign(strings.NewReader("data"), false)

	_, err := alice.Keyring().VerifyDetached(strings.NewReader("data"), sig)
	switch {
	case errors.Is(err, pgp.ErrUnknownKey):
		fmt.Println("not signed by a trusted key")
	case errors.Is(err, pgp.ErrSignature):
		fmt.Println("bad signature")
	}
	// Output: not signed by a trusted key
}
