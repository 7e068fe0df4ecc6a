package pep440

import (
	"errors"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseNormalises(t *testing.T) {
	cases := map[string]string{
		"1.0":              "1.0",
		"v1.0":             "1.0",
		" 1.0\n":           "1.0",
		"1.0-RC.1":         "1.0rc1",
		"1.0c1":            "1.0rc1",
		"1.0.preview2":     "1.0rc2",
		"1.0alpha":         "1.0a0",
		"1.0-beta-3":       "1.0b3",
		"1.0-1":            "1.0.post1",
		"1.0.post":         "1.0.post0",
		"1.0-r4":           "1.0.post4",
		"1.0rev":           "1.0.post0",
		"1.0.dev":          "1.0.dev0",
		"1.0_DEV_7":        "1.0.dev7",
		"1!2.0":            "1!2.0",
		"0!2.0":            "2.0",
		"1.0+Ubuntu-1_a":   "1.0+ubuntu.1.a",
		"2.0a1.post2.dev3": "2.0a1.post2.dev3",
		"01.002":           "1.2",
		"2023.10.1":        "2023.10.1",
	}
	for in, want := range cases {
		v, err := Parse(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, v.String(), in)
		again, err := Parse(v.String())
		require.NoError(t, err)
		assert.True(t, Equal(v, again), in)
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "a", "1.0+", "1.0+a..b", "1.0foo", "1.0-", "1!", "1.0.*", "99999999999999999999999", "1 .0", "1.0+a+b"} {
		_, err := Parse(in)
		require.Error(t, err, in)
		assert.True(t, errors.Is(err, ErrInvalidVersion), in)
		var ve *ParseError
		assert.ErrorAs(t, err, &ve)
	}
}

func TestOrdering(t *testing.T) {
	// Ascending, from the PEP's own example ordering plus epochs and locals.
	ordered := []string{
		"1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12",
		"1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345",
		"1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5", "1.0.post456.dev34",
		"1.0.post456", "1.0.15", "1.1.dev1", "2.0", "1!0.1",
	}
	vs := make([]Version, len(ordered))
	for i, s := range ordered {
		vs[i] = MustParse(s)
	}
	for i := range vs {
		for j := range vs {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			assert.Equal(t, want, Compare(vs[i], vs[j]), "%s vs %s", ordered[i], ordered[j])
		}
	}
	shuffled := append([]Version(nil), vs[5:]...)
	shuffled = append(shuffled, vs[:5]...)
	sort.Slice(shuffled, func(i, j int) bool { return Compare(shuffled[i], shuffled[j]) < 0 })
	for i := range vs {
		assert.Equal(t, vs[i].String(), shuffled[i].String())
	}
	assert.True(t, Equal(MustParse("1.0"), MustParse("1.0.0.0")))
}

func TestSpecifiers(t *testing.T) {
	cases := []struct {
		spec string
		in   []string
		out  []string
	}{
		{"==1.0", []string{"1.0", "1.0.0", "1.0+local"}, []string{"1.0.1", "1.0.post1", "1.0rc1"}},
		{"==1.0+local", []string{"1.0+local"}, []string{"1.0", "1.0+other"}},
		{"==1.*", []string{"1", "1.0", "1.9.post1", "1.5rc1", "1.0+x"}, []string{"2.0", "0.9", "10.0"}},
		{"==1.0.*", []string{"1", "1.0.7"}, []string{"1.1"}},
		{"==1.0rc1.*", []string{"1.0rc1", "1.0rc1.post1"}, []string{"1.0rc2", "1.0"}},
		{"!=1.5.*", []string{"1.4", "1.6"}, []string{"1.5", "1.5.3"}},
		{"~=2.2", []string{"2.2", "2.3", "2.9.post1"}, []string{"3.0", "2.1"}},
		{"~=1.4.5", []string{"1.4.5", "1.4.9"}, []string{"1.5.0", "1.4.4"}},
		{"~=1.4.5a4", []string{"1.4.5a4", "1.4.5"}, []string{"1.5"}},
		{"~=1!2.0", []string{"1!2.5"}, []string{"2.5"}},
		{"<=2.0", []string{"2.0", "2.0+local", "1.0"}, []string{"2.0.post1"}},
		{">=2.0", []string{"2.0", "2.0+x", "3"}, []string{"2.0rc1"}},
		{"<2.0", []string{"1.9", "1.9.post1"}, []string{"2.0", "2.0rc1", "2.0.dev1"}},
		{"<2.0rc1", []string{"2.0b1", "1.0"}, []string{"2.0rc1"}},
		{">1.7", []string{"1.7.1", "1.8"}, []string{"1.7", "1.7.post2", "1.7+local"}},
		{">1.7.post2", []string{"1.7.post3", "1.8"}, []string{"1.7.post2"}},
		{"===1.0", []string{"1.0"}, []string{"1.0.0"}},
		{">=1.0,<2,!=1.3.*", []string{"1.0", "1.2.9", "1.4"}, []string{"1.3.1", "2.0", "0.9"}},
		{"", []string{"0", "99"}, nil},
	}
	for _, c := range cases {
		ss, err := ParseSpecifiers(c.spec)
		require.NoError(t, err, c.spec)
		for _, v := range c.in {
			assert.True(t, ss.Matches(MustParse(v)), "%s should match %s", c.spec, v)
		}
		for _, v := range c.out {
			assert.False(t, ss.Matches(MustParse(v)), "%s should not match %s", c.spec, v)
		}
	}
}

func TestSpecifierErrors(t *testing.T) {
	for _, in := range []string{"1.0", ">=", "~=1", ">=1.*", "<1.0+local", "==1.0.dev1.*", "==1.0+x.*", "=>1.0", "==1.0,", "=== a b"} {
		_, err := ParseSpecifiers(in)
		require.Error(t, err, in)
		assert.ErrorIs(t, err, ErrInvalidSpecifier, in)
	}
}

func TestPrereleasePolicy(t *testing.T) {
	vs := []Version{MustParse("1.0"), MustParse("2.0b1"), MustParse("1.5.dev1")}
	ss := MustParseSpecifiers(">=1.0")
	assert.Equal(t, []Version{vs[0]}, ss.Filter(vs, false))
	assert.Len(t, ss.Filter(vs, true), 3)
	assert.False(t, ss.Allows(vs[1], false))
	assert.True(t, ss.Allows(vs[1], true))
	// A clause naming a pre-release admits them.
	pre := MustParseSpecifiers(">=2.0b1")
	assert.True(t, pre.Allows(vs[1], false))
	// Only pre-releases match: they are returned.
	only := MustParseSpecifiers(">=1.9")
	assert.Equal(t, []Version{vs[1]}, only.Filter(vs, false))
}

func TestSpecifierString(t *testing.T) {
	ss := MustParseSpecifiers(" <2 , >= 1.0.RC1 ,== 1.* ")
	assert.Equal(t, "<2,==1.*,>=1.0rc1", ss.String())
	assert.Equal(t, "===foo", MustParseSpecifiers("===foo").String())
}
