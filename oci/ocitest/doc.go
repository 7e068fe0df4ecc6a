// Package ocitest runs a local upstream container registry for tests and the offline demo:
// go-containerregistry's in-memory registry on an httptest server at 127.0.0.1, filled
// with small generated content that is the same on every run: a single-arch image with a
// cosign-style signature tag, a multi-arch index, an OCI 1.1 artifact with a referrer,
// and a repository of semver tags. Faults can be switched on to make the upstream lie
// (corrupt blobs), throttle (429), demand credentials or send blob downloads to a second
// origin (StartBlobs). It is not API.
package ocitest
