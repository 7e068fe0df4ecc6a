// Package storetest is the conformance suite every store.Store backend must pass: verified
// Puts that leave nothing behind on failure, resumable uploads, refs with compare-and-swap,
// the single writer lock, and snapshots, publishing and GC on top of the backend.
//
// A backend's test calls Run with a constructor for fresh, empty stores:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return store.NewMemory() })
//	}
package storetest
