package pypi

import (
	"net/http"
	"net/url"

	"github.com/airgapkit/airgap/store/fetch"
)

// An index that wants credentials gets them as pip takes them, in its URL:
// https://user:password@host/simple/. They go, as HTTP basic authentication, to the
// index's origin only (fetch.Request.Credentials: scheme, host and port), so file links
// and redirects to another origin (pypi.org's files.pythonhosted.org, a CDN) go without
// them. What a mirror stores, logs and compares is the URL without them.

// splitUserinfo returns raw without its user:password, and the Authorization header they
// make (nil when raw has none).
func splitUserinfo(raw string) (string, http.Header) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw, nil
	}
	pw, _ := u.User.Password()
	req := &http.Request{Header: http.Header{}}
	req.SetBasicAuth(u.User.Username(), pw)
	u.User = nil
	return u.String(), req.Header
}

// withCredentials returns req carrying the index's credentials, for its origin only.
func (s *syncer) withCredentials(req fetch.Request) fetch.Request {
	if s.creds != nil {
		req.Credentials, req.CredentialOrigins = s.creds, []string{s.base.String()}
	}
	return req
}
