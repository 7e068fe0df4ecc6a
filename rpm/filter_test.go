package rpm_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/rpm"
)

// held lists the package files a published mirror holds (file names, sorted).
func held(t *testing.T, e *env, m *rpm.Mirror) []string {
	t.Helper()
	items, err := rpm.Inventory(context.Background(), e.store, m.Ref())
	require.NoError(t, err)
	var out []string
	for _, it := range items {
		out = append(out, it.Path[strings.LastIndexByte(it.Path, '/')+1:])
	}
	slices.Sort(out)
	return out
}

// TestFilteredClosure: the closure over both repositories holds what httpd needs by
// file (primary and filelists), virtual provide, every branch of its rich
// dependencies, the newest libapr only, weak dependencies (Recommends, Supplements) by
// default and not with weak: false; an older version only when a versioned requirement
// needs it; the modular webapp of the default stream, not the non-modular 2.0.
func TestFilteredClosure(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	base := []string{
		"basesys-1.0-1.el9.noarch.rpm", "httpd-2.4.57-5.el9.x86_64.rpm", "httpd-selinux-2.4.57-5.el9.noarch.rpm",
		"libapr-1.7.0-12.el9.x86_64.rpm", "mimedata-2.1.54-1.el9.noarch.rpm", "mod_nss-1.0.14-1.el9.x86_64.rpm",
		"mod_ssl-2.4.57-5.el9.x86_64.rpm", "rocky-logos-90.14-1.el9.noarch.rpm", "selinux-policy-38.1.23-1.el9.noarch.rpm",
		"suexec-2.4.57-5.el9.x86_64.rpm", "webapp-1.0-1.module_el9.noarch.rpm",
	}
	for _, tc := range []struct {
		name   string
		filter rpm.Filter
		want   []string
	}{
		{"weak", httpdFilter, append(slices.Clone(base), "mod_http2-2.0.26-1.el9.x86_64.rpm", "mod_lua-2.4.57-5.el9.x86_64.rpm")},
		{"no-weak", rpm.Filter{Packages: []string{"httpd", "webapp"}, Dependencies: true, Weak: weak(false)}, base},
		{"older-version", rpm.Filter{Packages: []string{"legacy-tool"}, Dependencies: true},
			[]string{"legacy-tool-1.0-1.el9.x86_64.rpm", "libapr-1.6.5-3.el9.x86_64.rpm"}},
		{"no-deps", rpm.Filter{Packages: []string{"mod_*"}}, []string{"mod_http2-2.0.26-1.el9.x86_64.rpm",
			"mod_lua-2.4.57-5.el9.x86_64.rpm", "mod_nss-1.0.14-1.el9.x86_64.rpm", "mod_ssl-2.4.57-5.el9.x86_64.rpm"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := e.mirror(false)
			m.Name, m.Filter = tc.name, tc.filter
			st, err := m.Sync(ctx)
			require.NoError(t, err)
			slices.Sort(tc.want)
			require.Equal(t, tc.want, held(t, e, m))
			require.Equal(t, len(tc.want), st.Packages)
		})
	}
}

// TestStrictUnsatisfied: a filter naming a package nobody has fails a Strict sync
// (ErrUnsatisfied) and publishes nothing; without Strict it is logged.
func TestStrictUnsatisfied(t *testing.T) {
	e := newEnv(t)
	m := e.mirror(false)
	m.Filter = rpm.Filter{Packages: []string{"nosuch"}, Strict: true}
	_, err := m.Sync(context.Background())
	require.ErrorIs(t, err, rpm.ErrUnsatisfied)
	_, err = rpm.Repos(context.Background(), e.store, m.Ref())
	require.Error(t, err)
}
