package manager

import (
	"fmt"
	"strings"
)

// The diagrams add the two ends the table leaves implicit: a container is
// born CREATING by a client's create and leaves the table by rm.

func deletable() []State {
	for _, o := range operations {
		if o.Op == OpDelete {
			return o.In
		}
	}
	return nil
}

func edgeLabel(t Transition) string {
	return strings.ReplaceAll(t.By.String(), "|", ", ") + ": " + t.Label
}

// Mermaid draws the state machine as a Mermaid stateDiagram (docs/states.mmd).
func Mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	fmt.Fprintf(&b, "    [*] --> %s : client: create\n", Creating)
	for _, t := range transitions {
		fmt.Fprintf(&b, "    %s --> %s : %s\n", t.From, t.To, edgeLabel(t))
	}
	for _, s := range deletable() {
		fmt.Fprintf(&b, "    %s --> [*] : client: rm\n", s)
	}
	return b.String()
}

// Dot draws the state machine for Graphviz: cmctl states --dot | dot -Tsvg.
func Dot() string {
	var b strings.Builder
	b.WriteString("digraph states {\n    rankdir=LR;\n    node [shape=box, style=rounded];\n")
	b.WriteString("    start [shape=point];\n    gone [shape=doublecircle, label=\"\", width=0.2];\n")
	fmt.Fprintf(&b, "    start -> %s [label=\"client: create\"];\n", Creating)
	for _, t := range transitions {
		fmt.Fprintf(&b, "    %s -> %s [label=%q];\n", t.From, t.To, edgeLabel(t))
	}
	for _, s := range deletable() {
		fmt.Fprintf(&b, "    %s -> gone [label=\"client: rm\"];\n", s)
	}
	b.WriteString("}\n")
	return b.String()
}
