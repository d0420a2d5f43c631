package api

import (
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestLogsTail: like dockerd, anything that is not a count means all lines
// (testcontainers sends tail=-1).
func TestLogsTail(t *testing.T) {
	for tail, want := range map[string]int{"": -1, "all": -1, "-1": -1, "x": -1, "0": 0, "3": 3} {
		req := httptest.NewRequest("GET", "/containers/c/logs?stdout=1&tail="+tail, nil)
		opt, _, err := logsOptions(echo.New().NewContext(req, httptest.NewRecorder()))
		if err != nil || opt.Tail != want {
			t.Errorf("tail=%q: Tail %d, err %v; want %d", tail, opt.Tail, err, want)
		}
	}
}
