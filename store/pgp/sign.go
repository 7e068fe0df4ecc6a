package pgp

import (
	"bytes"
	"crypto"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"
)

// signHash is the digest of every signature this package makes: apt (gpgv and sqv) and
// MAAS refuse SHA-1, and SHA-512 is what GnuPG uses with Ed25519 and large RSA keys.
const signHash = crypto.SHA512

// signHashName is signHash as the Hash: header of a clearsigned message names it.
const signHashName = "SHA512"

// KeyOptions chooses the kind of key GenerateKey makes.
type KeyOptions struct {
	// RSABits makes an RSA key of that size (at least 3072; 4096 is usual). Zero makes
	// an Ed25519 key, the default.
	RSABits int
}

// Signer is an operator's private signing key: it clearsigns and detach-signs what is
// republished inside the gap (InRelease, Release.gpg, .sjson, .json.gpg).
type Signer struct {
	entity *openpgp.Entity
}

func signConfig() *packet.Config {
	return &packet.Config{DefaultHash: signHash}
}

// GenerateKey makes a new OpenPGP v4 signing key with one user ID "name <email>" and no
// expiry: Ed25519 by default, RSA with opt.RSABits. The key has no encryption subkey:
// it is only for signing repositories. Both kinds are accepted by gpgv and sqv.
func GenerateKey(name, email string, opt KeyOptions) (*Signer, error) {
	cfg := signConfig()
	switch {
	case opt.RSABits == 0:
		cfg.Algorithm = packet.PubKeyAlgoEdDSA
		cfg.Curve = packet.Curve25519
	case opt.RSABits < 3072 || opt.RSABits > 16384:
		return nil, fmt.Errorf("pgp: RSA key size %d out of range 3072..16384", opt.RSABits)
	default:
		cfg.Algorithm = packet.PubKeyAlgoRSA
		cfg.RSABits = opt.RSABits
	}
	e, err := openpgp.NewEntity(name, "", email, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgp: generate key: %w", err)
	}
	e.Subkeys = nil // signing only: drop the encryption subkey
	return &Signer{entity: e}, nil
}

// ReadSigner reads an armored (or binary) private key, as written by ArmoredPrivateKey
// or `gpg --export-secret-keys --armor`. An encrypted key is decrypted with passphrase;
// a wrong or missing passphrase gives ErrPassphrase. When the input holds several keys,
// the first with a usable private signing key is taken.
func ReadSigner(r io.Reader, passphrase []byte) (*Signer, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxKeyringSize+1))
	if err != nil {
		return nil, fmt.Errorf("pgp: read private key: %w", err)
	}
	if len(data) > MaxKeyringSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrKeyring, MaxKeyringSize)
	}
	el, err := readEntities(data)
	if err != nil {
		return nil, err
	}
	var lastErr error = ErrNoSigningKey
	for _, e := range el {
		if e.PrivateKey == nil {
			continue
		}
		if err := decryptEntity(e, passphrase); err != nil {
			lastErr = err
			continue
		}
		s := &Signer{entity: e}
		if _, err := s.signingKey(); err != nil {
			lastErr = err
			continue
		}
		return s, nil
	}
	return nil, lastErr
}

// LoadSigner reads the private key file at path (see ReadSigner).
func LoadSigner(path string, passphrase []byte) (*Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pgp: %w", err)
	}
	defer f.Close()
	s, err := ReadSigner(f, passphrase)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func decryptEntity(e *openpgp.Entity, passphrase []byte) error {
	encrypted := e.PrivateKey.Encrypted
	for _, sk := range e.Subkeys {
		if sk.PrivateKey != nil && sk.PrivateKey.Encrypted {
			encrypted = true
		}
	}
	if !encrypted {
		return nil
	}
	if len(passphrase) == 0 {
		return fmt.Errorf("%w: key %s is encrypted", ErrPassphrase, fingerprint(e.PrimaryKey.Fingerprint))
	}
	if err := e.DecryptPrivateKeys(passphrase); err != nil {
		return fmt.Errorf("%w: %w", ErrPassphrase, err)
	}
	return nil
}

// signingKey returns the newest valid key of the entity that may sign and whose private
// part is present.
func (s *Signer) signingKey() (*packet.PrivateKey, error) {
	cfg := signConfig()
	key, ok := s.entity.SigningKey(cfg.Now())
	if !ok || key.PrivateKey == nil || key.PrivateKey.Dummy() {
		return nil, fmt.Errorf("%w: key %s", ErrNoSigningKey, s.Fingerprint())
	}
	if key.PrivateKey.Encrypted {
		return nil, fmt.Errorf("%w: key %s is encrypted", ErrPassphrase, s.Fingerprint())
	}
	return key.PrivateKey, nil
}

