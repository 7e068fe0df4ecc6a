package helm

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Block-style indexes, as helm and repository servers write them and as people do, are
// read block by block; the others are read whole, with the same result.
func TestReadIndexBlocks(t *testing.T) {
	all := func(string) bool { return true }
	for _, n := range []string{"index.yaml", "index-odd.yaml", "index.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		require.NoError(t, err)
		var got *Index
		if strings.HasSuffix(n, ".json") {
			got, err = readJSONIndex(bufio.NewReader(bytes.NewReader(b)), all)
		} else {
			got, err = readYAMLIndex(bufio.NewReader(bytes.NewReader(b)), all)
		}
		require.NoError(t, err, "%s is read block by block", n)
		whole, err := ParseIndex(b)
		require.NoError(t, err)
		assert.Equal(t, whole, got, n)
	}
	odd, err := ParseIndex(mustRead(t, "index-odd.yaml"))
	require.NoError(t, err)
	require.Len(t, odd.Entries["app"], 2)
	require.Len(t, odd.Entries["lib"], 1)
	assert.Equal(t, map[string]any{"contextPath": "/charts"}, odd.fields["serverInfo"])

	for name, doc := range map[string]string{
		"flow":               "{apiVersion: v1, entries: {a: []}}",
		"entries in flow":    "apiVersion: v1\nentries: {a: [{name: a, version: 1, urls: [u]}]}\n",
		"anchor on entries":  "apiVersion: v1\nentries: &e\n  a: []\n",
		"merge key":          "x: &x\n  a: []\napiVersion: v1\nentries:\n  <<: *x\n",
		"quoted chart key":   "apiVersion: v1\nentries:\n  \"a\": []\n",
		"duplicate chart":    "apiVersion: v1\nentries:\n  a: []\n  a: []\n",
		"duplicate entries":  "apiVersion: v1\nentries:\n  a: []\nentries:\n  b: []\n",
		"two documents":      "apiVersion: v1\nentries:\n  a: []\n---\nx: 1\n",
		"quote across a key": "apiVersion: v1\nentries:\n  a:\n  - description: \"one\n  b: two\"\n",
		"tab indent":         "apiVersion: v1\nentries:\n\ta: []\n",
		"carriage returns":   "apiVersion: v1\rentries:\r  a: []\r",
		"odd indentation":    "apiVersion: v1\nentries:\n    a: []\n  b: []\n",
	} {
		_, err := readYAMLIndex(bufio.NewReader(strings.NewReader(doc)), all)
		assert.ErrorIs(t, err, errWhole, name)
	}
}

// Only the wanted charts are decoded, and a malformed chart nobody wants is not looked
// at; one that is wanted fails as ParseIndex fails.
func TestReadIndexWant(t *testing.T) {
	doc := "apiVersion: v1\nentries:\n  bad:\n  - name: other\n  good:\n  - {name: good, version: 1.0.0, urls: [g.tgz]}\ngenerated: now\n"
	idx, err := ReadIndex(strings.NewReader(doc), func(n string) bool { return n == "good" })
	require.NoError(t, err)
	require.Len(t, idx.Entries, 1)
	assert.Equal(t, "1.0.0", idx.Entries["good"][0].Version)
	assert.Equal(t, "now", idx.fields["generated"])
	_, err = ReadIndex(strings.NewReader(doc), nil)
	require.ErrorIs(t, err, ErrMalformed)
	_, err = ReadIndex(strings.NewReader("apiVersion: v2\nentries:\n  a: []\n"), nil)
	require.ErrorIs(t, err, ErrMalformed)
}

func mustRead(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}
