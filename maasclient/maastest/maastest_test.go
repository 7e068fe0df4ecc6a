package maastest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/maasclient/maastest"
)

// raw signs requests by hand, so that the fake is tested without maasclient.
type raw struct {
	t     *testing.T
	fake  *maastest.Server
	nonce int
}

func (c *raw) header() string {
	c.nonce++
	return fmt.Sprintf(`OAuth oauth_consumer_key="%s", oauth_token="%s", oauth_signature_method="PLAINTEXT", oauth_signature="%%26%s", oauth_nonce="n%d", oauth_timestamp="%d", oauth_version="1.0"`,
		maastest.ConsumerKey, maastest.TokenKey, maastest.TokenSecret, c.nonce, time.Now().Unix())
}

// send makes one request; auth "" signs it afresh.
func (c *raw) send(method, path, ctype string, body []byte, auth string) (int, string) {
	req, err := http.NewRequest(method, c.fake.URL+"api/2.0/"+path, bytes.NewReader(body))
	require.NoError(c.t, err)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth == "" {
		auth = c.header()
	}
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// form sends multipart fields; a field named "@name" is a file part.
func (c *raw) form(method, path string, fields ...string) (int, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		if name, ok := strings.CutPrefix(fields[i], "@"); ok {
			fw, err := w.CreateFormFile(name, "keyring.gpg")
			require.NoError(c.t, err)
			_, _ = fw.Write([]byte(fields[i+1]))
			continue
		}
		require.NoError(c.t, w.WriteField(fields[i], fields[i+1]))
	}
	require.NoError(c.t, w.Close())
	return c.send(method, path, w.FormDataContentType(), b.Bytes(), "")
}

// The fake must catch the mistakes it exists to catch: these raw requests make them.
func TestFakeIsStrict(t *testing.T) {
	fake := maastest.New(t)
	c := &raw{t: t, fake: fake}

	// A url-encoded POST.
	st, _ := c.send("POST", "zones/", "application/x-www-form-urlencoded", []byte(url.Values{"name": {"z"}}.Encode()), "")
	assert.Equal(t, 400, st)
	// keyring_data as a plain field is not seen: the boot source has no keyring.
	st, body := c.form("POST", "boot-sources/", "url", "http://m/", "keyring_data", "abc")
	assert.Equal(t, 400, st)
	assert.Contains(t, body, "One of keyring_data or keyring_filename must be specified.")
	// A comma-joined list is one value that matches no image.
	fake.SetImages(maastest.StockImageURL, maastest.UbuntuImages("noble", "amd64", "arm64")...)
	fake.StartImport()
	st, body = c.form("POST", "boot-sources/1/selections/", "os", "ubuntu", "release", "noble", "arches", "amd64,arm64")
	assert.Equal(t, 400, st)
	assert.Contains(t, body, `No available images to download for ['amd64,arm64']`)
	// Repeated script keys: MAAS keeps the last.
	st, _ = c.form("POST", "machines/8x2kq9/?op=commission", "testing_scripts", "a", "testing_scripts", "b")
	assert.Equal(t, 200, st)
	_, testing := fake.Scripts("8x2kq9")
	assert.Equal(t, []string{"b"}, testing)
	// deploy's osystem is ignored.
	st, _ = c.form("POST", "machines/4y3h7n/?op=deploy", "osystem", "centos", "distro_series", "ubuntu/noble")
	assert.Equal(t, 200, st)
	m, _ := fake.Machine("4y3h7n")
	assert.Equal(t, "ubuntu", m.OSystem)
	assert.Equal(t, "noble", m.DistroSeries)
	// A reused nonce.
	h := c.header()
	st, _ = c.send("GET", "version/", "", nil, h)
	assert.Equal(t, 200, st)
	st, _ = c.send("GET", "version/", "", nil, h)
	assert.Equal(t, 401, st)
	// A signature not URL-encoded.
	st, _ = c.send("GET", "version/", "", nil, strings.Replace(h, "%26", "&", 1))
	assert.Equal(t, 401, st)
	// No trailing slash.
	st, _ = c.send("GET", "version", "", nil, "")
	assert.Equal(t, 200, st)

	v := strings.Join(fake.Violations(), "\n")
	for _, want := range []string{"want multipart/form-data", "keyring_data sent as a plain field", "comma-joined", "repeated keys", "osystem", "reused", "oauth_signature sent as", "without the trailing slash"} {
		assert.Contains(t, v, want)
	}
}

