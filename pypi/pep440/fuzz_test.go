package pep440

import "testing"

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1.0", "1!2.0rc1.post2.dev3+abc.1", "v1.0-beta_2", "1.0-1", "01.0+X"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(v.String())
		if err != nil {
			t.Fatalf("normalised %q of %q does not parse: %v", v.String(), s, err)
		}
		if Compare(v, again) != 0 || again.String() != v.String() {
			t.Fatalf("round trip of %q changed: %q vs %q", s, v, again)
		}
	})
}

func FuzzSpecifiers(f *testing.F) {
	for _, s := range []string{">=1.0,<2", "==1.*", "~=1.4.5a4", "===foo", "!=1.0+local"} {
		f.Add(s, "1.4.5")
	}
	f.Fuzz(func(t *testing.T, spec, ver string) {
		ss, err := ParseSpecifiers(spec)
		if err != nil {
			return
		}
		again, err := ParseSpecifiers(ss.String())
		if err != nil {
			t.Fatalf("normalised %q of %q does not parse: %v", ss.String(), spec, err)
		}
		v, err := Parse(ver)
		if err != nil {
			return
		}
		if ss.Matches(v) != again.Matches(v) {
			t.Fatalf("%q and its normalised %q disagree on %q", spec, ss.String(), ver)
		}
	})
}
