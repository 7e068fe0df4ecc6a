package snapproxytest

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServerEndpoints(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	s.Add(Snap{Name: "hello", Revision: 3, Channels: []string{"stable", "2.0"}})
	assert.Equal(t, NewKey("root", Authority).ID, s.Root.ID, "keys are deterministic")

	body := `{"context":[],"actions":[{"action":"download","instance-key":"k","name":"hello","channel":"2.0/stable"}],"fields":[]}`
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v2/snaps/refresh", strings.NewReader(body))
	req.Header.Set("Snap-Device-Series", "16")
	req.Header.Set("Snap-Device-Architecture", "amd64")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Results []struct {
			Result string `json:"result"`
			Snap   struct {
				Download struct{ URL string } `json:"download"`
			} `json:"snap"`
		} `json:"results"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Len(t, out.Results, 1)
	assert.Equal(t, "download", out.Results[0].Result)

	// The download redirects to the CDN host.
	dl, err := http.Get(out.Results[0].Snap.Download.URL)
	require.NoError(t, err)
	b, _ := io.ReadAll(dl.Body)
	dl.Body.Close()
	assert.Equal(t, Content("hello", 3, "amd64", 0), b)
	assert.True(t, strings.HasPrefix(dl.Request.URL.String(), s.CDN.URL))

	// Assertions need the right Accept.
	a, err := http.Get(s.URL() + "/v2/assertions/account-key/" + s.StoreKey.ID)
	require.NoError(t, err)
	a.Body.Close()
	assert.Equal(t, http.StatusNotAcceptable, a.StatusCode)
	req, _ = http.NewRequest(http.MethodGet, s.URL()+"/v2/assertions/account/"+Authority, nil)
	req.Header.Set("Accept", "application/x.ubuntu.assertion")
	a, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ = io.ReadAll(a.Body)
	a.Body.Close()
	assert.True(t, strings.HasPrefix(string(b), "type: account\n"))
}

// signatureOf decodes the OpenPGP signature of an encoded assertion.
func signatureOf(t *testing.T, b []byte) *packet.Signature {
	t.Helper()
	s := strings.TrimRight(string(b), "\n")
	raw, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(s[strings.LastIndex(s, "\n\n")+2:], "\n", ""))
	require.NoError(t, err)
	require.Equal(t, byte(1), raw[0])
	p, err := packet.Read(bytes.NewReader(raw[1:]))
	require.NoError(t, err)
	return p.(*packet.Signature)
}

// keyOf decodes the RSA key in the body of an encoded account-key assertion.
func keyOf(t *testing.T, b []byte) *packet.PublicKey {
	t.Helper()
	s := strings.TrimRight(string(b), "\n")
	body := s[strings.Index(s, "\n\n")+2 : strings.LastIndex(s, "\n\n")]
	raw, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(body, "\n", ""))
	require.NoError(t, err)
	p, err := packet.Read(bytes.NewReader(raw[1:]))
	require.NoError(t, err)
	return p.(*packet.PublicKey)
}

// The test keys sign in the shape of Canonical's real signatures: RSA, SHA-512, only the
// creation time hashed; the root's unhashed issuer is the key id of the same key with
// another creation time than its encoding's 2016-01-01; the store's signatures have no
// issuer. The real assertions are checked for the same shape.
func TestSignaturesShapedLikeCanonical(t *testing.T) {
	keyEncoded := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
	real := CanonicalChain()
	s := New(Options{})
	defer s.Close()
	for _, tc := range []struct {
		name                string
		rootKey, rootSigned []byte
		storeSigned         []byte
		rootMadeAt          time.Time
	}{
		// The real root key was made 2016-04-04T04:43:44Z: that creation time gives the
		// key id its signatures name (found by searching the times before its first
		// signature for the one whose v4 fingerprint ends in the issuer).
		{"canonical", real[0], real[1], real[3], time.Date(2016, 4, 4, 4, 43, 44, 0, time.UTC)},
		{"test store", s.TrustedKeys(), s.StoreKey.AccountKey(s.Root, "store"), s.StoreKey.Sign("account", []Header{{"account-id", "x"}}, nil), epoch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := keyOf(t, tc.rootKey)
			assert.Equal(t, packet.PubKeyAlgoRSA, key.PubKeyAlgo)
			assert.Equal(t, keyEncoded, key.CreationTime.UTC())
			for _, b := range [][]byte{tc.rootKey, tc.rootSigned} {
				sig := signatureOf(t, b)
				assert.Equal(t, crypto.SHA512, sig.Hash)
				require.NotNil(t, sig.IssuerKeyId)
				assert.NotEqual(t, key.KeyId, *sig.IssuerKeyId, "issuer differs from the key id")
				rsaKey := key.PublicKey.(*rsa.PublicKey)
				assert.Equal(t, packet.NewRSAPublicKey(tc.rootMadeAt, rsaKey).KeyId, *sig.IssuerKeyId)
				assert.Nil(t, sig.IssuerFingerprint)
			}
			sig := signatureOf(t, tc.storeSigned)
			assert.Nil(t, sig.IssuerKeyId, "store signatures name no issuer")
			assert.Nil(t, sig.IssuerFingerprint)
		})
	}
}

func refresh(t *testing.T, s *Server, capabilities string, actions string) []map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v2/snaps/refresh", strings.NewReader(`{"context":[],"actions":[`+actions+`],"fields":[]}`))
	req.Header.Set("Snap-Device-Series", "16")
	req.Header.Set("Snap-Device-Architecture", "amd64")
	if capabilities != "" {
		req.Header.Set("Snap-Device-Capabilities", capabilities)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct {
		Results []map[string]any `json:"results"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out.Results
}

