package pep508

import "testing"

func FuzzParseRequirement(f *testing.F) {
	for _, s := range []string{`a[b,c]>=1,<2; python_version < "3.8" and extra == 'x'`, "name (==1.*)", "x @ https://h/x.whl ; os_name == 'nt'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRequirement(s)
		if err != nil {
			return
		}
		again, err := ParseRequirement(r.String())
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", r.String(), s, err)
		}
		if again.String() != r.String() {
			t.Fatalf("canonical form unstable: %q -> %q", r.String(), again.String())
		}
		_, _ = r.Applies(Environment{"python_version": "3.11", "sys_platform": "linux"}, []string{"x"})
	})
}

func FuzzParseMarker(f *testing.F) {
	for _, s := range []string{`python_version >= "3.8"`, `(os_name == "nt" or sys_platform != 'linux') and "arm" in platform_machine`, `extra == "Te_st"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMarker(s)
		if err != nil {
			return
		}
		env := Environment{"python_version": "3.11", "sys_platform": "linux", "os_name": "posix"}
		got, err1 := m.Evaluate(env)
		again, err := ParseMarker(m.String())
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", m.String(), s, err)
		}
		got2, err2 := again.Evaluate(env)
		if (err1 == nil) != (err2 == nil) || got != got2 {
			t.Fatalf("canonical form of %q evaluates differently", s)
		}
	})
}
