package tests

// The docs never rot: every shell block in docs/*.md is either run here
// against the real binaries, or says why it is not. See docs/README.md,
// "Running the examples", for the convention:
//
//	```sh runnable          run, in order, in one bash session per file
//	```sh norun REASON      shown only; the reason is required
//
// A file's runnable blocks get: bin/ on PATH (cmrun, cmctl, cmanagerd,
// cmshim, cminit), a running cmanagerd whose client socket is $CM_SOCKET
// and whose shims give cmrun the state root $CM_RUNTIME_ROOT,
// a busybox root filesystem at $ROOTFS, and an empty working directory.
// They run with bash -euo pipefail; the first failing block fails the
// subtest, naming the file, the block's line and its output. A file must
// delete every container it made. CM_DOCS_SHOW=1 logs every block's
// output, to check the prose against it:
//
//	CM_DOCS_SHOW=1 go test -count=1 -v -run 'TestDocsRunnable/manager.md' ./tests/

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// docsDir is docs/ as seen from this package's directory.
const docsDir = "../docs"

// docsFileTimeout bounds one file's session.
const docsFileTimeout = 45 * time.Second

// docsBlock is one fenced code block of a Markdown file.
type docsBlock struct {
	file string // e.g. docs/manager.md
	line int    // of the opening fence, 1-based
	info string // the info string: "sh runnable", "mermaid"...
	text string
}

// lang is the first word of the info string.
func (b docsBlock) lang() string {
	f := strings.Fields(b.info)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func (b docsBlock) runnable() bool { return b.info == "sh runnable" }

func (b docsBlock) where() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// docsFence matches an opening or closing fence, indented as in a list item.
var docsFence = regexp.MustCompile("^( *)(```+|~~~+)(.*)$")

// docsBlocks returns the fenced blocks of a Markdown file, in order.
func docsBlocks(t *testing.T, path string) []docsBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	name := "docs/" + filepath.Base(path)
	var blocks []docsBlock
	var cur *docsBlock
	var indent, fence string
	var body []string
	for i, line := range strings.Split(string(data), "\n") {
		m := docsFence.FindStringSubmatch(line)
		switch {
		case cur == nil && m != nil:
			cur = &docsBlock{file: name, line: i + 1, info: strings.TrimSpace(m[3])}
			indent, fence, body = m[1], m[2], nil
		case cur != nil && m != nil && strings.HasPrefix(m[2], fence) && strings.TrimSpace(m[3]) == "":
			cur.text = strings.Join(body, "\n") + "\n"
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			body = append(body, strings.TrimPrefix(line, indent))
		}
	}
	require.Nil(t, cur, "%s:%d: code block never closed", name, func() int {
		if cur != nil {
			return cur.line
		}
		return 0
	}())
	return blocks
}

// docsFiles lists docs/*.md.
func docsFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(docsDir, "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// TestDocsShellBlocksMarked: every shell block says whether it runs. A
// plain ```sh block would silently escape TestDocsRunnable.
func TestDocsShellBlocksMarked(t *testing.T) {
	shells := map[string]bool{"sh": true, "bash": true, "shell": true, "console": true, "zsh": true}
	runnable := 0
	for _, file := range docsFiles(t) {
		for _, b := range docsBlocks(t, file) {
			if !shells[b.lang()] {
				continue
			}
			f := strings.Fields(b.info)
			switch {
			case b.runnable():
				runnable++
			case len(f) >= 3 && f[0] == "sh" && f[1] == "norun":
			default:
				t.Errorf("%s: shell block %q: mark it ```sh runnable, or ```sh norun REASON", b.where(), b.info)
			}
			if strings.Contains(b.text, "\t") {
				t.Errorf("%s: a tab in a shell block (use spaces: tabs break copy and paste into a shell)", b.where())
			}
		}
	}
	require.NotZero(t, runnable, "no runnable blocks found in docs/")
}

// TestDocsRunnable runs each file's runnable blocks in one bash session
// against a cmanagerd of its own.
func TestDocsRunnable(t *testing.T) {
	for _, file := range docsFiles(t) {
		var blocks []docsBlock
		for _, b := range docsBlocks(t, file) {
			if b.runnable() {
				blocks = append(blocks, b)
			}
		}
		if len(blocks) == 0 {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			runDocsSession(t, blocks)
		})
	}
}

