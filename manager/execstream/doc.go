// Package execstream is the wire format of an exec session: the request
// that describes the process, and the frames that carry its stdin,
// stdout, stderr, terminal size and exit code over one upgraded HTTP
// connection. cmctl speaks it to cmanagerd, which relays the bytes as
// they are to the container's shim, where the process runs; so the
// format is the same on both hops and the daemon never parses a frame.
//
// # Upgrade
//
// The client sends POST .../exec with an ExecRequest as its JSON body and
// the headers "Connection: Upgrade" and "Upgrade: cm-exec". A refusal is
// an ordinary answer with a JSON {"error": "..."} body (409 when the
// container is not RUNNING). Acceptance is "101 Switching Protocols";
// from then on both sides send frames until the server sends Exit and
// closes the connection.
//
// # Frames
//
// A frame is one byte of kind, four bytes of payload length (big endian,
// at most MaxPayload) and the payload:
//
//	kind  name        direction        payload
//	0     Stdin       client → server  bytes for the process's stdin (or terminal)
//	1     Stdout      server → client  bytes the process wrote to stdout (with a terminal: all its output)
//	2     Stderr      server → client  bytes the process wrote to stderr (never with a terminal)
//	3     Resize      client → server  rows, cols: two big-endian uint16
//	4     CloseStdin  client → server  none: the client's stdin ended
//	5     Exit        server → client  the exit code, a big-endian int32; the last frame
//	6     Error       server → client  one line of text: why the process could not run (Exit follows)
//
// A client that goes away (the connection breaks before Exit) gets its
// process killed: nothing runs on that nobody can see.
package execstream
