package spec

import "fmt"

// validID reports whether id uses only the characters runc accepts in a
// container id (letters, digits, '_', '+', '-', '.'); ids become directory
// names, so nothing else (no slash) may appear. A loop rather than a
// package-level regexp, which every cmrun process, the init included,
// would compile at start.
func validID(id string) bool {
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_', c == '+', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

// CheckID rejects ids that cannot safely be a directory name.
func CheckID(id string) error {
	if id == "" {
		return fmt.Errorf("container id: must not be empty")
	}
	if len(id) > 1024 || !validID(id) || id == "." || id == ".." {
		return fmt.Errorf("container id %q: only letters, digits, '_', '+', '-' and '.' are allowed", id)
	}
	return nil
}
