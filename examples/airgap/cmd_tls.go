package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/tlsutil"
)

func (a *app) tlsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tls", Short: "A local CA and server certificates for the mirror and MAAS"}

	var caDir, caName, caKey string
	ca := &cobra.Command{
		Use:   "ca --dir tls/ca",
		Short: "Create a local root CA (cert.pem, key.pem)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			kt, err := tlsutil.ParseKeyType(caKey)
			if err != nil {
				return err
			}
			c, err := tlsutil.NewCA(tlsutil.CAOptions{CommonName: caName, KeyType: kt})
			if err != nil {
				return err
			}
			if err := c.WriteFiles(caDir); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "CA %s\nSHA-256 fingerprint %s\nwritten to %s\n", c.Cert.Subject.CommonName, tlsutil.Fingerprint(c.Cert), caDir)
			return nil
		},
	}
	ca.Flags().StringVar(&caDir, "dir", "tls/ca", "directory for the CA files")
	ca.Flags().StringVar(&caName, "name", "", "CA common name")
	ca.Flags().StringVar(&caKey, "key-type", "rsa2048", "rsa2048, rsa3072 or ecdsa-p256")

	var issuer, out, leafKey string
	var dnsNames, ips []string
	var days int
	issue := &cobra.Command{
		Use:   "issue --dns mirror.internal --ip 10.0.0.5 [--dns ...] --out tls/server",
		Short: "Issue a server certificate with DNS and IP SANs (MAAS accepts RSA keys only)",
		Long: "Writes cert.pem, key.pem, chain.pem, fullchain.pem and combined.pem (cert+chain+key,\n" +
			"for HAProxy) to --out and prints the SHA-256 fingerprint as MAAS shows it.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			hosts := append(append([]string(nil), dnsNames...), ips...)
			if len(hosts) == 0 {
				return fmt.Errorf("give at least one --dns or --ip")
			}
			kt, err := tlsutil.ParseKeyType(leafKey)
			if err != nil {
				return err
			}
			c, err := tlsutil.LoadCA(filepath.Join(issuer, tlsutil.FileCert), filepath.Join(issuer, tlsutil.FileKey), optionalFile(filepath.Join(issuer, tlsutil.FileCA)))
			if err != nil {
				return fmt.Errorf("--ca %s: %w", issuer, err)
			}
			leaf, err := c.Issue(tlsutil.LeafOptions{Hosts: hosts, KeyType: kt, Validity: time.Duration(days) * 24 * time.Hour})
			if err != nil {
				return err
			}
			if err := leaf.WriteFiles(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "issued for %v, valid until %s\nSHA-256 fingerprint %s\nwritten to %s\n",
				hosts, leaf.Cert.NotAfter.Format(time.DateOnly), tlsutil.Fingerprint(leaf.Cert), out)
			return nil
		},
	}
	issue.Flags().StringVar(&issuer, "ca", "tls/ca", "directory holding the CA's cert.pem and key.pem")
	issue.Flags().StringVar(&out, "out", "tls/server", "output directory")
	issue.Flags().StringSliceVar(&dnsNames, "dns", nil, "DNS name SAN (repeatable)")
	issue.Flags().StringSliceVar(&ips, "ip", nil, "IP address SAN (repeatable)")
	issue.Flags().StringVar(&leafKey, "key-type", "rsa2048", "rsa2048, rsa3072 or ecdsa-p256")
	issue.Flags().IntVar(&days, "days", 397, "validity in days (at most 397)")
	cmd.AddCommand(ca, issue)
	return cmd
}

// optionalFile returns path when the file exists, else "".
func optionalFile(path string) string {
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return path
}
