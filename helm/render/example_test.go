package render_test

import (
	"context"
	"fmt"
	"os"

	"github.com/airgapkit/airgap/helm/render"
)

func ExampleImages() {
	archive, err := os.ReadFile("testdata/hello-0.1.0.tgz") // as helm package writes it
	if err != nil {
		panic(err)
	}
	images, err := render.Images(context.Background(), archive, render.Options{
		Values:  [][]byte{[]byte("image: nginx:1.27.3\n")}, // as helm template -f
		Include: []string{"busybox:1.37"},
	})
	if err != nil {
		panic(err)
	}
	for _, im := range images {
		fmt.Println(im.Ref, "from", im.From)
	}
	// Output:
	// docker.io/library/nginx:1.27.3 from hello/templates/deployment.yaml
	// quay.io/example/operand:2.0 from annotation artifacthub.io/images of hello
	// docker.io/library/busybox:1.37 from images
}
