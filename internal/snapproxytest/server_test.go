package snapproxytest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

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
