// Package pgp verifies and makes the OpenPGP signatures that software repositories use:
// apt's InRelease (clearsigned) and Release.gpg (detached), simplestreams' .sjson and
// .json.gpg.
//
// A Keyring is read from binary (`gpg --export`, Debian's /usr/share/keyrings/*.gpg) or
// armored files holding one key or several. Verification is strict, as apt is: a
// clearsigned message must have nothing but whitespace outside its signed block, and
// VerifyClearsigned returns the signed text only. Signatures with SHA-1 or MD5 digests
// are refused (ErrWeakSignature), as are signatures by keys that are expired
// (ErrKeyExpired) or revoked (ErrKeyRevoked), signatures made in the future and expired
// signatures. A message with several signatures, as during an archive key rotation,
// verifies when one of them is good and by a known key; none by a known key gives
// ErrUnknownKey. Every verification error satisfies errors.Is(err, ErrSignature).
//
// A Signer holds an operator's private key (generated with GenerateKey, Ed25519 by
// default or RSA, or loaded from an armored private key with an optional passphrase). It
// clearsigns and detach-signs with SHA-512, producing output that gpgv, sqv (and so apt)
// and MAAS accept, and exports its public key in the binary form gpgv and MAAS need or
// armored.
//
// The package is built on github.com/ProtonMail/go-crypto/openpgp.
package pgp
