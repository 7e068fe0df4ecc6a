// Package helmtest is a fake classic chart repository for tests, behaving as
// chartmuseum, GitHub pages and chart-releaser repositories do: index.yaml (apiVersion
// v1) on one server with its archives either beside it (relative URLs) or on a second
// server (absolute URLs, like GitHub release assets), real chart archives in helm's
// layout (<name>/Chart.yaml, values.yaml, templates/, charts/), .prov files as
// `helm package --sign` writes them, and 404 for anything else. Tests may tamper with
// what is served after signing.
package helmtest
