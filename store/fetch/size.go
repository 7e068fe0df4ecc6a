package fetch

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/airgapkit/airgap/store"
)

// Size asks the upstream how large req.URL's body is, with a HEAD request (credentials,
// headers and redirects as Fetch sends them, no retries), for dry runs. It returns
// store.UnknownSize when the answer carries no Content-Length, and for URLs other than
// http(s) (Generic ones: local paths, s3::, git::), which have no such question. A
// status other than 2xx is an *HTTPError.
func (c *Client) Size(ctx context.Context, req Request) (int64, error) {
	c.init()
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		if req.Generic {
			return store.UnknownSize, nil
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
