package spec

import (
	"errors"
	"fmt"
)

// ErrInvalid is what every ConfigError wraps; its text is runc's wording,
// which other container tools match on, so keep it stable.
var ErrInvalid = errors.New("invalid configuration")

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

// NewConfigError is a ConfigError whose problem is formatted like fmt.Sprintf.
func NewConfigError(field, format string, args ...any) *ConfigError {
	return &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)}
}
