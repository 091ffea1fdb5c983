package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"cm/capabilities"
	"cm/runtime"
)

// logger writes cmrun's messages. Errors always go to stderr as one line;
// with --log they also go to that file, as text or as JSON lines with
// level, msg and time (callers such as containerd read the last "error").
// Text lines have runc's shape, time="..." level=debug msg="...", which
// tools that read runc's --debug output parse.
type logger struct {
	stderr io.Writer
	file   *os.File
	json   bool
	debug  bool
}

func newLogger(stderr io.Writer) *logger { return &logger{stderr: stderr} }

func (l *logger) configure(path, format string, debug bool) error {
	switch format {
	case "text":
	case "json":
		l.json = true
	default:
		return fmt.Errorf("--log-format: unknown format %q (want text or json)", format)
	}
	l.debug = debug
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
	if err != nil {
		return fmt.Errorf("--log: %w", err)
	}
	l.file = f
	return nil
}

func (l *logger) close() {
	if l.file != nil {
		l.file.Close()
	}
}

func (l *logger) write(level, msg string) { l.writeAt(time.Now(), level, msg) }

func (l *logger) writeAt(at time.Time, level, msg string) {
	if l.file == nil {
		return
	}
	if l.json {
		line, _ := json.Marshal(map[string]string{"level": level, "msg": msg, "time": at.Format(time.RFC3339Nano)})
		l.file.Write(append(line, '\n'))
		return
	}
	fmt.Fprint(l.file, textLine(at, level, msg))
}

// textLine is one log line in runc's text format.
func textLine(at time.Time, level, msg string) string {
	return fmt.Sprintf("time=%q level=%s msg=%q\n", at.Format(time.RFC3339Nano), level, msg)
}

func (l *logger) debugf(format string, args ...any) {
	l.debugAt(time.Now(), fmt.Sprintf(format, args...))
}

// debugAt logs a debug message stamped with when it happened.
func (l *logger) debugAt(at time.Time, msg string) {
	if l.debug {
		l.writeAt(at, "debug", msg)
		if l.file == nil {
			fmt.Fprint(l.stderr, textLine(at, "debug", msg))
		}
	}
}

// warnf logs a warning to the --log file, or to stderr without one.
func (l *logger) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.write("warning", msg)
	if l.file == nil {
		fmt.Fprintf(l.stderr, "cmrun: warning: %s\n", msg)
	}
}

// warnRuntime logs a warning from the runtime package. The ones about
// what runc also does without a word (ambient capabilities in runc's own
// default config) are debug messages: scripts compare stderr with runc's.
func (l *logger) warnRuntime(msg string) {
	if strings.HasPrefix(msg, capabilities.AmbientLeftOut) {
		l.debugf("%s", msg)
		return
	}
	l.warnf("%s", msg)
}

// fail reports a command's error as one line and returns the exit code.
func (l *logger) fail(err error) int {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	l.write("error", msg)
	fmt.Fprintf(l.stderr, "cmrun: %s\n", msg)
	return 1
}

// finishTrace shows a command's setup steps: as the --trace table, or
// with --debug as one debug line each, the preamble's and the init's
// progress included, as runc's --debug shows its nsexec stages.
func (g *globals) finishTrace(t *runtime.Trace, table bool) {
	if table {
		t.Print(os.Stderr)
		return
	}
	if !g.debug || !t.On() {
		return
	}
	sort.SliceStable(t.Steps, func(i, j int) bool { return t.Steps[i].Start.Before(t.Steps[j].Start) })
	for _, s := range t.Steps {
		g.log.debugAt(s.Start, fmt.Sprintf("%s: %s (%.3fms)", s.Who, s.Name, float64(s.Dur.Microseconds())/1000))
	}
}
