// Command imgbin stands in for the programs of the images critest pulls,
// chosen by the name it is run as (the images hold it under each name):
//
//   - pause: a pod sandbox's process; reaps orphans, exits on SIGINT/SIGTERM;
//   - nginx, httpd: a web server on port 80 (or -p PORT) answering 200 with a
//     page, writing its pid to /var/run/nginx.pid as nginx does;
//   - nonewprivs: installed setuid root, prints its effective uid, which
//     shows whether no_new_privs stopped the setuid.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
)

func main() {
	switch name := filepath.Base(os.Args[0]); name {
	case "pause":
		pause()
	case "nginx", "httpd":
		serve()
	case "nonewprivs":
		fmt.Printf("Effective uid: %d\n", os.Geteuid())
	default:
		fmt.Fprintf(os.Stderr, "imgbin: unknown name %q (pause, nginx, httpd, nonewprivs)\n", name)
		os.Exit(2)
	}
}

// pause waits for a signal to end and reaps whatever the kernel hands it
// as PID 1 of the pod's PID namespace.
func pause() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}

func serve() {
	port := flag.Int("p", 80, "port to listen on")
	flag.Parse()
	os.MkdirAll("/var/run", 0o755)
	if err := os.WriteFile("/var/run/nginx.pid", []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "imgbin:", err)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "<html><body><h1>Welcome to nginx!</h1></body></html>")
	})
	if err := http.ListenAndServe(":"+strconv.Itoa(*port), nil); err != nil {
		fmt.Fprintln(os.Stderr, "imgbin:", err)
		os.Exit(1)
	}
}
