package daemon

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
)

// newID returns 16 random hex digits: unique enough, and short enough to type.
func newID() string {
	b := make([]byte, 8)
	rand.Read(b) // never fails on Linux (getrandom)
	return hex.EncodeToString(b)
}

var (
	namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$`)
	idPattern   = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

// checkName: a name is also a directory-safe word and must not look like
// an id, so "cmctl rm X" can never mean two containers.
func checkName(name string) error {
	switch {
	case name == "":
		return nil
	case !namePattern.MatchString(name):
		return badField("name", "%q: want 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit", name)
	case idPattern.MatchString(name):
		return badField("name", "%q looks like a container id; pick another", name)
	}
	return nil
}
