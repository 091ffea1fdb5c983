package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"cm/manager"
	"cm/manager/api"
	"cm/shim/proto"
)

// maxBody is the largest request body accepted (413 beyond).
const maxBody = 1 << 20

// handlerFunc is an HTTP handler that returns its error instead of writing
// it, so every error answer is made in one place (writeError).
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// statusOf maps an error to its HTTP status.
func statusOf(err error) int {
	var (
		tooBig *http.MaxBytesError
		field  *FieldError
		shim   *ShimError
		status *StatusError
	)
	switch {
	case errors.As(err, &status):
		return status.Code
	case errors.Is(err, ErrBusy):
		return http.StatusServiceUnavailable
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrBodyTimeout):
		return http.StatusRequestTimeout
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.As(err, &field):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrUnknownContainer):
		return http.StatusNotFound
	case errors.Is(err, manager.ErrIllegal), errors.Is(err, manager.ErrDuplicate), errors.Is(err, ErrNoShim):
		return http.StatusConflict
	case errors.As(err, &shim):
		return http.StatusBadGateway
	case errors.Is(err, ErrShuttingDown), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (d *Daemon) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status == http.StatusServiceUnavailable && d.draining.Load() {
		err = ErrShuttingDown
	}
	msg := err.Error()
	if errors.Is(err, ErrUnknownContainer) {
		msg = proto.UnknownContainer // the exact words shims abort on
	}
	if status >= 500 {
		d.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeJSON(w, status, api.ErrorBody{Error: msg})
}

func (d *Daemon) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			d.writeError(w, r, err)
		}
	}
}

// route serves path with one handler per method, and answers every other
// method with 405 and an Allow header.
func (d *Daemon) route(mux *http.ServeMux, path string, methods map[string]handlerFunc) {
	var allow []string
	for method, h := range methods {
		mux.HandleFunc(method+" "+path, d.handle(h))
		allow = append(allow, method)
	}
	sort.Strings(allow)
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, api.ErrorBody{
			Error: fmt.Sprintf("method %s is not allowed on %s (use %s)", r.Method, path, strings.Join(allow, " or ")),
		})
	})
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, api.ErrorBody{Error: fmt.Sprintf("no such endpoint: %s %s (see package cm/manager/api)", r.Method, r.URL.Path)})
}

// guard answers 503 once shutdown has begun, counts the request as in
// flight (a read lock: it never waits, except behind a shutdown) and turns
// a panic into a 500.
func (d *Daemon) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.inflight.RLock()
		defer d.inflight.RUnlock()
		if d.draining.Load() {
			writeJSON(w, http.StatusServiceUnavailable, api.ErrorBody{Error: ErrShuttingDown.Error()})
			return
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				d.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				writeJSON(w, http.StatusInternalServerError, api.ErrorBody{Error: fmt.Sprintf("internal error: %v", v)})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// bodyDeadline gives a request's body timeout to arrive, counted from
// the end of its headers: a client that sends it slowly gets a 408 and
// loses its connection instead of holding it. The deadline ends with the
// body, and requests without one get none, so answers streamed for as
// long as the client wants (events, logs --follow, wait) are never cut.
func bodyDeadline(timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			if rc.SetReadDeadline(time.Now().Add(timeout)) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, clear: func() { rc.SetReadDeadline(time.Time{}) }}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody clears the connection's read deadline once the body has
// been read: the server then reads on to notice a client that leaves.
type deadlineBody struct {
	io.ReadCloser
	clear func()
	once  sync.Once
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.clear)
	}
	return n, err
}

// decode reads a JSON body into v strictly: at most maxBody bytes, no
// unknown fields, nothing after the object. With optional, an empty body
// leaves v as it is.
func decode(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	if r.ContentLength > maxBody {
		return fmt.Errorf("request body of %d bytes is larger than %d bytes: %w", r.ContentLength, maxBody, &http.MaxBytesError{Limit: maxBody})
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if optional && errors.Is(err, io.EOF) {
			return nil
		}
		return bodyError(err)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return bodyError(err)
		}
		return badField("body", "unexpected data after the JSON object")
	}
	return nil
}

// bodyError turns a JSON decoding error into an answer a person can act on.
func bodyError(err error) error {
	var (
		tooBig *http.MaxBytesError
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return fmt.Errorf("request body is larger than %d bytes: %w", maxBody, err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("request body: %w (a slow client is cut off after the read timeout)", ErrBodyTimeout)
	case errors.Is(err, io.EOF):
		return badField("body", "empty; want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badField("body", "truncated JSON")
	case errors.As(err, &syntax):
		return badField("body", "malformed JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badField("body", "want a JSON object, got %s", typ.Value)
		}
		return badField(typ.Field, "want %s, got %s", jsonKind(typ.Type), typ.Value)
	case errors.Is(err, manager.ErrUnknownState):
		return badField("state", "%v", err)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return badField(strings.Trim(name, `"`), "unknown field")
	}
	return badField("body", "%v", err)
}

// jsonKind names what JSON a Go type wants.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "an object"
}

// boolParam reads ?name=1|true|0|false (absent: false).
func boolParam(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	default:
		return false, badField(name, "%q: want 1, true, 0 or false", v)
	}
}

// statesParam reads ?state=RUNNING,DEAD.
func statesParam(r *http.Request) ([]manager.State, error) {
	v := r.URL.Query().Get("state")
	if v == "" {
		return nil, nil
	}
	var out []manager.State
	for _, name := range strings.Split(v, ",") {
		s, err := manager.ParseState(name)
		if err != nil {
			return nil, badField("state", "%v", err)
		}
		out = append(out, s)
	}
	return out, nil
}