// Clearsign returns content as a clearsigned message (InRelease, .sjson) signed with
// SHA-512. The output starts with the BEGIN PGP SIGNED MESSAGE line and ends with the
// END PGP SIGNATURE line and one newline, nothing else, as apt requires. Trailing spaces
// and tabs at line ends are not covered by a clearsigned signature (OpenPGP strips them),
// so content should not depend on them; Release files never do.
func (s *Signer) Clearsign(content []byte) ([]byte, error) {
	return ClearsignMulti(content, s)
}

// ClearsignMulti is Clearsign with one signature per signer in the one message: during
// a key rotation, clients that trust either the old or the new key accept it.
func ClearsignMulti(content []byte, signers ...*Signer) ([]byte, error) {
	// The signed text: lines without trailing spaces and tabs, joined with LF (the
	// text-mode signatures hash them with CRLF). The line ending before the signature
	// belongs to the framing (as gpg does it), so one final newline of content is not
	// part of the text and VerifyClearsigned returns exactly content.
	body := content
	if n := len(body); n > 0 && body[n-1] == '\n' {
		body = body[:n-1]
	}
	text := make([]byte, 0, len(body))
	out := bytes.NewBuffer(make([]byte, 0, len(body)+len(body)/64+1024))
	out.WriteString("-----BEGIN PGP SIGNED MESSAGE-----\nHash: " + signHashName + "\n\n")
	for i, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimRight(line, " \t\r")
		if i > 0 {
			text = append(text, '\n')
		}
		text = append(text, line...)
		if len(line) > 0 && line[0] == '-' {
			out.WriteString("- ") // dash-escape
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	sig, err := signAll(bytes.NewReader(text), packet.SigTypeText, signers)
	if err != nil {
		return nil, fmt.Errorf("pgp: clearsign: %w", err)
	}
	// Armored with the CRC-24 line: without it GnuPG 2.2 (bookworm's gpgv) reads the
	// END line as radix-64, says "no valid OpenPGP data found" and exits with status 2,
	// which apt treats as a failure.
	if err := writeArmored(out, openpgp.SignatureType, sig); err != nil {
		return nil, fmt.Errorf("pgp: clearsign: %w", err)
	}
	return out.Bytes(), nil
}

// signAll makes one signature of type sigType per signer over what r yields, reading
// r once, and returns the signature packets one after the other.
func signAll(r io.Reader, sigType packet.SignatureType, signers []*Signer) ([]byte, error) {
	if len(signers) == 0 {
		return nil, fmt.Errorf("%w: no signer", ErrNoSigningKey)
	}
	cfg := signConfig()
	now := cfg.Now()
	type job struct {
		sig  *packet.Signature
		h    hash.Hash
		priv *packet.PrivateKey
	}
	jobs := make([]job, 0, len(signers))
	writers := make([]io.Writer, 0, len(signers))
	for _, s := range signers {
		if s == nil {
			return nil, fmt.Errorf("%w: nil signer", ErrNoSigningKey)
		}
		priv, err := s.signingKey()
		if err != nil {
			return nil, err
		}
		pub := &priv.PublicKey
		sig := &packet.Signature{
			Version:           pub.Version,
			SigType:           sigType,
			PubKeyAlgo:        pub.PubKeyAlgo,
			Hash:              signHash,
			CreationTime:      now,
			IssuerKeyId:       &pub.KeyId,
			IssuerKeyVersion:  uint8(pub.Version),
			IssuerFingerprint: pub.Fingerprint,
		}
		h, err := sig.PrepareSign(cfg)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, job{sig, h, priv})
		if sigType == packet.SigTypeText {
			writers = append(writers, openpgp.NewCanonicalTextHash(h))
		} else {
			writers = append(writers, h)
		}
	}
	if _, err := io.Copy(io.MultiWriter(writers...), r); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	var out bytes.Buffer
	for _, j := range jobs {
		if err := j.sig.Sign(j.h, j.priv, cfg); err != nil {
			return nil, err
		}
		if err := j.sig.Serialize(&out); err != nil {
			return nil, err
		}
	}
	return out.Bytes(), nil
}

// writeArmored writes data as one armored block with the CRC-24 checksum line (GnuPG
// 2.2 wants it), no armor headers, and a final newline after the END line.
func writeArmored(w *bytes.Buffer, blockType string, data []byte) error {
	aw, err := armor.Encode(w, blockType, nil)
	if err != nil {
		return err
	}
	if _, err := aw.Write(data); err != nil {
		return err
	}
	if err := aw.Close(); err != nil {
		return err
	}
	w.WriteByte('\n')
	return nil
}

