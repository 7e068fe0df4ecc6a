package pgp

import (
	"errors"
	"fmt"

	"github.com/airgapkit/airgap/store"
)

// Every verification sentinel wraps ErrSignature (with %.0w, so that its message stays
// its own), so that a caller who only asks "did verification fail?" with
// errors.Is(err, ErrSignature) catches every refusal, while a caller who wants the reason
// asks for the precise sentinel. ErrSignature itself matches store.ErrSignature.
var (
	// ErrSignature means a signature did not verify: bad or tampered content, a malformed
	// or truncated signature or message, a signature made in the future or expired, or a
	// key that is expired or revoked. Every other verification error of this package also
	// satisfies errors.Is(err, ErrSignature).
	ErrSignature = fmt.Errorf("pgp: bad signature%.0w", store.ErrSignature)

	// ErrUnknownKey means no signature on the message was made by a key in the keyring.
	ErrUnknownKey = fmt.Errorf("pgp: signature by unknown key%.0w", ErrSignature)

	// ErrWeakSignature means the signature uses a digest that is refused (SHA-1, MD5,
	// RIPEMD-160 or anything else outside SHA-2 and SHA-3).
	ErrWeakSignature = fmt.Errorf("pgp: signature uses a weak digest algorithm%.0w", ErrSignature)

	// ErrKeyExpired means the signing key (or its subkey) has expired.
	ErrKeyExpired = fmt.Errorf("pgp: signing key expired%.0w", ErrSignature)

	// ErrKeyRevoked means the signing key (or its subkey or primary user ID) is revoked.
	ErrKeyRevoked = fmt.Errorf("pgp: signing key revoked%.0w", ErrSignature)

	// ErrSignatureExpired means the signature carries an expiry time that has passed.
	ErrSignatureExpired = fmt.Errorf("pgp: signature expired%.0w", ErrSignature)

	// ErrFutureSignature means the signature claims a creation time in the future.
	ErrFutureSignature = fmt.Errorf("pgp: signature made in the future%.0w", ErrSignature)

	// ErrMalformed means the signed message or the signature is not well-formed OpenPGP:
	// garbage, truncated armor, or (for clearsigned messages) text outside the signed
	// block. It matches store.ErrMalformed too.
	ErrMalformed = fmt.Errorf("pgp: malformed signed message%.0w%.0w", ErrSignature, store.ErrMalformed)

	// ErrKeyring means a keyring or key file could not be read: not OpenPGP, truncated,
	// a GnuPG keybox, or no usable key.
	ErrKeyring = errors.New("pgp: invalid keyring")

	// ErrPassphrase means a private key is encrypted and the passphrase is missing or wrong.
	ErrPassphrase = errors.New("pgp: wrong or missing passphrase")

	// ErrNoSigningKey means a key file holds no private key that may sign.
	ErrNoSigningKey = errors.New("pgp: no usable private signing key")
)
