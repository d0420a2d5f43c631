package api

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestCompatDocListsEveryRoute keeps docs/compat.md true: every route is in
// the table once, and a route is marked 501 exactly when it has no handler.
func TestCompatDocListsEveryRoute(t *testing.T) {
	doc, err := os.ReadFile("../../docs/compat.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) > 5 {
			key := strings.TrimSpace(cells[1]) + " " + strings.Trim(strings.TrimSpace(cells[2]), "`")
			if _, dup := rows[key]; dup {
				t.Errorf("docs/compat.md lists %s twice", key)
			}
			rows[key] = strings.TrimSpace(cells[4])
		}
	}
	h := &handlers{}
	all := append(h.routes(), swarmRoutes...)
	for _, r := range all {
		key := fmt.Sprintf("%s %s", r.method, r.path)
		status, ok := rows[key]
		switch {
		case !ok:
			t.Errorf("docs/compat.md has no row for %s", key)
		case r.handler == nil && !strings.HasPrefix(status, "501") && !strings.HasPrefix(status, "503"):
			t.Errorf("%s has no handler but compat.md says %q", key, status)
		case r.handler != nil && strings.HasPrefix(status, "501"):
			t.Errorf("%s is implemented but compat.md says %q", key, status)
		}
	}
}
