//go:build demo

package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/galaxy/galaxytest"
	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/pypi/pypitest"
	"github.com/airgapkit/airgap/simplestreams/simplestreamstest"
	"github.com/airgapkit/airgap/site"
	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store/pgp"
)

// The demo links the test upstreams (apt/apttest and the like), so it is built only with
// -tags demo: the production binary carries no fakes.
func init() { optionalCommands = append(optionalCommands, (*app).demoCmd) }

func (a *app) demoCmd() *cobra.Command {
	var dir, listen string
	var noServe bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Fully offline tour: local upstreams of every kind -> sync -> bundle -> import -> serve",
		Long: "Starts local upstreams (an apt repository, a MAAS image stream, an OCI registry, a PyPI\n" +
			"index, a Galaxy server, a Snap Store and plain files) on 127.0.0.1, syncs them into an outside store,\n" +
			"exports a signed bundle, imports it into an inside store, serves that, and prints the\n" +
			"client commands (apt-get, pip, ansible-galaxy, skopeo, curl, gpgv) that work against it.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				d, err := os.MkdirTemp("", "airgap-demo-")
				if err != nil {
					return err
				}
				dir = d
			}
			d, err := startDemo(cmd.Context(), a, dir, listen, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			defer d.Close()
			d.printCommands(cmd.OutOrStdout())
			if noServe {
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\nServing the inside mirror at %s until Ctrl-C.\n", d.URL)
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "working directory (default: a new temporary directory)")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "where the inside mirror is served")
	cmd.Flags().BoolVar(&noServe, "no-serve", false, "exit after printing the commands")
	return cmd
}

// demo is a running demo: upstreams and the inside mirror's server.
type demo struct {
	Dir      string
	URL      string // the inside mirror
	Commands []demoCommand
	// ImageDigest is the upstream digest of the demo image, which the mirror keeps.
	ImageDigest string
	closers     []func()
}

// demoCommand is a client command that works against the inside mirror.
type demoCommand struct {
	What string
	Env  []string
	Argv []string
}

func (d *demo) Close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

// demoUpstreams are the local upstreams' addresses, filled into the config template.
type demoUpstreams struct {
	Apt, Streams, Registry, PyPI, Galaxy, Snaps, File string
}

const demoConfig = `# airgap demo: the same file drives both sides of the gap.
store: store
signing_key: {{.Keys}}/signing.asc
trusted_keys: [{{.Keys}}/signing.pub.asc]
listen: {{.Listen}}

apt:
  - name: demo
    url: {{.Up.Apt}}
    keyring: {{.Keys}}/upstream-apt.asc
    suites: [stable]
    components: [main]
    architectures: [amd64]
    filter: {packages: [hello], dependencies: true}

simplestreams:
  - name: maas
    url: {{.Up.Streams}}
    keyring: {{.Keys}}/upstream-images.gpg
    filters: ["release~(jammy|noble)", "arch=amd64"]
    max: 1

oci:
  - name: k8s
    images: [{{.Up.Registry}}/library/alpine:3.19, {{.Up.Registry}}/library/multi:1.0]
    registries: [{host: "{{.Up.Registry}}", plain_http: true}]

pypi:
  - name: python
    url: {{.Up.PyPI}}/simple/
    requirements: ["demo-app>=1.0"]

galaxy:
  - name: ansible
    url: {{.Up.Galaxy}}/api/
    collections: [{name: demo.tools}]

snaps:
  - name: maas
    url: {{.Up.Snaps}}
    trusted_keys: {{.Keys}}/upstream-snap-root.assert
    snaps: [{name: maas, channel: 3.5/stable}]
    architectures: [amd64]

files:
  - name: tools
    urls: ["{{.Up.File}}"]
`

