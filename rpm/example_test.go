package rpm_test

import (
	"fmt"

	"github.com/airgapkit/airgap/rpm"
)

// The .repo file a client gets for a filtered (re-signed) mirror of two repositories.
func ExampleRepoFile() {
	repos := []rpm.PublishedRepo{{Path: "BaseOS/x86_64/os"}, {Path: "AppStream/x86_64/os"}}
	fmt.Print(string(rpm.RepoFile(rpm.RepoDefs("http://mirror.example/rpm/rocky9", "rocky9", repos, true)[:1])))
	// Output:
	// [rocky9-baseos]
	// name=rocky9 BaseOS/x86_64/os
	// baseurl=http://mirror.example/rpm/rocky9/BaseOS/x86_64/os/
	// enabled=1
	// gpgcheck=1
	// repo_gpgcheck=1
	// gpgkey=http://mirror.example/rpm/rocky9/keys/upstream.asc http://mirror.example/rpm/rocky9/keys/mirror.asc
}

// Comparing versions as rpm does.
func ExampleVercmp() {
	fmt.Println(rpm.Vercmp("2.4.57", "2.4.6"), rpm.Vercmp("1.0~rc1", "1.0"), rpm.Vercmp("1.0^git1", "1.0"))
	// Output: 1 -1 1
}
