package rpm_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"

	"github.com/airgapkit/airgap/rpm"
	"github.com/airgapkit/airgap/rpm/rpmtest"
)

// rewritePrimary changes a repository's primary (decompressed content) and updates
// repomd.xml to match (checksums, sizes, location), re-signed by the upstream's key.
func rewritePrimary(t *testing.T, tr *rpmtest.Tree, repo string, edit func([]byte) []byte) {
	t.Helper()
	p := repo + "/repodata/repomd.xml"
	md, err := rpm.ParseRepomd(tr.Files[p])
	require.NoError(t, err)
	d, _ := md.Find("primary")
	raw := tr.Files[repo+"/"+d.Href]
	var r io.Reader
	if bytes.HasSuffix([]byte(d.Href), []byte(".xz")) {
		r, err = xz.NewReader(bytes.NewReader(raw))
	} else {
		r, err = gzip.NewReader(bytes.NewReader(raw))
	}
	require.NoError(t, err)
	plain, err := io.ReadAll(r)
	require.NoError(t, err)
	plain = edit(plain)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(plain)
	zw.Close()
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	href := "repodata/" + sum(z.Bytes()) + "-primary.xml.gz"
	delete(tr.Files, repo+"/"+d.Href)
	tr.Files[repo+"/"+href] = z.Bytes()
	b := tr.Files[p]
	b = bytes.Replace(b, []byte(d.Href), []byte(href), 1)
	b = bytes.Replace(b, []byte(d.Checksum.Value), []byte(sum(z.Bytes())), 1)
	b = bytes.Replace(b, []byte(d.OpenChecksum.Value), []byte(sum(plain)), 1)
	re := regexp.MustCompile(`(<data type="primary">(?s:.*?)<size>)\d+(</size>\s*<open-size>)\d+(</open-size>)`)
	b = re.ReplaceAll(b, []byte(fmt.Sprintf("${1}%d${2}%d${3}", z.Len(), len(plain))))
	tr.Files[p] = b
	tr.Sign(repo, tr.Signer)
}
