//go:build demo

package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/galaxy/galaxytest"
	"github.com/airgapkit/airgap/helm/helmtest"
	"github.com/airgapkit/airgap/internal/reqcount"
	"github.com/airgapkit/airgap/oci/ocitest"
	"github.com/airgapkit/airgap/pypi/pypitest"
	"github.com/airgapkit/airgap/rpm/rpmtest"
	"github.com/airgapkit/airgap/simplestreams/simplestreamstest"
	"github.com/airgapkit/airgap/site"
	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store/pgp"
)

// The demo links the test upstreams (apt/apttest and the like), so it is built only with
// -tags demo: the production binary carries no fakes.
func init() { optionalCommands = append(optionalCommands, (*app).demoCmd) }

func (a *app) demoCmd() *cobra.Command {
	var dir, listen, size string
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
			sz, ok := demoSizes[size]
			if !ok {
				return fmt.Errorf("--size %q: want tour or site", size)
			}
			d, err := startDemo(cmd.Context(), a, dir, listen, sz, cmd.OutOrStdout())
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
	cmd.Flags().StringVar(&size, "size", "tour", "tour (every kind once) or site (the site bench/site.sh measures: 3 apt suites, 20 images, 30 PyPI requirements, 5 collections, 3 snaps, rpm, helm)")
	return cmd
}

// demo is a running demo: upstreams and the inside mirror's server.
type demo struct {
	Dir      string
	URL      string // the inside mirror
	Commands []demoCommand
	// ImageDigest is the upstream digest of the demo image, which the mirror keeps.
	ImageDigest string
	// RequestsURL answers each GET with the requests every upstream served since the
	// previous one: lines "UPSTREAM REQUESTS PATH".
	RequestsURL string
	counted     []countedUpstream
	closers     []func()
}

// countedUpstream is one upstream's request counts.
type countedUpstream struct {
	name string
	take func() []reqcount.Count
}

// demoSize is how much the upstreams hold and the config asks for.
type demoSize struct {
	Suites      []string // apt suites, each with hello's closure and AptFiller packages beside it
	AptFiller   int
	Images      int // generated OCI images beside alpine and multi
	Projects    int // generated PyPI projects (pypitest.Closure) required beside demo-app
	Collections int // Galaxy collections required
	Snaps       []demoSnap
	Files       int
	RPM, Helm   bool
}

type demoSnap struct{ Name, Channel string }

