package galaxy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVersionOrder(t *testing.T) {
	ordered := []string{"0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0"}
	for i := 0; i+1 < len(ordered); i++ {
		a, err := ParseVersion(ordered[i])
		require.NoError(t, err)
		b, err := ParseVersion(ordered[i+1])
		require.NoError(t, err)
		assert.Equal(t, -1, a.Compare(b), "%s < %s", a, b)
		assert.Equal(t, 1, b.Compare(a))
		assert.Equal(t, ordered[i], a.String())
	}
	a, _ := ParseVersion("1.0.0+build.1")
	b, _ := ParseVersion("1.0.0+build.2")
	assert.Equal(t, 0, a.Compare(b))

	for _, bad := range []string{"", "1", "1.2", "01.2.3", "1.2.3-", "1.2.3+", "1.2.3-01", "a.b.c", "1.2.3.4", "1..3", "v1.2.3", strings.Repeat("1", 300) + ".0.0"} {
		_, err := ParseVersion(bad)
		assert.ErrorIs(t, err, ErrVersion, bad)
	}

	vs := []string{"1.0.0", "junk", "2.0.0-rc.1", "10.0.0", "2.0.0"}
	SortVersions(vs)
	assert.Equal(t, []string{"10.0.0", "2.0.0", "2.0.0-rc.1", "1.0.0", "junk"}, vs)
}

func TestRange(t *testing.T) {
	cases := []struct {
		rng     string
		version string
		pre     bool
		want    bool
	}{
		{"", "1.0.0", false, true},
		{"*", "9.9.9", false, true},
		{">=8.0.0,<9", "8.5.1", false, true},
		{">=8.0.0,<9", "9.0.0", false, false},
		{">=8.0.0,<9", "7.9.9", false, false},
		{">=8.0.0, <9.0.0", "8.0.0", false, true},
		{"==1.2.3", "1.2.3", false, true},
		{"1.2.3", "1.2.3", false, true},
		{"=1.2.3", "1.2.4", false, false},
		{"!=2.0.0", "2.0.0", false, false},
		{"!=2.0.0", "2.0.1", false, true},
		{">1.0", "1.0.1", false, true},
		{"<=1", "1.0.0", false, true},
		{"*", "2.0.0-rc.1", false, false},
		{"*", "2.0.0-rc.1", true, true},
		{"==2.0.0-rc.1", "2.0.0-rc.1", false, true},
		{">=1.0.0", "2.0.0-rc.1", false, false},
	}
	for _, c := range cases {
		r, err := ParseRange(c.rng)
		require.NoError(t, err, c.rng)
		v, err := ParseVersion(c.version)
		require.NoError(t, err)
		assert.Equal(t, c.want, r.Match(v, c.pre), "%q ~ %s", c.rng, c.version)
	}
	for _, bad := range []string{">=", ">=1.0.0,", "~1.0", ">=x", "1.0.0,,2.0.0", "=>1.0.0"} {
		_, err := ParseRange(bad)
		assert.ErrorIs(t, err, ErrVersion, bad)
	}
	r := MustParseRange("==1.2.3")
	v, ok := r.Exact()
	assert.True(t, ok)
	assert.Equal(t, "1.2.3", v.String())
	assert.Equal(t, "==1.2.3", r.String())
	assert.Equal(t, "*", Range{}.String())
}

func TestLooseOrder(t *testing.T) {
	assert.Equal(t, -1, compareLoose("1.9", "1.10"))
	assert.Equal(t, 1, compareLoose("v2.0.0", "v1.10.3"))
	assert.Equal(t, 0, compareLoose("1.0", "1.0"))
	assert.Equal(t, -1, compareLoose("1.0", "1.0.1"))
}

func TestParseRequirements(t *testing.T) {
	doc := `---
collections:
  - name: community.general
    version: ">=8.0.0,<9"
  - ansible.posix
  - name: acme.tools:==1.2.3
  - name: https://example.invalid/x.tar.gz
    type: url
  - name: acme.pinned
    version: 1.0
roles:
  - name: geerlingguy.docker
    version: 7.1.0
  - src: geerlingguy.java
  - src: https://github.com/x/y.git
    scm: git
    name: y
  - owner.role,2.0.0
`
	req, err := ParseRequirements(strings.NewReader(doc))
	require.NoError(t, err)
	require.Len(t, req.Collections, 5)
	assert.Equal(t, CollectionSpec{Name: "community.general", Version: ">=8.0.0,<9"}, req.Collections[0])
	assert.Equal(t, "ansible.posix", req.Collections[1].Name)
	assert.Equal(t, CollectionSpec{Name: "acme.tools", Version: "==1.2.3"}, req.Collections[2])
	assert.Equal(t, "url", req.Collections[3].Type)
	assert.Equal(t, "1.0", req.Collections[4].Version) // a YAML number, kept as written
	require.Len(t, req.Roles, 4)
	assert.Equal(t, RoleSpec{Name: "geerlingguy.docker", Versions: []string{"7.1.0"}}, req.Roles[0])
	assert.Equal(t, "geerlingguy.java", req.Roles[1].Name)
	assert.Equal(t, "git", req.Roles[2].SCM)
	assert.Equal(t, RoleSpec{Name: "owner.role", Versions: []string{"2.0.0"}}, req.Roles[3])

	old, err := ParseRequirements(strings.NewReader("- src: a.b\n  version: '1.0'\n- c.d\n"))
	require.NoError(t, err)
	assert.Len(t, old.Roles, 2)
	assert.Empty(t, old.Collections)

	empty, err := ParseRequirements(strings.NewReader(""))
	require.NoError(t, err)
	assert.Empty(t, empty.Collections)

	for _, bad := range []string{
		"collections: {a: b}\n",
		"collections:\n  - nodot\n",
		"collections:\n  - name: a.b\n    version: '>=x'\n",
		"roles:\n  - noowner\n",
		"just a string\n",
		"collections: [\n",
	} {
		_, err := ParseRequirements(strings.NewReader(bad))
		assert.ErrorIs(t, err, ErrRequirements, bad)
	}
}
