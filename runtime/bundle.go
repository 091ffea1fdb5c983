package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ConfigFile is the name of the configuration inside a bundle.
const ConfigFile = "config.json"

// ConfigError names the field of config.json that is wrong and why.
// Its text is the one line a user sees: "config.json: process.args: must not be empty".
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string {
	if e.Field == "" {
		return ConfigFile + ": " + e.Problem
	}
	return ConfigFile + ": " + e.Field + ": " + e.Problem
}

// Unwrap lets callers test for ErrInvalid.
func (e *ConfigError) Unwrap() error { return ErrInvalid }

func configErr(field, format string, args ...any) *ConfigError {
	return &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Bundle is a loaded and checked OCI bundle.
type Bundle struct {
	Dir    string      // absolute bundle directory
	Rootfs string      // absolute path of root.path
	Spec   *specs.Spec // the parsed config.json
}

// LoadBundle reads dir/config.json and validates it for creating a container.
func LoadBundle(dir string) (*Bundle, error) {
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
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return b, nil
}

// ParseConfig decodes config.json. Unknown properties are ignored, as the
// runtime-spec requires (config.md, "Extensibility"); a syntax or type
// error names the line and column, or the field.
func ParseConfig(data []byte) (*specs.Spec, error) {
	var spec specs.Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&spec); err != nil {
		return nil, describeJSONError(data, err)
	}
	// Anything after the object is a broken file, not a second config.
	if dec.More() {
		off := dec.InputOffset()
		line, col := lineCol(data, off)
		return nil, configErr("", "unexpected data after the JSON object at line %d, column %d", line, col)
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
		return configErr("", "invalid JSON at line %d, column %d: %s", line, col, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(top level)"
		}
		return configErr(field, "must be %s, not a JSON %s", typ.Type.String(), typ.Value)
	case errors.Is(err, io.EOF):
		return configErr("", "file is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return configErr("", "invalid JSON: the file ends in the middle of a value")
	default:
		return configErr("", "invalid JSON: %v", err)
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