// A request without a track gets the snap's default track when the client declares the
// default-tracks capability, latest otherwise; a bare risk likewise.
func TestDefaultTrack(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	s.Add(Snap{Name: "lxd", Revision: 10, Channels: []string{"latest/stable", "latest/edge"}})
	s.Add(Snap{Name: "lxd", Revision: 20, Channels: []string{"5.21/stable", "5.21/edge"}})
	s.SetDefaultTrack("lxd", "5.21")
	actions := `{"action":"download","instance-key":"a","name":"lxd","epoch":null},` +
		`{"action":"download","instance-key":"b","name":"lxd","channel":"edge","epoch":null},` +
		`{"action":"download","instance-key":"c","name":"lxd","channel":"latest/stable","epoch":null}`
	got := func(res []map[string]any) []string {
		var out []string
		for _, r := range res {
			out = append(out, fmt.Sprint(r["effective-channel"], " ", r["snap"].(map[string]any)["revision"]))
		}
		return out
	}
	assert.Equal(t, []string{"5.21/stable 20", "5.21/edge 20", "latest/stable 10"}, got(refresh(t, s, "default-tracks", actions)))
	assert.Equal(t, []string{"latest/stable 10", "latest/edge 10", "latest/stable 10"}, got(refresh(t, s, "", actions)))

	resp, err := http.Get(s.URL() + "/v2/snaps/info/lxd")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "info needs Snap-Device-Series")
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/v2/snaps/info/lxd", nil)
	req.Header.Set("Snap-Device-Series", "16")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var info struct {
		DefaultTrack string `json:"default-track"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&info))
	assert.Equal(t, "5.21", info.DefaultTrack)
}

// An assertion whose format the client's max-format does not admit is not served.
func TestAssertionMaxFormat(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	s.Add(Snap{Name: "hello", Revision: 1, DeclarationFormat: 3})
	get := func(query string) int {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/v2/assertions/snap-declaration/16/"+SnapID("hello")+query, nil)
		req.Header.Set("Accept", "application/x.ubuntu.assertion")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusNotFound, get(""))
	assert.Equal(t, http.StatusNotFound, get("?max-format=2"))
	assert.Equal(t, http.StatusOK, get("?max-format=3"))
	assert.Equal(t, http.StatusOK, get("?max-format=6"))
	assert.Equal(t, http.StatusBadRequest, get("?max-format=x"))
}

// With Canonical set the real assertions are served byte for byte.
func TestCanonicalAssertionsServed(t *testing.T) {
	s := New(Options{Canonical: true})
	defer s.Close()
	real := CanonicalChain()
	for path, want := range map[string][]byte{
		"account-key/" + CanonicalRootKeyID:  real[0],
		"account/canonical":                  real[1],
		"account-key/" + CanonicalStoreKeyID: real[2],
		"account/" + CanonicalPublisher:      real[3],
	} {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/v2/assertions/"+path+"?max-format=1", nil)
		req.Header.Set("Accept", "application/x.ubuntu.assertion")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, string(want), string(b), path)
	}
}

func TestWrapSeesBothHosts(t *testing.T) {
	var hosts []string
	var mu sync.Mutex
	s := New(Options{Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hosts = append(hosts, r.Host)
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}})
	defer s.Close()
	for _, u := range []string{s.URL() + "/v2/snaps/info/none", s.CDN.URL + "/none"} {
		resp, err := http.Get(u)
		require.NoError(t, err)
		resp.Body.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{strings.TrimPrefix(s.URL(), "http://"), strings.TrimPrefix(s.CDN.URL, "http://")}, hosts)
}
