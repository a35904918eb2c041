// Command propagate is one service of the three-service test of trace
// propagation (cmd/tracegen's TestPropagationAcrossServices), built with
// tracegen go build. With -listen it serves: each request is answered
// with the service's name and the traceparent it arrived with, followed by
// what the next service (-next) answered; GET /quit stops it. Without
// -listen it makes one request to -next and prints the answer.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"

	_ "github.com/tracegen-dev/tracegen/runtime/export/otlp"
)

var (
	name = flag.String("name", "", "the service's name in its answers")
	next = flag.String("next", "", "URL of the next service")
)

// handle answers a request, asking the next service first.
//
//trace:span
func handle(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "%s %s\n", *name, r.Header.Get("traceparent"))
	if *next == "" {
		return
	}
	resp, err := http.Get(*next)
	if err != nil {
		fmt.Fprintf(w, "%s: %v\n", *name, err)
		return
	}
	defer resp.Body.Close()
	io.Copy(w, resp.Body)
}

// call is the first service's one request.
//
//trace:span
func call(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(os.Stdout, resp.Body)
	return err
}

func serve(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{}
	mux := http.NewServeMux()
	mux.HandleFunc("/", handle)
	// Serve returns as soon as Shutdown starts; the program waits for it
	// to finish, so that the answer to /quit is written before it exits.
	shutDown := make(chan struct{})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		go func() {
			srv.Shutdown(context.Background())
			close(shutDown)
		}()
	})
	srv.Handler = mux
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-shutDown
	return nil
}

func main() {
	listen := flag.String("listen", "", "serve on this address")
	flag.Parse()
	var err error
	if *listen != "" {
		err = serve(*listen)
	} else {
		err = call(*next)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
