package fetch

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// Size asks the upstream how large req.URL's body is, with a HEAD request (credentials,
// headers and redirects as Fetch sends them, no retries), for dry runs. It returns
// store.UnknownSize when the answer carries no Content-Length. Of the other Generic URL
// forms, a local file (a path, or file://) has the size stat gives it; the rest (s3::,
// git::, a directory, a missing file) are unknown. A status other than 2xx is an
// *HTTPError.
func (c *Client) Size(ctx context.Context, req Request) (int64, error) {
	c.init()
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		if req.Generic {
			if err != nil {
				return store.UnknownSize, nil
			}
			return localSize(req.URL, u), nil
		}
		return 0, fmt.Errorf("%w: %q (http or https only)", ErrUnsupportedURL, redact(req.URL))
	}
	if ctx, err = withCredentials(ctx, req, u); err != nil {
		return 0, err
	}
	release, err := c.acquireHost(ctx, hostKey(u))
	if err != nil {
		return 0, err
	}
	defer release()
	hreq, err := c.newRequest(ctx, req, u, 0, &state{})
	if err != nil {
		return 0, err
	}
	hreq.Method = http.MethodHead
	resp, err := c.http.Do(hreq)
	if err != nil {
		return 0, fmt.Errorf("fetch %s: %w", u.Redacted(), err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return 0, &HTTPError{Method: http.MethodHead, URL: u.Redacted(), StatusCode: resp.StatusCode, Status: resp.Status}
	}
	if resp.ContentLength < 0 {
		return store.UnknownSize, nil
	}
	return resp.ContentLength, nil
}

// localSize is the size of the local file a Generic URL (raw, parsed as u) names, as
// go-getter reads one (a path, relative to the working directory, or a file:// URL);
// UnknownSize for any other form, and for what is not a regular file.
func localSize(raw string, u *url.URL) int64 {
	if strings.Contains(raw, "::") { // a forced getter: s3::, git::
		return store.UnknownSize
	}
	p := raw
	switch u.Scheme {
	case "":
	case "file":
		p = u.Path
	default:
		return store.UnknownSize
	}
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return store.UnknownSize
	}
	return st.Size()
}