// DetachSign returns a detached binary-mode signature over everything read from r
// (Release.gpg, .json.gpg), ASCII-armored when armored is true, signed with SHA-512.
func (s *Signer) DetachSign(r io.Reader, armored bool) ([]byte, error) {
	return DetachSignMulti(r, armored, s)
}

// DetachSignMulti is DetachSign with one signature per signer, reading r once: during a
// key rotation, clients that trust either the old or the new key accept it.
func DetachSignMulti(r io.Reader, armored bool, signers ...*Signer) ([]byte, error) {
	sig, err := signAll(r, packet.SigTypeBinary, signers)
	if err != nil {
		return nil, fmt.Errorf("pgp: sign: %w", err)
	}
	if !armored {
		return sig, nil
	}
	var out bytes.Buffer
	if err := writeArmored(&out, openpgp.SignatureType, sig); err != nil {
		return nil, fmt.Errorf("pgp: sign: %w", err)
	}
	return out.Bytes(), nil
}

// PublicKey exports the public key: binary (what gpgv's --keyring, apt's signed-by .gpg
// files and MAAS keyring_data want) or armored (.asc).
func (s *Signer) PublicKey(armored bool) ([]byte, error) {
	return s.Keyring().Export(armored)
}

// ArmoredPrivateKey exports the private key, unencrypted, as an armored
// "PGP PRIVATE KEY BLOCK" that ReadSigner and `gpg --import` read. Keep it secret.
func (s *Signer) ArmoredPrivateKey() ([]byte, error) {
	var raw, out bytes.Buffer
	if err := s.entity.SerializePrivateWithoutSigning(&raw, signConfig()); err != nil {
		return nil, fmt.Errorf("pgp: export private key: %w", err)
	}
	if err := writeArmored(&out, openpgp.PrivateKeyType, raw.Bytes()); err != nil {
		return nil, fmt.Errorf("pgp: export private key: %w", err)
	}
	return out.Bytes(), nil
}

// ArmoredPrivateKeyWithPassphrase exports the private key like ArmoredPrivateKey, but
// encrypted with passphrase (iterated and salted S2K with SHA-256 and AES-256, which
// GnuPG 2.2 and later read). The signer itself stays usable.
func (s *Signer) ArmoredPrivateKeyWithPassphrase(passphrase []byte) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("%w: empty passphrase", ErrPassphrase)
	}
	// Encrypt a copy: encrypting in place would make this signer unable to sign.
	var raw bytes.Buffer
	if err := s.entity.SerializePrivateWithoutSigning(&raw, signConfig()); err != nil {
		return nil, fmt.Errorf("pgp: export private key: %w", err)
	}
	el, err := openpgp.ReadKeyRing(&raw)
	if err != nil || len(el) != 1 {
		return nil, fmt.Errorf("pgp: export private key: re-read: %v", err)
	}
	cfg := signConfig()
	cfg.DefaultCipher = packet.CipherAES256
	cfg.S2KConfig = &s2k.Config{S2KMode: s2k.IteratedSaltedS2K, Hash: crypto.SHA256, S2KCount: 16777216}
	if err := el[0].EncryptPrivateKeys(passphrase, cfg); err != nil {
		return nil, fmt.Errorf("pgp: encrypt private key: %w", err)
	}
	raw.Reset()
	if err := el[0].SerializePrivateWithoutSigning(&raw, cfg); err != nil {
		return nil, fmt.Errorf("pgp: export private key: %w", err)
	}
	var out bytes.Buffer
	if err := writeArmored(&out, openpgp.PrivateKeyType, raw.Bytes()); err != nil {
		return nil, fmt.Errorf("pgp: export private key: %w", err)
	}
	return out.Bytes(), nil
}

// Keyring returns a keyring holding this signer's public key, to verify what it signed.
func (s *Signer) Keyring() *Keyring {
	return &Keyring{entities: openpgp.EntityList{s.entity}}
}

// Fingerprint returns the upper-case hex fingerprint of the signer's primary key.
func (s *Signer) Fingerprint() string {
	return fingerprint(s.entity.PrimaryKey.Fingerprint)
}

// UserID returns the signer's primary user ID, "Name <email>".
func (s *Signer) UserID() string {
	if id := s.entity.PrimaryIdentity(); id != nil {
		return id.Name
	}
	return ""
}
