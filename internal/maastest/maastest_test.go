package maastest_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/maastest"
)

// The fake must catch the mistakes it exists to catch: these raw requests make them.
func TestFakeIsStrict(t *testing.T) {
	fake := maastest.New(t)
	nonce := 0
	header := func() string {
		nonce++
		return fmt.Sprintf(`OAuth oauth_consumer_key="%s", oauth_token="%s", oauth_signature_method="PLAINTEXT", oauth_signature="%%26%s", oauth_nonce="n%d", oauth_timestamp="%d", oauth_version="1.0"`,
			maastest.ConsumerKey, maastest.TokenKey, maastest.TokenSecret, nonce, time.Now().Unix())
	}
	send := func(method, path, ctype string, body []byte, auth string) int {
		req, err := http.NewRequest(method, fake.URL+"api/2.0/"+path, bytes.NewReader(body))
		require.NoError(t, err)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if auth == "" {
			auth = header()
		}
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	multi := func(fields [][2]string) ([]byte, string) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for _, f := range fields {
			require.NoError(t, w.WriteField(f[0], f[1]))
		}
		require.NoError(t, w.Close())
		return b.Bytes(), w.FormDataContentType()
	}

	// A url-encoded POST.
	assert.Equal(t, 400, send("POST", "zones/", "application/x-www-form-urlencoded", []byte(url.Values{"name": {"z"}}.Encode()), ""))
	// keyring_data as a plain field.
	body, ct := multi([][2]string{{"url", "http://m/"}, {"keyring_data", "abc"}})
	assert.Equal(t, 400, send("POST", "boot-sources/", ct, body, ""))
	// A comma-joined list.
	body, ct = multi([][2]string{{"os", "ubuntu"}, {"release", "noble"}, {"arches", "amd64,arm64"}})
	assert.Equal(t, 200, send("POST", "boot-sources/1/selections/", ct, body, ""))
	// A reused nonce.
	h := header()
	assert.Equal(t, 200, send("GET", "version/", "", nil, h))
	assert.Equal(t, 401, send("GET", "version/", "", nil, h))
	// A signature not URL-encoded.
	assert.Equal(t, 401, send("GET", "version/", "", nil, strings.Replace(h, "%26", "&", 1)))
	// No trailing slash.
	assert.Equal(t, 200, send("GET", "version", "", nil, ""))

	v := strings.Join(fake.Violations(), "\n")
	for _, want := range []string{"want multipart/form-data", "keyring_data sent as a plain field", "comma-joined", "reused", "oauth_signature sent as", "without the trailing slash"} {
		assert.Contains(t, v, want)
	}
}
