package pep440_test

import (
	"fmt"

	"github.com/airgapkit/airgap/pypi/pep440"
)

func Example() {
	v := pep440.MustParse("1.4.0-RC.2")
	fmt.Println(v, v.IsPrerelease())

	set, err := pep440.ParseSpecifiers(">=1.2,<2,!=1.3.*")
	if err != nil {
		panic(err)
	}
	for _, s := range []string{"1.2", "1.3.4", "1.9.post1", "2.0"} {
		fmt.Println(s, set.Matches(pep440.MustParse(s)))
	}
	fmt.Println(set.Allows(v, false), set.Allows(v, true))
	// Output:
	// 1.4.0rc2 true
	// 1.2 true
	// 1.3.4 false
	// 1.9.post1 true
	// 2.0 false
	// false true
}
