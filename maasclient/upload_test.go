package maasclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// uploadServer answers POST boot-resources/ as MAAS's BootResourceForm does: a
// multipart form whose content is a file part, name and architecture required, a known
// filetype, and sha256 and size that match the content; 400 with field errors otherwise.
func uploadServer(t *testing.T, got *map[string]string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/MAAS/api/2.0/boot-resources/" || r.URL.Query().Get("op") != "" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, "not multipart", http.StatusBadRequest)
			return
		}
		f, _, err := r.FormFile("content")
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string][]string{"content": {"This field is required."}})
			return
		}
		content, _ := io.ReadAll(f)
		sum := sha256.Sum256(content)
		fields := map[string]string{}
		for k := range r.MultipartForm.Value {
			fields[k] = r.FormValue(k)
		}
		*got = fields
		switch {
		case fields["name"] == "" || !strings.Contains(fields["architecture"], "/"):
			http.Error(w, `{"name": ["This field is required."]}`, http.StatusBadRequest)
		case !slices.Contains(CustomImageFiletypes, fields["filetype"]):
			http.Error(w, `{"filetype": ["Select a valid choice."]}`, http.StatusBadRequest)
		case fields["sha256"] != hex.EncodeToString(sum[:]) || fields["size"] != strconv.Itoa(len(content)):
			http.Error(w, `{"content": ["sha256 or size does not match."]}`, http.StatusBadRequest)
		default:
			json.NewEncoder(w).Encode(BootResource{ID: 7, Type: "Uploaded", Name: fields["name"], Architecture: fields["architecture"]})
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestUploadCustomImage(t *testing.T) {
	var got map[string]string
	srv := uploadServer(t, &got)
	c, err := New(srv.URL+"/MAAS", "ck:tk:ts", Options{})
	require.NoError(t, err)
	img := CustomImage{Name: "custom/rocky9", Architecture: "amd64/generic", BaseImage: "rhel/9", Title: "Rocky 9",
		Content: []byte("a root tarball")}
	res, err := c.UploadCustomImage(context.Background(), img)
	require.NoError(t, err)
	require.Equal(t, 7, res.ID)
	require.Equal(t, "Uploaded", res.Type)
	require.Equal(t, "rhel/9", got["base_image"])
	require.Equal(t, "tgz", got["filetype"])

	for _, bad := range []CustomImage{
		{Name: "", Architecture: "amd64/generic", Content: []byte("x")},
		{Name: "custom/x", Architecture: "amd64", Content: []byte("x")},
		{Name: "custom/x", Architecture: "amd64/generic", Filetype: "zip", Content: []byte("x")},
		{Name: "custom/x", Architecture: "amd64/generic"},
	} {
		_, err := c.UploadCustomImage(context.Background(), bad)
		require.ErrorIs(t, err, ErrBadRequest, "%+v", bad)
	}
}

// TestCloudConfigYumRepos: the user data is a #cloud-config document whose yum_repos
// cloud-init writes as .repo files (baseurl, gpgcheck, repo_gpgcheck, gpgkey with
// both keys), and whose bootcmd disables the vendor's repositories once, first.
func TestCloudConfigYumRepos(t *testing.T) {
	cc := CloudConfig{DisableVendorRepos: true, YumRepos: []YumRepo{{
		ID: "rocky9-baseos", Name: "rocky9 BaseOS", BaseURL: "http://mirror.example/rpm/rocky9/BaseOS/x86_64/os/",
		GPGCheck: true, RepoGPGCheck: true,
		GPGKeys: []string{"http://mirror.example/rpm/rocky9/keys/upstream.asc", "http://mirror.example/rpm/rocky9/keys/mirror.asc"},
	}}}
	b, err := cc.Marshal()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(b), "#cloud-config\n"))
	var doc struct {
		BootCmd  [][]string                `yaml:"bootcmd"`
		YumRepos map[string]map[string]any `yaml:"yum_repos"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	r := doc.YumRepos["rocky9-baseos"]
	require.Equal(t, "http://mirror.example/rpm/rocky9/BaseOS/x86_64/os/", r["baseurl"])
	require.Equal(t, true, r["gpgcheck"])
	require.Equal(t, true, r["repo_gpgcheck"])
	require.Equal(t, true, r["enabled"])
	require.Equal(t, "http://mirror.example/rpm/rocky9/keys/upstream.asc http://mirror.example/rpm/rocky9/keys/mirror.asc", r["gpgkey"])
	require.Len(t, doc.BootCmd, 1)
	require.Equal(t, []string{"cloud-init-per", "once", "airgap-disable-vendor-repos", "sh", "-c"}, doc.BootCmd[0][:5])
	require.Contains(t, doc.BootCmd[0][5], "enabled=0")

	_, err = CloudConfig{YumRepos: []YumRepo{{ID: "a"}, {ID: "a"}}}.Marshal()
	require.ErrorIs(t, err, ErrBadRequest)
}
