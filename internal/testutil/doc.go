// Package testutil holds helpers shared by the module's tests: finding the real clients
// (apt-get, gpgv, pip, ansible-galaxy, skopeo, ...) that integration tests drive, and
// running them with a bounded time; measuring the heap a parser holds and the bytes it
// allocates per MiB of input; a Recorder for the second origin of credential tests. It is
// not API.
package testutil