// TestFakeBootSources: MAAS's BootSourceForm over a stored source, 201 on create, and
// the boot source cache only an import refreshes for source 1.
func TestFakeBootSources(t *testing.T) {
	fake := maastest.New(t)
	c := &raw{t: t, fake: fake}
	mirror := "http://mirror.internal/maas/"
	fake.SetImages(mirror, maastest.UbuntuImages("noble", "amd64")...)

	// The stock source has a keyring_filename: a keyring_data alone makes two.
	st, body := c.form("PUT", "boot-sources/1/", "url", mirror, "@keyring_data", "KEY")
	assert.Equal(t, 400, st)
	assert.Contains(t, body, "Only one of keyring_filename or keyring_data can be specified.")
	st, body = c.form("PUT", "boot-sources/1/", "url", mirror, "@keyring_data", "KEY", "keyring_filename", "")
	require.Equal(t, 200, st, body)
	src := fake.BootSources()[0]
	assert.Equal(t, "", src.KeyringFilename)
	assert.Equal(t, "S0VZ", src.KeyringData)

	// Saving source 1 left its cache as it was (empty): noble is unknown.
	st, body = c.form("POST", "boot-sources/1/selections/", "os", "ubuntu", "release", "noble", "arches", "amd64")
	assert.Equal(t, 400, st)
	assert.Contains(t, body, "OS ubuntu with release noble has no available images for download")
	// An import refreshes it first.
	st, _ = c.send("POST", "boot-resources/?op=import", "", nil, "")
	require.Equal(t, 200, st)
	st, body = c.form("POST", "boot-sources/1/selections/", "os", "ubuntu", "release", "noble", "arches", "arm64")
	assert.Equal(t, 400, st)
	assert.Contains(t, body, "No available images to download for ['arm64']")
	st, body = c.form("POST", "boot-sources/1/selections/", "os", "ubuntu", "release", "noble", "arches", "amd64")
	require.Equal(t, 200, st, body)
	var sel maastest.Selection
	require.NoError(t, json.Unmarshal([]byte(body), &sel))
	assert.Equal(t, []string{}, sel.Subarches, "a list left out is stored empty")
	assert.Equal(t, []string{}, sel.Labels)

	// Any other source is cached when saved; create answers 201; URLs are unique.
	other := "http://other.internal/maas/"
	fake.SetImages(other, maastest.UbuntuImages("jammy", "amd64")...)
	st, body = c.form("POST", "boot-sources/", "url", other, "keyring_filename", "/k.gpg")
	require.Equal(t, 201, st, body)
	var created maastest.BootSource
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	st, body = c.form("POST", fmt.Sprintf("boot-sources/%d/selections/", created.ID), "os", "ubuntu", "release", "jammy", "arches", "*", "subarches", "*", "labels", "*")
	assert.Equal(t, 200, st, body)
	st, body = c.form("POST", "boot-sources/", "url", other, "keyring_filename", "/k.gpg")
	assert.Equal(t, 400, st)
	assert.Contains(t, body, "already exists")
}

// TestFakeImportAndCommissioning: the import takes what the selections ask of the cache
// (an empty list: nothing); release settings want imported images; the commissioning
// release's selection cannot be deleted.
func TestFakeImportAndCommissioning(t *testing.T) {
	fake := maastest.New(t)
	c := &raw{t: t, fake: fake}
	fake.SetImages(maastest.StockImageURL, append(maastest.UbuntuImages("jammy", "amd64"), maastest.UbuntuImages("noble", "amd64")...)...)

	st, body := c.form("POST", "maas/?op=set_config", "name", "commissioning_distro_series", "value", "noble")
	assert.Equal(t, 400, st)
	assert.Contains(t, body, "'noble' is not a valid commissioning_distro_series.  It should be one of: '---'.")

	fake.StartImport()
	_, _ = c.send("GET", "boot-resources/?op=is_importing", "", nil, "")
	st, body = c.form("POST", "boot-sources/1/selections/", "os", "ubuntu", "release", "noble", "arches", "amd64")
	require.Equal(t, 200, st, body)
	var noble maastest.Selection
	require.NoError(t, json.Unmarshal([]byte(body), &noble))
	st, _ = c.send("POST", "boot-resources/?op=import", "", nil, "")
	require.Equal(t, 200, st)
	st, body = c.send("GET", "boot-resources/?op=is_importing", "", nil, "")
	require.Equal(t, "false\n", body)
	_, body = c.send("GET", "boot-resources/", "", nil, "")
	assert.Contains(t, body, "ubuntu/jammy")
	assert.NotContains(t, body, "ubuntu/noble", "noble's subarches and labels are empty: nothing to import")

	st, body = c.form("PUT", fmt.Sprintf("boot-sources/1/selections/%d/", noble.ID), "subarches", "*", "labels", "*")
	require.Equal(t, 200, st, body)
	_, _ = c.send("POST", "boot-resources/?op=import", "", nil, "")
	_, _ = c.send("GET", "boot-resources/?op=is_importing", "", nil, "")
	_, body = c.send("GET", "boot-resources/?type=synced", "", nil, "")
	assert.Contains(t, body, `"ubuntu/noble"`)
	st, body = c.send("GET", "boot-resources/?type=generated", "", nil, "")
	assert.Equal(t, 400, st)
	assert.Equal(t, "'generated' is not a valid boot resource type. Available types: ['synced', 'uploaded']", body)

	jammy := fake.Selections(1)[0]
	require.Equal(t, "jammy", jammy.Release)
	st, body = c.send("DELETE", fmt.Sprintf("boot-sources/1/selections/%d/", jammy.ID), "", nil, "")
	assert.Equal(t, 400, st)
	assert.Contains(t, body, "It is the operating system used in ephemeral environments.")
	st, body = c.form("POST", "maas/?op=set_config", "name", "commissioning_distro_series", "value", "noble")
	require.Equal(t, 200, st, body)
	st, _ = c.send("DELETE", fmt.Sprintf("boot-sources/1/selections/%d/", jammy.ID), "", nil, "")
	assert.Equal(t, 204, st)
	assert.Empty(t, fake.Violations())
}

