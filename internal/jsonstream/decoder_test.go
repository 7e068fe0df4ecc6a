package jsonstream

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

var errBad = errors.New("bad document")

// read decodes {"list": [strings], ...} skipping other keys.
func read(doc string, max int) ([]string, error) {
	d := NewDecoder(strings.NewReader(doc), max, errBad)
	var list []string
	err := d.Object(func(key string) error {
		if key != "list" {
			return d.Skip()
		}
		_, err := d.Array(func() error {
			var s string
			err := d.Decode(&s)
			list = append(list, s)
			return err
		})
		return err
	})
	if err == nil {
		err = d.End()
	}
	return list, err
}

func TestDecoder(t *testing.T) {
	list, err := read(` {"a": {"b": [1, {"c": null}]}, "list": ["x", "y"], "z": "w"} `, 64)
	require.NoError(t, err)
	assert.Equal(t, []string{"x", "y"}, list)
	list, err = read(`{"list": null}`, 64)
	require.NoError(t, err)
	assert.Empty(t, list)

	for _, bad := range []string{``, `[]`, `{"list": {}}`, `{"list": ["x", 1]}`, `{"list": ["x"]`, `{"list": [], "list": []}`,
		`{"list": []} {}`, `{"list": []}]`, `{"a": [1, 2}`} {
		_, err := read(bad, 64)
		assert.ErrorIs(t, err, errBad, bad)
		assert.NotErrorIs(t, err, store.ErrTooLarge, bad)
	}
}

// TestDecoderCap: one value over the cap fails with store.ErrTooLarge, wherever it is and
// whatever the decoder had read ahead; many small values do not, however many.
func TestDecoderCap(t *testing.T) {
	long := `"` + strings.Repeat("x", 100) + `"`
	for _, doc := range []string{`{"list": [` + long + `]}`, `{"other": ` + long + `, "list": []}`, `{"other": [1, ` + long + `], "list": []}`, `{` + long + `: 1}`} {
		_, err := read(doc, 100)
		require.ErrorIs(t, err, store.ErrTooLarge, doc)
		assert.ErrorContains(t, err, "over 100 bytes")
	}
	var b strings.Builder
	b.WriteString(`{"other": [`)
	for i := range 10000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"k": [1, 2]}`)
	}
	b.WriteString(`], "list": [` + strings.Repeat(`"abc", `, 10000) + `"abc"]}`)
	list, err := read(b.String(), 100)
	require.NoError(t, err)
	assert.Len(t, list, 10001)
}

func TestDecoderReadError(t *testing.T) {
	broken := errors.New("disk on fire")
	d := NewDecoder(io.MultiReader(strings.NewReader(`{"list": [`), iotest.ErrReader(broken)), 64, errBad)
	err := d.Object(func(string) error { return d.Skip() })
	require.ErrorIs(t, err, broken)
	assert.NotErrorIs(t, err, errBad)
}
