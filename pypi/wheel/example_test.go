package wheel_test

import (
	"fmt"

	"github.com/airgapkit/airgap/pypi/wheel"
)

func Example() {
	f, err := wheel.ParseFilename("numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
	if err != nil {
		panic(err)
	}
	for _, target := range []wheel.Target{
		{Python: "3.11", Platform: "manylinux_2_28_x86_64"},
		{Python: "3.11", Platform: "manylinux_2_28_aarch64"},
		{Python: "3.12", Platform: "manylinux_2_28_x86_64"},
	} {
		fmt.Println(target, target.Supports(f.Tags))
	}
	// Output:
	// cp3.11-manylinux_2_28_x86_64 true
	// cp3.11-manylinux_2_28_aarch64 false
	// cp3.12-manylinux_2_28_x86_64 false
}
