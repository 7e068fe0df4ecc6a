package simplestreams

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFilter(t *testing.T) {
	for in, want := range map[string]Filter{
		"arch=amd64":            {Key: "arch", Op: OpEqual, Value: "amd64"},
		"arch != amd64":         {Key: "arch", Op: OpNotEqual, Value: "amd64"},
		"release~(jammy|noble)": {Key: "release", Op: OpMatch, Value: "(jammy|noble)"},
		"ftype!~^boot":          {Key: "ftype", Op: OpNoMatch, Value: "^boot"},
		"bootloader-type=uefi":  {Key: "bootloader-type", Op: OpEqual, Value: "uefi"},
		"label=":                {Key: "label", Op: OpEqual, Value: ""},
		"x=a=b":                 {Key: "x", Op: OpEqual, Value: "a=b"},
		"arch =  amd64 ":        {Key: "arch", Op: OpEqual, Value: "amd64 "}, // as sstream-mirror: trailing spaces are part of the value
		"versión=1":             {Key: "versión", Op: OpEqual, Value: "1"},
	} {
		got, err := ParseFilter(in)
		require.NoError(t, err, in)
		got.re = nil
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "=x", "arch", "arch:amd64", "a b=c", "x~(", "x!~[", " arch=x", "a!b"} {
		_, err := ParseFilter(bad)
		assert.ErrorIs(t, err, ErrFilter, "%q", bad)
	}
}

func TestFilterMatch(t *testing.T) {
	p, err := ParseProducts([]byte(testProducts))
	require.NoError(t, err)
	kernel := p.Items()[0] // p1/20261101/kernel: arch amd64, release noble, ftype boot-kernel
	for expr, want := range map[string]bool{
		"arch=amd64":               true,
		"arch=amd":                 false, // = is exact
		"arch~amd":                 true,  // ~ is unanchored
		"arch~^amd$":               false,
		"arch!=amd64":              false,
		"arch!~arm":                true,
		"missing=":                 true, // a missing key is ""
		"missing!=":                false,
		"missing~.":                false,
		"missing!~.":               true,
		"weight=10":                true, // numbers compare as written
		"product_name=p1":          true,
		"version_name~^2026110":    true,
		"item_name=kernel":         true,
		"content_id~example":       true,
		"region=us-east-1":         true, // alias expansion
		"release~(focal|jammy)":    false,
		"release~(focal|noble)":    true,
		"ftype=boot-kernel":        true,
		"ftype=product-level":      false,
		"label=stable":             true,
		"arch|x=amd64":             false, // '|' is a key character: no such key
		"sha256~^0123456789abcdef": true,
	} {
		f, err := ParseFilter(expr)
		require.NoError(t, err, expr)
		assert.Equal(t, want, f.Match(kernel), expr)
	}
	fs, err := ParseFilters([]string{"arch=amd64", "release=noble", "ftype~kernel"})
	require.NoError(t, err)
	assert.True(t, fs.Match(kernel))
	fs, err = ParseFilters([]string{"arch=amd64", "release=jammy"})
	require.NoError(t, err)
	assert.False(t, fs.Match(kernel), "filters are ANDed")
	assert.True(t, Filters(nil).Match(kernel))
	_, err = ParseFilters([]string{"ok=1", "bad"})
	assert.ErrorIs(t, err, ErrFilter)
}

func TestMAASSelection(t *testing.T) {
	p, err := ParseProducts([]byte(testProducts))
	require.NoError(t, err)
	kernel := p.Items()[0]
	assert.True(t, MAASSelection{OS: "ubuntu", Release: "noble", Arches: []string{"amd64"}}.Match(kernel))
	assert.True(t, MAASSelection{Release: "noble", Arches: []string{"*"}, Labels: []string{"stable"}}.Match(kernel))
	assert.False(t, MAASSelection{Release: "jammy"}.Match(kernel))
	assert.False(t, MAASSelection{Arches: []string{"arm64"}}.Match(kernel))
	assert.False(t, MAASSelection{Labels: []string{"candidate"}}.Match(kernel))
	assert.False(t, MAASSelection{Subarches: []string{"ga-24.04"}}.Match(kernel), "no subarch field")
	assert.Nil(t, MAASSelector(nil))
	keep := MAASSelector([]MAASSelection{{Release: "jammy"}, {Release: "noble", Arches: []string{"amd64"}}})
	assert.True(t, keep(kernel), "selections are ORed")
	assert.False(t, IsBootloader(kernel))
}

// TestFilterFlattensAsSstreamMirror: sstream-mirror flattens an item with Python's str(),
// so booleans are "True"/"False" and numbers print as Python prints them; filters compare
// against that text.
func TestFilterFlattensAsSstreamMirror(t *testing.T) {
	p, err := ParseProducts([]byte(`{"format": "products:1.0", "supported": true, "products": {
	 "old": {"supported": false, "versions": {"1": {"items": {"i": {"path": "old/i", "md5": "0123456789abcdef0123456789abcdef"}}}}},
	 "new": {"versions": {"1": {"items": {"i": {"path": "new/i", "md5": "0123456789abcdef0123456789abcdef",
	   "f": 1.0, "e": 1e16, "small": 0.00001, "fixed": 0.0001, "long": 1234567890123456.0, "neg": -0, "big": 123456789012345678901234567890,
	   "mant": 2.5E-7, "inf": 1e400, "zero": 0.0, "negzero": -0.0, "x": 1.5e300}}}}}}}`))
	require.NoError(t, err)
	match := func(expr string) []string {
		f, err := ParseFilter(expr)
		require.NoError(t, err, expr)
		var names []string
		for _, it := range p.Select(f.Match, 0).Items() {
			names = append(names, it.Product.Name)
		}
		return names
	}
	assert.Equal(t, []string{"old"}, match("supported=False"))
	assert.Equal(t, []string{"new"}, match("supported=True"), "inherited from the top")
	assert.Equal(t, []string{"new"}, match("supported!=False"))
	assert.Empty(t, match("supported=false"), "Python's spelling, not JSON's")
	assert.Equal(t, []string{"new"}, match("supported~^T"))

	flat := p.Products["new"].Versions["1"].Items["i"]
	it := ItemRef{Products: p, Product: p.Products["new"], Version: p.Products["new"].Versions["1"], Item: flat}
	for key, want := range map[string]string{
		"f": "1.0", "e": "1e+16", "small": "1e-05", "fixed": "0.0001", "long": "1234567890123456.0",
		"neg": "0", "big": "123456789012345678901234567890", "mant": "2.5e-07", "inf": "inf",
		"zero": "0.0", "negzero": "-0.0", "x": "1.5e+300",
	} {
		got, ok := it.Get(key)
		assert.True(t, ok, key)
		assert.Equal(t, want, got, key)
	}
}
