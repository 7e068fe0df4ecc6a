package snapproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store"
)

// FuzzParseChannel: a channel parses to one that prints and parses back to itself.
func FuzzParseChannel(f *testing.F) {
	for _, s := range []string{"", "stable", "3.5", "3.5/stable", "latest/edge/fix-1", "edge/x", "a/b/c/d", "/", "stable/"} {
		f.Add(s, "3.5")
	}
	f.Fuzz(func(t *testing.T, s, track string) {
		c, err := ParseChannel(s, track)
		if err != nil {
			return
		}
		again, err := ParseChannel(c.String(), "other")
		if err != nil || again != c {
			t.Fatalf("%q -> %v -> %q: %v, %v", s, c, c.String(), again, err)
		}
		if short, err := ParseChannel(c.Short(), "latest"); err != nil || short != c {
			t.Fatalf("short form %q of %v: %v, %v", c.Short(), c, short, err)
		}
	})
}

// FuzzEpoch: an epoch object or snap.yaml either fails or round-trips.
func FuzzEpoch(f *testing.F) {
	f.Add([]byte(`{"read":[0,1],"write":[1]}`), "epoch: 1*\n")
	f.Add([]byte(`null`), "epoch:\n  read: [1, 2]\n  write: [2]\n")
	f.Add([]byte(`{"read":[],"write":[1]}`), "epoch: [1]\n")
	f.Fuzz(func(t *testing.T, js []byte, yml string) {
		var e Epoch
		if err := json.Unmarshal(js, &e); err == nil {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			var back Epoch
			if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back.read(), e.read()) || !reflect.DeepEqual(back.write(), e.write()) {
				t.Fatalf("%s -> %s -> %v: %v", js, b, back, err)
			}
			_ = e.CanRead(back)
		}
		if info, err := parseYAMLInfo(yml); err == nil {
			if info.Epoch.validate() != nil && (len(info.Epoch.Read) > 0 || len(info.Epoch.Write) > 0) {
				t.Fatalf("invalid epoch %v from %q", info.Epoch, yml)
			}
		}
	})
}

// FuzzParseAssertionRef: a reference either fails or names a type with a full key.
func FuzzParseAssertionRef(f *testing.F) {
	for _, s := range []string{"account-key/abc", "validation-set/16/acct/name/3", "snap-revision/x", "snap-revision/x/y", "store//", "model"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, keys, err := parseAssertionRef(s)
		if err != nil {
			return
		}
		for _, k := range keys {
			if k == "" {
				t.Fatalf("%q: empty key part", s)
			}
		}
		if n := len(primaryKeys[typ]); len(keys) != n && len(keys) != n-1 {
			t.Fatalf("%q: %d key parts for %s", s, len(keys), typ)
		}
	})
}

// FuzzRefreshRequest: any body to the refresh endpoint is answered 200 with results or
// 400 with an error list, in JSON; never a 5xx or a panic.
func FuzzRefreshRequest(f *testing.F) {
	up := snapproxytest.New(snapproxytest.Options{})
	defer up.Close()
	up.AddDemo()
	s := store.NewMemory()
	trust, err := ParseTrust(up.TrustedKeys())
	if err != nil {
		f.Fatal(err)
	}
	m := &Mirror{Name: "maas", URL: up.URL(), Store: s, Trust: trust, Snaps: []SnapSpec{{Name: "maas"}}, Architectures: []string{"amd64"}}
	if _, err := m.Sync(context.Background()); err != nil {
		f.Fatal(err)
	}
	h := NewStoreHandler(s, []string{m.Ref()}, WithExternalURL("http://mirror"))
	id := snapproxytest.SnapID("maas")
	f.Add([]byte(`{"context":[],"actions":[{"action":"install","instance-key":"install-1","name":"maas","channel":"3.5","epoch":null}],"fields":["download","epoch"]}`))
	f.Add([]byte(`{"context":[{"snap-id":"` + id + `","instance-key":"` + id + `","revision":90,"tracking-channel":"stable","epoch":{"read":[0],"write":[0]}}],"actions":[{"action":"refresh","instance-key":"` + id + `","snap-id":"` + id + `"}]}`))
	f.Add([]byte(`{"context":[],"actions":[{"action":"fetch-assertions","key":"g","assertions":[{"type":"validation-set","sequence-key":["16","a","b"]},{"type":"account","primary-key":["canonical"],"if-newer-than":0}]}]}`))
	f.Add([]byte(`{"context":[],"actions":[{"action":"download","instance-key":"d","name":"maas","revision":100,"epoch":{"read":[1],"write":[1]}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v2/snaps/refresh", bytes.NewReader(body))
		req.Header.Set("User-Agent", "fuzz")
		req.Header.Set("Snap-Device-Series", "16")
		req.Header.Set("Snap-Device-Architecture", "amd64")
		req.Header.Set("Snap-Device-Capabilities", "default-tracks")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var v struct {
			Results   []map[string]any `json:"results"`
			ErrorList []apiError       `json:"error-list"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("status %d, not JSON: %q", rec.Code, rec.Body.String())
		}
		switch rec.Code {
		case http.StatusOK:
			for _, r := range v.Results {
				if r["result"] == nil {
					t.Fatalf("result without a kind: %v", r)
				}
			}
		case http.StatusBadRequest:
			if len(v.ErrorList) == 0 {
				t.Fatalf("400 without an error list")
			}
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}
