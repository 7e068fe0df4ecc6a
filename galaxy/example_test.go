package galaxy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/airgapkit/airgap/galaxy"
	"github.com/airgapkit/airgap/galaxy/galaxytest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// Mirror a collection and its dependency from an upstream, then serve them to
// ansible-galaxy.
func Example() {
	ctx := context.Background()
	up := galaxytest.New(galaxytest.Options{})
	up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "lib", Version: "1.4.0"})
	up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "lib", Version: "2.0.0"})
	up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "app", Version: "1.0.0",
		Dependencies: map[string]string{"acme.lib": ">=1.0.0,<2.0.0"}})
	upstreamURL, stop := up.Start()
	defer stop()

	s := store.NewMemory()
	m := &galaxy.Mirror{
		Name:        "demo",
		URL:         upstreamURL,
		Collections: []galaxy.CollectionSpec{{Name: "acme.app", Version: "==1.0.0"}},
		Store:       s,
		Fetch:       &fetch.Client{Store: s},
	}
	st, err := m.Sync(ctx)
	fmt.Println(st.Collections, st.Versions, st.Changed, err)

	// The CLI mounts the handler under /galaxy/demo/; clients use
	// ansible-galaxy collection install -s https://mirror.example/galaxy/demo/api/ acme.app
	h := galaxy.NewHandler(s, m.Ref(), galaxy.WithExternalURL("https://mirror.example/galaxy/demo"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v3/collections/acme/app/versions/1.0.0/", nil))
	var detail struct {
		DownloadURL string `json:"download_url"`
		Metadata    struct {
			Dependencies map[string]string `json:"dependencies"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &detail)
	fmt.Println(detail.DownloadURL)
	fmt.Println(detail.Metadata.Dependencies)
	// Output:
	// 2 2 true <nil>
	// https://mirror.example/galaxy/demo/download/acme-app-1.0.0.tar.gz
	// map[acme.lib:>=1.0.0,<2.0.0]
}

// Version ranges are written as in requirements.yml.
func ExampleParseRange() {
	r, _ := galaxy.ParseRange(">=8.0.0,<9")
	for _, s := range []string{"7.5.0", "8.2.1", "9.0.0", "8.3.0-rc.1"} {
		v, _ := galaxy.ParseVersion(s)
		fmt.Println(s, r.Match(v, false))
	}
	// Output:
	// 7.5.0 false
	// 8.2.1 true
	// 9.0.0 false
	// 8.3.0-rc.1 false
}

// A requirements.yml names collections and roles.
func ExampleParseRequirements() {
	req, _ := galaxy.ParseRequirements(strings.NewReader(`
collections:
  - name: community.general
    version: ">=8.0.0,<9"
  - ansible.posix
roles:
  - name: geerlingguy.docker
    version: 7.1.0
`))
	for _, c := range req.Collections {
		fmt.Printf("%s %q\n", c.Name, c.Version)
	}
	fmt.Println(req.Roles[0].Name, req.Roles[0].Versions)
	// Output:
	// community.general ">=8.0.0,<9"
	// ansible.posix ""
	// geerlingguy.docker [7.1.0]
}

// List what a mirror holds: each collection with its package URL and what vouched for it.
func ExampleInventory() {
	ctx := context.Background()
	up := galaxytest.New(galaxytest.Options{})
	up.AddCollection(galaxytest.Collection{Namespace: "acme", Name: "lib", Version: "1.4.0"})
	upstreamURL, stop := up.Start()
	defer stop()
	s := store.NewMemory()
	m := &galaxy.Mirror{Name: "demo", URL: upstreamURL, Collections: []galaxy.CollectionSpec{{Name: "acme.lib"}}, Store: s}
	if _, err := m.Sync(ctx); err != nil {
		panic(err)
	}
	items, err := galaxy.Inventory(ctx, s, m.Ref())
	if err != nil {
		panic(err)
	}
	for _, it := range items {
		fmt.Println(it.Name, it.Version, it.Path)
		fmt.Println(strings.SplitN(it.PURL, "?", 2)[0], strings.ReplaceAll(it.VouchedBy, upstreamURL, "UPSTREAM"))
	}
	// Output:
	// acme.lib 1.4.0 artifacts/acme-lib-1.4.0.tar.gz
	// pkg:ansible/acme/lib@1.4.0 artifact sha256 from UPSTREAM and the artifact's FILES.json
}
