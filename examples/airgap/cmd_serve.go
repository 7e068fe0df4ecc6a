package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/site"
	"github.com/airgapkit/airgap/tlsutil"
)

func (a *app) serveCmd() *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve every published mirror over HTTP(S) to unmodified clients",
		Long: "Paths: /apt/<name>/, /simplestreams/<name>/, /pypi/<name>/simple/, /galaxy/<name>/api/,\n" +
			"/snaps/<name>/, /files/<name>/, /oci/<name>/ and the OCI registry API at /v2/.\n" +
			"With hosts: in the config the mirror is transparent: a request for one of those host\n" +
			"names, by its Host header (point DNS at the mirror: `airgap hosts`) or as a proxy\n" +
			"request (apt's Acquire::http::Proxy, http_proxy=), is answered at the upstream's own\n" +
			"paths; proxy requests for any other host are refused. Also /healthz and Prometheus\n" +
			"/metrics. TLS (tls: in the config) reloads renewed files.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, s, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if listen != "" {
				cfg.Listen = listen
			}
			srv := site.NewHTTPServer(site.NewServer(cfg, cfg.Env(s, nil, a.log)), cfg.Serve)
			srv.ErrorLog = slog.NewLogLogger(a.log.Handler(), slog.LevelDebug) // TLS handshake noise
			scheme := "http"
			if cfg.TLS != nil {
				rl, err := tlsutil.NewReloader(cfg.Path(cfg.TLS.Cert), cfg.Path(cfg.TLS.Key), tlsutil.ReloaderOptions{})
				if err != nil {
					return err
				}
				srv.TLSConfig = rl.ServerConfig()
				scheme = "https"
			}
			ln, err := net.Listen("tcp", cfg.Listen)
			if err != nil {
				return err
			}
			ln = site.Listen(ln, cfg.Serve)
			a.log.Info("serving", "url", scheme+"://"+ln.Addr().String(), "hosts", cfg.HostNames())
			return serveUntilDone(cmd.Context(), srv, ln, cfg.TLS != nil)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (default: the config's listen)")
	return cmd
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