// startDemo builds everything and returns once the inside mirror is serving.
func startDemo(ctx context.Context, a *app, dir, listen string, out io.Writer) (*demo, error) {
	out = &syncWriter{w: out} // the steps' logs and progress lines interleave
	d := &demo{Dir: dir}
	ok := false
	defer func() {
		if !ok {
			d.Close()
		}
	}()
	keys := filepath.Join(dir, "keys")
	if err := os.MkdirAll(keys, 0o755); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "airgap demo in %s\n\n1. local upstreams on 127.0.0.1\n", dir)
	up, err := d.startUpstreams(keys)
	if err != nil {
		return nil, err
	}

	operator, err := pgp.GenerateKey("airgap demo operator", "", pgp.KeyOptions{})
	if err != nil {
		return nil, err
	}
	if err := writeKeyFiles(operator, filepath.Join(keys, "signing.asc")); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w", listen, err)
	}
	d.closers = append(d.closers, func() { ln.Close() })
	d.URL = "http://" + ln.Addr().String()

	var cfgText strings.Builder
	tmpl := template.Must(template.New("cfg").Parse(demoConfig))
	if err := tmpl.Execute(&cfgText, map[string]any{"Keys": keys, "Listen": ln.Addr().String(), "Up": up}); err != nil {
		return nil, err
	}
	for _, side := range []string{"outside", "inside"} {
		if err := os.MkdirAll(filepath.Join(dir, side), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, side, "airgap.yaml"), []byte(cfgText.String()), 0o644); err != nil {
			return nil, err
		}
	}
	outside, inside := filepath.Join(dir, "outside", "airgap.yaml"), filepath.Join(dir, "inside", "airgap.yaml")
	bundleFile := filepath.Join(dir, "bundle.tar")

	steps := []struct {
		title string
		args  []string
	}{
		{"2. sync every mirror into the outside store", []string{"--config", outside, "sync"}},
		{"3. export a signed bundle", []string{"--config", outside, "export", "--out", bundleFile}},
		{"4. import it on the inside (verifies the signature and every blob)", []string{"--config", inside, "import", bundleFile}},
		{"5. what the inside publishes", []string{"--config", inside, "status"}},
	}
	for _, st := range steps {
		fmt.Fprintf(out, "\n%s\n   airgap %s\n", st.title, strings.Join(st.args, " "))
		root := newRoot()
		root.SetArgs(append([]string{"--log-level", a.logLevelOr("warn")}, st.args...))
		root.SetOut(out)
		root.SetErr(out)
		if err := root.ExecuteContext(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", st.title, err)
		}
	}

	cfg, err := site.Load(inside)
	if err != nil {
		return nil, err
	}
	s, err := cfg.OpenStore(ctx)
	if err != nil {
		return nil, err
	}
	srv := site.NewHTTPServer(site.NewServer(cfg, cfg.Env(s, nil, a.log)), cfg.Serve)
	go srv.Serve(ln)
	d.closers = append(d.closers, func() { srv.Close() })
	if d.Commands, err = demoCommands(d.URL, dir, keys, up); err != nil {
		return nil, err
	}
	ok = true
	return d, nil
}

// logLevelOr returns the --log-level given, or def when it was left at its default.
func (a *app) logLevelOr(def string) string {
	if a.logLevel == "" || a.logLevel == "info" {
		return def
	}
	return a.logLevel
}

// startUpstreams starts one local upstream of every kind, writes the upstream keys the
// config names, and returns their addresses.
func (d *demo) startUpstreams(keys string) (demoUpstreams, error) {
	var up demoUpstreams
	serve := func(h http.Handler) string {
		s := httptest.NewServer(h)
		d.closers = append(d.closers, s.Close)
		return s.URL
	}

	archiveKey, err := pgp.GenerateKey("Demo Archive Automatic Signing Key", "", pgp.KeyOptions{})
	if err != nil {
		return up, err
	}
	repo, err := apttest.Build(apttest.Options{Suites: []string{"stable"}, Signer: archiveKey, ByHash: true}, []apttest.Package{
		{Name: "hello", Version: "2.10-3", Depends: "libhello (>= 1.0)", Description: "the classic greeting"},
		{Name: "libhello", Version: "1.1-1", Section: "libs"},
		{Name: "unwanted", Version: "9.9-1"},
	})
	if err != nil {
		return up, err
	}
	up.Apt = serve(apttest.NewServer(repo))
	if err := writePublicKey(archiveKey, filepath.Join(keys, "upstream-apt.asc"), true); err != nil {
		return up, err
	}

	streams, err := simplestreamstest.New(simplestreamstest.Options{})
	if err != nil {
		return up, err
	}
	up.Streams = serve(streams) + "/"
	if err := os.WriteFile(filepath.Join(keys, "upstream-images.gpg"), streams.Keyring(), 0o644); err != nil {
		return up, err
	}

	reg, err := ocitest.Start()
	if err != nil {
		return up, err
	}
	d.closers = append(d.closers, reg.Close)
	up.Registry = reg.Host
	d.ImageDigest = reg.Content["library/alpine:3.19"].Digest

	lib1 := pypitest.BuildWheel(pypitest.WheelSpec{Name: "demo-lib", Version: "1.0"})
	lib2 := pypitest.BuildWheel(pypitest.WheelSpec{Name: "demo-lib", Version: "1.1"})
	app := pypitest.BuildWheel(pypitest.WheelSpec{Name: "demo-app", Version: "1.0", RequiresDist: []string{"demo-lib>=1.1"}})
	up.PyPI = serve(pypitest.New(
		pypitest.Project{Name: "demo-app", Dists: []pypitest.Dist{app}},
		pypitest.Project{Name: "demo-lib", Dists: []pypitest.Dist{lib1, lib2}},
	))

	gal := galaxytest.New(galaxytest.Options{})
	gal.AddCollection(galaxytest.Collection{Namespace: "demo", Name: "base", Version: "1.0.0"})
	gal.AddCollection(galaxytest.Collection{Namespace: "demo", Name: "tools", Version: "1.0.0", Dependencies: map[string]string{"demo.base": ">=1.0.0"}})
	gal.AddCollection(galaxytest.Collection{Namespace: "demo", Name: "tools", Version: "1.1.0", Dependencies: map[string]string{"demo.base": ">=1.0.0"}})
	galURL, stop := gal.Start()
	d.closers = append(d.closers, stop)
	up.Galaxy = strings.TrimSuffix(galURL, "/")

	snaps := snapproxytest.New(snapproxytest.Options{})
	snaps.AddDemo()
	d.closers = append(d.closers, snaps.Close)
	up.Snaps = snaps.URL()
	if err := os.WriteFile(filepath.Join(keys, "upstream-snap-root.assert"), snaps.TrustedKeys(), 0o644); err != nil {
		return up, err
	}

	file := filepath.Join(d.Dir, "upstream-files", "install-notes.txt")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return up, err
	}
	notes := []byte("Carried across the gap by airgap.\n")
	if err := os.WriteFile(file, notes, 0o644); err != nil {
		return up, err
	}
	up.File = fmt.Sprintf("%s?checksum=sha256:%x", file, sha256.Sum256(notes))
	return up, nil
}