// TestFakeDefaultArchives: components are refused on the default archives, pockets and
// components are disabled instead and shape the sources deployed machines get.
func TestFakeDefaultArchives(t *testing.T) {
	fake := maastest.New(t)
	c := &raw{t: t, fake: fake}
	main := fake.Repos()[0]
	path := fmt.Sprintf("package-repositories/%d/", main.ID)

	st, body := c.form("PUT", path, "components", "main")
	assert.Equal(t, 400, st)
	assert.Contains(t, body, "This is a default Ubuntu repository. Please update 'disabled_components' instead.")
	st, body = c.form("PUT", path, "enabled", "false")
	assert.Equal(t, 400, st)
	assert.Contains(t, body, "Default repositories may not be disabled.")
	st, body = c.form("PUT", path, "disabled_components", "main")
	assert.Equal(t, 400, st)
	assert.Contains(t, body, "'main' is not a valid Ubuntu archive component.")

	assert.Equal(t, []string{
		"deb http://archive.ubuntu.com/ubuntu noble main restricted universe multiverse",
		"deb http://archive.ubuntu.com/ubuntu noble-updates main restricted universe multiverse",
		"deb http://archive.ubuntu.com/ubuntu noble-security main restricted universe multiverse",
		"deb http://archive.ubuntu.com/ubuntu noble-backports main restricted universe multiverse",
	}, fake.SourcesList("amd64", "noble"))
	st, body = c.form("PUT", path, "url", "http://mirror.internal/ubuntu", "distributions", "noble",
		"disabled_pockets", "backports", "disabled_pockets", "security", "disabled_components", "restricted,universe,multiverse")
	require.Equal(t, 200, st, body)
	assert.Equal(t, []string{
		"deb http://mirror.internal/ubuntu noble main",
		"deb http://mirror.internal/ubuntu noble-updates main",
	}, fake.SourcesList("amd64", "noble"))
	st, body = c.form("PUT", path, "disabled_components", "")
	require.Equal(t, 200, st, body)
	assert.Equal(t, []string{"backports", "security"}, fake.Repos()[0].DisabledPockets, "a partial update keeps the rest")
	assert.Empty(t, fake.Repos()[0].DisabledComponents)
}

// TestFakeLogin: the login GET sets no cookie; the POST needs no CSRF token and sets
// the session and csrftoken cookies; session writes must echo the token.
func TestFakeLogin(t *testing.T) {
	fake := maastest.New(t)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	login := fake.URL + "accounts/login/"
	resp, err := hc.Get(login)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Empty(t, resp.Cookies())

	req, err := http.NewRequest("POST", login, strings.NewReader(url.Values{"username": {maastest.Username}, "password": {maastest.Password}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err = hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 204, resp.StatusCode)
	u, _ := url.Parse(fake.URL)
	var token string
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "csrftoken" {
			token = ck.Value
		}
	}
	require.NotEmpty(t, token, "csrftoken comes with the POST")

	post := func(csrf string) int {
		req, err := http.NewRequest("POST", fake.URL+"api/2.0/boot-resources/?op=import", nil)
		require.NoError(t, err)
		if csrf != "" {
			req.Header.Set("X-CSRFToken", csrf)
		}
		resp, err := hc.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, 403, post(""))
	assert.Equal(t, 200, post(token))
}
