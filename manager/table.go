package manager

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// Table maps ids and names to entries. It is a copy-on-write map: readers
// load the current index with one atomic read and look up a plain Go map,
// never waiting; Add and Remove copy the index and swap it in. State changes
// do not touch the index at all: they happen on the entry, by
// compare-and-swap. So thousands of concurrent API calls never wait on a
// global lock; only creates and deletes queue behind each other.
type Table[S any] struct {
	index   atomic.Pointer[tableIndex[S]]
	writeMu sync.Mutex // serializes Add and Remove, which copy the index
}

// tableIndex is never modified once published.
type tableIndex[S any] struct {
	byID   map[string]*Entry[S]
	byName map[string]*Entry[S]
}

func (t *Table[S]) load() *tableIndex[S] {
	if ix := t.index.Load(); ix != nil {
		return ix
	}
	return &tableIndex[S]{}
}

// modify publishes a changed copy of the index.
func (t *Table[S]) modify(change func(byID, byName map[string]*Entry[S]) error) error {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	old := t.load()
	next := &tableIndex[S]{
		byID:   make(map[string]*Entry[S], len(old.byID)+1),
		byName: make(map[string]*Entry[S], len(old.byName)+1),
	}
	for k, v := range old.byID {
		next.byID[k] = v
	}
	for k, v := range old.byName {
		next.byName[k] = v
	}
	if err := change(next.byID, next.byName); err != nil {
		return err
	}
	t.index.Store(next)
	return nil
}

// Add inserts e; its id and its name (if any) must be new (ErrDuplicate).
func (t *Table[S]) Add(e *Entry[S]) error {
	return t.modify(func(byID, byName map[string]*Entry[S]) error {
		if _, taken := byID[e.ID]; taken {
			return fmt.Errorf("container id %s: %w", e.ID, ErrDuplicate)
		}
		if _, taken := byName[e.Name]; taken && e.Name != "" {
			return fmt.Errorf("container name %q: %w", e.Name, ErrDuplicate)
		}
		byID[e.ID] = e
		if e.Name != "" {
			byName[e.Name] = e
		}
		return nil
	})
}

// Get finds an entry by id, or else by name; nil if there is none.
func (t *Table[S]) Get(ref string) *Entry[S] {
	ix := t.load()
	if e, ok := ix.byID[ref]; ok {
		return e
	}
	return ix.byName[ref]
}

// GetID finds an entry by id only, as shims address containers.
func (t *Table[S]) GetID(id string) *Entry[S] { return t.load().byID[id] }

// Remove deletes e; false if it was already gone.
func (t *Table[S]) Remove(e *Entry[S]) bool {
	err := t.modify(func(byID, byName map[string]*Entry[S]) error {
		if byID[e.ID] != e {
			return errGone
		}
		delete(byID, e.ID)
		if e.Name != "" {
			delete(byName, e.Name)
		}
		return nil
	})
	return err == nil
}

var errGone = fmt.Errorf("gone")

// Len is the number of entries.
func (t *Table[S]) Len() int { return len(t.load().byID) }

// List returns every entry, oldest first.
func (t *Table[S]) List() []*Entry[S] {
	ix := t.load()
	out := make([]*Entry[S], 0, len(ix.byID))
	for _, e := range ix.byID {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}
