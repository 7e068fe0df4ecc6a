package pgp

import "errors"

// sigError is a sentinel that also matches ErrSignature, so that a caller who only asks
// "did verification fail?" with errors.Is(err, ErrSignature) catches every refusal, while
// a caller who wants the reason can ask for the precise sentinel.
type sigError struct{ msg string }

func (e *sigError) Error() string { return e.msg }

// Is reports whether target is ErrSignature: every verification sentinel is a kind of
// signature failure.
func (e *sigError) Is(target error) bool { return target == ErrSignature }

var (
	// ErrSignature means a signature did not verify: bad or tampered content, a malformed
	// or truncated signature or message, a signature made in the future or expired, or a
	// key that is expired or revoked. Every other verification error of this package also
	// satisfies errors.Is(err, ErrSignature).
	ErrSignature = errors.New("pgp: bad signature")

	// ErrUnknownKey means no signature on the message was made by a key in the keyring.
	ErrUnknownKey error = &sigError{"pgp: signature by unknown key"}

	// ErrWeakSignature means the signature uses a digest that is refused (SHA-1, MD5,
	// RIPEMD-160 or anything else outside SHA-2 and SHA-3).
	ErrWeakSignature error = &sigError{"pgp: signature uses a weak digest algorithm"}

	// ErrKeyExpired means the signing key (or its subkey) has expired.
	ErrKeyExpired error = &sigError{"pgp: signing key expired"}

	// ErrKeyRevoked means the signing key (or its subkey or primary user ID) is revoked.
	ErrKeyRevoked error = &sigError{"pgp: signing key revoked"}

	// ErrSignatureExpired means the signature carries an expiry time that has passed.
	ErrSignatureExpired error = &sigError{"pgp: signature expired"}

	// ErrFutureSignature means the signature claims a creation time in the future.
	ErrFutureSignature error = &sigError{"pgp: signature made in the future"}

	// ErrMalformed means the signed message or the signature is not well-formed OpenPGP:
	// garbage, truncated armor, or (for clearsigned messages) text outside the signed
	// block.
	ErrMalformed error = &sigError{"pgp: malformed signed message"}

	// ErrKeyring means a keyring or key file could not be read: not OpenPGP, truncated,
	// a GnuPG keybox, or no usable key.
	ErrKeyring = errors.New("pgp: invalid keyring")

	// ErrPassphrase means a private key is encrypted and the passphrase is missing or wrong.
	ErrPassphrase = errors.New("pgp: wrong or missing passphrase")

	// ErrNoSigningKey means a key file holds no private key that may sign.
	ErrNoSigningKey = errors.New("pgp: no usable private signing key")
)
