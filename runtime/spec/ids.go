package spec

import (
	"fmt"
	"regexp"
)

// validID is the set of container ids runc accepts; ids become directory
// names, so nothing else (no slash, no "..") may appear.
var validID = regexp.MustCompile(`^[\w+\-.]+$`)

// CheckID rejects ids that cannot safely be a directory name.
func CheckID(id string) error {
	if id == "" {
		return fmt.Errorf("container id: must not be empty")
	}
	if len(id) > 1024 || !validID.MatchString(id) || id == "." || id == ".." {
		return fmt.Errorf("container id %q: only letters, digits, '_', '+', '-' and '.' are allowed", id)
	}
	return nil
}
