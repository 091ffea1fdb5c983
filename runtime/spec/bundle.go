package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"cm/runtime/lazyjson"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ConfigFile is the name of the configuration inside a bundle.
const ConfigFile = "config.json"

// Bundle is a loaded and checked OCI bundle.
type Bundle struct {
	Dir    string      // absolute bundle directory
	Rootfs string      // absolute path of root.path
	Spec   *specs.Spec // the parsed config.json
}

// LoadBundle reads dir/config.json and validates it for creating a
// container; checkSeccomp is the check of linux.seccomp (see Validate).
func LoadBundle(dir string, checkSeccomp SeccompCheck) (*Bundle, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", dir, err)
	}
	data, err := os.ReadFile(filepath.Join(abs, ConfigFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("bundle %s: no %s in it: %w", abs, ConfigFile, ErrInvalid)
		}
		return nil, fmt.Errorf("bundle %s: %w", abs, err)
	}
	spec, err := ParseConfig(data)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Dir: abs, Spec: spec}
	if err := b.Validate(checkSeccomp); err != nil {
		return nil, err
	}
	return b, nil
}

// ParseConfig decodes config.json. Unknown properties are ignored, as the
// runtime-spec requires (config.md, "Extensibility"); a syntax or type
// error names the line and column, or the field.
func ParseConfig(data []byte) (*specs.Spec, error) {
	var spec specs.Spec
	// lazyjson reads a good config in a fraction of encoding/json's
	// first-call time; a bad one is read again below, for the words.
	if lazyjson.Unmarshal(data, &spec) == nil {
		return &spec, nil
	}
	spec = specs.Spec{}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&spec); err != nil {
		return nil, describeJSONError(data, err)
	}
	// Anything after the object is a broken file, not a second config.
	if dec.More() {
		off := dec.InputOffset()
		line, col := lineCol(data, off)
		return nil, NewConfigError("", "unexpected data after the JSON object at line %d, column %d", line, col)
	}
	return &spec, nil
}

func describeJSONError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset counts the offending byte itself; point at it.
		line, col := lineCol(data, max(syn.Offset-1, 0))
		return NewConfigError("", "invalid JSON at line %d, column %d: %s", line, col, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(top level)"
		}
		return NewConfigError(field, "must be %s, not a JSON %s", typ.Type.String(), typ.Value)
	case errors.Is(err, io.EOF):
		return NewConfigError("", "file is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return NewConfigError("", "invalid JSON: the file ends in the middle of a value")
	default:
		return NewConfigError("", "invalid JSON: %v", err)
	}
}

// lineCol converts a byte offset into 1-based line and column numbers.
func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
