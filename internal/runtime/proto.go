package runtime

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// Operations the shim serves on its socket.
const (
	opStart  = "start"
	opState  = "state"
	opSignal = "signal"
	opWait   = "wait"
	opAttach = "attach"
	opResize = "resize"
	opExec   = "exec"
)

// Frame types on a streaming connection (shim to client). Each frame is one
// type byte, a big-endian uint32 length and the payload.
const (
	frameStdout byte = 1
	frameStderr byte = 2
	frameExit   byte = 3
	frameError  byte = 4
)

// request is the single JSON line a client sends after connecting. For
// attach and exec the rest of the client's half of the connection is stdin.
type request struct {
	Op         string         `json:"op"`
	ExecID     string         `json:"execId,omitempty"`
	Signal     int            `json:"signal,omitempty"`
	Height     uint           `json:"height,omitempty"`
	Width      uint           `json:"width,omitempty"`
	Process    *specs.Process `json:"process,omitempty"`
	Stdin      bool           `json:"stdin,omitempty"`
	Stdout     bool           `json:"stdout,omitempty"`
	Stderr     bool           `json:"stderr,omitempty"`
	CloseStdin bool           `json:"closeStdin,omitempty"`
}

// response is the single JSON line the shim answers with; streaming
// operations continue with frames after it.
type response struct {
	Err   string      `json:"err,omitempty"`
	Pid   int         `json:"pid,omitempty"`
	State *State      `json:"state,omitempty"`
	Exit  *ExitStatus `json:"exit,omitempty"`
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func readJSONLine(r *bufio.Reader, v any) error {
	line, err := r.ReadBytes('\n')
	if err != nil {
		return err
	}
	return json.Unmarshal(line, v)
}

// frameWriter writes frames of one type to a shared connection.
type frameWriter struct {
	mu   *sync.Mutex
	w    io.Writer
	kind byte
}

func (f frameWriter) Write(p []byte) (int, error) {
	if err := writeFrame(f.mu, f.w, f.kind, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func writeFrame(mu *sync.Mutex, w io.Writer, kind byte, p []byte) error {
	hdr := make([]byte, 5, 5+len(p))
	hdr[0] = kind
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(p)))
	mu.Lock()
	defer mu.Unlock()
	_, err := w.Write(append(hdr, p...))
	return err
}

// readFrames demultiplexes frames into stdout and stderr until an exit frame
// arrives, which it returns. A nil writer discards its stream.
func readFrames(r io.Reader, stdout, stderr io.Writer) (*ExitStatus, error) {
	hdr := make([]byte, 5)
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			return nil, fmt.Errorf("read stream: %w", err)
		}
		payload := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
		if _, err := io.ReadFull(r, payload); err != nil {
			return nil, fmt.Errorf("read stream: %w", err)
		}
		switch hdr[0] {
		case frameStdout:
			writeTo(stdout, payload)
		case frameStderr:
			writeTo(stderr, payload)
		case frameError:
			return nil, fmt.Errorf("shim: %s", payload)
		case frameExit:
			var st ExitStatus
			return &st, json.Unmarshal(payload, &st)
		}
	}
}

// writeTo writes to w when it is set; a client that stops reading only
// loses its own copy of the output, never the container's.
func writeTo(w io.Writer, p []byte) {
	if w != nil {
		_, _ = w.Write(p)
	}
}
