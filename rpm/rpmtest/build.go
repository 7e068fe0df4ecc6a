package rpmtest

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/store/pgp"
)

// Package is one rpm the upstream carries: a spec is written from it and built with
// rpmbuild, so its header, payload and dependencies are what rpm itself makes.
type Package struct {
	Repo                         string // repository path, e.g. "BaseOS/x86_64/os"
	Name, Version, Release, Arch string
	Epoch                        int
	Requires                     []string // "Requires:" lines; a "(pre)" prefix makes Requires(pre)
	Provides, Recommends         []string
	Supplements, Obsoletes       []string
	Files                        []string // each installed file, with its own path as content
	Modular                      bool     // listed as an artifact of a module stream
}

// NEVRA is the package as modules.yaml lists it: name-epoch:version-release.arch.
func (p Package) NEVRA() string {
	return fmt.Sprintf("%s-%d:%s-%s.%s", p.Name, p.Epoch, p.Version, p.Release, p.Arch)
}

// FileName is the rpm's file name.
func (p Package) FileName() string {
	return fmt.Sprintf("%s-%s-%s.%s.rpm", p.Name, p.Version, p.Release, p.Arch)
}

// Href is the package's location in its repository: Packages/<first letter>/<file>.
func (p Package) Href() string {
	return "Packages/" + strings.ToLower(p.Name[:1]) + "/" + p.FileName()
}

// The repositories of the default upstream.
const (
	BaseOS    = "BaseOS/x86_64/os"
	AppStream = "AppStream/x86_64/os"
)

// DefaultPackages is an httpd-like set over two repositories: httpd needs a file that
// primary lists (/usr/sbin/suexec), one that only filelists lists (mime.types), a virtual
// provide (system-logos), a boolean "or", a "with" range, and the conditional
// (httpd-selinux if selinux-policy), which basesys's selinux-policy makes dnf take; it
// recommends mod_http2 and mod_lua supplements it. libapr has an older version too, and
// webapp a modular 1.0 (the default stream) beside a non-modular 2.0. php, legacy-tool
// and unrelated are not in httpd's closure.
var DefaultPackages = []Package{
	{Repo: BaseOS, Name: "basesys", Version: "1.0", Release: "1.el9", Arch: "noarch", Requires: []string{"selinux-policy"}},
	{Repo: BaseOS, Name: "selinux-policy", Version: "38.1.23", Release: "1.el9", Arch: "noarch", Files: []string{"/etc/selinux/config"}},
	{Repo: BaseOS, Name: "suexec", Version: "2.4.57", Release: "5.el9", Arch: "x86_64", Files: []string{"/usr/sbin/suexec"}},
	{Repo: BaseOS, Name: "mimedata", Version: "2.1.54", Release: "1.el9", Arch: "noarch", Files: []string{"/usr/share/mimedata/mime.types"}},
	{Repo: BaseOS, Name: "rocky-logos", Version: "90.14", Release: "1.el9", Arch: "noarch", Provides: []string{"system-logos = 90.14"}},
	{Repo: BaseOS, Name: "libapr", Version: "1.7.0", Release: "12.el9", Arch: "x86_64", Files: []string{"/usr/lib64/libapr-1.so.0"}},
	{Repo: BaseOS, Name: "libapr", Version: "1.6.5", Release: "3.el9", Arch: "x86_64", Files: []string{"/usr/lib64/libapr-1.so.0"}},
	{Repo: BaseOS, Name: "legacy-tool", Version: "1.0", Release: "1.el9", Arch: "x86_64", Requires: []string{"libapr < 1.7"}},
	{Repo: BaseOS, Name: "unrelated", Version: "3.0", Release: "1.el9", Arch: "noarch"},
	{Repo: AppStream, Name: "httpd", Version: "2.4.57", Release: "5.el9", Arch: "x86_64",
		Requires: []string{"/usr/sbin/suexec", "/usr/share/mimedata/mime.types", "system-logos",
			"(httpd-selinux if selinux-policy)", "(mod_ssl or mod_nss)", "(libapr >= 1.7 with libapr < 2)", "(pre)basesys"},
		Recommends: []string{"mod_http2"}, Files: []string{"/usr/sbin/httpd", "/etc/httpd/conf/httpd.conf"}},
	{Repo: AppStream, Name: "httpd", Version: "2.4.51", Release: "1.el9", Arch: "x86_64", Files: []string{"/usr/sbin/httpd"}},
	{Repo: AppStream, Name: "httpd-selinux", Version: "2.4.57", Release: "5.el9", Arch: "noarch"},
	{Repo: AppStream, Name: "mod_ssl", Epoch: 1, Version: "2.4.57", Release: "5.el9", Arch: "x86_64", Requires: []string{"httpd"}},
	{Repo: AppStream, Name: "mod_nss", Version: "1.0.14", Release: "1.el9", Arch: "x86_64", Requires: []string{"httpd"}},
	{Repo: AppStream, Name: "mod_http2", Version: "2.0.26", Release: "1.el9", Arch: "x86_64", Requires: []string{"httpd"}},
	{Repo: AppStream, Name: "mod_lua", Version: "2.4.57", Release: "5.el9", Arch: "x86_64", Supplements: []string{"httpd"}},
	{Repo: AppStream, Name: "webapp", Version: "1.0", Release: "1.module_el9", Arch: "noarch", Modular: true},
	{Repo: AppStream, Name: "webapp", Version: "2.0", Release: "1.el9", Arch: "noarch"},
	{Repo: AppStream, Name: "php", Version: "8.1.14", Release: "1.el9", Arch: "x86_64", Requires: []string{"httpd"}},
}

