package pgp

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/airgapkit/airgap/store"
)

// MaxKeyringSize caps how many bytes ReadKeyring and ReadSigner read. Debian's whole
// archive keyring is well under 100 KiB; the cap only stops a runaway input.
const MaxKeyringSize = 32 << 20

// Keyring is a set of OpenPGP public keys (certificates) that signatures are verified
// against. It is safe for concurrent use once built.
type Keyring struct {
	entities openpgp.EntityList
}

// ReadKeyring reads a keyring: binary (as `gpg --export` and Debian's
// /usr/share/keyrings/*.gpg) or ASCII-armored (one or several
// "PGP PUBLIC KEY BLOCK"s, as .asc files), holding one key or several. Keys of
// algorithms this package cannot use are skipped as long as at least one key is readable.
// Errors satisfy errors.Is(err, ErrKeyring).
func ReadKeyring(r io.Reader) (*Keyring, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxKeyringSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyring, err)
	}
	if len(data) > MaxKeyringSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrKeyring, MaxKeyringSize)
	}
	el, err := readEntities(data)
	if err != nil {
		return nil, err
	}
	return &Keyring{entities: el}, nil
}

// LoadKeyring reads the keyring file at path (see ReadKeyring).
func LoadKeyring(path string) (*Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyring, err)
	}
	defer f.Close()
	k, err := ReadKeyring(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadKeyrings reads several keyring files and merges them into one, as apt does with
// the files of /usr/share/keyrings or trusted.gpg.d.
func LoadKeyrings(paths ...string) (*Keyring, error) {
	var all []*Keyring
	for _, p := range paths {
		k, err := LoadKeyring(p)
		if err != nil {
			return nil, err
		}
		all = append(all, k)
	}
	return MergeKeyrings(all...), nil
}

// MergeKeyrings returns a keyring holding the keys of all the given keyrings. Nil
// keyrings are ignored.
func MergeKeyrings(keyrings ...*Keyring) *Keyring {
	out := &Keyring{}
	for _, k := range keyrings {
		if k != nil {
			out.entities = append(out.entities, k.entities...)
		}
	}
	return out
}

// Len returns the number of keys (primary keys with their subkeys) in the keyring.
func (k *Keyring) Len() int {
	if k == nil {
		return 0
	}
	return len(k.entities)
}

// Fingerprints returns the upper-case hex fingerprints of the primary keys, in order.
func (k *Keyring) Fingerprints() []string {
	if k == nil {
		return nil
	}
	out := make([]string, 0, len(k.entities))
	for _, e := range k.entities {
		out = append(out, fingerprint(e.PrimaryKey.Fingerprint))
	}
	return out
}

// Export writes the public keys of the keyring, binary (for gpgv, sqv and MAAS
// keyring_data) or armored. Private key material is never written.
func (k *Keyring) Export(armored bool) ([]byte, error) {
	var raw bytes.Buffer
	if k != nil {
		for _, e := range k.entities {
			if err := e.Serialize(&raw); err != nil {
				return nil, fmt.Errorf("pgp: export key %s: %w", fingerprint(e.PrimaryKey.Fingerprint), err)
			}
		}
	}
	if !armored {
		return raw.Bytes(), nil
	}
	var out bytes.Buffer
	if err := writeArmored(&out, openpgp.PublicKeyType, raw.Bytes()); err != nil {
		return nil, fmt.Errorf("pgp: export: %w", err)
	}
	return out.Bytes(), nil
}

// Digest identifies the keyring's content: the sha256 of its public keys, each as
// exported, in fingerprint order. A key added, removed, revoked, re-signed or given a new
// expiry changes it; the order of the keys in a file does not. Mirrors record it as the
// keyring's trust root (store.Trust.WithRoot).
func (k *Keyring) Digest() (store.Digest, error) {
	var ents []*openpgp.Entity
	if k != nil {
		ents = slices.Clone(k.entities)
	}
	slices.SortFunc(ents, func(a, b *openpgp.Entity) int {
		return bytes.Compare(a.PrimaryKey.Fingerprint, b.PrimaryKey.Fingerprint)
	})
	var raw bytes.Buffer
	for _, e := range ents {
		if err := e.Serialize(&raw); err != nil {
			return "", fmt.Errorf("pgp: digest of key %s: %w", fingerprint(e.PrimaryKey.Fingerprint), err)
		}
	}
	return store.DigestOf(raw.Bytes()), nil
}

func fingerprint(fp []byte) string { return strings.ToUpper(hex.EncodeToString(fp)) }

var armorPrefix = []byte("-----BEGIN PGP ")

// readEntities parses binary or armored key material (public or private).
func readEntities(data []byte) (openpgp.EntityList, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrKeyring)
	}
	if bytes.HasPrefix(trimmed, []byte("KBXf")) || (len(trimmed) > 12 && bytes.Equal(trimmed[8:12], []byte("KBXf"))) {
		return nil, fmt.Errorf("%w: GnuPG keybox format; export it with gpg --export", ErrKeyring)
	}
	// A binary OpenPGP packet starts with a byte with the high bit set; anything else
	// is taken as armored text, possibly with comment lines before the BEGIN line (as
	// in .asc files published on web pages).
	if trimmed[0]&0x80 != 0 {
		return readBinaryEntities(bytes.NewReader(data))
	}
	// One or several armored blocks, possibly with text between them.
	var all openpgp.EntityList
	r := bufio.NewReader(bytes.NewReader(trimmed))
	for {
		block, err := armor.Decode(r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if len(all) > 0 {
				break // trailing text after the last block
			}
			return nil, fmt.Errorf("%w: armor: %w", ErrKeyring, err)
		}
		if block.Type != openpgp.PublicKeyType && block.Type != openpgp.PrivateKeyType {
			return nil, fmt.Errorf("%w: armored block %q is not a key", ErrKeyring, block.Type)
		}
		body, err := io.ReadAll(block.Body)
		if err != nil {
			return nil, fmt.Errorf("%w: armor: %w", ErrKeyring, err)
		}
		el, err := readBinaryEntities(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		all = append(all, el...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: no key found", ErrKeyring)
	}
	return all, nil
}

func readBinaryEntities(r io.Reader) (el openpgp.EntityList, err error) {
	defer func() {
		// The parser is meant never to panic; this is a last line of defence so that
		// bad input is an error, never a crash.
		if p := recover(); p != nil {
			el, err = nil, fmt.Errorf("%w: parser failure: %v", ErrKeyring, p)
		}
	}()
	el, err = openpgp.ReadKeyRing(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyring, err)
	}
	if len(el) == 0 {
		return nil, fmt.Errorf("%w: no key found", ErrKeyring)
	}
	return el, nil
}
