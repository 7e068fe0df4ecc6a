package snapproxy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/airgapkit/airgap/snapproxy"
	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store"
)

// Mirror an application with its base and snapd from a (test) Snap Store, then read the
// published output back and verify every pair.
func Example() {
	ctx := context.Background()
	upstream := snapproxytest.New(snapproxytest.Options{})
	defer upstream.Close()
	upstream.Add(snapproxytest.Snap{Name: "hello", Revision: 42, Channels: []string{"latest/stable"}, Base: "core22"})
	upstream.Add(snapproxytest.Snap{Name: "core22", Revision: 7, Type: "base"})
	upstream.Add(snapproxytest.Snap{Name: "snapd", Revision: 3, Type: "snapd"})

	trust, err := snapproxy.ParseTrust(upstream.TrustedKeys())
	if err != nil {
		panic(err)
	}
	s := store.NewMemory()
	m := &snapproxy.Mirror{
		Name:  "hello",
		URL:   upstream.URL(),
		Snaps: []snapproxy.SnapSpec{{Name: "hello", Channel: "latest/stable"}},
		Store: s,
		Trust: trust,
	}
	st, err := m.Sync(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("published", m.Ref(), "with", st.Snaps, "snaps")

	out, err := snapproxy.ReadOutput(ctx, s, m.Ref())
	if err != nil {
		panic(err)
	}
	fmt.Println("verified:", out.Verify(ctx, trust) == nil)
	fmt.Println("install order:", out.Manifest.Install["amd64"])
	// Output:
	// published snaps/hello with 3 snaps
	// verified: true
	// install order: [snapd_3 core22_7 hello_42]
}

// Parse an assertion and read its headers.
func ExampleDecodeAssertion() {
	root := snapproxytest.NewKey("root", "canonical")
	a, err := snapproxy.DecodeAssertion(root.AccountKey(root, "root"))
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Type(), a.Header("account-id"), a.Header("name"), a.SignKeyID() == root.ID)
	// Output: account-key canonical root true
}

// List what a published snap mirror holds, as an SBOM would (a test store stands in for
// the Snap Store: only it can sign assertions that chain to a root we hold).
func ExampleInventory() {
	ctx := context.Background()
	upstream := snapproxytest.New(snapproxytest.Options{})
	defer upstream.Close()
	upstream.Add(snapproxytest.Snap{Name: "hello", Revision: 42, Version: "2.10"})
	trust, err := snapproxy.ParseTrust(upstream.TrustedKeys())
	if err != nil {
		panic(err)
	}
	s := store.NewMemory()
	m := &snapproxy.Mirror{Name: "tools", URL: upstream.URL(), Store: s, Trust: trust, NoDependencies: true,
		Snaps: []snapproxy.SnapSpec{{Name: "hello"}}}
	if _, err := m.Sync(ctx); err != nil {
		panic(err)
	}
	items, err := snapproxy.Inventory(ctx, s, m.Ref())
	if err != nil {
		panic(err)
	}
	for _, it := range items {
		fmt.Println(it.Name, it.Version, it.Path, strings.HasPrefix(it.PURL, "pkg:generic/hello@2.10?checksum=sha3-384:"))
		fmt.Println(strings.HasSuffix(it.VouchedBy, "chained to root key "+trust.KeyIDs()[0]))
	}
	// Output:
	// hello 2.10 hello_42.snap true
	// true
}

// Answer snapd's refresh endpoint from a mirror: the install of a snap by channel gets
// the held revision, with a download URL on the mirror.
func ExampleNewStoreHandler() {
	ctx := context.Background()
	upstream := snapproxytest.New(snapproxytest.Options{})
	defer upstream.Close()
	upstream.Add(snapproxytest.Snap{Name: "hello", Revision: 42, Channels: []string{"latest/stable"}})
	trust, err := snapproxy.ParseTrust(upstream.TrustedKeys())
	if err != nil {
		panic(err)
	}
	s := store.NewMemory()
	m := &snapproxy.Mirror{Name: "tools", URL: upstream.URL(), Store: s, Trust: trust, NoDependencies: true,
		Snaps: []snapproxy.SnapSpec{{Name: "hello", Channel: "stable"}}}
	if _, err := m.Sync(ctx); err != nil {
		panic(err)
	}
	api := httptest.NewServer(snapproxy.NewStoreHandler(s, []string{m.Ref()}, snapproxy.WithExternalURL("http://mirror.internal:8080/snaps/tools")))
	defer api.Close()

	body := `{"context": [], "fields": ["revision", "download"],
	  "actions": [{"action": "install", "instance-key": "install-1", "name": "hello", "channel": "stable", "epoch": null}]}`
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/v2/snaps/refresh", strings.NewReader(body))
	for k, v := range map[string]string{"Content-Type": "application/json", "User-Agent": "snapd/2.66",
		"Snap-Device-Series": "16", "Snap-Device-Architecture": "amd64"} {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var res struct {
		Results []struct {
			Result           string `json:"result"`
			EffectiveChannel string `json:"effective-channel"`
			Snap             struct {
				Revision int `json:"revision"`
				Download struct {
					URL string `json:"url"`
				} `json:"download"`
			} `json:"snap"`
		} `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		panic(err)
	}
	r := res.Results[0]
	fmt.Println(r.Result, r.EffectiveChannel, r.Snap.Revision)
	fmt.Println(r.Snap.Download.URL)
	// Output:
	// install latest/stable 42
	// http://mirror.internal:8080/snaps/tools/api/v1/snaps/download/Jmd1SXtQXC5sG46ZdMMT3nmGNHzrIRgO_42.snap
}
