package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// logger writes cmrun's messages. Errors always go to stderr as one line;
// with --log they also go to that file, as text or as JSON lines with
// level, msg and time (callers such as containerd read the last "error").
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

func (l *logger) write(level, msg string) {
	if l.file == nil {
		return
	}
	if l.json {
		line, _ := json.Marshal(map[string]string{"level": level, "msg": msg, "time": time.Now().Format(time.RFC3339Nano)})
		l.file.Write(append(line, '\n'))
		return
	}
	fmt.Fprintf(l.file, "%s %s: %s\n", time.Now().Format(time.RFC3339Nano), level, msg)
}

func (l *logger) debugf(format string, args ...any) {
	if l.debug {
		msg := fmt.Sprintf(format, args...)
		l.write("debug", msg)
		if l.file == nil {
			fmt.Fprintf(l.stderr, "cmrun: debug: %s\n", msg)
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

// fail reports a command's error as one line and returns the exit code.
func (l *logger) fail(err error) int {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	l.write("error", msg)
	fmt.Fprintf(l.stderr, "cmrun: %s\n", msg)
	return 1
}
