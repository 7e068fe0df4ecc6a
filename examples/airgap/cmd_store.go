package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/s3"
)

// openStore opens the store a config names: a directory (the embedded default), or
// s3://bucket/prefix?endpoint=host:port[&region=r][&insecure=true] with credentials from
// the environment or ~/.aws/credentials.
func openStore(ctx context.Context, cfg *Config) (store.Store, error) {
	if strings.HasPrefix(cfg.Store, "s3://") {
		sc, err := s3.ParseURL(cfg.Store)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return s3.Open(ctx, sc)
	}
	if strings.Contains(cfg.Store, "://") {
		return nil, fmt.Errorf("store %q: want a directory or an s3:// URL", cfg.Store)
	}
	return store.Open(cfg.path(cfg.Store))
}

// withWriter loads the config, opens the store and holds its writer lock while fn runs.
func (a *app) withWriter(ctx context.Context, fn func(cfg *Config, s store.Store) error) error {
	cfg, err := loadConfig(a.configPath)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	unlock, err := s.TryLock(ctx)
	if errors.Is(err, store.ErrLocked) {
		a.log.Info("waiting for another airgap process to release the store")
		unlock, err = s.Lock(ctx)
	}
	if err != nil {
		return err
	}
	defer unlock()
	return fn(cfg, s)
}

func (a *app) gcCmd() *cobra.Command {
	var dryRun bool
	var keep int
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Delete blobs that no kept snapshot references",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withWriter(cmd.Context(), func(cfg *Config, s store.Store) error {
				if !cmd.Flags().Changed("keep") {
					keep = cfg.Keep
				}
				st, err := store.GC(cmd.Context(), s, store.GCOptions{Keep: keep, DryRun: dryRun, PartialsOlderThan: 7 * 24 * time.Hour})
				if err != nil {
					return err
				}
				verb := "removed"
				if dryRun {
					verb = "would remove"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "kept %d blobs (%s), %s %d blobs (%s), %d stale partial uploads\n",
					st.Kept, humanBytes(st.KeptBytes), verb, st.Removed, humanBytes(st.RemovedBytes), st.Partials)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only count what would be removed")
	cmd.Flags().IntVar(&keep, "keep", 0, "generations to keep per mirror (default: the config's keep; 0 = all)")
	return cmd
}

func (a *app) verifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Re-hash every blob in the store and report any that no longer match their name",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(a.configPath)
			if err != nil {
				return err
			}
			s, err := openStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			n, bad, err := verifyStore(cmd.Context(), s, func(d store.Digest, err error) {
				fmt.Fprintf(cmd.OutOrStdout(), "CORRUPT %s: %v\n", d, err)
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d blobs checked, %d corrupt\n", n, bad)
			if bad > 0 {
				return fmt.Errorf("%d corrupt blobs", bad)
			}
			return nil
		},
	}
}

// verifyStore re-hashes every blob; report is called for each one that does not match.
func verifyStore(ctx context.Context, s store.Store, report func(store.Digest, error)) (checked, bad int, err error) {
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

func (a *app) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show each mirror's published snapshot: when, how many files, how large",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(a.configPath)
			if err != nil {
				return err
			}
			s, err := openStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return printStatus(cmd.Context(), cmd.OutOrStdout(), cfg, s)
		},
	}
}

func printStatus(ctx context.Context, w io.Writer, cfg *Config, s store.Store) error {
	refs, err := s.Refs(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, c := range cfg.Mirrors.all() {
		seen[ref(c)] = true
		if !slices.Contains(refs, ref(c)) {
			refs = append(refs, ref(c))
		}
	}
	sort.Strings(refs)
	fmt.Fprintf(w, "%-28s %-20s %8s %10s %s\n", "MIRROR", "PUBLISHED", "FILES", "SIZE", "GENERATIONS")
	for _, r := range refs {
		snap, g, err := store.OpenPublished(ctx, s, r)
		if errors.Is(err, store.ErrNotFound) {
			fmt.Fprintf(w, "%-28s %-20s\n", r, "never synced")
			continue
		}
		if err != nil {
			return err
		}
		hist, err := store.History(ctx, s, r, 0)
		if err != nil {
			return err
		}
		note := ""
		if !seen[r] {
			note = " (not in config)"
		}
		fmt.Fprintf(w, "%-28s %-20s %8d %10s %d%s\n", r, g.Published.Format("2006-01-02 15:04:05"), len(snap.Files), humanBytes(snap.Size()), len(hist), note)
	}
	return nil
}
