package pep508_test

import (
	"fmt"

	"github.com/airgapkit/airgap/pypi/pep508"
)

func Example() {
	r, err := pep508.ParseRequirement(`colorama>=0.4; sys_platform == "win32" or extra == "color"`)
	if err != nil {
		panic(err)
	}
	linux := pep508.Environment{"sys_platform": "linux", "python_version": "3.11"}
	windows := pep508.Environment{"sys_platform": "win32", "python_version": "3.11"}
	onLinux, _ := r.Applies(linux, nil)
	onWindows, _ := r.Applies(windows, nil)
	withExtra, _ := r.Applies(linux, []string{"color"})
	fmt.Println(r.Normalized(), r.Specifiers, onLinux, onWindows, withExtra)
	// Output:
	// colorama >=0.4 false true true
}
