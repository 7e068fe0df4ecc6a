// Command airgap mirrors, verifies, carries and serves everything an air-gapped MAAS,
// Kubernetes or OpenStack site needs, from one YAML config. Run `airgap demo` for a fully
// offline tour.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/site"
	"github.com/airgapkit/airgap/store"
)

// app carries what every command shares.
type app struct {
	configPath string
	logLevel   string
	level      slog.Level
	log        *slog.Logger
}

// optionalCommands are added by files built only with a build tag (demo).
var optionalCommands []func(*app) *cobra.Command

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "airgap:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	a := &app{}
	root := &cobra.Command{
		Use:           "airgap",
		Short:         "Mirror, verify, carry and serve software for air-gapped sites",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			a.level = level
			a.log = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			return nil
		},
	}
	root.PersistentFlags().StringVar(&a.configPath, "config", "airgap.yaml", "configuration file")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "info", "debug, info, warn or error")
	root.AddCommand(
		a.syncCmd(), a.serveCmd(), a.exportCmd(), a.importCmd(),
		a.keysCmd(), a.tlsCmd(), a.gcCmd(), a.verifyCmd(), a.statusCmd(), a.inventoryCmd(),
		a.maasCmd(), a.pushCmd(), a.hostsCmd(),
	)
	for _, c := range optionalCommands {
		root.AddCommand(c(a))
	}
	return root
}

// config loads the configuration file.
func (a *app) config() (*site.Config, error) { return site.Load(a.configPath) }

// open loads the configuration and opens its store.
func (a *app) open(ctx context.Context) (*site.Config, store.Store, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, nil, err
	}
	s, err := cfg.OpenStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	return cfg, s, nil
}

// withWriter loads the config, opens the store and holds its writer lock while fn runs.
func (a *app) withWriter(ctx context.Context, fn func(cfg *site.Config, s store.Store) error) error {
	cfg, s, err := a.open(ctx)
	if err != nil {
		return err
	}
	return site.WithWriter(ctx, s, func() { a.log.Info("waiting for another airgap process to release the store") },
		func() error { return fn(cfg, s) })
}

// syncWriter serialises writes to w: the logger and the progress lines share one output
// while mirrors sync at once, and not every writer (a buffer) is safe for that.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
