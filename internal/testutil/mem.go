package testutil

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// HeapWatch tracks the peak of the heap in use (runtime.MemStats.HeapInuse: live objects
// and garbage not yet collected, so an upper bound of what is live) above what it was
// when the watch started, after a GC: for tests and benchmarks that bound a parser's
// memory. Sample it from the parser's callback, or in the background with Every.
type HeapWatch struct {
	mu         sync.Mutex
	base, peak uint64
}

// NewHeapWatch collects garbage and starts a watch from the heap in use then.
func NewHeapWatch() *HeapWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return &HeapWatch{base: ms.HeapInuse, peak: ms.HeapInuse}
}

// Sample reads the heap in use now.
func (h *HeapWatch) Sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.mu.Lock()
	h.peak = max(h.peak, ms.HeapInuse)
	h.mu.Unlock()
}

// Every samples every d until stop is called (stop samples once more).
func (h *HeapWatch) Every(d time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				h.Sample()
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		h.Sample()
	}
}

// Growth is the peak heap in use above the start, in bytes.
func (h *HeapWatch) Growth() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.peak - h.base
}

// AllocPerMiB runs op in b.Loop, each run reading n bytes of input, and reports what it
// allocates per MiB of input as the metric "B/MiB", besides throughput and allocations
// per run. A parser that keeps only one record in memory allocates a constant multiple of
// its input; B/MiB is that multiple in bytes per MiB.
func AllocPerMiB(b *testing.B, n int64, op func() error) {
	b.Helper()
	b.SetBytes(n)
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	runs := 0
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
		runs++
	}
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(runs)/(float64(n)/(1<<20)), "B/MiB")
}
