// Command fileserver serves a directory over HTTP on 127.0.0.1 for the fetch benchmark
// (bench/fetch.sh). It prints its base URL on the first line of stdout and serves until
// killed.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
)

func main() {
	dir := flag.String("dir", ".", "directory to serve")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, http.FileServer(http.Dir(*dir))))
}
