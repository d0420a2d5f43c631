package stream

import (
	"encoding/json"
	"net/http"
)

// JSONLines writes one JSON document per line and flushes after each, so a
// client sees every message as soon as it is written.
type JSONLines struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	enc *json.Encoder
}

// NewJSONLines commits a 200 response with the given content type and
// flushes the header at once (clients wait for it before reading).
func NewJSONLines(w http.ResponseWriter, contentType string) *JSONLines {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	return &JSONLines{w: w, rc: rc, enc: json.NewEncoder(w)}
}

// Write encodes v as one line and flushes it.
func (j *JSONLines) Write(v any) error {
	if err := j.enc.Encode(v); err != nil {
		return err
	}
	return j.rc.Flush()
}
