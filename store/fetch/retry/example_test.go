package retry_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/airgapkit/airgap/store/fetch/retry"
)

// A client with a request loop of its own (here a POST to an API) retries by the same
// policy as every download: the status is classified, Retry-After is honoured, and a 404
// or a certificate error would end the loop at once.
func ExamplePolicy_Do() {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 3 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()

	p := retry.Policy{Backoff: time.Millisecond}
	err := p.Do(context.Background(), func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err // classified by retry.Classify
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return retry.Mark(fmt.Errorf("POST: %s", resp.Status), retry.ClassifyStatus(resp.StatusCode))
		}
		return nil
	})
	fmt.Println(err, calls)
	// Output: <nil> 3
}
