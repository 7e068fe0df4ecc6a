package simplestreams

import (
	"bytes"
	"fmt"

	"github.com/airgapkit/airgap/store/pgp"
)

var beginSigned = []byte("-----BEGIN PGP SIGNED MESSAGE-----")

// ReadClearsigned verifies a clearsigned document (.sjson) against kr and returns the JSON
// text it signs. A document that is not clearsigned at all is ErrUnsigned; a bad or
// unknown signature wraps pgp.ErrSignature (pgp.ErrUnknownKey, ...).
func ReadClearsigned(kr *pgp.Keyring, data []byte) ([]byte, error) {
	content, _, err := readClearsigned(kr, data)
	return content, err
}

func readClearsigned(kr *pgp.Keyring, data []byte) ([]byte, pgp.Verified, error) {
	if !bytes.Contains(data, beginSigned) {
		return nil, pgp.Verified{}, fmt.Errorf("%w: not clearsigned", ErrUnsigned)
	}
	return kr.VerifyClearsigned(data)
}

// ReadDetached verifies a .json document against its detached .json.gpg signature.
func ReadDetached(kr *pgp.Keyring, data, sig []byte) ([]byte, error) {
	content, _, err := readDetached(kr, data, sig)
	return content, err
}

func readDetached(kr *pgp.Keyring, data, sig []byte) ([]byte, pgp.Verified, error) {
	if len(bytes.TrimSpace(sig)) == 0 {
		return nil, pgp.Verified{}, fmt.Errorf("%w: empty signature", ErrUnsigned)
	}
	v, err := kr.VerifyDetached(bytes.NewReader(data), sig)
	if err != nil {
		return nil, pgp.Verified{}, err
	}
	return data, v, nil
}

// unwrapUnverified returns the text of a clearsigned document without checking its
// signature (Mirror.InsecureSkipSignature), or the document itself when it is not
// clearsigned.
func unwrapUnverified(data []byte) ([]byte, error) {
	if !bytes.Contains(data, beginSigned) {
		return data, nil
	}
	text, err := pgp.ClearsignedContent(data) // strictly framed: nothing outside the signed block
	if err != nil {
		return nil, fmt.Errorf("%w: malformed clearsigned document: %w", ErrInvalidDocument, err)
	}
	return text, nil
}
