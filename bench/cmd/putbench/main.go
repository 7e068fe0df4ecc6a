// Command putbench puts files into a filesystem store and prints the elapsed seconds. It
// is the airgap side of bench/store.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/airgapkit/airgap/store"
)

func main() {
	dir := flag.String("store", "", "store directory")
	noSync := flag.Bool("nosync", false, "skip fsync (as cp does)")
	flag.Parse()
	var opts []store.Option
	if *noSync {
		opts = append(opts, store.WithoutSync())
	}
	s, err := store.Open(*dir, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	start := time.Now()
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_, err = s.Put(context.Background(), store.Expect{}, f)
		f.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	fmt.Printf("%.3f\n", time.Since(start).Seconds())
}
