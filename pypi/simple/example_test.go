package simple_test

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/airgapkit/airgap/pypi/simple"
)

func Example() {
	base, _ := url.Parse("https://mirror.example/simple/demo/")
	page, err := simple.ParsePage(strings.NewReader(`{"meta": {"api-version": "1.1"}, "name": "demo", "files": [
	  {"filename": "demo-1.0-py3-none-any.whl", "url": "../../files/demo-1.0-py3-none-any.whl",
	   "hashes": {"sha256": "`+sum+`"}, "requires-python": ">=3.8", "yanked": "broken", "core-metadata": true}]}`),
		simple.MediaTypeJSON, base)
	if err != nil {
		panic(err)
	}
	f := page.Files[0]
	fmt.Println(f.URL, f.RequiresPython, f.Yanked, f.YankedReason, f.CoreMetadata)
	_ = simple.WritePageHTML(os.Stdout, page)
	// Output:
	// https://mirror.example/files/demo-1.0-py3-none-any.whl >=3.8 true broken true
	// <!DOCTYPE html>
	// <html>
	//   <head>
	//     <meta name="pypi:repository-version" content="1.1">
	//     <title>Links for demo</title>
	//   </head>
	//   <body>
	//     <h1>Links for demo</h1>
	//     <a href="https://mirror.example/files/demo-1.0-py3-none-any.whl#sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" data-requires-python="&gt;=3.8" data-yanked="broken" data-core-metadata="true">demo-1.0-py3-none-any.whl</a><br />
	//   </body>
	// </html>
}

const sum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// ScanPage hands over one file at a time, so that a caller keeps only what it selects:
// here the wheels, out of a page that may list a hundred thousand files.
func ExampleScanPage() {
	base, _ := url.Parse("https://mirror.example/simple/demo/")
	page := `<!DOCTYPE html><html><head><title>Links for demo</title></head><body>
<a href="../../files/demo-1.0.tar.gz#sha256=` + sum + `">demo-1.0.tar.gz</a>
<a href="../../files/demo-1.0-py3-none-any.whl#sha256=` + sum + `" data-requires-python="&gt;=3.8">demo-1.0-py3-none-any.whl</a>
</body></html>`
	var wheels []simple.File
	p, err := simple.ScanPage(strings.NewReader(page), simple.MediaTypeLegacyHTML, base, func(f simple.File) error {
		if strings.HasSuffix(f.Filename, ".whl") {
			wheels = append(wheels, f)
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Name, len(wheels), wheels[0].URL, wheels[0].RequiresPython)
	// Output:
	// demo 1 https://mirror.example/files/demo-1.0-py3-none-any.whl >=3.8
}