func writePublicKey(s *pgp.Signer, path string, armored bool) error {
	b, err := s.PublicKey(armored)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// demoCommands are the real-client commands that work against the inside mirror.
func demoCommands(base, dir, keys string, up demoUpstreams) ([]demoCommand, error) {
	host := strings.TrimPrefix(base, "http://")
	// An isolated apt: nothing of the host's /etc/apt leaks in.
	aptEnv, err := apttest.ClientConfig(filepath.Join(dir, "apt-client"),
		fmt.Sprintf("deb [signed-by=%s] %s/apt/demo stable main", filepath.Join(keys, "signing.pub.asc"), base))
	if err != nil {
		return nil, err
	}
	ansibleHome := filepath.Join(dir, "ansible-home")
	return []demoCommand{
		{"apt: update from the re-signed mirror (signed-by the operator key)", aptEnv, []string{"apt-get", "update"}},
		{"apt: the candidate comes from the mirror", aptEnv, []string{"apt-cache", "policy", "hello"}},
		{"apt: fetch hello and its dependency", aptEnv, []string{"apt-get", "install", "--download-only", "-y", "hello"}},
		{"pip: install with the dependency the mirror followed", nil, []string{"pip", "--isolated", "--disable-pip-version-check", "install",
			"--index-url", base + "/pypi/python/simple/", "--no-cache-dir", "--target", filepath.Join(dir, "pip-target"), "demo-app"}},
		{"ansible-galaxy: install a collection and its dependency", []string{"HOME=" + ansibleHome, "ANSIBLE_CONFIG=" + filepath.Join(ansibleHome, "none.cfg")},
			[]string{"ansible-galaxy", "collection", "install", "-s", base + "/galaxy/ansible/api/", "demo.tools", "-p", filepath.Join(dir, "collections")}},
		{"skopeo: the image digest is the upstream's", nil, []string{"skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + host + "/" + strings.ReplaceAll(up.Registry, ":", "-") + "/library/alpine:3.19"}},
		{"MAAS images: the re-signed index (MAAS verifies it with keys/signing.pub.gpg)", nil,
			[]string{"curl", "-fsS", "-o", filepath.Join(dir, "index.sjson"), base + "/simplestreams/maas/streams/v1/index.sjson"}},
		{"MAAS images: gpgv accepts it", nil, []string{"gpgv", "--keyring", filepath.Join(keys, "signing.pub.gpg"), filepath.Join(dir, "index.sjson")}},
		{"snaps: the offline install script (snap ack, then snap install, snapd and bases first)", nil,
			[]string{"curl", "-fsS", base + "/snaps/maas/install.sh"}},
		{"files: plain downloads", nil, []string{"curl", "-fsS", base + "/files/tools/install-notes.txt"}},
	}, nil
}

func (d *demo) printCommands(w io.Writer) {
	fmt.Fprintf(w, "\n6. real clients against the inside mirror (%s):\n", d.URL)
	for _, c := range d.Commands {
		fmt.Fprintf(w, "\n   # %s\n   %s\n", c.What, shellLine(c.Env, c.Argv))
	}
}

// shellLine quotes a command for copying into a shell.
func shellLine(env, argv []string) string {
	parts := make([]string, 0, len(env)+len(argv))
	for _, s := range append(append([]string(nil), env...), argv...) {
		if strings.ContainsAny(s, " \"'$&|;<>()*?[]#~`\\") {
			s = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}
