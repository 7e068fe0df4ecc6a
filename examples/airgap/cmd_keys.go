package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/store/pgp"
	"github.com/airgapkit/airgap/tlsutil"
)

func (a *app) keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Operator signing keys"}
	var out, name, email string
	var rsaBits int
	gen := &cobra.Command{
		Use:   "generate --out keys/signing.asc",
		Short: "Generate an operator key (Ed25519, or RSA with --rsa 4096)",
		Long: "Writes the armored private key to --out (mode 0600), and the public key next to it\n" +
			"as .pub.asc (armored, for apt signed-by) and .pub.gpg (binary, for gpgv and MAAS).",
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := pgp.GenerateKey(name, email, pgp.KeyOptions{RSABits: rsaBits})
			if err != nil {
				return err
			}
			if err := writeKeyFiles(s, out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key %s written to %s\n", s.Fingerprint(), out)
			return nil
		},
	}
	gen.Flags().StringVar(&out, "out", "keys/signing.asc", "private key file")
	gen.Flags().StringVar(&name, "name", "airgap mirror signing key", "user ID name")
	gen.Flags().StringVar(&email, "email", "", "user ID email")
	gen.Flags().IntVar(&rsaBits, "rsa", 0, "RSA key size instead of Ed25519 (e.g. 4096)")
	cmd.AddCommand(gen)
	return cmd
}

// writeKeyFiles writes the private key and both forms of the public key.
func writeKeyFiles(s *pgp.Signer, out string) error {
	priv, err := s.ArmoredPrivateKey()
	if err != nil {
		return err
	}
	armored, err := s.PublicKey(true)
	if err != nil {
		return err
	}
	binary, err := s.PublicKey(false)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	base := strings.TrimSuffix(out, filepath.Ext(out))
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{out, priv, 0o600}, {base + ".pub.asc", armored, 0o644}, {base + ".pub.gpg", binary, 0o644}} {
		if err := tlsutil.WriteFileAtomic(f.path, f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}
