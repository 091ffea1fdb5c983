#!/bin/sh
# embed.sh DIAGRAM DOC...: copy a generated diagram into Markdown files.
# In each DOC, the lines between
#   <!-- begin generated: NAME -->
#   <!-- end generated: NAME -->
# (NAME is DIAGRAM's file name) become a ```mermaid block holding DIAGRAM.
# `make docs` runs it; tests/docs_test.go checks the copies are current.
set -eu
diagram=$1
shift
name=$(basename "$diagram")
for doc in "$@"; do
	awk -v name="$name" -v diagram="$diagram" '
		$0 == "<!-- begin generated: " name " -->" {
			print
			print "```mermaid"
			while ((getline line < diagram) > 0)
				print line
			close(diagram)
			print "```"
			inside = 1
			next
		}
		$0 == "<!-- end generated: " name " -->" { inside = 0 }
		!inside { print }
	' "$doc" >"$doc.tmp"
	mv "$doc.tmp" "$doc"
done
