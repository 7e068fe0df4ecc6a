package site

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
	"github.com/airgapkit/airgap/store/s3"
)

// OpenStore opens the store a location names: a directory (the embedded default), or
// s3://bucket/prefix?endpoint=host:port[&region=r][&insecure=true] with credentials from
// the environment or ~/.aws/credentials.
func OpenStore(ctx context.Context, location string) (store.Store, error) {
	if strings.HasPrefix(location, "s3://") {
		sc, err := s3.ParseURL(location)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return s3.Open(ctx, sc)
	}
	if strings.Contains(location, "://") {
		return nil, fmt.Errorf("%w: store %q: want a directory or an s3:// URL", store.ErrConfig, location)
	}
	return store.Open(location)
}

// OpenStore opens the config's store (a relative directory is relative to the config).
func (c *Config) OpenStore(ctx context.Context) (store.Store, error) {
	return OpenStore(ctx, c.StoreLocation())
}

// StoreLocation is the store's directory (resolved against the config) or its URL.
func (c *Config) StoreLocation() string {
	if strings.Contains(c.Store, "://") {
		return c.Store
	}
	return c.Path(c.Store)
}

// LoadSigner reads the operator key named by signing_key (its passphrase, if any, from
// $AIRGAP_KEY_PASSPHRASE); nil when none is configured.
func (c *Config) LoadSigner() (*pgp.Signer, error) {
	if c.SigningKey == "" {
		return nil, nil
	}
	s, err := pgp.LoadSigner(c.Path(c.SigningKey), []byte(os.Getenv("AIRGAP_KEY_PASSPHRASE")))
	if err != nil {
		return nil, fmt.Errorf("signing_key: %w", err)
	}
	return s, nil
}

// ImportKeyring is the keyring an import checks bundles against: the files given, else
// the config's trusted_keys, else signing_key's public key; nil when there is none.
func (c *Config) ImportKeyring(files ...string) (*pgp.Keyring, error) {
	paths := files
	if len(paths) == 0 {
		for _, p := range c.TrustedKeys {
			paths = append(paths, c.Path(p))
		}
	}
	if len(paths) > 0 {
		return pgp.LoadKeyrings(paths...)
	}
	signer, err := c.LoadSigner()
	if err != nil || signer == nil {
		return nil, err
	}
	return signer.Keyring(), nil
}

// WithWriter runs fn holding s's writer lock, waiting for another writer (and saying so
// through wait, when set) if the store is locked.
func WithWriter(ctx context.Context, s store.Store, wait func(), fn func() error) error {
	unlock, err := s.TryLock(ctx)
	if errors.Is(err, store.ErrLocked) {
		if wait != nil {
			wait()
		}
		unlock, err = s.Lock(ctx)
	}
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

// Verify re-hashes every blob of s; report is called for each one that does not match its
// name. It returns how many blobs were checked and how many were bad.
func Verify(ctx context.Context, s store.Store, report func(store.Digest, error)) (checked, bad int, err error) {
	err = s.Walk(ctx, func(b store.BlobInfo) error {
		checked++
		r, err := s.Open(ctx, b.Digest)
		if err != nil {
			bad++
			report(b.Digest, err)
			return nil
		}
		defer r.Close()
		h := sha256.New()
		if _, err := io.Copy(h, store.ContextReader(ctx, r)); err != nil {
			return err
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != b.Digest.Hex() {
			bad++
			report(b.Digest, fmt.Errorf("%w: content hashes to sha256:%s", store.ErrDigestMismatch, got))
		}
		return nil
	})
	return checked, bad, err
}
