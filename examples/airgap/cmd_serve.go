package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/site"
	"github.com/airgapkit/airgap/snapproxy"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/tlsutil"
)

func (a *app) serveCmd() *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve every published mirror over HTTP(S) to unmodified clients",
		Long: "Paths: /apt/<name>/, /simplestreams/<name>/, /pypi/<name>/simple/, /galaxy/<name>/api/,\n" +
			"/snaps/<name>/ (also a Snap Store API snapd refreshes from), /files/<name>/, /oci/<name>/\n" +
			"and the OCI registry API at /v2/. A snaps mirror with connect: makes the mirror an HTTPS\n" +
			"proxy for api.snapcraft.io only (CONNECT, TLS from the local CA). For each snaps mirror\n" +
			"serve prints the commands that point a device's snapd at it.\n" +
			"With hosts: in the config the mirror is transparent: a request for one of those host\n" +
			"names, by its Host header (point DNS at the mirror: `airgap hosts`) or as a proxy\n" +
			"request (apt's Acquire::http::Proxy, http_proxy=), is answered at the upstream's own\n" +
			"paths; proxy requests for any other host are refused. Also the status page at / (what\n" +
			"each mirror holds, who signed it, until when it is fresh, how its last sync went, client\n" +
			"snippets), /status.json (the same, for scripts), /healthz and Prometheus /metrics.\n" +
			"TLS (tls: in the config) reloads renewed files. SIGHUP reads the config and the TLS\n" +
			"certificate again without dropping a connection (listen and serve: stay).",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, s, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if listen != "" {
				cfg.Listen = listen
			}
			// Every request logs a line: buffer them (a write per request would cost more
			// than serving a small file), flushed often and on the way out.
			logw := newFlushingWriter(cmd.ErrOrStderr(), 200*time.Millisecond)
			defer logw.Close()
			log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: a.level}))
			newServer := func(cfg *site.Config, s store.Store) *site.Server {
				srv := site.NewServer(cfg, cfg.Env(s, nil, log))
				srv.AccessLog = logw
				return srv
			}
			handler := site.NewSwapHandler(newServer(cfg, s))
			srv := site.NewHTTPServer(handler, cfg.Serve)
			srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelDebug) // TLS handshake noise
			scheme := "http"
			var rl *tlsutil.Reloader
			if cfg.TLS != nil {
				if rl, err = tlsutil.NewReloader(cfg.Path(cfg.TLS.Cert), cfg.Path(cfg.TLS.Key), tlsutil.ReloaderOptions{}); err != nil {
					return err
				}
				srv.TLSConfig = rl.ServerConfig()
				scheme = "https"
			}
			stopHUP := a.reloadOnHUP(handler, rl, newServer)
			defer stopHUP()
			ln, err := net.Listen("tcp", cfg.Listen)
			if err != nil {
				return err
			}
			ln = site.Listen(ln, cfg.Serve)
			a.log.Info("serving", "url", scheme+"://"+ln.Addr().String(), "hosts", cfg.HostNames())
			env := cfg.Env(s, nil, a.log)
			for _, m := range cfg.Mirrors.Snaps {
				d, err := m.DeviceSetup(cmd.Context(), s, env, scheme+"://"+ln.Addr().String())
				if err != nil {
					return err
				}
				printSnapDevices(cmd.OutOrStdout(), site.Ref(m), d, m.Connect)
			}
			return serveUntilDone(cmd.Context(), srv, ln, cfg.TLS != nil)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (default: the config's listen)")
	return cmd
}

// reloadOnHUP reads the config again on each SIGHUP and swaps the new mirrors and hosts
// in; requests in flight finish on the old ones, nothing is dropped. The TLS certificate
// is read again too. The listen address, serve: limits and tls: file names stay those
// of the start; a config that does not load is logged and the running one kept. The
// returned func stops listening for the signal.
func (a *app) reloadOnHUP(h *site.SwapHandler, rl *tlsutil.Reloader, newServer func(*site.Config, store.Store) *site.Server) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
			case <-done:
				return
			}
			cfg, err := a.config()
			if err == nil {
				var s store.Store
				if s, err = cfg.OpenStore(context.Background()); err == nil {
					h.Swap(newServer(cfg, s))
				}
			}
			if err == nil && rl != nil {
				err = rl.Reload()
			}
			if err != nil {
				a.log.Error("reload failed, serving on as before", "err", err)
				continue
			}
			a.log.Info("reloaded", "config", a.configPath, "mirrors", len(cfg.Mirrors.All()))
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}

// serveUntilDone serves until ctx ends, then shuts down gracefully.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, useTLS bool) error {
	errc := make(chan error, 1)
	go func() {
		if useTLS {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
		return err
	}
}

// flushingWriter buffers writes to w and flushes them every interval and on Close. Safe
// for concurrent use.
type flushingWriter struct {
	mu   sync.Mutex
	bw   *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

func newFlushingWriter(w io.Writer, every time.Duration) *flushingWriter {
	f := &flushingWriter{bw: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				f.mu.Lock()
				_ = f.bw.Flush()
				f.mu.Unlock()
			case <-f.stop:
				return
			}
		}
	}()
	return f
}

func (f *flushingWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bw.Write(p)
}

// Close stops the flusher and flushes what is left.
func (f *flushingWriter) Close() error {
	close(f.stop)
	<-f.done
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bw.Flush()
}

// printSnapDevices prints how devices point snapd at a snaps mirror.
func printSnapDevices(w io.Writer, ref string, d snapproxy.DeviceSetup, connect *site.SnapsConnect) {
	registered, proxy := d.Commands()
	fmt.Fprintf(w, "%s: snapd refreshes from %s; on a device, as root:\n", ref, d.StoreURL)
	if registered != nil {
		fmt.Fprintf(w, "  as the registered proxy store %s:\n", d.StoreID)
		for _, c := range registered {
			fmt.Fprintf(w, "    %s\n", c)
		}
	}
	if proxy != nil {
		fmt.Fprintf(w, "  through this mirror as HTTPS proxy (ca.pem: a copy of %s):\n", connect.CACert)
		for _, c := range proxy {
			fmt.Fprintf(w, "    %s\n", c)
		}
	}
	if registered == nil && proxy == nil {
		fmt.Fprintf(w, "  (no store_assertion published and no connect: configured: devices side-load %s/install.sh)\n", d.StoreURL)
	}
}
