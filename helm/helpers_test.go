package helm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/airgapkit/airgap/helm"
	"github.com/airgapkit/airgap/helm/helmtest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
)

var (
	keyOnce       sync.Once
	vendor, rogue *pgp.Signer
)

// signers are RSA keys: helm v3 verifies with golang.org/x/crypto/openpgp, which knows
// no Ed25519.
func signers(t testing.TB) (*pgp.Signer, *pgp.Signer) {
	keyOnce.Do(func() {
		var err error
		if vendor, err = pgp.GenerateKey("Chart Vendor", "charts@vendor.example", pgp.KeyOptions{RSABits: 3072}); err != nil {
			panic(err)
		}
		if rogue, err = pgp.GenerateKey("Somebody Else", "else@example.org", pgp.KeyOptions{RSABits: 3072}); err != nil {
			panic(err)
		}
	})
	return vendor, rogue
}

// keyringFile writes the vendor's public key, binary, as helm's --keyring wants it.
func keyringFile(t testing.TB, s *pgp.Signer) string {
	b, err := s.PublicKey(false)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "pubring.gpg")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fixture is two upstream repositories: "main" (app, whose archives are on a second
// host, depending on lib in "libs" and on common in main) and "libs".
type fixture struct {
	main, libs *helmtest.Repo
	keyring    string
	s          store.Store
}

func newFixture(t testing.TB) *fixture {
	v, _ := signers(t)
	f := &fixture{main: helmtest.New(t), libs: helmtest.New(t), keyring: keyringFile(t, v), s: store.NewMemory()}
	for _, ver := range []string{"2.0.0", "2.1.0", "3.0.0-rc.1"} {
		f.libs.Add(t, &helmtest.Chart{Name: "lib", Version: ver}, v, false)
	}
	for _, ver := range []string{"1.0.0", "1.2.0", "2.0.0"} {
		f.main.Add(t, &helmtest.Chart{Name: "common", Version: ver}, v, false)
	}
	for _, ver := range []string{"1.0.0", "1.1.0"} {
		f.main.Add(t, &helmtest.Chart{Name: "app", Version: ver, Dependencies: []map[string]string{
			{"name": "lib", "version": "^2.0.0", "repository": f.libs.URL() + "/"},
			{"name": "common", "version": "~1.0", "repository": f.main.URL()},
		}}, v, true)
	}
	return f
}

func (f *fixture) mirrors() (libs, main *helm.Mirror) {
	libs = &helm.Mirror{Name: "libs", URL: f.libs.URL(), Keyring: f.keyring, Required: true,
		Charts: []helm.ChartSpec{{Name: "lib", Version: ">=2.0.0"}}, Store: f.s, Fetch: &fetch.Client{Store: f.s, Retries: -1}}
	main = &helm.Mirror{Name: "main", URL: f.main.URL(), Keyring: f.keyring, Required: true,
		Charts:       []helm.ChartSpec{{Name: "app", Latest: 2}},
		Repositories: map[string]string{helm.NormalizeURL(f.libs.URL()): "libs"},
		Store:        f.s, Fetch: &fetch.Client{Store: f.s, Retries: -1}}
	return libs, main
}

func sync2(t testing.TB, ms ...*helm.Mirror) {
	t.Helper()
	for _, m := range ms {
		if _, err := m.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// serve serves the store's helm mirrors under /helm/<name>/ on 127.0.0.1.
func serve(t testing.TB, s store.Store, names ...string) string {
	mux := http.NewServeMux()
	for _, n := range names {
		mux.Handle("/helm/"+n+"/", http.StripPrefix("/helm/"+n, helm.NewHandler(s, "helm/"+n)))
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}