// demoSizes: the tour shows every kind once; site is the site of issue #20, measured by
// bench/site.sh.
var demoSizes = map[string]demoSize{
	"tour": {Suites: []string{"stable"}, Collections: 1, Snaps: []demoSnap{{"maas", "3.5/stable"}}, Files: 1},
	"site": {Suites: []string{"stable", "testing", "unstable"}, AptFiller: 200, Images: 18, Projects: 29, Collections: 5,
		Snaps: []demoSnap{{"maas", "3.5/stable"}, {"hello", "latest/stable"}, {"lxd", "5.21/stable"}}, Files: 5, RPM: true, Helm: true},
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
	Apt, Streams, Registry, PyPI, Galaxy, Snaps, RPM, Helm string
	Suites                                                 []string
	Images, Requirements, Collections, Files               []string
	SnapList                                               []demoSnap
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
    suites: [{{range $i, $s := .Up.Suites}}{{if $i}}, {{end}}{{$s}}{{end}}]
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
    images: [{{range $i, $s := .Up.Images}}{{if $i}}, {{end}}{{$s}}{{end}}]
    registries: [{host: "{{.Up.Registry}}", plain_http: true}]

pypi:
  - name: python
    url: {{.Up.PyPI}}/simple/
    requirements: [{{range $i, $s := .Up.Requirements}}{{if $i}}, {{end}}"{{$s}}"{{end}}]

galaxy:
  - name: ansible
    url: {{.Up.Galaxy}}/api/
    collections: [{{range $i, $s := .Up.Collections}}{{if $i}}, {{end}}{name: {{$s}}}{{end}}]

snaps:
  - name: maas
    url: {{.Up.Snaps}}
    trusted_keys: {{.Keys}}/upstream-snap-root.assert
    snaps: [{{range $i, $s := .Up.SnapList}}{{if $i}}, {{end}}{name: {{$s.Name}}, channel: {{$s.Channel}}}{{end}}]
    architectures: [amd64]

files:
  - name: tools
    urls: [{{range $i, $s := .Up.Files}}{{if $i}}, {{end}}"{{$s}}"{{end}}]
{{- if .Up.RPM}}

rpm:
  - name: rocky
    url: {{.Up.RPM}}/
    repos: [BaseOS/x86_64/os, AppStream/x86_64/os]
    keyring: {{.Keys}}/upstream-rpm.asc
    filter: {packages: [httpd], dependencies: true}
{{- end}}
{{- if .Up.Helm}}

helm:
  - name: charts
    url: {{.Up.Helm}}
    keyring: {{.Keys}}/upstream-helm.gpg
    required: true
    charts: [{name: app, version: ">=0.0.0"}]
{{- end}}
`

// startDemo builds everything and returns once the inside mirror is serving.
func startDemo(ctx context.Context, a *app, dir, listen string, size demoSize, out io.Writer) (*demo, error) {
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
	up, err := d.startUpstreams(ctx, keys, size)
	if err != nil {
		return nil, err
	}
	d.RequestsURL = d.serveRequestCounts()
	fmt.Fprintf(out, "   requests each upstream served (every GET: since the last): %s\n", d.RequestsURL)

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

// startUpstreams starts one local upstream of every kind, holding what size asks for,
// writes the upstream keys the config names, and returns their addresses. Each upstream
// counts the requests it serves (RequestsURL).
func (d *demo) startUpstreams(ctx context.Context, keys string, size demoSize) (demoUpstreams, error) {
	up := demoUpstreams{Suites: size.Suites}
	serve := func(name string, h http.Handler) string {
		counts := &reqcount.Paths{}
		d.counted = append(d.counted, countedUpstream{name, counts.Take})
		s := httptest.NewServer(counts.Wrap(h))
		d.closers = append(d.closers, s.Close)
		return s.URL
	}

	archiveKey, err := pgp.GenerateKey("Demo Archive Automatic Signing Key", "", pgp.KeyOptions{})
	if err != nil {
		return up, err
	}
	var debs []apttest.Package
	for _, suite := range size.Suites {
		debs = append(debs,
			apttest.Package{Name: "hello", Version: "2.10-3", Depends: "libhello (>= 1.0)", Description: "the classic greeting", Suite: suite},
			apttest.Package{Name: "libhello", Version: "1.1-1", Section: "libs", Suite: suite},
			apttest.Package{Name: "unwanted", Version: "9.9-1", Suite: suite})
		for i := range size.AptFiller {
			debs = append(debs, apttest.Package{Name: fmt.Sprintf("filler%04d", i), Version: "1.0-1", Suite: suite})
		}
	}
	repo, err := apttest.Build(apttest.Options{Suites: size.Suites, Signer: archiveKey, ByHash: true}, debs)
	if err != nil {
		return up, err
	}
	up.Apt = serve("apt", apttest.NewServer(repo))
	if err := writePublicKey(archiveKey, filepath.Join(keys, "upstream-apt.asc"), true); err != nil {
		return up, err
	}

	streams, err := simplestreamstest.New(simplestreamstest.Options{})
	if err != nil {
		return up, err
	}
	up.Streams = serve("simplestreams", streams) + "/"
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
	up.Images = []string{reg.Ref("library/alpine:3.19"), reg.Ref("library/multi:1.0")}
	for i := range size.Images {
		repoName := fmt.Sprintf("site/img%02d", i+1)
		im := ocitest.Image(ocitest.ImageSpec{Seed: uint64(1000 + i), Layers: 2, LayerSize: 16 << 10})
		if err := ocitest.Push(ctx, reg.Server.Client(), reg.Server.URL, repoName, "1", im); err != nil {
			return up, err
		}
		up.Images = append(up.Images, reg.Ref(repoName+":1"))
	}
	reg.Requests() // the pushes
	d.counted = append(d.counted, countedUpstream{"oci", func() []reqcount.Count {
		var counts reqcount.Paths
		for _, r := range reg.Requests() {
			_, p, _ := strings.Cut(r, " ")
			counts.Add(p)
		}
		return counts.Take()
	}})

	lib1 := pypitest.BuildWheel(pypitest.WheelSpec{Name: "demo-lib", Version: "1.0"})
	lib2 := pypitest.BuildWheel(pypitest.WheelSpec{Name: "demo-lib", Version: "1.1"})
	app := pypitest.BuildWheel(pypitest.WheelSpec{Name: "demo-app", Version: "1.0", RequiresDist: []string{"demo-lib>=1.1"}})
	projects := append([]pypitest.Project{
		{Name: "demo-app", Dists: []pypitest.Dist{app}},
		{Name: "demo-lib", Dists: []pypitest.Dist{lib1, lib2}},
	}, pypitest.Closure(size.Projects)...)
	up.Requirements = []string{"demo-app>=1.0"}
	for _, p := range projects[2:] {
		up.Requirements = append(up.Requirements, p.Name)
	}
	up.PyPI = serve("pypi", pypitest.New(projects...))

	gal := galaxytest.New(galaxytest.Options{})
	gal.AddCollection(galaxytest.Collection{Namespace: "demo", Name: "base", Version: "1.0.0"})
	gal.AddCollection(galaxytest.Collection{Namespace: "demo", Name: "tools", Version: "1.0.0", Dependencies: map[string]string{"demo.base": ">=1.0.0"}})
	gal.AddCollection(galaxytest.Collection{Namespace: "demo", Name: "tools", Version: "1.1.0", Dependencies: map[string]string{"demo.base": ">=1.0.0"}})
	up.Collections = []string{"demo.tools"}
	for i := 1; i < size.Collections; i++ {
		name := fmt.Sprintf("site%d", i)
		gal.AddCollection(galaxytest.Collection{Namespace: "demo", Name: name, Version: "1.0.0", Dependencies: map[string]string{"demo.base": ">=1.0.0"}})
		up.Collections = append(up.Collections, "demo."+name)
	}
	up.Galaxy = serve("galaxy", gal)

	snapCounts := &reqcount.Paths{}
	d.counted = append(d.counted, countedUpstream{"snaps", snapCounts.Take})
	snaps := snapproxytest.New(snapproxytest.Options{Wrap: snapCounts.Wrap})
	snaps.AddDemo()
	snaps.Add(snapproxytest.Snap{Name: "lxd", Revision: 500, Architecture: "amd64", Channels: []string{"5.21/stable"}, Base: "core22"})
	d.closers = append(d.closers, snaps.Close)
	up.Snaps = snaps.URL()
	up.SnapList = size.Snaps
	if err := os.WriteFile(filepath.Join(keys, "upstream-snap-root.assert"), snaps.TrustedKeys(), 0o644); err != nil {
		return up, err
	}

	files := map[string][]byte{"install-notes.txt": []byte("Carried across the gap by airgap.\n")}
	for i := 1; i < size.Files; i++ {
		files[fmt.Sprintf("tool-%d.txt", i)] = []byte(strings.Repeat(fmt.Sprintf("tool %d\n", i), 1000))
	}
	base, err := d.serveFiles("files", "upstream-files", files, serve)
	if err != nil {
		return up, err
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		up.Files = append(up.Files, fmt.Sprintf("%s/%s?checksum=sha256:%x", base, name, sha256.Sum256(files[name])))
	}

	if size.RPM {
		tree, err := rpmtest.Build(rpmtest.DefaultPackages)
		if err != nil {
			return up, fmt.Errorf("rpm upstream (needs rpmbuild, rpmsign, createrepo_c): %w", err)
		}
		if up.RPM, err = d.serveFiles("rpm", "upstream-rpm", tree.Files, serve); err != nil {
			return up, err
		}
		if err := os.WriteFile(filepath.Join(keys, "upstream-rpm.asc"), tree.Key, 0o644); err != nil {
			return up, err
		}
	}
	if size.Helm {
		vendor, err := pgp.GenerateKey("Demo Chart Vendor", "", pgp.KeyOptions{})
		if err != nil {
			return up, err
		}
		var charts []*helmtest.Chart
		for _, v := range []string{"1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0"} {
			charts = append(charts, &helmtest.Chart{Name: "app", Version: v})
		}
		files, err := helmtest.Static(charts, vendor)
		if err != nil {
			return up, err
		}
		if up.Helm, err = d.serveFiles("helm", "upstream-helm", files, serve); err != nil {
			return up, err
		}
		if err := writePublicKey(vendor, filepath.Join(keys, "upstream-helm.gpg"), false); err != nil {
			return up, err
		}
	}
	return up, nil
}

// serveFiles writes files (path -> content) under dir and serves them as a web server
// serves a directory (Last-Modified, If-Modified-Since, ranges); it returns the URL.
func (d *demo) serveFiles(name, dir string, files map[string][]byte, serve func(string, http.Handler) string) (string, error) {
	root := filepath.Join(d.Dir, dir)
	for p, b := range files {
		f := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(f, b, 0o644); err != nil {
			return "", err
		}
	}
	return serve(name, http.FileServer(http.Dir(root))), nil
}

// serveRequestCounts serves the upstreams' request counts: each GET answers the
// requests since the previous one, "UPSTREAM REQUESTS PATH" per line.
func (d *demo) serveRequestCounts() string {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for _, u := range d.counted {
			for _, c := range u.take() {
				fmt.Fprintf(w, "%s %d %s\n", u.name, c.Requests, c.Path)
			}
		}
	}))
	d.closers = append(d.closers, s.Close)
	return s.URL
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
