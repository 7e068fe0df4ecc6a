package pypi_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/airgapkit/airgap/pypi"
	"github.com/airgapkit/airgap/pypi/pypitest"
	"github.com/airgapkit/airgap/pypi/wheel"
	"github.com/airgapkit/airgap/store"
)

// Mirror one requirement with its dependencies for two Python versions, then serve it.
func Example() {
	upstream := httptest.NewServer(pypitest.New(
		pypitest.Project{Name: "web", Dists: []pypitest.Dist{
			pypitest.BuildWheel(pypitest.WheelSpec{Name: "web", Version: "1.0", RequiresDist: []string{
				"helper>=2", `backport; python_version < "3.11"`, `winsvc; sys_platform == "win32"`}}),
		}},
		pypitest.Project{Name: "helper", Dists: []pypitest.Dist{
			pypitest.BuildWheel(pypitest.WheelSpec{Name: "helper", Version: "1.0"}),
			pypitest.BuildWheel(pypitest.WheelSpec{Name: "helper", Version: "2.1"}),
		}},
		pypitest.Project{Name: "backport", Dists: []pypitest.Dist{
			pypitest.BuildWheel(pypitest.WheelSpec{Name: "backport", Version: "0.3"}),
		}},
	))
	defer upstream.Close()

	s := store.NewMemory()
	m := &pypi.Mirror{
		URL:          upstream.URL + "/simple/",
		Requirements: []string{"web"},
		Targets: []wheel.Target{
			{Python: "3.10", Platform: "manylinux_2_28_x86_64"},
			{Python: "3.12", Platform: "manylinux_2_28_x86_64"},
		},
		Store: s,
	}
	stats, err := m.Sync(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(stats.Projects, "projects,", stats.Files, "files,", stats.MetadataFiles, "metadata files")
	snap, _, _ := store.OpenPublished(context.Background(), s, m.Ref())
	for _, p := range snap.Paths() {
		fmt.Println(p)
	}
	// Serve it to pip: http.ListenAndServe(":8080", pypi.NewHandler(s, m.Ref()))
	_ = pypi.NewHandler(s, m.Ref())
	// Output:
	// 3 projects, 3 files, 3 metadata files
	// packages/backport/backport-0.3-py3-none-any.whl
	// packages/backport/backport-0.3-py3-none-any.whl.metadata
	// packages/helper/helper-2.1-py3-none-any.whl
	// packages/helper/helper-2.1-py3-none-any.whl.metadata
	// packages/web/web-1.0-py3-none-any.whl
	// packages/web/web-1.0-py3-none-any.whl.metadata
	// simple/backport/index.html
	// simple/backport/index.json
	// simple/helper/index.html
	// simple/helper/index.json
	// simple/index.html
	// simple/index.json
	// simple/web/index.html
	// simple/web/index.json
	// upstream/backport
	// upstream/helper
	// upstream/web
}