// runDocsSession gives blocks their environment and runs them.
func runDocsSession(t *testing.T, blocks []docsBlock) {
	// A short directory: the shims' control sockets live under it, and a
	// Unix socket path must fit in 108 bytes.
	dir, err := os.MkdirTemp("", "cmdocs-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	work := filepath.Join(dir, "work")
	require.NoError(t, os.Mkdir(work, 0o755))
	rootfs := filepath.Join(dir, "rootfs")
	out, err := exec.Command("cp", "-a", rootfsProto, rootfs).CombinedOutput()
	require.NoError(t, err, "%s", out)

	m := startManager(t, dir)
	socket := m.Socket
	env := append(os.Environ(),
		"PATH="+binDir+":"+os.Getenv("PATH"),
		"CM_SOCKET="+socket,
		"ROOTFS="+rootfs,
		"CM_RUNTIME_ROOT="+m.RuntimeRoot, // where this manager's shims keep cmrun's state
	)
	daemonLog := m.log

	// One script: each block runs in the same shell (variables carry
	// over), its output in a file of its own, its index written to fd 3
	// before it starts, so a failure names the block that was running.
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for i, b := range blocks {
		fmt.Fprintf(&script, "echo %d >&3\n{\n%s} >%s 2>&1 </dev/null\n", i, b.text, docsOutFile(dir, i))
	}
	fmt.Fprintf(&script, "echo %d >&3\n", len(blocks))
	scriptPath := filepath.Join(dir, "blocks.sh")
	require.NoError(t, os.WriteFile(scriptPath, []byte(script.String()), 0o644))
	progress, err := os.Create(filepath.Join(dir, "progress"))
	require.NoError(t, err)
	defer progress.Close()

	ctx, cancel := context.WithTimeout(context.Background(), docsFileTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", scriptPath)
	cmd.Dir, cmd.Env = work, env
	cmd.ExtraFiles = []*os.File{progress} // fd 3
	var shellOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &shellOut, &shellOut
	// Its own process group, so whatever a block left in the background
	// goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	began := time.Now()
	runErr := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	t.Logf("%s: %d blocks in %v", blocks[0].file, len(blocks), time.Since(began).Round(time.Millisecond))

	data, _ := os.ReadFile(progress.Name())
	marks := strings.Fields(string(data))
	reached := -1
	if len(marks) > 0 {
		reached, _ = strconv.Atoi(marks[len(marks)-1])
	}
	if runErr != nil || reached != len(blocks) {
		why := fmt.Sprint(runErr)
		if ctx.Err() != nil {
			why = fmt.Sprintf("timed out after %v", docsFileTimeout)
		}
		if reached < 0 || reached >= len(blocks) {
			t.Fatalf("%s: the session failed outside any block (%s):\n%s\ncmanagerd log:\n%s",
				blocks[0].file, why, shellOut.String(), daemonLog())
		}
		b := blocks[reached]
		blockOut, _ := os.ReadFile(docsOutFile(dir, reached))
		t.Fatalf("%s: block failed (%s)\n--- block:\n%s--- output:\n%s%s\n--- cmanagerd log:\n%s",
			b.where(), why, b.text, blockOut, shellOut.String(), daemonLog())
	}
	if os.Getenv("CM_DOCS_SHOW") != "" {
		for i, b := range blocks {
			out, _ := os.ReadFile(docsOutFile(dir, i))
			t.Logf("%s:\n%s--- output:\n%s", b.where(), b.text, out)
		}
	}
	// Every file cleans up after itself.
	left, err := exec.Command(filepath.Join(binDir, "cmctl"), "--socket", socket, "ps", "--quiet").CombinedOutput()
	require.NoError(t, err, "%s", left)
	require.Empty(t, strings.TrimSpace(string(left)), "%s leaves containers behind: its last block should cmctl rm them", blocks[0].file)
}

func docsOutFile(dir string, i int) string { return filepath.Join(dir, fmt.Sprintf("block-%d.out", i)) }

// Markers around a generated diagram embedded in a Markdown file; make
// docs rewrites what is between them (docs/embed.sh).
func docsEmbedMarkers(diagram string) (begin, end string) {
	return "<!-- begin generated: " + diagram + " -->\n", "<!-- end generated: " + diagram + " -->\n"
}

// TestDocsDiagramsCurrent: docs/states.mmd is what `cmctl states
// --mermaid` draws from the transition table, and every Markdown copy of
// it is that text. After changing manager/transitions.go: make docs.
func TestDocsDiagramsCurrent(t *testing.T) {
	out, err := exec.Command(filepath.Join(binDir, "cmctl"), "states", "--mermaid").Output()
	require.NoError(t, err)
	file, err := os.ReadFile(filepath.Join(docsDir, "states.mmd"))
	require.NoError(t, err)
	require.Equal(t, string(out), string(file), "docs/states.mmd is stale: run make docs")

	begin, end := docsEmbedMarkers("states.mmd")
	want := begin + "```mermaid\n" + string(out) + "```\n" + end
	embedded := 0
	for _, path := range docsFiles(t) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		text := string(data)
		i := strings.Index(text, begin)
		if i < 0 {
			continue
		}
		embedded++
		j := strings.Index(text[i:], end)
		require.True(t, j >= 0, "%s: %q without %q", path, begin, end)
		require.Equal(t, want, text[i:i+j+len(end)], "%s: the embedded state diagram is stale: run make docs", path)
	}
	require.NotZero(t, embedded, "no docs/*.md embeds states.mmd")
}

// Names the docs use that must exist.
var (
	// An inline code span.
	docsCodeSpan = regexp.MustCompile("`([^`\n]+)`")
	// A relative Markdown link target: [text](target).
	docsLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	// An API path.
	docsAPIPath = regexp.MustCompile(`/v1/[a-z0-9/{}-]*[a-z}]`)
	// A repository path as written in prose: cmd/cmctl, runtime/create.go.
	docsRepoPath = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/?$`)
)

// TestDocsReferencesExist: the repository paths, links and API paths the
// docs name exist, so a rename breaks this test and not a student's
// reading. Only paths whose first directory is in the repository are
// checked (so /proc/PID/status or bundle/rootfs are not).
func TestDocsReferencesExist(t *testing.T) {
	repo := ".."
	// The API paths the code serves or calls.
	var sources strings.Builder
	for _, f := range []string{"manager/daemon/routes.go", "manager/api/doc.go", "shim/proto/paths.go"} {
		data, err := os.ReadFile(filepath.Join(repo, f))
		require.NoError(t, err)
		sources.Write(data)
	}
	checked := 0
	for _, path := range docsFiles(t) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		name := "docs/" + filepath.Base(path)
		for n, line := range strings.Split(string(data), "\n") {
			where := fmt.Sprintf("%s:%d", name, n+1)
			for _, m := range docsCodeSpan.FindAllStringSubmatch(line, -1) {
				p := m[1]
				if !strings.Contains(p, "/") || strings.HasPrefix(p, ".") || !docsRepoPath.MatchString(p) {
					continue
				}
				first := strings.SplitN(p, "/", 2)[0]
				if first == "bin" || first == "build" {
					continue // made by make
				}
				if fi, err := os.Stat(filepath.Join(repo, first)); err != nil || !fi.IsDir() {
					continue
				}
				checked++
				_, err := os.Stat(filepath.Join(repo, p))
				require.NoError(t, err, "%s: `%s` does not exist", where, p)
			}
			for _, m := range docsLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				target, _, _ = strings.Cut(target, "#")
				checked++
				_, err := os.Stat(filepath.Join(docsDir, target))
				require.NoError(t, err, "%s: link to %s, which does not exist", where, target)
			}
			for _, p := range docsAPIPath.FindAllString(line, -1) {
				checked++
				if !strings.Contains(sources.String(), p) {
					t.Errorf("%s: API path %s is neither served by manager/daemon/routes.go nor in shim/proto/paths.go", where, p)
				}
			}
		}
	}
	require.NotZero(t, checked)
}
