// Command imgbin stands in for the programs of the images critest pulls,
// chosen by the name it is run as (the images hold it under each name):
//
//   - pause: a pod sandbox's process; reaps orphans, exits on SIGINT/SIGTERM;
//   - nginx, httpd: a web server on port 80 (or -p PORT) answering 200 with a
//     page, writing its pid to /var/run/nginx.pid and a start line to its
//     log as they do (critest's nginx image runs "nginx: master process"; the
//     image's command passes those words as -g's argument so that
//     /proc/1/cmdline has them);
//   - ipcs: "ipcs -m", the System V shared memory segments the IPC namespace
//     shows (busybox-static has no ipcs);
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
	"strings"
	"syscall"
)

func main() {
	switch name := filepath.Base(os.Args[0]); name {
	case "pause":
		pause()
	case "nginx", "httpd":
		serve()
	case "ipcs":
		ipcs()
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
	flag.String("g", "", "nginx's global directives, ignored")
	flag.Parse()
	os.MkdirAll("/var/run", 0o755)
	if err := os.WriteFile("/var/run/nginx.pid", []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "imgbin:", err)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "<html><body><h1>Welcome to nginx!</h1></body></html>")
	})
	fmt.Fprintf(os.Stderr, "%s: listening on port %d\n", filepath.Base(os.Args[0]), *port)
	if err := http.ListenAndServe(":"+strconv.Itoa(*port), nil); err != nil {
		fmt.Fprintln(os.Stderr, "imgbin:", err)
		os.Exit(1)
	}
}

// ipcs prints /proc/sysvipc/shm as util-linux's "ipcs -m" does.
func ipcs() {
	data, err := os.ReadFile("/proc/sysvipc/shm")
	if err != nil {
		fmt.Fprintln(os.Stderr, "ipcs:", err)
		os.Exit(1)
	}
	fmt.Println("------ Shared Memory Segments --------")
	fmt.Printf("%-10s %-10s %-10s %-10s %-10s %-10s\n", "key", "shmid", "owner", "perms", "bytes", "nattch")
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for _, line := range lines[1:] {
		// key shmid perms size cpid lpid nattch uid ...
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		key, _ := strconv.ParseInt(f[0], 10, 64)
		fmt.Printf("0x%08x %-10s %-10s %-10s %-10s %-10s\n", uint32(key), f[1], f[7], f[2], f[3], f[6])
	}
}
