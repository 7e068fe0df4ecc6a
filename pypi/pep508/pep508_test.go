package pep508

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var linux311 = Environment{
	"python_version": "3.11", "python_full_version": "3.11.4", "os_name": "posix",
	"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
	"platform_python_implementation": "CPython", "implementation_name": "cpython",
	"implementation_version": "3.11.4", "platform_release": "", "platform_version": "",
}

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		"Foo": "foo", "foo_bar": "foo-bar", "Foo.._-Bar": "foo-bar", "zope.interface": "zope-interface", "a": "a",
	} {
		assert.Equal(t, want, NormalizeName(in))
	}
	assert.True(t, ValidName("zope.interface"))
	assert.False(t, ValidName("-foo"))
	assert.False(t, ValidName("foo bar"))
}

func TestParseRequirement(t *testing.T) {
	r, err := ParseRequirement(`Requests[Socks, security] >=2.8.1, ==2.8.* ; python_version < "2.7" or extra == 'test'`)
	require.NoError(t, err)
	assert.Equal(t, "Requests", r.Name)
	assert.Equal(t, "requests", r.Normalized())
	assert.Equal(t, []string{"security", "socks"}, r.Extras)
	assert.Equal(t, "==2.8.*,>=2.8.1", r.Specifiers.String())
	assert.Equal(t, `python_version < "2.7" or extra == "test"`, r.Marker.String())
	assert.Equal(t, `Requests[security,socks]==2.8.*,>=2.8.1; python_version < "2.7" or extra == "test"`, r.String())

	r, err = ParseRequirement("name (>=1.0, <2)")
	require.NoError(t, err)
	assert.Equal(t, "<2,>=1.0", r.Specifiers.String())

	r, err = ParseRequirement(`pip @ https://example.com/pip.whl ; sys_platform == "linux"`)
	require.NoError(t, err)
	assert.Equal(t, "https://example.com/pip.whl", r.URL)
	assert.NotNil(t, r.Marker)

	r, err = ParseRequirement("plain")
	require.NoError(t, err)
	assert.Empty(t, r.Specifiers)
	assert.Nil(t, r.Marker)
}

func TestParseRequirementErrors(t *testing.T) {
	for _, in := range []string{"", ">=1.0", "foo >=", "foo[bar", "foo bar", "foo; python_version", "foo; bogus == '1'",
		"foo; python_version < '3' and", "foo; (python_version < '3'", `foo; "a" == "b"`, "foo; os_name =! 'x'", "foo; os_name == 'x"} {
		_, err := ParseRequirement(in)
		require.Error(t, err, in)
		assert.ErrorIs(t, err, ErrSyntax, in)
	}
}

func TestEvaluate(t *testing.T) {
	cases := map[string]bool{
		`python_version >= "3.8"`:                                                   true,
		`python_version < "3.10"`:                                                   false,
		`python_full_version >= "3.11.4"`:                                           true,
		`"3.12" > python_version`:                                                   true,
		`sys_platform == "win32"`:                                                   false,
		`sys_platform != "win32" and platform_machine == "x86_64"`:                  true,
		`os_name == "nt" or (sys_platform == "linux" and python_version ~= "3.11")`: true,
		`"linux" in sys_platform`:                                                   true,
		`"arm" not in platform_machine`:                                             true,
		`platform_python_implementation == "PyPy"`:                                  false,
		`implementation_name == "cpython" and python_version != "3.11"`:             false,
		`extra == "test"`:                                                           false,
		`sys.platform == "linux"`:                                                   true,
		`python_version == "3.11.*"`:                                                true,
		`python_version === "3.11"`:                                                 true,
	}
	for in, want := range cases {
		m, err := ParseMarker(in)
		require.NoError(t, err, in)
		got, err := m.Evaluate(linux311)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		again, err := ParseMarker(m.String())
		require.NoError(t, err, m.String())
		got2, err := again.Evaluate(linux311)
		require.NoError(t, err)
		assert.Equal(t, got, got2, "round trip of %s", in)
	}
	m, err := ParseMarker(`platform_release < "x"`)
	require.NoError(t, err)
	_, err = m.Evaluate(linux311)
	assert.ErrorIs(t, err, ErrUndefined)
	_, err = m.Evaluate(Environment{})
	assert.ErrorIs(t, err, ErrUndefined)
}

func TestApplies(t *testing.T) {
	r, err := ParseRequirement(`pytest; extra == "Test_Suite" and python_version >= "3"`)
	require.NoError(t, err)
	ok, err := r.Applies(linux311, nil)
	require.NoError(t, err)
	assert.False(t, ok)
	ok, err = r.Applies(linux311, []string{"test-suite"})
	require.NoError(t, err)
	assert.True(t, ok)
	r, err = ParseRequirement(`colorama; sys_platform == "win32"`)
	require.NoError(t, err)
	ok, err = r.Applies(linux311, []string{"x"})
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestMarkerPrecedence(t *testing.T) {
	m, err := ParseMarker(`os_name == "a" or os_name == "posix" and sys_platform == "x"`)
	require.NoError(t, err)
	ok, err := m.Evaluate(linux311)
	require.NoError(t, err)
	assert.False(t, ok) // and binds tighter
	m, err = ParseMarker(`(os_name == "a" or os_name == "posix") and sys_platform == "linux"`)
	require.NoError(t, err)
	assert.Equal(t, `(os_name == "a" or os_name == "posix") and sys_platform == "linux"`, m.String())
}
