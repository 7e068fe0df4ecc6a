// Package pgp verifies and makes the OpenPGP signatures that software repositories use:
// apt's InRelease (clearsigned) and Release.gpg (detached), simplestreams' .sjson and
// .json.gpg.
//
// # Verifying
//
// A Keyring is read (ReadKeyring, LoadKeyring, LoadKeyrings) from binary files
// (`gpg --export`, Debian's /usr/share/keyrings/*.gpg) or armored ones, each holding one
// key or several. Keyring.VerifyClearsigned is strict, as apt is: nothing but
// whitespace may surround the signed block, and only the signed text is returned, never
// what lies around it. Keyring.VerifyDetached takes an armored or binary signature.
//
// Refused, each with its own sentinel: signatures with SHA-1, MD5 or RIPEMD-160
// digests (ErrWeakSignature); signatures by keys that are expired (ErrKeyExpired) or
// revoked (ErrKeyRevoked); signatures made in the future beyond MaxClockSkew
// (ErrFutureSignature) or expired (ErrSignatureExpired); malformed input
// (ErrMalformed); and, when no signature is by a key of the keyring, ErrUnknownKey.
// Every one of them also satisfies errors.Is(err, ErrSignature), which is what a
// tampered message gives. A message with several signatures, as during an archive key
// rotation, verifies when one of them is good and by a known key.
//
// # Signing
//
// A Signer holds an operator's private key: made by GenerateKey (Ed25519 by default,
// RSA with KeyOptions.RSABits) or read by ReadSigner/LoadSigner from an armored private
// key, with an optional passphrase. It clearsigns and detach-signs with SHA-512, and
// ClearsignMulti/DetachSignMulti sign with several keys at once for a rotation. The
// output is what gpgv (apt on Debian 12), sqv (apt from Debian 13) and MAAS accept:
// clearsigned messages have nothing before the BEGIN line or after the END line but
// one newline, and armor carries the CRC-24 line that GnuPG 2.2 needs. PublicKey
// exports the binary keyring gpgv and MAAS keyring_data want, or an armored one.
//
// The package prints nothing and keeps no global state; Keyring and Signer are safe
// for concurrent use. It is built on github.com/ProtonMail/go-crypto/openpgp.
package pgp
