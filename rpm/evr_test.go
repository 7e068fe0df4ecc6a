package rpm

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Cases from rpm's own rpmvercmp tests (rpmio/rpmver tests): their results, not their
// text.
func TestVercmp(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "2.0", -1}, {"2.0", "1.0", 1},
		{"2.0.1", "2.0.1", 0}, {"2.0", "2.0.1", -1}, {"2.0.1a", "2.0.1", 1},
		{"5.5p1", "5.5p2", -1}, {"5.5p10", "5.5p1", 1}, {"10xyz", "10.1xyz", -1},
		{"xyz10", "xyz10.1", -1}, {"xyz.4", "8", -1}, {"8", "xyz.4", 1},
		{"1.0aa", "1.0a", 1}, {"010", "10", 0}, {"1.0~rc1", "1.0", -1},
		{"1.0~rc1", "1.0~rc2", -1}, {"1.0~rc1~git123", "1.0~rc1", -1},
		{"1.0^", "1.0", 1}, {"1.0^git1", "1.0", 1}, {"1.0^git1", "1.01", -1},
		{"1.0^git1~pre", "1.0^git1", -1}, {"1.0~rc1^git1", "1.0~rc1", 1},
		{"1.0", "1.0^", -1}, {"a", "1", -1}, {"1.0.", "1.0", 0}, {"2_0", "2.0", 0},
	} {
		require.Equal(t, c.want, Vercmp(c.a, c.b), "%s vs %s", c.a, c.b)
		require.Equal(t, -c.want, Vercmp(c.b, c.a), "%s vs %s", c.b, c.a)
	}
}

func TestSatisfies(t *testing.T) {
	p := func(s string) EVR { e, err := ParseEVR(s); require.NoError(t, err); return e }
	prov := Dep{Name: "libapr", Flags: FlagEQ, EVR: p("0:1.7.0-12.el9")}
	for _, c := range []struct {
		req  Dep
		want bool
	}{
		{Dep{Name: "libapr"}, true},
		{Dep{Name: "libapr", Flags: FlagGE, EVR: p("1.7")}, true},
		{Dep{Name: "libapr", Flags: FlagLT, EVR: p("1.7")}, false},
		{Dep{Name: "libapr", Flags: FlagLT, EVR: p("2")}, true},
		{Dep{Name: "libapr", Flags: FlagEQ, EVR: p("1.7.0")}, true}, // no release: any
		{Dep{Name: "libapr", Flags: FlagEQ, EVR: p("1.7.0-11.el9")}, false},
		{Dep{Name: "libapr", Flags: FlagGT, EVR: p("1:1.0")}, false}, // epoch wins
	} {
		require.Equal(t, c.want, prov.Satisfies(c.req), c.req.String())
	}
	require.True(t, Dep{Name: "x"}.Satisfies(Dep{Name: "x", Flags: FlagGE, EVR: p("9")}), "an unversioned provide matches any version")
}

func TestParseRich(t *testing.T) {
	names := func(ds []Dep) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.String())
		}
		return out
	}
	for _, c := range []struct {
		in             string
		needed, leaves []string
	}{
		{"(a or b)", []string{"a", "b"}, []string{"a", "b"}},
		{"(a and (b or c >= 1.0))", []string{"a", "b", "c >= 0:1.0"}, []string{"a", "b", "c >= 0:1.0"}},
		{"(httpd-selinux if selinux-policy)", []string{"httpd-selinux"}, []string{"httpd-selinux", "selinux-policy"}},
		{"(a if b else c)", []string{"a", "c"}, []string{"a", "b", "c"}},
		{"(a unless b else c)", []string{"a", "c"}, []string{"a", "b", "c"}},
		{"(libapr >= 1.7 with libapr < 2)", []string{"libapr >= 0:1.7", "libapr < 0:2"}, []string{"libapr >= 0:1.7", "libapr < 0:2"}},
		{"(a without b)", []string{"a"}, []string{"a", "b"}},
		{"(a or b or c)", []string{"a", "b", "c"}, []string{"a", "b", "c"}},
	} {
		r, err := ParseRich(c.in)
		require.NoError(t, err, c.in)
		require.Equal(t, c.needed, names(r.Needed()), c.in)
		require.Equal(t, c.leaves, names(r.Leaves()), c.in)
	}
	for _, bad := range []string{"", "a", "(a", "(a or)", "(a or b and c)", "(a xor b)", "(a else b)", "(a if b else c else d)", "(a >= )", "(a) b", "(a = 1:x:y)"} {
		_, err := ParseRich(bad)
		require.ErrorIs(t, err, ErrMalformed, bad)
	}
}