// Built is a built package: its rpm file's bytes.
type Built struct {
	Package
	RPM []byte
}

// Tree is an upstream built from real rpms: the files served under the upstream root,
// by path, and the key that signs the packages and every repomd.xml.
type Tree struct {
	Files    map[string][]byte
	Packages []Built
	Repos    []string
	Signer   *pgp.Signer
	// Key is the armored public key (an RPM-GPG-KEY-* file).
	Key []byte
}

// WriteKey writes Key into a temporary directory of t and returns its path.
func (t *Tree) WriteKey(tb testing.TB) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "RPM-GPG-KEY-test")
	if err := os.WriteFile(p, t.Key, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// Clone returns a copy of t whose Files may be changed.
func (t *Tree) Clone() *Tree {
	c := *t
	c.Files = make(map[string][]byte, len(t.Files))
	for k, v := range t.Files {
		c.Files[k] = v
	}
	return &c
}

// Sign replaces <repo>/repodata/repomd.xml.asc with an armored detached signature by s
// over the current repomd.xml.
func (t *Tree) Sign(repo string, s *pgp.Signer) {
	p := repo + "/repodata/repomd.xml"
	sig, err := s.DetachSign(bytes.NewReader(t.Files[p]), true)
	if err != nil {
		panic(err)
	}
	t.Files[p+".asc"] = sig
}

var (
	once     sync.Once
	cached   *Tree
	buildErr error
)

// Require checks for the tools that build the upstream (rpmbuild, rpmsign,
// createrepo_c, modifyrepo_c, gpg): a missing one skips the test, or fails it under
// CI=true.
func Require(t testing.TB) {
	t.Helper()
	testutil.RequireBinary(t, "rpmbuild", "rpm")
	testutil.RequireBinary(t, "rpmsign", "rpm")
	testutil.RequireBinary(t, "createrepo_c", "createrepo-c")
	testutil.RequireBinary(t, "modifyrepo_c", "createrepo-c")
	testutil.RequireBinary(t, "gpg", "gnupg")
}

// Default returns the default upstream (DefaultPackages, BaseOS with sqlite databases
// and gzip, AppStream with xz, comps, updateinfo and modules.yaml), built once per test
// binary. Callers must not change it: use Clone.
func Default(t testing.TB) *Tree {
	t.Helper()
	Require(t)
	once.Do(func() { cached, buildErr = build(DefaultPackages) })
	if buildErr != nil {
		t.Fatalf("rpmtest: building the upstream: %v", buildErr)
	}
	return cached
}

// Build builds an upstream of pkgs (for benchmarks; tests use Default).
func Build(pkgs []Package) (*Tree, error) { return build(pkgs) }

func build(pkgs []Package) (*Tree, error) {
	dir, err := os.MkdirTemp("", "rpmtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	signer, err := pgp.GenerateKey("Rocky Test Signing", "signing@example.invalid", pgp.KeyOptions{})
	if err != nil {
		return nil, err
	}
	home := filepath.Join(dir, "gnupg")
	if err := os.Mkdir(home, 0o700); err != nil {
		return nil, err
	}
	env := []string{"GNUPGHOME=" + home}
	sec, err := signer.ArmoredPrivateKey()
	if err != nil {
		return nil, err
	}
	if err := run(env, bytes.NewReader(sec), "gpg", "--batch", "--import"); err != nil {
		return nil, err
	}
	pub, err := signer.PublicKey(true)
	if err != nil {
		return nil, err
	}
	tr := &Tree{Files: map[string][]byte{}, Signer: signer, Key: pub}
	top, root := filepath.Join(dir, "rpmbuild"), filepath.Join(dir, "root")
	var rpms []string
	for i, p := range pkgs {
		spec := filepath.Join(dir, fmt.Sprintf("p%d.spec", i))
		if err := os.WriteFile(spec, []byte(specOf(p)), 0o644); err != nil {
			return nil, err
		}
		if err := run(env, nil, "rpmbuild", "--quiet", "--define", "_topdir "+top, "--define", "_build_id_links none", "-bb", spec); err != nil {
			return nil, err
		}
		built := filepath.Join(top, "RPMS", p.Arch, p.FileName())
		dst := filepath.Join(root, p.Repo, p.Href())
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		if err := os.Rename(built, dst); err != nil {
			return nil, err
		}
		rpms = append(rpms, dst)
	}
	args := append([]string{"--define", "_gpg_name " + signer.Fingerprint(), "--define", "__gpg /usr/bin/gpg",
		"--define", "_gpg_sign_cmd_extra_args --pinentry-mode loopback --passphrase ''", "--addsign"}, rpms...)
	if err := run(env, nil, "rpmsign", args...); err != nil {
		return nil, err
	}
	repos := map[string]bool{}
	for _, p := range pkgs {
		if !repos[p.Repo] {
			repos[p.Repo] = true
			tr.Repos = append(tr.Repos, p.Repo)
		}
	}
	for _, r := range tr.Repos {
		if err := createRepo(env, dir, filepath.Join(root, r), r, pkgs); err != nil {
			return nil, fmt.Errorf("%s: %w", r, err)
		}
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		tr.Files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, r := range tr.Repos {
		tr.Sign(r, signer)
	}
	for _, p := range pkgs {
		tr.Packages = append(tr.Packages, Built{Package: p, RPM: tr.Files[p.Repo+"/"+p.Href()]})
	}
	return tr, nil
}

// createRepo writes the repodata of one repository: BaseOS as createrepo_c makes it by
// default (gzip, sqlite databases), AppStream with xz, no databases, comps (group and
// group_xz), and then updateinfo and modules added with modifyrepo_c.
func createRepo(env []string, dir, repoDir, repo string, pkgs []Package) error {
	if repo != AppStream {
		return run(env, nil, "createrepo_c", "--quiet", "--revision", "1700000000", repoDir)
	}
	comps := filepath.Join(dir, "comps.xml")
	if err := os.WriteFile(comps, []byte(compsXML), 0o644); err != nil {
		return err
	}
	if err := run(env, nil, "createrepo_c", "--quiet", "--revision", "1700000000", "--no-database", "--general-compress-type", "xz", "-g", comps, repoDir); err != nil {
		return err
	}
	upd := filepath.Join(dir, "updateinfo.xml")
	if err := os.WriteFile(upd, []byte(updateinfoXML), 0o644); err != nil {
		return err
	}
	mods := filepath.Join(dir, "modules.yaml")
	if err := os.WriteFile(mods, []byte(modulesYAML(pkgs)), 0o644); err != nil {
		return err
	}
	rd := filepath.Join(repoDir, "repodata")
	if err := run(env, nil, "modifyrepo_c", "--mdtype", "updateinfo", upd, rd); err != nil {
		return err
	}
	return run(env, nil, "modifyrepo_c", "--compress-type", "xz", "--mdtype", "modules", mods, rd)
}

func specOf(p Package) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Name: %s\nVersion: %s\nRelease: %s\nSummary: %s test package\nLicense: MIT\nBuildArch: %s\nAutoReqProv: no\n",
		p.Name, p.Version, p.Release, p.Name, p.Arch)
	if p.Epoch != 0 {
		fmt.Fprintf(&b, "Epoch: %d\n", p.Epoch)
	}
	for _, r := range p.Requires {
		if d, ok := strings.CutPrefix(r, "(pre)"); ok {
			fmt.Fprintf(&b, "Requires(pre): %s\n", d)
		} else {
			fmt.Fprintf(&b, "Requires: %s\n", r)
		}
	}
	for _, l := range []struct {
		tag  string
		deps []string
	}{{"Provides", p.Provides}, {"Recommends", p.Recommends}, {"Supplements", p.Supplements}, {"Obsoletes", p.Obsoletes}} {
		for _, d := range l.deps {
			fmt.Fprintf(&b, "%s: %s\n", l.tag, d)
		}
	}
	fmt.Fprintf(&b, "%%description\n%s, built for airgap's tests.\n%%install\n", p.Name)
	for _, f := range p.Files {
		fmt.Fprintf(&b, "mkdir -p %%{buildroot}%s\necho %s > %%{buildroot}%s\n", filepath.Dir(f), f, f)
	}
	b.WriteString("%files\n")
	for _, f := range p.Files {
		b.WriteString(f + "\n")
	}
	return b.String()
}

func run(env []string, stdin *bytes.Reader, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}
